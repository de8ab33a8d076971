package replay

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/traces"
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

func runTimeline(t *testing.T, cfg traces.Path, steps []send) *Link {
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
	cfg := traces.Path{Capacity: traces.Steps{{At: 0, Capacity: bwe.Mbps}}, Delay: 50 * ms, QueueBytes: 100_000}
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
		cfg := traces.Path{Capacity: traces.Steps{{At: 0, Capacity: bwe.Mbps}, {At: 10 * ms, Capacity: 2 * bwe.Mbps}}, QueueBytes: 100_000}
		runTimeline(t, cfg, []send{
			{0, 1200, delivered(9600*time.Microsecond, 9600*time.Microsecond)},
			{0, 1200, delivered(14600*time.Microsecond, 14600*time.Microsecond)},
			{0, 1200, delivered(19400*time.Microsecond, 19400*time.Microsecond)},
		})
	})
	t.Run("slower", func(t *testing.T) {
		// 2 Mbps until 6 ms, then 0.5 Mbps: the second packet gets 1.2 ms
		// at 2 Mbps (2400 bits), then 7200 bits at 0.5 Mbps = 14.4 ms.
		cfg := traces.Path{Capacity: traces.Steps{{At: 0, Capacity: 2 * bwe.Mbps}, {At: 6 * ms, Capacity: 500 * bwe.Kbps}}, QueueBytes: 100_000}
		runTimeline(t, cfg, []send{
			{0, 1200, delivered(4800*time.Microsecond, 4800*time.Microsecond)},
			{0, 1200, delivered(20400*time.Microsecond, 20400*time.Microsecond)},
		})
	})
	t.Run("outage", func(t *testing.T) {
		// 1 Mbps, nothing from 5 ms to 105 ms: 5000 bits before, 4600
		// after.
		cfg := traces.Path{Capacity: traces.Steps{{At: 0, Capacity: bwe.Mbps}, {At: 5 * ms, Capacity: 0}, {At: 105 * ms, Capacity: bwe.Mbps}}, QueueBytes: 100_000}
		runTimeline(t, cfg, []send{
			{0, 1200, delivered(109600*time.Microsecond, 109600*time.Microsecond)},
			{50 * ms, 1200, delivered(119200*time.Microsecond, 119200*time.Microsecond)},
		})
	})
	t.Run("stranded", func(t *testing.T) {
		cfg := traces.Path{Capacity: traces.Steps{{At: 0, Capacity: bwe.Mbps}, {At: 5 * ms, Capacity: 0}}, QueueBytes: 100_000}
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
	l, err := NewLink(traces.Path{Capacity: traces.Steps{{At: 0, Capacity: 7 * bwe.Mbps}}, QueueBytes: 1 << 30}, 1)
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
		cfg := traces.Path{Capacity: traces.Steps{{At: 0, Capacity: bwe.Mbps}}, QueueBytes: 3000}
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
		cfg := traces.Path{Capacity: traces.Steps{{At: 0, Capacity: 2 * bwe.Mbps}}, QueueDelay: 300 * ms}
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
		cfg := traces.Path{Capacity: traces.Steps{{At: 0, Capacity: bwe.Mbps}}, QueueBytes: 100}
		runTimeline(t, cfg, []send{
			{0, 1200, delivered(9600*time.Microsecond, 9600*time.Microsecond)},
			{1 * ms, 1, Fate{Outcome: TailDrop}},
		})
	})
	t.Run("default limit", func(t *testing.T) {
		l, err := NewLink(traces.Path{Capacity: traces.Steps{{At: 0, Capacity: bwe.Mbps}}}, 1)
		if err != nil {
			t.Fatal(err)
		}
		if got := l.Config().QueueDelay; got != traces.DefaultQueueDelay {
			t.Errorf("default QueueDelay = %v, want %v", got, traces.DefaultQueueDelay)
		}
	})
}

