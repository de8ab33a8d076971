package pionbwe

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/probe"
	"github.com/bwelab/bwe/sendside"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/rtp"
)

// wirePacket is one packet as the transport put it on the wire.
type wirePacket struct {
	at  time.Duration // estimator time since the first packet
	pkt rtp.Packet    // parsed back from the wire bytes
	raw []byte
}

// wireSink marshals what it is given as pion's SRTP writer does
// (rtp.MarshalPacketTo: header, payload, then Header.PaddingSize bytes of
// padding) and keeps the packets parsed back.
type wireSink struct {
	clk   *fakeClock
	start time.Time
	out   []wirePacket
}

func (s *wireSink) Write(h *rtp.Header, payload []byte, _ interceptor.Attributes) (int, error) {
	//lint:ignore SA1019 pion's SRTP writer marshals with it
	buf := make([]byte, rtp.PacketMarshalSize(h, payload))
	//lint:ignore SA1019 pion's SRTP writer marshals with it
	n, err := rtp.MarshalPacketTo(buf, h, payload)
	if err != nil {
		return 0, err
	}
	var p rtp.Packet
	if err := p.Unmarshal(buf[:n]); err != nil {
		return 0, err
	}
	s.out = append(s.out, wirePacket{at: s.clk.Now().Sub(s.start), pkt: p, raw: buf[:n]})
	return n, nil
}

// paddingScript sends one media packet (seq 1000, transport-wide number
// 500), which starts the session and its initial probe clusters, then
// runs the pacer by hand on its own waits for 60 ms, writing a media
// packet at 2 ms and at 10 ms. It returns the wire, the clusters pending
// after the first packet, and the estimator.
func paddingScript(t *testing.T, opts ...Option) (*wireSink, []probe.Request, *Estimator) {
	t.Helper()
	clk := newFakeClock()
	opts = append([]Option{WithClock(clk.Now), withManual(), WithStartBitrate(300_000)}, opts...)
	e, err := New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	out := &wireSink{clk: clk, start: clk.Now()}
	w := e.AddStream(twccInfo(testSSRC), out)
	seq, tw := uint16(1000), uint16(500)
	media := func() {
		t.Helper()
		h := twHeader(testSSRC, seq, tw)
		h.Marker = true
		if _, err := w.Write(h, make([]byte, 1000), nil); err != nil {
			t.Fatal(err)
		}
		seq++
		tw++
	}
	media()
	e.sendHead(false)
	e.mu.Lock()
	clusters := make([]probe.Request, e.pace.nprobes)
	for i := range clusters {
		clusters[i] = e.pace.probes[i].req
	}
	e.mu.Unlock()

	var elapsed time.Duration
	wrote2, wrote10 := false, false
	for elapsed < 60*time.Millisecond {
		if !wrote2 && elapsed >= 2*time.Millisecond {
			media()
			wrote2 = true
		}
		if !wrote10 && elapsed >= 10*time.Millisecond {
			media()
			wrote10 = true
		}
		wait := e.sendHead(false)
		if wait == 0 {
			continue
		}
		if wait < 0 {
			wait = time.Millisecond
		}
		for _, m := range []time.Duration{2 * time.Millisecond, 10 * time.Millisecond} {
			if elapsed < m {
				wait = min(wait, m-elapsed)
			}
		}
		clk.Advance(wait)
		elapsed += wait
	}
	return out, clusters, e
}

