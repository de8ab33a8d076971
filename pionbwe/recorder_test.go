package pionbwe

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// rtcpQueue is an RTCPReader handing out marshalled compound packets.
type rtcpQueue struct{ next [][]byte }

func (q *rtcpQueue) Read(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
	n := copy(b, q.next[0])
	q.next = q.next[1:]
	return n, a, nil
}

// The recording interceptor, driven with the same packets and feedback as
// an Estimator with WithRecorder, writes the same trace byte for byte;
// it leaves the packets untouched (it numbers none) and passes the RTCP
// on as read.
func TestRecordingInterceptor(t *testing.T) {
	clk := newFakeClock()
	var viaRecorder, viaEstimator bytes.Buffer
	f, err := NewRecorder(&viaRecorder, WithClock(clk.Now), withManual())
	if err != nil {
		t.Fatal(err)
	}
	ic, err := f.NewInterceptor("")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.NewInterceptor(""); err == nil || !strings.Contains(err.Error(), "one PeerConnection") {
		t.Errorf("second NewInterceptor: error %v, want one naming the one-PeerConnection rule", err)
	}
	e, err := New(WithClock(clk.Now), withManual(), WithPacer(false), WithRecorder(&viaEstimator))
	if err != nil {
		t.Fatal(err)
	}
	recOut, estOut := &sink{keep: true}, &sink{}
	rw := ic.BindLocalStream(twccInfo(testSSRC), recOut)
	ew := e.AddStream(twccInfo(testSSRC), estOut)
	q := &rtcpQueue{}
	rr := ic.BindRTCPReader(q)

	l := newLink(2e6, 30*time.Millisecond, 0.02, 3)
	payload := make([]byte, 1188)
	var seq, tw uint16
	buf := make([]byte, 1500)
	for now := time.Millisecond; now <= 10*time.Second; now += time.Millisecond {
		clk.Advance(time.Millisecond)
		if now%(5*time.Millisecond) == 0 { // 1.9 Mbps of 1200-byte packets
			h1, h2 := twHeader(testSSRC, seq, tw), twHeader(testSSRC, seq, tw)
			if _, err := rw.Write(h1, payload, nil); err != nil {
				t.Fatal(err)
			}
			if _, err := ew.Write(h2, payload, nil); err != nil {
				t.Fatal(err)
			}
			l.send(now, tw, 1200)
			seq, tw = seq+1, tw+1
		}
		if fb := l.feedback(now); fb != nil {
			raw, err := rtcp.Marshal(fb)
			if err != nil {
				t.Fatal(err)
			}
			q.next = append(q.next, raw)
			n, _, err := rr.Read(buf, nil)
			if err != nil || !bytes.Equal(buf[:n], raw) {
				t.Fatalf("at %v: the recorder's RTCP reader gave %d bytes, %v; want the %d read", now, n, err, len(raw))
			}
			if err := e.WriteRTCP(fb, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	// A packet of a stream without a transport-wide number stays so.
	plain := ic.BindLocalStream(&interceptor.StreamInfo{SSRC: 0x2222}, recOut)
	h := &rtp.Header{Version: 2, SSRC: 0x2222, SequenceNumber: 9}
	if _, err := plain.Write(h, payload, nil); err != nil {
		t.Fatal(err)
	}
	if len(h.Extensions) != 0 {
		t.Errorf("the recorder added header extensions %v to a packet", h.Extensions)
	}
	if err := ic.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if viaRecorder.Len() < 1000 || !bytes.Equal(viaRecorder.Bytes(), viaEstimator.Bytes()) {
		t.Fatalf("recorder trace (%d bytes) differs from the estimator's (%d bytes)", viaRecorder.Len(), viaEstimator.Len())
	}
	if len(recOut.seqs) != int(seq)+1 || recOut.seqs[0] != 0 || recOut.seqs[len(recOut.seqs)-2] != seq-1 {
		t.Errorf("the recorder passed on %d packets, want %d in order", len(recOut.seqs), seq+1)
	}
}

func TestNewRecorderNil(t *testing.T) {
	if _, err := NewRecorder(nil); err == nil {
		t.Error("NewRecorder(nil): no error")
	}
}