// The random loss rate matches the configured probability within four
// standard deviations of a binomial count, for a fixed seed.
func TestLinkRandomLoss(t *testing.T) {
	for _, p := range []float64{0.01, 0.1, 0.5} {
		const n = 100_000
		l, err := NewLink(traces.Path{Capacity: traces.Steps{{At: 0, Capacity: bwe.Gbps}}, Loss: p}, 7)
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
		l, err := NewLink(traces.Path{Capacity: traces.Steps{{At: 0, Capacity: 4 * bwe.Mbps}}, Delay: 50 * ms, Jitter: jitter}, 3)
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
	cfg := traces.Path{
		Capacity: traces.Steps{{At: 0, Capacity: bwe.Gbps}}, Delay: 50 * ms,
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
	ok := traces.Path{Capacity: traces.Steps{{At: 0, Capacity: bwe.Mbps}}, Delay: 10 * ms}
	for _, tc := range []struct {
		name string
		edit func(*traces.Path)
		want string
	}{
		{"queue without capacity", func(c *traces.Path) { c.Capacity, c.QueueBytes = nil, 1000 }, "no queue"},
		{"empty steps", func(c *traces.Path) { c.Capacity = traces.Steps{} }, "empty"},
		{"late first step", func(c *traces.Path) { c.Capacity = traces.Steps{{At: ms, Capacity: bwe.Mbps}} }, "step 0"},
		{"unordered steps", func(c *traces.Path) {
			c.Capacity = traces.Steps{{At: 0, Capacity: bwe.Mbps}, {At: 2 * ms, Capacity: 1}, {At: ms, Capacity: 1}}
		}, "step 2"},
		{"negative capacity", func(c *traces.Path) { c.Capacity = traces.Steps{{At: 0, Capacity: -1}} }, "negative"},
		{"huge capacity", func(c *traces.Path) { c.Capacity = traces.Steps{{At: 0, Capacity: MaxCapacity + 1}} }, "exceeds"},
		{"negative queue bytes", func(c *traces.Path) { c.QueueBytes = -1 }, "QueueBytes"},
		{"negative queue delay", func(c *traces.Path) { c.QueueDelay = -1 }, "QueueDelay"},
		{"both limits", func(c *traces.Path) { c.QueueBytes, c.QueueDelay = 1, ms }, "both"},
		{"negative delay", func(c *traces.Path) { c.Delay = -ms }, "Delay"},
		{"NaN loss", func(c *traces.Path) { c.Loss = math.NaN() }, "Loss"},
		{"loss above 1", func(c *traces.Path) { c.Loss = 1.5 }, "Loss"},
		{"negative jitter", func(c *traces.Path) { c.Jitter = -ms }, "Jitter"},
		{"swing above delay", func(c *traces.Path) { c.SwingAmplitude, c.SwingPeriod = 20*ms, time.Second }, "SwingAmplitude"},
		{"swing without period", func(c *traces.Path) { c.SwingAmplitude = ms }, "SwingPeriod"},
		{"negative period", func(c *traces.Path) { c.SwingPeriod = -1 }, "SwingPeriod"},
		{"burst probability", func(c *traces.Path) { c.Burst.GoodToBad = 2 }, "Burst.GoodToBad"},
		{"burst NaN loss", func(c *traces.Path) { c.Burst.LossBad = math.NaN() }, "Burst.LossBad"},
		{"walk without step", func(c *traces.Path) { c.WalkRange = 10 * ms }, "WalkStep"},
		{"walk step above range", func(c *traces.Path) { c.WalkRange, c.WalkStep = ms, 2*ms }, "WalkStep"},
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
		l, err := NewLink(traces.Path{Capacity: traces.Steps{{At: 0, Capacity: bwe.Mbps}}}, 1)
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
	s := traces.Steps{{At: 0, Capacity: 1}, {At: 10 * ms, Capacity: 2}, {At: 20 * ms, Capacity: 3}}
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
	l, err := NewLink(traces.Path{
		Capacity: traces.Steps{{At: 0, Capacity: 2 * bwe.Mbps}, {At: time.Hour, Capacity: bwe.Mbps}}, Delay: 50 * ms,
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

// BenchmarkLinkSend sends 1200-byte packets at 1.92 Mbps into 2 Mbps,
// through a plain link and through one behind a 15000-byte token bucket.
func BenchmarkLinkSend(b *testing.B) {
	for _, bc := range []struct {
		name   string
		bucket bwe.ByteCount
	}{{"plain", 0}, {"bucket", 15000}} {
		b.Run(bc.name, func(b *testing.B) {
			l, err := NewLink(traces.Path{Capacity: traces.Steps{{At: 0, Capacity: 2 * bwe.Mbps}}, Delay: 50 * ms, Jitter: 10 * ms, Bucket: bc.bucket}, 1)
			if err != nil {
				b.Fatal(err)
			}
			now := bwe.Time(0)
			b.ReportAllocs()
			for b.Loop() {
				now = now.Add(5 * ms)
				l.Send(now, 1200)
			}
		})
	}
}

// Gilbert–Elliott loss: the loss rate is the chain's stationary rate and
// losses come in bursts of mean length 1/BadToGood.
func TestLinkBurstLoss(t *testing.T) {
	g := traces.GilbertElliott{GoodToBad: 0.02, BadToGood: 0.25, LossBad: 1}
	l, err := NewLink(traces.Path{Capacity: traces.Constant(bwe.Gbps), Burst: g}, 3)
	if err != nil {
		t.Fatal(err)
	}
	const n = 200_000
	lost, bursts, run := 0, 0, 0
	for k := range n {
		if l.Send(at(time.Duration(k)*time.Millisecond), 100).Outcome == RandomLoss {
			lost++
			if run == 0 {
				bursts++
			}
			run++
		} else {
			run = 0
		}
	}
	// Stationary loss 0.02/0.27 = 0.0741; bursts last 4 packets on average.
	// With bursts of 4 the standard error of the rate over 200 000 packets
	// is about 0.0012: allow four of them.
	if rate := float64(lost) / n; math.Abs(rate-g.MeanLoss()) > 0.005 {
		t.Errorf("loss rate %.4f, want %.4f", rate, g.MeanLoss())
	}
	if mean := float64(lost) / float64(bursts); math.Abs(mean-4) > 0.2 {
		t.Errorf("mean burst %.2f packets, want 4", mean)
	}
}

// A random-walk delay stays within its range, moves by at most one step
// per interval, and wanders across the range.
func TestLinkRandomWalk(t *testing.T) {
	p := traces.Path{Capacity: traces.Constant(bwe.Gbps), Delay: 10 * ms, WalkRange: 40 * ms, WalkStep: 2 * ms}
	l, err := NewLink(p, 5)
	if err != nil {
		t.Fatal(err)
	}
	prev := time.Duration(-1)
	lo, hi := time.Hour, time.Duration(0)
	for k := range 6000 { // one packet per 100 ms interval for 10 minutes
		f := l.Send(at(time.Duration(k)*100*ms), 100)
		extra := f.Arrival.Sub(f.Departure) - 10*ms
		if extra < 0 || extra > 40*ms {
			t.Fatalf("packet %d: walk delay %v outside [0, 40ms]", k, extra)
		}
		if prev >= 0 && (extra-prev > 2*ms || prev-extra > 2*ms) {
			t.Fatalf("packet %d: walk moved from %v to %v in one step", k, prev, extra)
		}
		prev = extra
		lo, hi = min(lo, extra), max(hi, extra)
	}
	if lo > 5*ms || hi < 35*ms {
		t.Errorf("walk covered only [%v, %v] of [0, 40ms] in 10 minutes", lo, hi)
	}
}

// With Reorder, jitter lets packets overtake each other; without it, never
// within a lane, while lanes do not hold each other back.
func TestLinkReorderAndLanes(t *testing.T) {
	for _, reorder := range []bool{false, true} {
		p := traces.Path{Capacity: traces.Constant(100 * bwe.Mbps), Delay: 20 * ms, Jitter: 30 * ms, Reorder: reorder}
		l, err := NewLink(p, 9)
		if err != nil {
			t.Fatal(err)
		}
		var last [2]bwe.Time
		overtaken := 0
		for k := range 4000 {
			lane := k % 2
			extra := time.Duration(lane) * 100 * ms // lane 1 is 100 ms longer
			f := l.SendOn(lane, at(time.Duration(k)*time.Millisecond), 1200, extra)
			base := f.Departure.Add(20*ms + extra)
			if f.Arrival < base || (reorder && f.Arrival > base.Add(30*ms)) {
				t.Fatalf("reorder %v, packet %d: arrival %v outside [%v, %v + 30ms]", reorder, k, f.Arrival, base, base)
			}
			if f.Arrival < last[lane] {
				overtaken++
			}
			last[lane] = max(last[lane], f.Arrival)
		}
		if reorder && overtaken < 1000 {
			t.Errorf("with reordering only %d of 4000 packets arrived before an earlier one", overtaken)
		}
		if !reorder && overtaken != 0 {
			t.Errorf("without reordering %d packets overtook an earlier one of their lane", overtaken)
		}
	}
}

// A path without a bottleneck delivers everything at once, after its
// delay.
func TestLinkUncongested(t *testing.T) {
	l, err := NewLink(traces.Path{Delay: 30 * ms}, 1)
	if err != nil {
		t.Fatal(err)
	}
	for k := range 1000 {
		f := l.Send(at(time.Duration(k)), MaxPacketSize)
		if f.Outcome != Delivered || f.Departure != at(time.Duration(k)) || f.Arrival.Sub(f.Departure) != 30*ms {
			t.Fatalf("packet %d: %+v", k, f)
		}
	}
	if l.CapacityAt(0) != MaxCapacity {
		t.Errorf("capacity %v, want %v", l.CapacityAt(0), MaxCapacity)
	}
}
