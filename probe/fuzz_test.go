package probe

import (
	"encoding/binary"
	"math"
	"testing"
	"time"

	"github.com/bwelab/bwe"
)

// refCluster and refEstimator are a direct model of libwebrtc's
// ProbeBitrateEstimator: an unbounded map of clusters whose extremes start
// at ±infinity. The fuzz target checks that the fixed-table Estimator agrees
// with it for as long as no cluster has been evicted.
type refCluster struct {
	count                     int64
	firstSend, lastSend       bwe.Time
	firstArrival, lastArrival bwe.Time
	sizeLastSend, sizeFirst   bwe.ByteCount
	total                     bwe.ByteCount
	packets                   []bwe.PacketResult // in accounting order
}

type refEstimator struct {
	cfg      Config
	clusters map[int32]*refCluster
	last     bwe.Bitrate
	hasLast  bool
}

func newRef(cfg Config) *refEstimator {
	return &refEstimator{cfg: cfg.withDefaults(), clusters: map[int32]*refCluster{}}
}

func (r *refEstimator) update(p bwe.PacketResult, c Cluster) (bwe.Bitrate, bool) {
	if !p.Received || c.ID <= 0 || p.ProbeCluster != c.ID || c.MinProbes <= 0 || c.MinBytes <= 0 || p.Size < 0 {
		return 0, false
	}
	for id, cl := range r.clusters {
		if cl.lastArrival.Add(r.cfg.ClusterHistory) < p.Arrival {
			delete(r.clusters, id)
		}
	}
	cl := r.clusters[c.ID]
	if cl == nil {
		cl = &refCluster{firstSend: bwe.MaxTime, lastSend: bwe.MinTime, firstArrival: bwe.MaxTime, lastArrival: bwe.MinTime}
		r.clusters[c.ID] = cl
	}
	if p.SendTime < cl.firstSend {
		cl.firstSend = p.SendTime
	}
	if p.SendTime > cl.lastSend {
		cl.lastSend, cl.sizeLastSend = p.SendTime, p.Size
	}
	if p.Arrival < cl.firstArrival {
		cl.firstArrival, cl.sizeFirst = p.Arrival, p.Size
	}
	if p.Arrival > cl.lastArrival {
		cl.lastArrival = p.Arrival
	}
	if cl.total > math.MaxInt64-p.Size {
		cl.total = math.MaxInt64
	} else {
		cl.total += p.Size
	}
	cl.count++
	cl.packets = append(cl.packets, p)

	minProbes := truncate(float64(c.MinProbes) * r.cfg.MinReceivedProbes)
	minBytes := bwe.ByteCount(truncate(math.Round(float64(c.MinBytes) * r.cfg.MinReceivedBytes)))
	if cl.count < minProbes || cl.total < minBytes {
		return 0, false
	}
	si := cl.lastSend.Sub(cl.firstSend)
	ri := cl.lastArrival.Sub(cl.firstArrival)
	if si <= 0 || si > r.cfg.MaxProbeInterval || ri <= 0 || ri > r.cfg.MaxProbeInterval {
		return 0, false
	}
	send := bwe.RateOf(cl.total-cl.sizeLastSend, si)
	recv := bwe.RateOf(cl.total-cl.sizeFirst, ri)
	if recv <= 0 || send <= 0 || float64(recv)/float64(send) > r.cfg.MaxReceiveSendRatio {
		return 0, false
	}
	if q, ok := r.queuedRate(cl); ok && q < recv {
		recv = q
	}
	res := min(send, recv)
	if recv < send.Scale(r.cfg.UnsaturatedRatio) {
		res = recv.Scale(r.cfg.TargetUtilization)
	}
	if res <= 0 {
		return 0, false
	}
	r.last, r.hasLast = res, true
	return res, true
}

// queuedRate is Config.QueuedRate from its definition: the packets whose
// one-way delay exceeds the lowest of those accounted before them by more
// than QueueDelay, measured from the first of them to arrive to the last.
func (r *refEstimator) queuedRate(cl *refCluster) (bwe.Bitrate, bool) {
	if !r.cfg.QueuedRate {
		return 0, false
	}
	var queued []bwe.PacketResult
	for i, p := range cl.packets {
		lowest := time.Duration(math.MaxInt64)
		for _, q := range cl.packets[:i] {
			lowest = min(lowest, q.Arrival.Sub(q.SendTime))
		}
		if i > 0 && p.Arrival.Sub(p.SendTime)-lowest > r.cfg.QueueDelay {
			queued = append(queued, p)
		}
	}
	if len(queued) < r.cfg.MinQueued {
		return 0, false
	}
	first, last := queued[0], queued[0]
	var total bwe.ByteCount
	for _, p := range queued {
		if p.Arrival < first.Arrival {
			first = p
		}
		last.Arrival = max(last.Arrival, p.Arrival)
		if total > math.MaxInt64-p.Size {
			total = math.MaxInt64
		} else {
			total += p.Size
		}
	}
	d := last.Arrival.Sub(first.Arrival)
	if d <= 0 {
		return 0, false
	}
	q := bwe.RateOf(total-first.Size, d)
	return q, q > 0
}

func (r *refEstimator) fetch() (bwe.Bitrate, bool) {
	v, ok := r.last, r.hasLast
	r.last, r.hasLast = 0, false
	return v, ok
}

