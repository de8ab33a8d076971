package replay

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/bwelab/bwe"
)

const ms = time.Millisecond

// at returns the emulation instant d after the start.
func at(d time.Duration) bwe.Time { return bwe.TimeFromDuration(d) }

// send is one step of a scripted link timeline: a packet sent at At and
// the fate expected for it.
type send struct {
	At   time.Duration
	Size bwe.ByteCount
	Want Fate
}

func delivered(dep, arr time.Duration) Fate {
	return Fate{Outcome: Delivered, Departure: at(dep), Arrival: at(arr)}
}

func runTimeline(t *testing.T, cfg LinkConfig, steps []send) *Link {
	t.Helper()
	l, err := NewLink(cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range steps {
		if got := l.Send(at(s.At), s.Size); got != s.Want {
			t.Errorf("step %d: Send(%v, %d) = %+v, want %+v", i, s.At, s.Size, got, s.Want)
		}
	}
	return l
}

// A packet's arrival is its wait in the queue, its own service time and
// the propagation delay: 1200 B at 1 Mbps take 9.6 ms.
func TestLinkQueueServicePropagation(t *testing.T) {
	cfg := LinkConfig{Capacity: Steps{{0, bwe.Mbps}}, Delay: 50 * ms, QueueBytes: 100_000}
	runTimeline(t, cfg, []send{
		{0, 1200, delivered(9600*time.Microsecond, 59600*time.Microsecond)},                        // idle link: service + delay
		{0, 1200, delivered(19200*time.Microsecond, 69200*time.Microsecond)},                       // waits 9.6 ms behind the first
		{5 * ms, 600, delivered(24000*time.Microsecond, 74000*time.Microsecond)},                   // 600 B: 4.8 ms
		{30 * ms, 1200, delivered(39600*time.Microsecond, 89600*time.Microsecond)},                 // link idle again at 24 ms
		{39600 * time.Microsecond, 125, delivered(40600*time.Microsecond, 90600*time.Microsecond)}, // arrives as the server frees
	})
}

// Service integrates the capacity across a change that happens while a
// packet is queued or in service.
func TestLinkCapacityChangeMidQueue(t *testing.T) {
	t.Run("faster", func(t *testing.T) {
		// 1 Mbps until 10 ms, then 2 Mbps. The second packet starts at
		// 9.6 ms: 400 bits by 10 ms, the other 9200 bits at 2 Mbps take
		// 4.6 ms.
		cfg := LinkConfig{Capacity: Steps{{0, bwe.Mbps}, {10 * ms, 2 * bwe.Mbps}}, QueueBytes: 100_000}
		runTimeline(t, cfg, []send{
			{0, 1200, delivered(9600*time.Microsecond, 9600*time.Microsecond)},
			{0, 1200, delivered(14600*time.Microsecond, 14600*time.Microsecond)},
			{0, 1200, delivered(19400*time.Microsecond, 19400*time.Microsecond)},
		})
	})
	t.Run("slower", func(t *testing.T) {
		// 2 Mbps until 6 ms, then 0.5 Mbps: the second packet gets 1.2 ms
		// at 2 Mbps (2400 bits), then 7200 bits at 0.5 Mbps = 14.4 ms.
		cfg := LinkConfig{Capacity: Steps{{0, 2 * bwe.Mbps}, {6 * ms, 500 * bwe.Kbps}}, QueueBytes: 100_000}
		runTimeline(t, cfg, []send{
			{0, 1200, delivered(4800*time.Microsecond, 4800*time.Microsecond)},
			{0, 1200, delivered(20400*time.Microsecond, 20400*time.Microsecond)},
		})
	})
	t.Run("outage", func(t *testing.T) {
		// 1 Mbps, nothing from 5 ms to 105 ms: 5000 bits before, 4600
		// after.
		cfg := LinkConfig{Capacity: Steps{{0, bwe.Mbps}, {5 * ms, 0}, {105 * ms, bwe.Mbps}}, QueueBytes: 100_000}
		runTimeline(t, cfg, []send{
			{0, 1200, delivered(109600*time.Microsecond, 109600*time.Microsecond)},
			{50 * ms, 1200, delivered(119200*time.Microsecond, 119200*time.Microsecond)},
		})
	})
	t.Run("stranded", func(t *testing.T) {
		cfg := LinkConfig{Capacity: Steps{{0, bwe.Mbps}, {5 * ms, 0}}, QueueBytes: 100_000}
		l := runTimeline(t, cfg, []send{
			{0, 1200, Fate{Outcome: Stranded}},
			{time.Second, 1200, Fate{Outcome: Stranded}},
		})
		if got := l.Backlog(at(time.Hour)); got != 2400 {
			t.Errorf("Backlog after an endless outage = %d, want 2400", got)
		}
	})
}

// Back-to-back packets at a rate that does not divide a packet into whole
// microseconds: rounding each departure up must not lose capacity, so the
// k-th departure is ceil(k·9600 bits / 7 Mbps).
func TestLinkNoRoundingDrift(t *testing.T) {
	l, err := NewLink(LinkConfig{Capacity: Steps{{0, 7 * bwe.Mbps}}, QueueBytes: 1 << 30}, 1)
	if err != nil {
		t.Fatal(err)
	}
	for k := int64(1); k <= 1000; k++ {
		got := l.Send(0, 1200)
		want := bwe.Time((k*9600*1_000_000 + 7_000_000 - 1) / 7_000_000)
		if got.Departure != want {
			t.Fatalf("packet %d: departure %v, want %v", k, got.Departure, want)
		}
	}
}

func TestLinkDropTail(t *testing.T) {
	t.Run("bytes", func(t *testing.T) {
		// 3000 bytes: two 1200 B packets fit, a third does not until the
		// first has left at 9.6 ms.
		cfg := LinkConfig{Capacity: Steps{{0, bwe.Mbps}}, QueueBytes: 3000}
		l := runTimeline(t, cfg, []send{
			{0, 1200, delivered(9600*time.Microsecond, 9600*time.Microsecond)},
			{0, 1200, delivered(19200*time.Microsecond, 19200*time.Microsecond)},
			{0, 1200, Fate{Outcome: TailDrop}},
			{9 * ms, 1200, Fate{Outcome: TailDrop}},
			{9600 * time.Microsecond, 1200, delivered(28800*time.Microsecond, 28800*time.Microsecond)},
			{9600 * time.Microsecond, 600, delivered(33600*time.Microsecond, 33600*time.Microsecond)},
			{9600 * time.Microsecond, 1, Fate{Outcome: TailDrop}},
		})
		want := LinkStats{Sent: 7, Delivered: 4, TailDrops: 3}
		if got := l.Stats(); got != want {
			t.Errorf("Stats() = %+v, want %+v", got, want)
		}
	})
	t.Run("delay", func(t *testing.T) {
		// 300 ms at 2 Mbps is 75 000 bytes: 62 packets of 1200 B.
		cfg := LinkConfig{Capacity: Steps{{0, 2 * bwe.Mbps}}, QueueDelay: 300 * ms}
		l, err := NewLink(cfg, 1)
		if err != nil {
			t.Fatal(err)
		}
		var last Fate
		for range 100 {
			if f := l.Send(0, 1200); f.Outcome == Delivered {
				last = f
			}
		}
		if s := l.Stats(); s.Delivered != 62 || s.TailDrops != 38 {
			t.Errorf("Stats() = %+v, want 62 delivered and 38 tail drops", s)
		}
		if want := at(62 * 4800 * time.Microsecond); last.Departure != want {
			t.Errorf("last departure %v, want %v", last.Departure, want)
		}
	})
	t.Run("empty queue admits any packet", func(t *testing.T) {
		cfg := LinkConfig{Capacity: Steps{{0, bwe.Mbps}}, QueueBytes: 100}
		runTimeline(t, cfg, []send{
			{0, 1200, delivered(9600*time.Microsecond, 9600*time.Microsecond)},
			{1 * ms, 1, Fate{Outcome: TailDrop}},
		})
	})
	t.Run("default limit", func(t *testing.T) {
		l, err := NewLink(LinkConfig{Capacity: Steps{{0, bwe.Mbps}}}, 1)
		if err != nil {
			t.Fatal(err)
		}
		if got := l.Config().QueueDelay; got != DefaultQueueDelay {
			t.Errorf("default QueueDelay = %v, want %v", got, DefaultQueueDelay)
		}
	})
}

// The random loss rate matches the configured probability within four
// standard deviations of a binomial count, for a fixed seed.
func TestLinkRandomLoss(t *testing.T) {
	for _, p := range []float64{0.01, 0.1, 0.5} {
		const n = 100_000
		l, err := NewLink(LinkConfig{Capacity: Steps{{0, bwe.Gbps}}, Loss: p}, 7)
		if err != nil {
			t.Fatal(err)
		}
		for i := range n {
			l.Send(at(time.Duration(i)*ms), 1200)
		}
		s := l.Stats()
		mean, sd := n*p, math.Sqrt(n*p*(1-p))
		if got := float64(s.RandomLosses); math.Abs(got-mean) > 4*sd {
			t.Errorf("Loss %v: %d of %d lost, want %.0f ± %.0f", p, s.RandomLosses, n, mean, 4*sd)
		}
		if s.TailDrops != 0 || s.Delivered+s.RandomLosses != n {
			t.Errorf("Loss %v: Stats() = %+v, want only random losses", p, s)
		}
	}
}

// Jitter adds a delay in [0, J] per packet without reordering: each
// arrival is max(previous arrival, departure + delay + jitter).
func TestLinkJitterFIFO(t *testing.T) {
	const jitter = 60 * ms
	for _, tc := range []struct {
		name    string
		spacing time.Duration
		sparse  bool // spacing > jitter: no packet can be held
	}{
		{"sparse", 70 * ms, true},
		{"dense", 3 * ms, false},
	} {
		l, err := NewLink(LinkConfig{Capacity: Steps{{0, 4 * bwe.Mbps}}, Delay: 50 * ms, Jitter: jitter}, 3)
		if err != nil {
			t.Fatal(err)
		}
		var prev bwe.Time
		lo, hi := time.Duration(math.MaxInt64), time.Duration(0)
		held := 0
		for i := range 10_000 {
			f := l.Send(at(time.Duration(i)*tc.spacing), 1200)
			if f.Outcome != Delivered {
				t.Fatalf("%s: packet %d: %v", tc.name, i, f.Outcome)
			}
			if f.Arrival < prev {
				t.Fatalf("%s: packet %d arrives at %v, before its predecessor at %v", tc.name, i, f.Arrival, prev)
			}
			// Held or not, the extra delay stays in [0, J]: a held packet
			// arrives with a predecessor that left earlier.
			extra := f.Arrival.Sub(f.Departure) - 50*ms
			if extra < 0 || extra > jitter {
				t.Fatalf("%s: packet %d: extra delay %v outside [0, %v]", tc.name, i, extra, jitter)
			}
			if i > 0 && f.Arrival == prev {
				held++
			}
			lo, hi = min(lo, extra), max(hi, extra)
			prev = f.Arrival
		}
		switch {
		case tc.sparse && (lo > jitter/100 || hi < jitter*99/100):
			t.Errorf("%s: extra delays span [%v, %v], want about [0, %v]", tc.name, lo, hi, jitter)
		case tc.sparse && held != 0:
			t.Errorf("%s: %d packets held although spaced beyond the jitter", tc.name, held)
		case !tc.sparse && held < 1000:
			t.Errorf("%s: %d of 10000 packets held behind a predecessor, want many", tc.name, held)
		}
	}
}

// The delay swing is A·sin(2π·t/P) at the departure instant t.
func TestLinkSwing(t *testing.T) {
	cfg := LinkConfig{
		Capacity: Steps{{0, bwe.Gbps}}, Delay: 50 * ms,
		SwingAmplitude: 20 * ms, SwingPeriod: 8 * time.Second,
	}
	l, err := NewLink(cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	for i, tc := range []struct {
		at   time.Duration
		want time.Duration // one-way delay after the queue
	}{
		{0, 50 * ms},
		{2 * time.Second, 70 * ms}, // quarter period: +A
		{4 * time.Second, 50 * ms},
		{6 * time.Second, 30 * ms}, // three quarters: −A
		{9 * time.Second, 50*ms + 14142*time.Microsecond},
	} {
		f := l.Send(at(tc.at), 125) // 1 µs of service at 1 Gbps
		got := f.Arrival.Sub(f.Departure)
		if d := got - tc.want; d < -2*time.Microsecond || d > 2*time.Microsecond {
			t.Errorf("step %d: sent at %v, delay %v, want %v", i, tc.at, got, tc.want)
		}
	}
}

func TestLinkConfigErrors(t *testing.T) {
	ok := LinkConfig{Capacity: Steps{{0, bwe.Mbps}}, Delay: 10 * ms}
	for _, tc := range []struct {
		name string
		edit func(*LinkConfig)
		want string
	}{
		{"nil capacity", func(c *LinkConfig) { c.Capacity = nil }, "Capacity is nil"},
		{"empty steps", func(c *LinkConfig) { c.Capacity = Steps{} }, "empty"},
		{"late first step", func(c *LinkConfig) { c.Capacity = Steps{{ms, bwe.Mbps}} }, "step 0"},
		{"unordered steps", func(c *LinkConfig) { c.Capacity = Steps{{0, bwe.Mbps}, {2 * ms, 1}, {ms, 1}} }, "step 2"},
		{"negative capacity", func(c *LinkConfig) { c.Capacity = Steps{{0, -1}} }, "negative"},
		{"huge capacity", func(c *LinkConfig) { c.Capacity = Steps{{0, MaxCapacity + 1}} }, "exceeds"},
		{"negative queue bytes", func(c *LinkConfig) { c.QueueBytes = -1 }, "QueueBytes"},
		{"negative queue delay", func(c *LinkConfig) { c.QueueDelay = -1 }, "QueueDelay"},
		{"both limits", func(c *LinkConfig) { c.QueueBytes, c.QueueDelay = 1, ms }, "both"},
		{"negative delay", func(c *LinkConfig) { c.Delay = -ms }, "Delay"},
		{"NaN loss", func(c *LinkConfig) { c.Loss = math.NaN() }, "Loss"},
		{"loss above 1", func(c *LinkConfig) { c.Loss = 1.5 }, "Loss"},
		{"negative jitter", func(c *LinkConfig) { c.Jitter = -ms }, "Jitter"},
		{"swing above delay", func(c *LinkConfig) { c.SwingAmplitude, c.SwingPeriod = 20*ms, time.Second }, "SwingAmplitude"},
		{"swing without period", func(c *LinkConfig) { c.SwingAmplitude = ms }, "SwingPeriod"},
		{"negative period", func(c *LinkConfig) { c.SwingPeriod = -1 }, "SwingPeriod"},
	} {
		c := ok
		tc.edit(&c)
		_, err := NewLink(c, 1)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: NewLink error = %v, want one mentioning %q", tc.name, err, tc.want)
		}
	}
	if _, err := NewLink(ok, 1); err != nil {
		t.Errorf("valid config: %v", err)
	}
}

func TestLinkSendMisusePanics(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    func(*Link)
	}{
		{"time going backwards", func(l *Link) { l.Send(10, 100); l.Send(9, 100) }},
		{"zero size", func(l *Link) { l.Send(0, 0) }},
		{"huge size", func(l *Link) { l.Send(0, MaxPacketSize+1) }},
	} {
		l, err := NewLink(LinkConfig{Capacity: Steps{{0, bwe.Mbps}}}, 1)
		if err != nil {
			t.Fatal(err)
		}
		func() {
			defer func() {
				if r := recover(); r == nil {
					t.Errorf("%s: no panic", tc.name)
				} else if !strings.HasPrefix(r.(string), "replay: ") {
					t.Errorf("%s: panic %q lacks the package prefix", tc.name, r)
				}
			}()
			tc.f(l)
		}()
	}
}