// A probe cluster due with no media queued goes out as padding-only
// packets at the cluster's rate: RTP sequence numbers gapless across
// media and padding (media shifted by the paddings sent before it),
// transport-wide numbers gapless, padding bit and length byte right, the
// timestamp and payload type of the last media packet; the packets are
// probe packets of the history, and their feedback makes a probe result.
func TestPaddingProbe(t *testing.T) {
	var results []sendside.Result
	out, clusters, e := paddingScript(t, WithObserver(func(r sendside.Result) {
		if r.Probe > 0 {
			results = append(results, r)
		}
	}))
	if len(clusters) != 2 {
		t.Fatalf("%d clusters pending after the first packet, want the 2 initial ones (3 and 6 × start)", len(clusters))
	}
	for i, c := range clusters {
		if want := bwe.Bitrate(300_000 * []int{3, 6}[i]); c.Bitrate != want {
			t.Fatalf("cluster %d: %v, want %v", i, c.Bitrate, want)
		}
	}

	var pads, medias int
	for i, p := range out.out {
		h := p.pkt.Header
		if want := uint16(1000 + i); h.SequenceNumber != want {
			t.Errorf("packet %d: sequence number %d, want %d", i, h.SequenceNumber, want)
		}
		if got, want := binary.BigEndian.Uint16(h.GetExtension(testTWID)), uint16(500+i); got != want {
			t.Errorf("packet %d: transport-wide number %d, want %d", i, got, want)
		}
		if !h.Padding {
			// The packetizer's number medias, shifted by the paddings before.
			if h.SequenceNumber != uint16(1000+medias+pads) || len(p.pkt.Payload) != 1000 || !h.Marker {
				t.Errorf("packet %d: media %d after %d paddings as seq %d, payload %d B, marker %v", i, medias, pads, h.SequenceNumber, len(p.pkt.Payload), h.Marker)
			}
			medias++
			continue
		}
		pads++
		last := p.raw[len(p.raw)-1]
		if len(p.pkt.Payload) != 0 || p.pkt.PaddingSize != maxPaddingSize || last != maxPaddingSize || h.Marker {
			t.Errorf("packet %d: padding with payload %d B, padding size %d, last byte %d, marker %v; want 0, %d, %d, false",
				i, len(p.pkt.Payload), p.pkt.PaddingSize, last, h.Marker, maxPaddingSize, maxPaddingSize)
		}
		if want := uint32(1000+medias-1) * 3000; h.Timestamp != want || h.PayloadType != 96 || h.SSRC != testSSRC {
			t.Errorf("packet %d: padding timestamp %d, payload type %d, SSRC %x; want %d, 96, %x", i, h.Timestamp, h.PayloadType, h.SSRC, want, testSSRC)
		}
		if len(p.raw) != 12+8+maxPaddingSize {
			t.Errorf("packet %d: %d bytes on the wire, want %d", i, len(p.raw), 12+8+maxPaddingSize)
		}
	}
	if medias != 3 || pads == 0 {
		t.Fatalf("%d media and %d padding packets sent, want 3 and some", medias, pads)
	}

	// The clusters, one after the other, at their rates: the bytes of a
	// cluster but its last packet over the time from its first packet to
	// its last (each packet is followed by its own time at the rate).
	e.mu.Lock()
	type span struct {
		first, last time.Duration
		bytes, end  bwe.ByteCount // all, the last packet's
		n           int
	}
	spans := map[int32]*span{}
	tagged := 0
	for i := e.hist.first; i < e.hist.next; i++ {
		hp := e.hist.at(i)
		if hp.probe == 0 {
			continue
		}
		tagged++
		at := time.Duration(hp.send) * time.Microsecond
		s := spans[hp.probe]
		if s == nil {
			s = &span{first: at}
			spans[hp.probe] = s
		}
		s.bytes += hp.size
		s.last, s.end = at, hp.size
		s.n++
	}
	e.mu.Unlock()
	st := e.Stats()
	if int64(tagged) != st.Pacer.ProbePackets || st.Pacer.Padding != int64(pads) || st.Pacer.ProbeClusters != 2 {
		t.Errorf("history: %d probe packets; pacer: %d probe packets, %d paddings (wire %d), %d clusters complete, want 2",
			tagged, st.Pacer.ProbePackets, st.Pacer.Padding, pads, st.Pacer.ProbeClusters)
	}
	for _, c := range clusters {
		s := spans[c.ID]
		if s == nil {
			t.Errorf("cluster %d (%v): no probe packet in the history", c.ID, c.Bitrate)
			continue
		}
		cl := c.Cluster()
		rate := bwe.RateOf(s.bytes-s.end, s.last-s.first)
		t.Logf("cluster %d: %v requested, %d packets, sent at %v", c.ID, c.Bitrate, s.n, rate)
		if s.n < cl.MinProbes || s.bytes < cl.MinBytes {
			t.Errorf("cluster %d: %d packets of %d bytes, want at least %d, %d", c.ID, s.n, s.bytes, cl.MinProbes, cl.MinBytes)
		}
		// Paced on a clock of 1 µs: each gap is rounded up to the µs,
		// at most 1 µs in 1 ms.
		if rate > c.Bitrate || rate < c.Bitrate.Scale(0.999) {
			t.Errorf("cluster %d: sent at %v, want %v (within 0.1 %% below)", c.ID, rate, c.Bitrate)
		}
	}

	// Feedback: every packet arrives 20 ms after it was sent.
	rec := twcc.NewRecorder(0x9999)
	for _, p := range out.out {
		tw := binary.BigEndian.Uint16(p.pkt.Header.GetExtension(testTWID))
		rec.Record(testSSRC, tw, (p.at + 20*time.Millisecond).Microseconds())
	}
	if err := e.WriteRTCP(rec.BuildFeedbackPacket(), nil); err != nil {
		t.Fatal(err)
	}
	if st := e.Stats(); st.Received != int64(len(out.out)) || st.Unknown != 0 {
		t.Errorf("feedback: %d received, %d unknown; want %d, 0", st.Received, st.Unknown, len(out.out))
	}
	if len(results) != 1 || results[0].Probe < clusters[1].Bitrate.Scale(0.9) || results[0].Probe > clusters[1].Bitrate {
		t.Errorf("probe results %v, want one near the last cluster's %v", results, clusters[1].Bitrate)
	}
}