// fuzzConfigs are the configurations a fuzz input can pick with its first
// byte; the third lets 0.3·1 bps round to zero; the last two measure
// queued packets.
var fuzzConfigs = []Config{
	{},
	{MaxProbeInterval: 10 * time.Millisecond, ClusterHistory: time.Millisecond},
	{TargetUtilization: 0.3, UnsaturatedRatio: 1, MaxReceiveSendRatio: 1e9},
	{QueuedRate: true},
	{QueuedRate: true, QueueDelay: time.Microsecond, MinQueued: 3, MaxReceiveSendRatio: 1e9},
}

// FuzzEstimator decodes arbitrary bytes into a sequence of Update, Fetch and
// Reset calls. Each call takes 8 bytes:
//
//	0    kind: %16 == 0 Fetch, 1 Reset, 2 lost packet, 3 huge time jump,
//	     else a received packet
//	1    cluster id, int8 (0, negative and > MaxClusters included)
//	2-3  send-time step, int16 ×100 µs (backwards included)
//	4-5  arrival-time step, int16 ×100 µs (backwards included)
//	6    size: ×10 B; 255 = MaxInt64 B, 254 = −1 B
//	7    low nibble MinProbes, high nibble MinBytes in kB (0 is invalid)
//
// It checks that nothing panics, that every estimate is positive, that the
// counters add up, and that results equal the map-based model while no
// cluster has been evicted.
func FuzzEstimator(f *testing.F) {
	f.Add([]byte{0,
		4, 1, 0, 0, 100, 0, 100, 0x55,
		4, 1, 100, 0, 100, 0, 100, 0x55,
		4, 1, 100, 0, 100, 0, 100, 0x55,
		4, 1, 100, 0, 100, 0, 100, 0x55,
		0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{2,
		4, 1, 0, 0, 50, 0, 1, 0x12,
		4, 1, 10, 0, 0, 0, 0, 0x12,
		4, 1, 10, 0, 80, 0xff, 255, 0x12,
		3, 2, 1, 0, 1, 0, 254, 0x12,
		1, 0, 0, 0, 0, 0, 0, 0,
		4, 20, 0, 0, 1, 0, 100, 0x12})
	f.Add([]byte{1,
		4, 17, 0, 0, 10, 0, 120, 0x13,
		4, 18, 1, 0, 11, 0, 120, 0x13,
		4, 200, 0xff, 0xff, 0xff, 0x7f, 10, 0xf1})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		cfg := fuzzConfigs[int(data[0])%len(fuzzConfigs)]
		data = data[1:]
		e, err := NewEstimator(cfg)
		if err != nil {
			t.Fatal(err)
		}
		ref := newRef(cfg)
		var send, arrival bwe.Time
		var updates int64
		for i := 0; len(data) >= 8; i, data = i+1, data[8:] {
			op := data[:8]
			kind := op[0] % 16
			switch kind {
			case 0:
				got, ok := e.Fetch()
				want, wantOK := ref.fetch()
				check(t, i, "Fetch", got, ok)
				if e.stats.Evicted == 0 && (got != want || ok != wantOK) {
					t.Fatalf("step %d: Fetch() = (%v, %v), model gives (%v, %v)", i, got, ok, want, wantOK)
				}
				continue
			case 1:
				e.Reset()
				ref = newRef(cfg)
				updates = 0
				continue
			}
			step := func(b []byte) time.Duration {
				d := time.Duration(int16(binary.LittleEndian.Uint16(b))) * 100 * time.Microsecond
				if kind == 3 {
					d *= 1e9
				}
				return d
			}
			send = send.Add(step(op[2:4]))
			arrival = arrival.Add(step(op[4:6]))
			size := bwe.ByteCount(op[6]) * 10
			switch op[6] {
			case 255:
				size = math.MaxInt64
			case 254:
				size = -1
			}
			id := int32(int8(op[1]))
			c := Cluster{ID: id, MinProbes: int(op[7] & 0x0f), MinBytes: bwe.ByteCount(op[7]>>4) * 1000}
			p := bwe.PacketResult{Seq: int64(i), SendTime: send, Arrival: arrival, Size: size,
				Received: kind != 2, ProbeCluster: id}
			got, ok := e.Update(p, c)
			updates++
			check(t, i, "Update", got, ok)
			want, wantOK := ref.update(p, c)
			if e.stats.Evicted == 0 && (got != want || ok != wantOK) {
				t.Fatalf("step %d: Update(%+v, %+v) = (%v, %v), model gives (%v, %v)", i, p, c, got, ok, want, wantOK)
			}
			s := e.Stats()
			if s.Packets+s.Ignored != updates {
				t.Fatalf("step %d: Packets %d + Ignored %d != %d updates", i, s.Packets, s.Ignored, updates)
			}
			if s.Estimates+s.BadInterval+s.BadRatio+s.ZeroRate > s.Packets {
				t.Fatalf("step %d: more outcomes than packets: %+v", i, s)
			}
		}
	})
}

func check(t *testing.T, i int, call string, got bwe.Bitrate, ok bool) {
	t.Helper()
	if ok && got <= 0 {
		t.Fatalf("step %d: %s = %v, want a positive estimate", i, call, got)
	}
	if !ok && got != 0 {
		t.Fatalf("step %d: %s = (%v, false), want 0 with no estimate", i, call, got)
	}
}