func TestStepsLookup(t *testing.T) {
	s := Steps{{0, 1}, {10 * ms, 2}, {20 * ms, 3}}
	for i, tc := range []struct {
		t    bwe.Time
		rate bwe.Bitrate
		next bwe.Time
	}{
		{-1, 0, 0},
		{0, 1, at(10 * ms)},
		{at(10*ms) - 1, 1, at(10 * ms)},
		{at(10 * ms), 2, at(20 * ms)},
		{at(20 * ms), 3, bwe.MaxTime},
		{bwe.MaxTime, 3, bwe.MaxTime},
	} {
		if got := s.At(tc.t); got != tc.rate {
			t.Errorf("step %d: At(%v) = %v, want %v", i, tc.t, got, tc.rate)
		}
		if got := s.NextChange(tc.t); got != tc.next {
			t.Errorf("step %d: NextChange(%v) = %v, want %v", i, tc.t, got, tc.next)
		}
	}
}

// Once its queue has grown to the working size, Send allocates nothing.
func TestLinkSendNoAllocs(t *testing.T) {
	l, err := NewLink(LinkConfig{
		Capacity: Steps{{0, 2 * bwe.Mbps}, {time.Hour, bwe.Mbps}}, Delay: 50 * ms,
		Loss: 0.01, Jitter: 10 * ms, SwingAmplitude: 5 * ms, SwingPeriod: time.Second,
	}, 1)
	if err != nil {
		t.Fatal(err)
	}
	now := bwe.Time(0)
	step := func() {
		now = now.Add(4 * ms) // 2.4 Mbps into 2 Mbps: the queue fills, then drops
		l.Send(now, 1200)
	}
	for range 10_000 {
		step()
	}
	if a := testing.AllocsPerRun(1000, step); a != 0 {
		t.Errorf("Send allocates %v times per call, want 0", a)
	}
}

func BenchmarkLinkSend(b *testing.B) {
	l, err := NewLink(LinkConfig{Capacity: Steps{{0, 2 * bwe.Mbps}}, Delay: 50 * ms, Jitter: 10 * ms}, 1)
	if err != nil {
		b.Fatal(err)
	}
	now := bwe.Time(0)
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(5 * ms)
		l.Send(now, 1200)
	}
}
