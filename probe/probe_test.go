package probe

import (
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bwelab/bwe"
)

// Defaults of libwebrtc probe_bitrate_estimator_unittest.cc's
// AddPacketFeedback: kDefaultMinProbes = 5, kDefaultMinBytes = 5000.
const (
	defaultMinProbes = 5
	defaultMinBytes  = 5000
)

// step is one call in a scripted timeline: a packet (the arguments of
// libwebrtc's AddPacketFeedback) or a Fetch, with an optional expectation.
type step struct {
	fetch bool // call Fetch instead of Update

	id                int32 // our cluster id: libwebrtc's id + 1
	size              bwe.ByteCount
	sendMs, arrivalMs int64
	minProbes         int
	minBytes          bwe.ByteCount

	check bool        // compare the result of this step
	ok    bool        // an estimate is expected
	want  bwe.Bitrate // libwebrtc's expected value
	tol   bwe.Bitrate // libwebrtc's EXPECT_NEAR tolerance
	exact bwe.Bitrate // the value libwebrtc's arithmetic gives, derived by hand
}

// pkt is libwebrtc's AddPacketFeedback(cluster, size, send, arrival) with the
// default minima; libwebrtc cluster ids start at 0, ours at 1.
func pkt(lwID int32, size bwe.ByteCount, sendMs, arrivalMs int64) step {
	return pktMin(lwID, size, sendMs, arrivalMs, defaultMinProbes, defaultMinBytes)
}

func pktMin(lwID int32, size bwe.ByteCount, sendMs, arrivalMs int64, minProbes int, minBytes bwe.ByteCount) step {
	return step{id: lwID + 1, size: size, sendMs: sendMs, arrivalMs: arrivalMs, minProbes: minProbes, minBytes: minBytes}
}

func fetch() step { return step{fetch: true} }

// near expects an estimate within tol of want (libwebrtc's EXPECT_NEAR) and
// equal to exact.
func (s step) near(want, tol, exact bwe.Bitrate) step {
	s.check, s.ok, s.want, s.tol, s.exact = true, true, want, tol, exact
	return s
}

// none expects no estimate (libwebrtc's EXPECT_FALSE).
func (s step) none() step {
	s.check, s.ok = true, false
	return s
}