// With padding off, the same script sends the media only, and the
// clusters wait for media.
func TestPaddingOff(t *testing.T) {
	out, clusters, e := paddingScript(t, WithPadding(false))
	if len(clusters) != 2 {
		t.Fatalf("%d clusters pending, want 2", len(clusters))
	}
	for i, p := range out.out {
		if p.pkt.Padding || p.pkt.SequenceNumber != uint16(1000+i) {
			t.Errorf("packet %d: padding %v, seq %d; want media %d", i, p.pkt.Padding, p.pkt.SequenceNumber, 1000+i)
		}
	}
	if st := e.Stats(); len(out.out) != 3 || st.Pacer.Padding != 0 || st.Pacer.ProbeClusters != 0 {
		t.Errorf("%d packets on the wire, %d paddings, %d clusters complete; want 3, 0, 0", len(out.out), st.Pacer.Padding, st.Pacer.ProbeClusters)
	}
}

// Padding needs media on a stream with a transport-wide number: none
// before the first packet.
func TestPaddingNeedsMedia(t *testing.T) {
	clk := newFakeClock()
	e, err := New(WithClock(clk.Now), withManual())
	if err != nil {
		t.Fatal(err)
	}
	out := &wireSink{clk: clk, start: clk.Now()}
	e.AddStream(twccInfo(testSSRC), out)
	e.mu.Lock()
	e.pace.addProbe(probe.Request{ID: 1, Bitrate: bwe.Mbps, Duration: 15 * time.Millisecond, MinProbes: 5, At: e.clock()})
	e.mu.Unlock()
	for range 100 {
		clk.Advance(time.Millisecond)
		e.sendHead(false)
	}
	if len(out.out) != 0 {
		t.Errorf("%d packets sent by a stream that never sent media", len(out.out))
	}
}

// After Close, packets written pass on with the padding's shift.
func TestPaddingShiftAfterClose(t *testing.T) {
	out, _, e := paddingScript(t)
	e.mu.Lock()
	sw := e.pad.from
	e.mu.Unlock()
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	n := len(out.out)
	h := twHeader(testSSRC, 1003, 503)
	if _, err := sw.Write(h, make([]byte, 10), nil); err != nil {
		t.Fatal(err)
	}
	p := out.out[len(out.out)-1].pkt
	if p.SequenceNumber != uint16(1000+n) || binary.BigEndian.Uint16(p.GetExtension(testTWID)) != uint16(500+n) {
		t.Errorf("after Close: seq %d, transport-wide %d; want %d, %d", p.SequenceNumber, binary.BigEndian.Uint16(p.GetExtension(testTWID)), 1000+n, 500+n)
	}
	if h.SequenceNumber != 1003 || binary.BigEndian.Uint16(h.GetExtension(testTWID)) != 503 {
		t.Errorf("the caller's header was changed")
	}
}

// The padding path allocates nothing once warm.
func TestAllocsPadding(t *testing.T) {
	clk := newFakeClock()
	e, err := New(WithClock(clk.Now), withManual(), WithConfig(sendside.Config{NoProbing: true}))
	if err != nil {
		t.Fatal(err)
	}
	w := e.AddStream(twccInfo(testSSRC), &sink{})
	if _, err := w.Write(twHeader(testSSRC, 1, 1), make([]byte, 100), nil); err != nil {
		t.Fatal(err)
	}
	e.sendHead(false)
	var id int32
	cluster := func() {
		id++
		e.mu.Lock()
		e.pace.addProbe(probe.Request{ID: id, Bitrate: 2 * bwe.Mbps, Duration: 15 * time.Millisecond, MinProbes: 5, At: e.clock()})
		e.mu.Unlock()
		for range 40 {
			clk.Advance(time.Millisecond)
			e.sendHead(false)
		}
	}
	for range 10 {
		cluster()
	}
	before := e.Stats().Pacer.Padding
	if a := testing.AllocsPerRun(50, cluster); a != 0 {
		t.Errorf("%v allocations per padded cluster, want 0", a)
	}
	if e.Stats().Pacer.Padding == before {
		t.Errorf("no padding sent")
	}
}