// run plays steps against e, with all times offset by ref.
func run(t *testing.T, e *Estimator, ref bwe.Time, steps []step) {
	t.Helper()
	for i, s := range steps {
		var got bwe.Bitrate
		var ok bool
		call := "Fetch()"
		if s.fetch {
			got, ok = e.Fetch()
		} else {
			p := bwe.PacketResult{
				SendTime:     ref.Add(time.Duration(s.sendMs) * time.Millisecond),
				Arrival:      ref.Add(time.Duration(s.arrivalMs) * time.Millisecond),
				Size:         s.size,
				Received:     true,
				ProbeCluster: s.id,
			}
			got, ok = e.Update(p, Cluster{ID: s.id, MinProbes: s.minProbes, MinBytes: s.minBytes})
			call = "Update(cluster " + itoa(int64(s.id)) + ", " + itoa(int64(s.size)) + " B, send " +
				itoa(s.sendMs) + " ms, arrival " + itoa(s.arrivalMs) + " ms)"
		}
		if !s.check {
			continue
		}
		switch {
		case ok != s.ok:
			t.Errorf("step %d: %s = (%v, %v), want ok=%v", i, call, got, ok, s.ok)
		case !s.ok && got != 0:
			t.Errorf("step %d: %s = (%v, false), want a zero rate with ok=false", i, call, got)
		case s.ok && (got < s.want-s.tol || got > s.want+s.tol):
			t.Errorf("step %d: %s = %d bps, want %d ± %d bps", i, call, got, s.want, s.tol)
		case s.ok && got != s.exact:
			t.Errorf("step %d: %s = %d bps, want exactly %d bps", i, call, got, s.exact)
		}
	}
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

// scaled is libwebrtc's expected value kTargetUtilizationFraction * bps,
// where kTargetUtilizationFraction = 0.95f, rounded to whole bps (the
// product is a fraction of a bps below the round number).
func scaled(bps float64) bwe.Bitrate {
	return bwe.Bitrate(math.Round(float64(float32(0.95)) * bps))
}

// conformance holds every case of libwebrtc
// modules/congestion_controller/goog_cc/probe_bitrate_estimator_unittest.cc,
// in the file's order, with its expected values and tolerances.
var conformance = []struct {
	name  string // the libwebrtc TEST_F name
	steps []step
}{
	{"OneCluster", []step{
		pkt(0, 1000, 0, 10),
		pkt(0, 1000, 10, 20),
		pkt(0, 1000, 20, 30),
		// 3000 B / 30 ms both ways = 800 kbps.
		pkt(0, 1000, 30, 40).near(800000, 10, 800000),
	}},
	{"OneClusterTooFewProbes", []step{
		pkt(0, 2000, 0, 10),
		pkt(0, 2000, 10, 20),
		// 3 packets < 0.8·5 = 4.
		pkt(0, 2000, 20, 30).none(),
	}},
	{"OneClusterTooFewBytes", []step{
		pktMin(0, 800, 0, 10, defaultMinProbes, 6000),
		pktMin(0, 800, 10, 20, defaultMinProbes, 6000),
		pktMin(0, 800, 20, 30, defaultMinProbes, 6000),
		pktMin(0, 800, 30, 40, defaultMinProbes, 6000),
		// 4000 B < 0.8·6000 = 4800 B.
		pktMin(0, 800, 40, 50, defaultMinProbes, 6000).none(),
	}},
	{"SmallCluster", []step{
		pktMin(0, 150, 0, 10, defaultMinProbes, 1000),
		pktMin(0, 150, 10, 20, defaultMinProbes, 1000),
		pktMin(0, 150, 20, 30, defaultMinProbes, 1000),
		pktMin(0, 150, 30, 40, defaultMinProbes, 1000),
		pktMin(0, 150, 40, 50, defaultMinProbes, 1000),
		// 900 B ≥ 800 B; 750 B / 50 ms = 120 kbps.
		pktMin(0, 150, 50, 60, defaultMinProbes, 1000).near(120000, 10, 120000),
	}},
	{"LargeCluster", largeCluster()},
	{"FastReceive", []step{
		pkt(0, 1000, 0, 15),
		pkt(0, 1000, 10, 30),
		pkt(0, 1000, 20, 35),
		// send 3000 B / 30 ms = 800 kbps, receive 3000 B / 25 ms = 960 kbps.
		pkt(0, 1000, 30, 40).near(800000, 10, 800000),
	}},
	{"TooFastReceive", []step{
		pkt(0, 1000, 0, 19),
		pkt(0, 1000, 10, 22),
		pkt(0, 1000, 20, 25),
		// send 600 kbps, receive 3000 B / 8 ms = 3 Mbps: ratio 5 > 2.
		pkt(0, 1000, 40, 27).none(),
	}},
	{"SlowReceive", []step{
		pkt(0, 1000, 0, 10),
		pkt(0, 1000, 10, 40),
		pkt(0, 1000, 20, 70),
		// send 800 kbps, receive 3000 B / 75 ms = 320 kbps.
		pkt(0, 1000, 30, 85).near(scaled(320000), 10, 304000),
	}},
	{"BurstReceive", []step{
		pkt(0, 1000, 0, 50),
		pkt(0, 1000, 10, 50),
		pkt(0, 1000, 20, 50),
		// receive interval 0.
		pkt(0, 1000, 40, 50).none(),
	}},
	{"MultipleClusters", []step{
		pkt(0, 1000, 0, 10),
		pkt(0, 1000, 10, 20),
		pkt(0, 1000, 20, 30),
		// send 3000 B / 40 ms = 600 kbps, receive 3000 B / 50 ms = 480 kbps.
		pkt(0, 1000, 40, 60).near(scaled(480000), 10, 456000),
		// send 4000 B / 50 ms = 640 kbps, receive 4000 B / 50 ms = 640 kbps.
		pkt(0, 1000, 50, 60).near(640000, 10, 640000),
		pkt(1, 1000, 60, 70),
		pkt(1, 1000, 65, 77),
		pkt(1, 1000, 70, 84),
		// send 3000 B / 15 ms = 1600 kbps, receive 3000 B / 20 ms = 1200 kbps.
		pkt(1, 1000, 75, 90).near(scaled(1200000), 10, 1140000),
	}},
	{"IgnoreOldClusters", []step{
		pkt(0, 1000, 0, 10),
		pkt(0, 1000, 10, 20),
		pkt(0, 1000, 20, 30),
		pkt(1, 1000, 60, 70),
		pkt(1, 1000, 65, 77),
		pkt(1, 1000, 70, 84),
		pkt(1, 1000, 75, 90).near(scaled(1200000), 10, 1140000),
		// Coming in 6 s later: cluster 0 was forgotten and restarts.
		pkt(0, 1000, 40+6000, 60+6000).none(),
	}},
	{"IgnoreSizeLastSendPacket", []step{
		pkt(0, 1000, 0, 10),
		pkt(0, 1000, 10, 20),
		pkt(0, 1000, 20, 30),
		pkt(0, 1000, 30, 40),
		// send 4000 B / 40 ms = 800 kbps, receive 4500 B / 40 ms = 900 kbps.
		pkt(0, 1500, 40, 50).near(800000, 10, 800000),
	}},
	{"IgnoreSizeFirstReceivePacket", []step{
		pkt(0, 1500, 0, 10),
		pkt(0, 1000, 10, 20),
		pkt(0, 1000, 20, 30),
		// send 3500 B / 30 ms = 933333 bps, receive 3000 B / 30 ms = 800 kbps.
		pkt(0, 1000, 30, 40).near(scaled(800000), 10, 760000),
	}},
	{"NoLastEstimatedBitrateBps", []step{
		fetch().none(),
	}},
	{"FetchLastEstimatedBitrateBps", []step{
		pkt(0, 1000, 0, 10),
		pkt(0, 1000, 10, 20),
		pkt(0, 1000, 20, 30),
		pkt(0, 1000, 30, 40),
		fetch().near(800000, 10, 800000),
		fetch().none(),
	}},
}

// largeCluster is libwebrtc's LargeCluster: 25 packets of 12500 B, 1 ms
// apart, arrivals 5 ms after sending, min probes 30, min bytes 312500.
func largeCluster() []step {
	var steps []step
	for i := range int64(25) {
		steps = append(steps, pktMin(0, 12500, i, 5+i, 30, 312500))
	}
	// 24 packets reach 0.8·30; from then on 12500 B per ms = 100 Mbps.
	steps[23] = steps[23].near(100000000, 10, 100000000)
	steps[24] = steps[24].near(100000000, 10, 100000000)
	for i := range 23 {
		steps[i] = steps[i].none()
	}
	return steps
}

func TestConformance(t *testing.T) {
	// The recent libwebrtc test adds kReferenceTime = 1000 s to every time;
	// the older one used raw times. Both must give the same results.
	for _, ref := range []bwe.Time{0, bwe.TimeFromDuration(1000 * time.Second)} {
		for _, tc := range conformance {
			t.Run(tc.name+"/ref="+ref.String(), func(t *testing.T) {
				e, err := NewEstimator(Config{})
				if err != nil {
					t.Fatal(err)
				}
				run(t, e, ref, tc.steps)
			})
		}
	}
}

func TestDefaultConfig(t *testing.T) {
	e, err := NewEstimator(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := e.Config(), DefaultConfig(); got != want {
		t.Errorf("NewEstimator(Config{}).Config() = %+v, want %+v", got, want)
	}
	d := DefaultConfig()
	if d.UnsaturatedRatio != 0.89999997615814208984375 {
		t.Errorf("UnsaturatedRatio = %.25g, want float32(0.9)", d.UnsaturatedRatio)
	}
	if d.TargetUtilization != 0.949999988079071044921875 {
		t.Errorf("TargetUtilization = %.25g, want float32(0.95)", d.TargetUtilization)
	}
}

func TestNewEstimatorRejects(t *testing.T) {
	nan := math.NaN()
	cases := []struct {
		cfg   Config
		field string
	}{
		{Config{MinReceivedProbes: -0.1}, "MinReceivedProbes"},
		{Config{MinReceivedProbes: 1.5}, "MinReceivedProbes"},
		{Config{MinReceivedBytes: nan}, "MinReceivedBytes"},
		{Config{UnsaturatedRatio: -1}, "UnsaturatedRatio"},
		{Config{TargetUtilization: 1.01}, "TargetUtilization"},
		{Config{TargetUtilization: math.Inf(1)}, "TargetUtilization"},
		{Config{MaxReceiveSendRatio: -2}, "MaxReceiveSendRatio"},
		{Config{MaxReceiveSendRatio: math.Inf(1)}, "MaxReceiveSendRatio"},
		{Config{MaxReceiveSendRatio: nan}, "MaxReceiveSendRatio"},
		{Config{ClusterHistory: -time.Second}, "ClusterHistory"},
		{Config{MaxProbeInterval: -1}, "MaxProbeInterval"},
		{Config{QueueDelay: -time.Millisecond}, "QueueDelay"},
		{Config{MinQueued: 2}, "MinQueued"},
		{Config{MinQueued: -4}, "MinQueued"},
	}
	for i, c := range cases {
		e, err := NewEstimator(c.cfg)
		if err == nil {
			t.Errorf("case %d: NewEstimator(%+v) = %v, nil; want an error naming %s", i, c.cfg, e, c.field)
			continue
		}
		if !strings.Contains(err.Error(), "Config."+c.field) {
			t.Errorf("case %d: NewEstimator(%+v) error %q does not name %s", i, c.cfg, err, c.field)
		}
	}
	if _, err := NewEstimator(Config{MinReceivedProbes: 1, TargetUtilization: 1, UnsaturatedRatio: 1, MaxReceiveSendRatio: 10}); err != nil {
		t.Errorf("NewEstimator with boundary values: %v", err)
	}
}

func newDefault(t testing.TB) *Estimator {
	t.Helper()
	e, err := NewEstimator(Config{})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// packet builds a received probe packet with times in ms.
func packet(id int32, size bwe.ByteCount, sendMs, arrivalMs int64) bwe.PacketResult {
	return bwe.PacketResult{
		SendTime:     bwe.TimeFromDuration(time.Duration(sendMs) * time.Millisecond),
		Arrival:      bwe.TimeFromDuration(time.Duration(arrivalMs) * time.Millisecond),
		Size:         size,
		Received:     true,
		ProbeCluster: id,
	}
}

func TestIgnored(t *testing.T) {
	good := Cluster{ID: 1, MinProbes: 5, MinBytes: 5000}
	lost := packet(1, 1000, 0, 10)
	lost.Received = false
	cases := []struct {
		name string
		p    bwe.PacketResult
		c    Cluster
	}{
		{"not received", lost, good},
		{"other cluster", packet(2, 1000, 0, 10), good},
		{"not a probe", packet(0, 1000, 0, 10), Cluster{ID: 0, MinProbes: 5, MinBytes: 5000}},
		{"negative id", packet(-1, 1000, 0, 10), Cluster{ID: -1, MinProbes: 5, MinBytes: 5000}},
		{"zero MinProbes", packet(1, 1000, 0, 10), Cluster{ID: 1, MinBytes: 5000}},
		{"negative MinBytes", packet(1, 1000, 0, 10), Cluster{ID: 1, MinProbes: 5, MinBytes: -1}},
		{"negative size", packet(1, -1, 0, 10), good},
	}
	e := newDefault(t)
	for i, c := range cases {
		if got, ok := e.Update(c.p, c.c); ok || got != 0 {
			t.Errorf("step %d (%s): Update = (%v, %v), want (0, false)", i, c.name, got, ok)
		}
		if s := e.Stats(); s.Ignored != int64(i+1) || s.Packets != 0 {
			t.Errorf("step %d (%s): Stats = %+v, want Ignored %d, Packets 0", i, c.name, s, i+1)
		}
	}
	// Ignored packets leave no trace: OneCluster still gives 800 kbps.
	var got bwe.Bitrate
	var ok bool
	for i := range int64(4) {
		got, ok = e.Update(packet(1, 1000, 10*i, 10+10*i), good)
	}
	if !ok || got != 800000 {
		t.Errorf("OneCluster after ignored packets = (%v, %v), want (800000, true)", got, ok)
	}
}

func TestFetchSurvivesFailure(t *testing.T) {
	e := newDefault(t)
	c := Cluster{ID: 1, MinProbes: 5, MinBytes: 5000}
	for i := range int64(4) {
		e.Update(packet(1, 1000, 10*i, 10+10*i), c)
	}
	// A burst arrival after the estimate: the interval still holds, but a
	// second cluster that fails does not clear the pending estimate.
	c2 := Cluster{ID: 2, MinProbes: 5, MinBytes: 5000}
	for i := range int64(4) {
		if got, ok := e.Update(packet(2, 1000, 50+10*i, 100), c2); ok {
			t.Fatalf("step %d: burst cluster Update = %v, want no estimate", i, got)
		}
	}
	if got, ok := e.Fetch(); !ok || got != 800000 {
		t.Errorf("Fetch = (%v, %v), want (800000, true)", got, ok)
	}
	if got, ok := e.Fetch(); ok || got != 0 {
		t.Errorf("second Fetch = (%v, %v), want (0, false)", got, ok)
	}
	if s := e.Stats(); s.Estimates != 1 || s.BadInterval != 1 {
		t.Errorf("Stats = %+v, want Estimates 1, BadInterval 1", s)
	}
}

func TestIntervalBounds(t *testing.T) {
	c := Cluster{ID: 1, MinProbes: 2, MinBytes: 1}
	cases := []struct {
		name       string
		sendSpanUs int64
		recvSpanUs int64
		ok         bool
		want       bwe.Bitrate
	}{
		// 1000 B over exactly 1 s: 8000 bps both ways.
		{"both 1 s", 1e6, 1e6, true, 8000},
		{"send 1 s + 1 µs", 1e6 + 1, 1e6, false, 0},
		{"receive 1 s + 1 µs", 1e6, 1e6 + 1, false, 0},
		{"send 0", 0, 1e6, false, 0},
		// 1000 B in 1 µs = 8 Gbps; receive 8000 bps: ratio ≪ 2, saturated.
		{"send 1 µs", 1, 1e6, true, bwe.Bitrate(8000).Scale(float64(float32(0.95)))},
	}
	for i, tc := range cases {
		e := newDefault(t)
		e.Update(bwe.PacketResult{SendTime: 0, Arrival: 0, Size: 1000, Received: true, ProbeCluster: 1}, c)
		got, ok := e.Update(bwe.PacketResult{SendTime: bwe.Time(tc.sendSpanUs), Arrival: bwe.Time(tc.recvSpanUs),
			Size: 1000, Received: true, ProbeCluster: 1}, c)
		if ok != tc.ok || got != tc.want {
			t.Errorf("case %d (%s): Update = (%v, %v), want (%v, %v)", i, tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

func TestHistoryBoundary(t *testing.T) {
	c := Cluster{ID: 1, MinProbes: 3, MinBytes: 1}
	for _, tc := range []struct {
		gapUs   int64 // after the cluster's last arrival
		expired bool
	}{
		{1e6, false},    // last + 1 s == now: kept
		{1e6 + 1, true}, // last + 1 s < now: forgotten
	} {
		e := newDefault(t)
		e.Update(packet(1, 1000, 0, 0), c)
		e.Update(packet(1, 1000, 10, 10), c)
		// A packet of another cluster moves "now" forward.
		e.Update(bwe.PacketResult{Arrival: bwe.Time(10_000 + tc.gapUs), Size: 1000, Received: true, ProbeCluster: 2},
			Cluster{ID: 2, MinProbes: 5, MinBytes: 5000})
		if got := e.Stats().Expired == 1; got != tc.expired {
			t.Errorf("gap %d µs: expired = %v, want %v", tc.gapUs, got, tc.expired)
		}
		// Cluster 1's third packet completes it only if it was kept:
		// 2000 B / 20 ms = 800 kbps.
		got, ok := e.Update(packet(1, 1000, 20, 20), c)
		if ok == tc.expired || (ok && got != 800000) {
			t.Errorf("gap %d µs: third packet = (%v, %v), want an estimate: %v", tc.gapUs, got, ok, !tc.expired)
		}
	}
}

func TestEviction(t *testing.T) {
	e := newDefault(t)
	c := func(id int32) Cluster { return Cluster{ID: id, MinProbes: 3, MinBytes: 1} }
	// Open MaxClusters+1 clusters with two packets each, all within 1 s:
	// cluster 1, updated least recently, is evicted by the last one.
	for id := int32(1); id <= MaxClusters+1; id++ {
		e.Update(packet(id, 1000, 0, 0), c(id))
		e.Update(packet(id, 1000, 10, 10), c(id))
	}
	if s := e.Stats(); s.Evicted != 1 || s.Expired != 0 {
		t.Fatalf("Stats = %+v, want Evicted 1, Expired 0", s)
	}
	// Cluster 2 survived: its third packet completes it.
	if got, ok := e.Update(packet(2, 1000, 20, 20), c(2)); !ok || got != 800000 {
		t.Errorf("cluster 2 third packet = (%v, %v), want (800000, true)", got, ok)
	}
	// Cluster 1 restarts (evicting cluster 3): one packet, no estimate.
	if got, ok := e.Update(packet(1, 1000, 20, 20), c(1)); ok {
		t.Errorf("cluster 1 third packet = %v, want no estimate after eviction", got)
	}
	if s := e.Stats(); s.Evicted != 2 {
		t.Errorf("Stats.Evicted = %d, want 2", s.Evicted)
	}
}

func TestDegenerateSizes(t *testing.T) {
	c := Cluster{ID: 1, MinProbes: 2, MinBytes: 1}
	cases := []struct {
		name    string
		sizes   [2]bwe.ByteCount
		stat    func(Stats) int64
		statVal string
	}{
		// Only the first packet carries bytes: receive size 0.
		{"receive size 0", [2]bwe.ByteCount{1000, 0}, func(s Stats) int64 { return s.ZeroRate }, "ZeroRate"},
		// Only the last-sent packet carries bytes: send rate 0, the ratio
		// is infinite.
		{"send size 0", [2]bwe.ByteCount{0, 1000}, func(s Stats) int64 { return s.BadRatio }, "BadRatio"},
	}
	for _, tc := range cases {
		e := newDefault(t)
		e.Update(packet(1, tc.sizes[0], 0, 0), c)
		if got, ok := e.Update(packet(1, tc.sizes[1], 10, 10), c); ok {
			t.Errorf("%s: Update = %v, want no estimate", tc.name, got)
		}
		if n := tc.stat(e.Stats()); n != 1 {
			t.Errorf("%s: Stats.%s = %d, want 1 (%+v)", tc.name, tc.statVal, n, e.Stats())
		}
	}
	// Huge sizes saturate instead of wrapping.
	e := newDefault(t)
	e.Update(packet(1, math.MaxInt64, 0, 0), c)
	e.Update(packet(1, math.MaxInt64, 1, 1), c)
	got, ok := e.Update(packet(1, math.MaxInt64, 2, 2), c)
	if ok && got <= 0 {
		t.Errorf("huge sizes: Update = %v, want a positive estimate or none", got)
	}
}

func TestBackwardTimes(t *testing.T) {
	// Packets reported out of order: the aggregate only looks at extremes,
	// so OneCluster played backwards still gives 800 kbps.
	e := newDefault(t)
	c := Cluster{ID: 1, MinProbes: 5, MinBytes: 5000}
	var got bwe.Bitrate
	var ok bool
	for i := int64(3); i >= 0; i-- {
		got, ok = e.Update(packet(1, 1000, 10*i, 10+10*i), c)
	}
	if !ok || got != 800000 {
		t.Errorf("reversed OneCluster = (%v, %v), want (800000, true)", got, ok)
	}
}

func TestReset(t *testing.T) {
	e := newDefault(t)
	c := Cluster{ID: 1, MinProbes: 5, MinBytes: 5000}
	for i := range int64(3) {
		e.Update(packet(1, 1000, 10*i, 10+10*i), c)
	}
	e.Reset()
	if s := e.Stats(); s != (Stats{}) {
		t.Errorf("Stats after Reset = %+v, want zero", s)
	}
	if got, ok := e.Update(packet(1, 1000, 30, 40), c); ok {
		t.Errorf("Update after Reset = %v, want no estimate (cluster forgotten)", got)
	}
	if _, ok := e.Fetch(); ok {
		t.Error("Fetch after Reset reports an estimate")
	}
	if e.Config() != DefaultConfig() {
		t.Errorf("Config after Reset = %+v, want defaults", e.Config())
	}
}

func TestCustomConfig(t *testing.T) {
	// With a target utilization of 0.5 and SlowReceive's timeline, the
	// estimate is 0.5·320 kbps.
	e, err := NewEstimator(Config{TargetUtilization: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	run(t, e, 0, []step{
		pkt(0, 1000, 0, 10),
		pkt(0, 1000, 10, 40),
		pkt(0, 1000, 20, 70),
		pkt(0, 1000, 30, 85).near(160000, 0, 160000),
	})
}

func TestNoAllocs(t *testing.T) {
	for _, cfg := range []Config{{}, {QueuedRate: true}} {
		e, err := NewEstimator(cfg)
		if err != nil {
			t.Fatal(err)
		}
		noAllocs(t, e)
	}
}

func noAllocs(t *testing.T, e *Estimator) {
	var now int64
	step := func() {
		for id := int32(1); id <= 20; id++ {
			c := Cluster{ID: id, MinProbes: 5, MinBytes: 5000}
			e.Update(packet(id, 1200, now, now+3+now%5), c)
			now++
		}
		e.Fetch()
	}
	for range 100 {
		step()
	}
	if n := testing.AllocsPerRun(100, step); n != 0 {
		t.Errorf("%+v: Update allocates %v times per run, want 0", e.Config(), n)
	}
}

func BenchmarkUpdate(b *testing.B) {
	e := newDefault(b)
	var i int64
	for b.Loop() {
		id := int32(1 + (i/10)%4)
		c := Cluster{ID: id, MinProbes: 5, MinBytes: 5000}
		e.Update(packet(id, 1200, i, i+5), c)
		i++
	}
}

// tokenBucket returns the arrival times of packets of size bytes sent every
// gap through a token bucket of depth bucket bytes, full at the start,
// filling at rate, in front of a one-way delay of 20 ms, quantized down to
// quantum (transport-wide CC reports arrivals in 250 µs steps).
func tokenBucket(n int, size bwe.ByteCount, gap time.Duration, bucket bwe.ByteCount, rate bwe.Bitrate, quantum time.Duration) (send, arrival []bwe.Time) {
	const delay = 20 * time.Millisecond
	tokens := float64(bucket) // bytes
	var at bwe.Time           // when tokens was last brought up to date
	free := bwe.Time(0)       // when the link is next free
	perByte := float64(time.Second) * 8 / rate.Float()
	for i := range n {
		s := bwe.Time(0).Add(time.Duration(i) * gap)
		leave := max(s, free)
		tokens = min(float64(bucket), tokens+float64(leave.Sub(at))/perByte)
		at = leave
		if short := float64(size) - tokens; short > 0 {
			leave = leave.Add(time.Duration(short * perByte))
			tokens, at = 0, leave
		} else {
			tokens -= float64(size)
		}
		free = leave
		a := leave.Add(delay)
		a -= a % bwe.Time(quantum.Microseconds())
		send, arrival = append(send, s), append(arrival, a)
	}
	return send, arrival
}

// A token-bucket bottleneck lets a cluster's first packets through at line
// rate: measured first to last, the cluster's receive rate overstates the
// capacity by about the bucket over the cluster's bytes; measured over the
// queued packets it is the bucket's rate, whatever its depth. A cluster
// slower than the link queues nothing and is measured as before.
func TestQueuedRateTokenBucket(t *testing.T) {
	const size = 244 // a padding packet: 224 bytes of padding and headers
	tests := []struct {
		name     string
		n        int
		gap      time.Duration // send spacing
		bucket   bwe.ByteCount
		rate     bwe.Bitrate
		inflated bool // whether the whole-cluster estimate overstates 0.95 × rate by 20 % or more
	}{
		// The two-peer test's cluster: 28 padding packets at 4.5 Mbps
		// into vnet's 3000-byte bucket at 1.5 Mbps.
		{"4.5M probe, 1.5M link, 3000 B bucket", 28, 434 * time.Microsecond, 3000, 1500 * bwe.Kbps, true},
		{"4.5M probe, 1.5M link, 1500 B bucket", 28, 434 * time.Microsecond, 1500, 1500 * bwe.Kbps, true},
		{"4.5M probe, 1.5M link, no bucket", 28, 434 * time.Microsecond, size, 1500 * bwe.Kbps, false},
		{"9M probe, 3M link, 6000 B bucket", 60, 217 * time.Microsecond, 6000, 3 * bwe.Mbps, true},
		{"2M probe, 1M link, 4000 B bucket", 40, 976 * time.Microsecond, 4000, bwe.Mbps, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			send, arrival := tokenBucket(tt.n, size, tt.gap, tt.bucket, tt.rate, 250*time.Microsecond)
			c := Cluster{ID: 1, MinProbes: tt.n, MinBytes: bwe.ByteCount(tt.n) * size}
			estimate := func(cfg Config) (bwe.Bitrate, Stats) {
				e, err := NewEstimator(cfg)
				if err != nil {
					t.Fatal(err)
				}
				for i := range send {
					e.Update(bwe.PacketResult{Seq: int64(i), SendTime: send[i], Arrival: arrival[i], Size: size, Received: true, ProbeCluster: 1}, c)
				}
				got, ok := e.Fetch()
				if !ok {
					t.Fatalf("%+v: no estimate", cfg)
				}
				return got, e.Stats()
			}
			whole, _ := estimate(Config{})
			queued, st := estimate(Config{QueuedRate: true})
			want := tt.rate.Scale(0.95)
			t.Logf("whole cluster %v, queued packets %v, 0.95 × link %v", whole, queued, want)
			if got := whole.Float() / want.Float(); (got >= 1.2) != tt.inflated {
				t.Errorf("whole-cluster estimate %v is %.2f × 0.95 × the link's %v; want inflated by 20 %% or more: %v", whole, got, tt.rate, tt.inflated)
			}
			if got := queued.Float() / want.Float(); got < 0.95 || got > 1.05 {
				t.Errorf("queued-packet estimate %v is %.3f × 0.95 × the link's %v, want within 5 %%", queued, got, tt.rate)
			}
			if st.Queued < 1 || st.Queued > st.Estimates {
				t.Errorf("Stats.Queued = %d of %d estimates, want at least one", st.Queued, st.Estimates)
			}
		})
	}

	// A cluster the link carries at its own pace queues nothing: both
	// measurements give its send rate.
	send, arrival := tokenBucket(20, 1200, 2*time.Millisecond, 3000, 10*bwe.Mbps, 250*time.Microsecond)
	c := Cluster{ID: 1, MinProbes: 20, MinBytes: 20 * 1200}
	var got [2]bwe.Bitrate
	for i, cfg := range []Config{{}, {QueuedRate: true}} {
		e, err := NewEstimator(cfg)
		if err != nil {
			t.Fatal(err)
		}
		for j := range send {
			e.Update(bwe.PacketResult{SendTime: send[j], Arrival: arrival[j], Size: 1200, Received: true, ProbeCluster: 1}, c)
		}
		got[i], _ = e.Fetch()
		if e.Stats().Queued != 0 {
			t.Errorf("%+v: Stats.Queued = %d on an unsaturated link, want 0", cfg, e.Stats().Queued)
		}
	}
	if got[0] != got[1] || got[0] != bwe.RateOf(19*1200, 38*time.Millisecond) {
		t.Errorf("unsaturated: whole %v, queued %v, want both the send rate %v", got[0], got[1], bwe.RateOf(19*1200, 38*time.Millisecond))
	}
}
