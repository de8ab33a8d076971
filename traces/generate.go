package traces

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/bwelab/bwe"
)

// Scenario generators.
//
// Every generator is a pure function of its arguments: the same arguments
// give deep-equal scenarios. Each scenario has a unique, stable name made of
// letters, digits and "-_.+" (no "/": a name is a flat file name), the seed
// it was given, and passes [Scenario.WithDefaults]. A name never depends on
// the seed; only the random parts (a Poisson capacity schedule, and the
// emulator's own random processes) do.
//
// The families and the names they generate:
//
//	rfc8867-<id>                       RFC 8867 §5 wired test cases ([RFC8867])
//	rfc8868-d<D>ms-loss<L>-q<Q>ms      RFC 8868 condition grid ([RFC8868Grid])
//	rfc8868-jitter30ms[-reorder]       RFC 8868 jitter models
//	weak-<C>mbps-loss<L>               weak networks ([WeakNetwork])
//	jitter-<C>mbps-<kind>              RTT jitter, no loss ([RTTJitter])
//	bursty-loss<L>-burst<B>            Gilbert–Elliott loss ([BurstyLoss])
//	app-limited-<case>                 application-limited senders ([AppLimited])
//	shaped-<C>-bucket<B>               token-bucket bottlenecks ([Shaped])
//	trace-<trace name>                 real capacity traces ([FromTrace])

// RFC 8867 path and media defaults.
//
// RFC 8867 and its ns-3 implementation (cisco/ns3-rmcat) express rates in
// binary units (1 Mbps = 2^20 bit/s there); the generators use the decimal
// values the RFC prints.
const (
	// RFC8867Delay is the one-way propagation delay of every RFC 8867 path
	// unless a case says otherwise: 50 ms (RFC 8867 §4.2 common path
	// defaults; ns3-rmcat rmcat-wired-test-suite.cc: pdel = 50).
	RFC8867Delay = 50 * time.Millisecond
	// RFC8867Queue is the drop-tail bottleneck queue, as the time the
	// capacity in force takes to drain it: 300 ms (RFC 8867 §4.2; ns3-rmcat
	// rmcat-wired-test-suite.cc: qdel = 300).
	RFC8867Queue = 300 * time.Millisecond
	// RFC8867MinRate is the start rate and the floor of an RFC 8867 media
	// flow: 150 kbps (RFC 8867 media range; ns3-rmcat rmcat-common-test.h:
	// RMCAT_TC_RINIT = RMCAT_TC_RMIN = 150 Kbps).
	RFC8867MinRate = 150 * bwe.Kbps
	// RFC8867MaxRate is the top of an RFC 8867 media flow's range, applied
	// as its AppRate: 1.5 Mbps (RFC 8867 media range; ns3-rmcat
	// rmcat-common-test.h: RMCAT_TC_RMAX = 1500 Kbps).
	RFC8867MaxRate = 1500 * bwe.Kbps
)

// genRFC8867Case is one RFC 8867 case: its id and how to build it.
type genRFC8867Case struct {
	id    string
	build func() Scenario
}

// genRFC8867Cases lists the RFC 8867 cases in the order [RFC8867] returns
// them.
var genRFC8867Cases = []genRFC8867Case{
	{"5.1", func() Scenario { return genCase51(RFC8867Delay, RFC8867MaxRate) }},
	{"5.1-100ms", func() Scenario { return genCase51(100*time.Millisecond, RFC8867MaxRate) }},
	{"5.1-uncapped", func() Scenario { return genCase51(RFC8867Delay, 0) }},
	{"5.2", func() Scenario { return genCase52(RFC8867MaxRate) }},
	{"5.2-uncapped", func() Scenario { return genCase52(0) }},
	{"5.3", func() Scenario { return genCase53(RFC8867MaxRate) }},
	{"5.3-uncapped", func() Scenario { return genCase53(0) }},
	{"5.4", genCase54},
	{"5.5", genCase55},
	{"5.6", func() Scenario { return genCase56(RFC8867Queue) }},
	{"5.6-1000ms", func() Scenario { return genCase56(time.Second) }},
	{"5.7", genCase57},
	{"5.8", genCase58},
}

// RFC8867 returns the wired test cases of RFC 8867 §5.1–5.8 with the given
// seed, named "rfc8867-<id>" (see [RFC8867Case] for the ids and what each
// case holds).
func RFC8867(seed uint64) []Scenario {
	out := make([]Scenario, len(genRFC8867Cases))
	for i, c := range genRFC8867Cases {
		out[i] = genRFC8867Named(c, seed)
	}
	return out
}

// RFC8867Case returns the RFC 8867 case with the given id (or full name
// "rfc8867-<id>"). The ids, with the numbers of RFC 8867 §5 (verified
// against ns3-rmcat's rmcat-wired-test-suite.cc, which implements
// draft-ietf-rmcat-eval-test-05):
//
//	5.1           one flow; capacity 1 Mbps × 1.0, 2.5, 0.6, 1.0 from 0, 40,
//	              60, 80 s; 100 s
//	5.1-100ms     5.1 with a 100 ms one-way delay
//	5.2           two flows; capacity 4, 2, 3.5, 1, 2 Mbps from 0, 25, 50,
//	              75, 100 s (the RFC's reference 2 Mbps × 2.0, 1.0, 1.75,
//	              0.5, 1.0, as ns3-rmcat builds it); 125 s
//	5.3           one flow each way (Flows[1].Reverse); forward 2, 1, 0.5,
//	              2 Mbps from 0, 20, 40, 60 s; backward 2, 0.8, 2 Mbps from
//	              0, 35, 70 s, with its own 300 ms queue; 100 s
//	5.4           three flows starting at 0, 20, 40 s; 3.5 Mbps; 120 s
//	5.5           five flows with one-way delays 10, 25, 50, 100, 150 ms
//	              (paths 10 ms each way, ExtraDelay 0, 15, 40, 90, 140 ms),
//	              starting at 0, 10, 20, 30, 40 s; 4 Mbps; 300 s
//	5.6           one flow from 5 s and one long-lived TCP NewReno flow
//	              over the whole run; 2 Mbps; 120 s
//	5.6-1000ms    5.6 with a 1000 ms queue
//	5.7           two flows from 5 s and ten short TCP flows (the first two
//	              start with a download, the other eight idle; 30–50 kB
//	              files, exponential idle times of mean 10 s); 2 Mbps; 300 s
//	5.8           three flows from 0 s, the first paused from 40 s to 60 s;
//	              3.5 Mbps; 120 s
//	5.1-uncapped, 5.2-uncapped, 5.3-uncapped
//	              the same without the 1.5 Mbps application cap
//
// Every path has the RFC's 50 ms one-way delay and 300 ms drop-tail queue
// unless the case says otherwise, no loss and no jitter; a return path
// without capacity is uncongested. Every media flow stops 1 s before the
// end of the run (the RFC's media timelines end at 99, 119 and 299 s) and
// uses the RFC's media range: it starts at and never goes below 150 kbps
// ([RFC8867MinRate]), and its application has at most 1.5 Mbps to send
// ([RFC8867MaxRate]). That cap binds whenever a flow's share of the
// capacity exceeds 1.5 Mbps: in 5.4, 5.5 and 5.8 only while fewer flows are
// active than at steady state, whose fair shares (1.17 and 0.8 Mbps) stay
// below it; but in the variable-capacity cases 5.1, 5.2 and 5.3 it hides
// the high phases of the schedule (2.5 Mbps in 5.1, 2 and 1.75 Mbps per
// flow in 5.2, 2 Mbps in 5.3), where the flows are application-limited
// rather than capacity-limited. The RFC's cases keep the cap, as ns3-rmcat
// does: they then test an application-limited estimate meeting a capacity
// drop. The "-uncapped" variants let the flows track the whole schedule.
//
// Warmup is 0, so that the summary covers the convergence after each
// change, except in 5.6 and 5.7, where it is the 5 s before the media
// flows start.
//
// Choices where the sources differ: 5.4 and 5.8 use 3.5 Mbps as the RFC
// does (an earlier ns3-rmcat used 3.6 Mbps); the TCP flow of 5.6 runs for
// the whole run (ns3-rmcat leaves it at its default 40–80 s window); the
// short TCP flows of 5.7 run for the whole run (ns3-rmcat keeps them
// within 60 s of both ends); in 5.8 the three flows all start at 0 s, as
// in ns3-rmcat, rather than at 5.4's 0, 20, 40 s, which would make the
// third flow join at the very instant the first one pauses; the paused
// flow is the first ("flow #1" counting from 1).
func RFC8867Case(id string, seed uint64) (Scenario, error) {
	id = strings.TrimPrefix(id, "rfc8867-")
	for _, c := range genRFC8867Cases {
		if c.id == id {
			return genRFC8867Named(c, seed), nil
		}
	}
	return Scenario{}, fmt.Errorf("traces: no RFC 8867 case %q", id)
}

func genRFC8867Named(c genRFC8867Case, seed uint64) Scenario {
	s := c.build()
	s.Name = "rfc8867-" + c.id
	s.Seed = seed
	return s
}

// genRatios returns the schedule ref × ratio from each instant on; pairs
// holds (seconds, ratio) alternately.
func genRatios(ref bwe.Bitrate, pairs ...float64) Steps {
	s := make(Steps, 0, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		s = append(s, Step{At: time.Duration(pairs[i]) * time.Second, Capacity: ref.Scale(pairs[i+1])})
	}
	return s
}

// genRFCPath is an RFC 8867 path: capacity c, one-way delay d, 300 ms
// drop-tail queue.
func genRFCPath(c Capacity, d time.Duration) Path {
	return Path{Capacity: c, Delay: d, QueueDelay: RFC8867Queue}
}

// genRFCFlow is an RFC 8867 media flow living in [start, stop), capped at
// app (0: no cap).
func genRFCFlow(start, stop time.Duration, app bwe.Bitrate) Flow {
	return Flow{Start: start, Stop: stop, StartRate: RFC8867MinRate, MinRate: RFC8867MinRate, AppRate: app}
}

func genCase51(delay time.Duration, app bwe.Bitrate) Scenario {
	return Scenario{
		Duration: 100 * time.Second,
		Forward:  genRFCPath(genRatios(bwe.Mbps, 0, 1.0, 40, 2.5, 60, 0.6, 80, 1.0), delay),
		Flows:    []Flow{genRFCFlow(0, 99*time.Second, app)},
	}
}

func genCase52(app bwe.Bitrate) Scenario {
	return Scenario{
		Duration: 125 * time.Second,
		Forward:  genRFCPath(genRatios(2*bwe.Mbps, 0, 2.0, 25, 1.0, 50, 1.75, 75, 0.5, 100, 1.0), RFC8867Delay),
		Flows: []Flow{
			genRFCFlow(0, 124*time.Second, app),
			genRFCFlow(0, 124*time.Second, app),
		},
	}
}

func genCase53(app bwe.Bitrate) Scenario {
	rev := genRFCFlow(0, 99*time.Second, app)
	rev.Reverse = true
	return Scenario{
		Duration: 100 * time.Second,
		Forward:  genRFCPath(genRatios(bwe.Mbps, 0, 2.0, 20, 1.0, 40, 0.5, 60, 2.0), RFC8867Delay),
		Backward: genRFCPath(genRatios(bwe.Mbps, 0, 2.0, 35, 0.8, 70, 2.0), RFC8867Delay),
		Flows:    []Flow{genRFCFlow(0, 99*time.Second, app), rev},
	}
}

func genCase54() Scenario {
	return Scenario{
		Duration: 120 * time.Second,
		Forward:  genRFCPath(Constant(3500*bwe.Kbps), RFC8867Delay),
		Flows: []Flow{
			genRFCFlow(0, 119*time.Second, RFC8867MaxRate),
			genRFCFlow(20*time.Second, 119*time.Second, RFC8867MaxRate),
			genRFCFlow(40*time.Second, 119*time.Second, RFC8867MaxRate),
		},
	}
}

// genCase55Delays are the one-way delays of RFC 8867 §5.5's five flows.
var genCase55Delays = [5]time.Duration{
	10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 150 * time.Millisecond,
}

func genCase55() Scenario {
	base := genCase55Delays[0]
	s := Scenario{
		Duration: 300 * time.Second,
		Forward:  genRFCPath(Constant(4*bwe.Mbps), base),
		Backward: Path{Delay: base},
	}
	for i, d := range genCase55Delays {
		f := genRFCFlow(time.Duration(10*i)*time.Second, 299*time.Second, RFC8867MaxRate)
		f.ExtraDelay = d - base
		s.Flows = append(s.Flows, f)
	}
	return s
}

func genCase56(queue time.Duration) Scenario {
	s := Scenario{
		Duration: 120 * time.Second,
		Warmup:   5 * time.Second,
		Forward:  genRFCPath(Constant(2*bwe.Mbps), RFC8867Delay),
		Flows:    []Flow{genRFCFlow(5*time.Second, 119*time.Second, RFC8867MaxRate)},
		Cross:    []Cross{{Kind: TCP, Variant: Reno}},
	}
	s.Forward.QueueDelay = queue
	return s
}

func genCase57() Scenario {
	s := Scenario{
		Duration: 300 * time.Second,
		Warmup:   5 * time.Second,
		Forward:  genRFCPath(Constant(2*bwe.Mbps), RFC8867Delay),
		Flows: []Flow{
			genRFCFlow(5*time.Second, 299*time.Second, RFC8867MaxRate),
			genRFCFlow(5*time.Second, 299*time.Second, RFC8867MaxRate),
		},
	}
	for i := range 10 {
		s.Cross = append(s.Cross, Cross{Kind: ShortTCP, Variant: Reno, StartOn: i < 2})
	}
	return s
}

func genCase58() Scenario {
	s := Scenario{
		Duration: 120 * time.Second,
		Forward:  genRFCPath(Constant(3500*bwe.Kbps), RFC8867Delay),
		Flows: []Flow{
			genRFCFlow(0, 119*time.Second, RFC8867MaxRate),
			genRFCFlow(0, 119*time.Second, RFC8867MaxRate),
			genRFCFlow(0, 119*time.Second, RFC8867MaxRate),
		},
	}
	s.Flows[0].Pauses = []Span{{From: 40 * time.Second, To: 60 * time.Second}}
	return s
}

// Common parameters of the steady-state families (RFC 8868 grid, weak
// networks, RTT jitter, bursty loss, application-limited senders).
const (
	// genRunLength is the duration of a steady-state scenario.
	genRunLength = 60 * time.Second
	// genWarmup leaves the initial ramp-up out of a steady-state
	// scenario's summary.
	genWarmup = 10 * time.Second
)

// genSteady is a one-flow scenario on a constant capacity with RFC 8867's
// path defaults, lasting genRunLength with a genWarmup warm-up. Its flow
// takes the [Flow] defaults: no application cap, so that the estimator
// alone limits it.
func genSteady(name string, seed uint64, capacity bwe.Bitrate) Scenario {
	return Scenario{
		Name:     name,
		Seed:     seed,
		Duration: genRunLength,
		Warmup:   genWarmup,
		Forward:  genRFCPath(Constant(capacity), RFC8867Delay),
		Flows:    []Flow{{}},
	}
}

// RFC 8868 condition grid.
var (
	// genGridDelays are the one-way delays: RFC 8868's 0 ms is taken as
	// 1 ms (its "0–1 ms").
	genGridDelays = []time.Duration{time.Millisecond, 50 * time.Millisecond, 150 * time.Millisecond, 300 * time.Millisecond}
	// genGridLosses are the random loss rates, in percent.
	genGridLosses = []int{0, 1, 5, 10, 20}
	// genGridQueues are the drop-tail queues: short (70 ms), nominal
	// (300–500 ms: 400 ms) and bloated (1000–2000 ms: 1500 ms).
	genGridQueues = []time.Duration{70 * time.Millisecond, 400 * time.Millisecond, 1500 * time.Millisecond}
)

// RFC8868Capacity is the fixed bottleneck capacity of [RFC8868Grid].
const RFC8868Capacity = 2 * bwe.Mbps

// RFC8868Jitter is the bound of the random packet-delay variation of the
// RFC 8868 jitter models: 30 ms (RFC 8867 §4.2's maximum end-to-end
// jitter).
const RFC8868Jitter = 30 * time.Millisecond

// RFC8868Grid returns the condition grid of RFC 8868 (evaluation criteria):
// one media flow on a fixed [RFC8868Capacity] bottleneck for 60 s (10 s
// warm-up), for every one-way delay in {1, 50, 150, 300} ms (1 ms standing
// for the RFC's "0–1 ms"), random loss in {0, 1, 5, 10, 20} % on the
// forward path, and drop-tail queue in {70, 400, 1500} ms (short, nominal
// 300–500 ms and bloated 1000–2000 ms): 60 scenarios named
// "rfc8868-d<delay>ms-loss<percent>-q<queue>ms". Then the two jitter
// models: a bounded random packet-delay variation, uniform in
// [0, [RFC8868Jitter]], without ("rfc8868-jitter30ms") and with
// ("rfc8868-jitter30ms-reorder") reordering, at 50 ms one-way, 300 ms
// queue, no loss. The return path is uncongested and lossless. The flow has
// no application cap: a 1.5 Mbps cap (RFC 8867's media range) would keep it
// below the 2 Mbps capacity, and the grid would not probe the estimator.
func RFC8868Grid(seed uint64) []Scenario {
	var out []Scenario
	for _, d := range genGridDelays {
		for _, l := range genGridLosses {
			for _, q := range genGridQueues {
				s := genSteady(fmt.Sprintf("rfc8868-d%dms-loss%d-q%dms", d.Milliseconds(), l, q.Milliseconds()), seed, RFC8868Capacity)
				s.Forward.Delay = d
				s.Forward.Loss = float64(l) / 100
				s.Forward.QueueDelay = q
				out = append(out, s)
			}
		}
	}
	for _, reorder := range []bool{false, true} {
		name := fmt.Sprintf("rfc8868-jitter%dms", RFC8868Jitter.Milliseconds())
		if reorder {
			name += "-reorder"
		}
		s := genSteady(name, seed, RFC8868Capacity)
		s.Forward.Jitter = RFC8868Jitter
		s.Forward.Reorder = reorder
		out = append(out, s)
	}
	return out
}

// WeakNetworkDelay is the one-way delay of [WeakNetwork], each way: 75 ms,
// for the live-push report's 150 ms RTT.
const WeakNetworkDelay = 75 * time.Millisecond

// WeakNetwork returns the weak-network grid of the live-push report: one
// media flow for 60 s (10 s warm-up) with a 150 ms RTT ([WeakNetworkDelay]
// each way) and random loss of 5, 10, 15 or 20 % on the forward path, on
// 2 Mbps and 4 Mbps links with a 300 ms queue: 8 scenarios named
// "weak-<capacity>mbps-loss<percent>".
func WeakNetwork(seed uint64) []Scenario {
	var out []Scenario
	for _, c := range []bwe.Bitrate{2 * bwe.Mbps, 4 * bwe.Mbps} {
		for _, l := range []int{5, 10, 15, 20} {
			s := genSteady(fmt.Sprintf("weak-%dmbps-loss%d", c/bwe.Mbps, l), seed, c)
			s.Forward.Delay = WeakNetworkDelay
			s.Forward.Loss = float64(l) / 100
			out = append(out, s)
		}
	}
	return out
}

// RTT-jitter parameters.
const (
	// genJitterDelay is the one-way propagation delay each way of the
	// RTT-jitter cases with random delay variation: 40 ms, so that with
	// genJitter on top the RTT stays within [80 ms, 130 ms], under the
	// live-push report's 150 ms.
	genJitterDelay = 40 * time.Millisecond
	// genJitter bounds the random delay variation: 50 ms.
	genJitter = 50 * time.Millisecond
	// PoissonMeanInterval is the mean time between capacity changes of the
	// Poisson-fluctuating case of [RTTJitter]: 2 s.
	PoissonMeanInterval = 2 * time.Second
	// PoissonSpread is the relative spread of its capacities: uniform in
	// [0.5, 1.5] × mean.
	PoissonSpread = 0.5
)

// RTTJitter returns the RTT-jitter cases of the live-push report: links
// without loss whose delay or capacity varies while the RTT stays under
// 150 ms, the cases where a delay-gradient detector takes jitter for
// congestion and the estimate oscillates. Each has one media flow, lasts
// 60 s (10 s warm-up) and has a 300 ms queue:
//
//	jitter-4mbps-pdv, jitter-2mbps-pdv
//	    4 or 2 Mbps, 40 ms each way, plus a random delay uniform in
//	    [0, 50 ms] on the forward path without reordering (a packet
//	    never overtakes an earlier one): RTT 80–130 ms
//	jitter-4mbps-pdv-reorder, jitter-2mbps-pdv-reorder
//	    the same with reordering
//	jitter-4mbps-swing
//	    4 Mbps, 50 ms each way, the forward delay swinging by ±20 ms
//	    with a 10 s period: RTT 80–120 ms
//	jitter-4mbps-swing-4s, jitter-2mbps-swing-2s
//	    faster swings: ±20 ms every 4 s on 4 Mbps, ±10 ms every 2 s on
//	    2 Mbps (50 ms each way): the delay rises fast enough for the
//	    trendline to call overuse on every cycle, the periodic
//	    oscillation of the report
//	jitter-4mbps-walk
//	    4 Mbps, 40 ms each way, plus a random-walk forward delay in
//	    [0, 40 ms] moving by up to ±4 ms every 100 ms: RTT 80–120 ms
//	jitter-4mbps-walk-fast
//	    the same walk moving by up to ±8 ms every 100 ms
//	jitter-4mbps-poisson
//	    capacity changing at the events of a Poisson process of mean
//	    interval [PoissonMeanInterval] to values uniform in
//	    [0.5, 1.5] × 4 Mbps ([PoissonCapacity] with the seed), 50 ms
//	    each way
func RTTJitter(seed uint64) []Scenario {
	var out []Scenario
	for _, c := range []bwe.Bitrate{4 * bwe.Mbps, 2 * bwe.Mbps} {
		for _, reorder := range []bool{false, true} {
			name := fmt.Sprintf("jitter-%dmbps-pdv", c/bwe.Mbps)
			if reorder {
				name += "-reorder"
			}
			s := genSteady(name, seed, c)
			s.Forward.Delay = genJitterDelay
			s.Forward.Jitter = genJitter
			s.Forward.Reorder = reorder
			out = append(out, s)
		}
	}
	swing := genSteady("jitter-4mbps-swing", seed, 4*bwe.Mbps)
	swing.Forward.SwingAmplitude = 20 * time.Millisecond
	swing.Forward.SwingPeriod = 10 * time.Second
	swing4 := genSteady("jitter-4mbps-swing-4s", seed, 4*bwe.Mbps)
	swing4.Forward.SwingAmplitude = 20 * time.Millisecond
	swing4.Forward.SwingPeriod = 4 * time.Second
	swing2 := genSteady("jitter-2mbps-swing-2s", seed, 2*bwe.Mbps)
	swing2.Forward.SwingAmplitude = 10 * time.Millisecond
	swing2.Forward.SwingPeriod = 2 * time.Second
	walk := genSteady("jitter-4mbps-walk", seed, 4*bwe.Mbps)
	walk.Forward.Delay = genJitterDelay
	walk.Forward.WalkRange = 40 * time.Millisecond
	walk.Forward.WalkStep = 4 * time.Millisecond
	walk.Forward.WalkInterval = DefaultWalkInterval
	walkFast := walk
	walkFast.Name = "jitter-4mbps-walk-fast"
	walkFast.Forward.WalkStep = 8 * time.Millisecond
	poisson := genSteady("jitter-4mbps-poisson", seed, 4*bwe.Mbps)
	steps, err := PoissonCapacity(4*bwe.Mbps, PoissonMeanInterval, PoissonSpread, poisson.Duration, seed)
	if err != nil {
		panic("traces: RTTJitter: " + err.Error()) // the parameters above are valid
	}
	poisson.Forward.Capacity = steps
	return append(out, swing, swing4, swing2, walk, walkFast, poisson)
}

// MaxPoissonEvents bounds the expected number of capacity changes,
// d ÷ meanInterval, that [PoissonCapacity] accepts.
const MaxPoissonEvents = 1_000_000

// genPoissonStream is the PCG stream of [PoissonCapacity]'s draws, so that
// they differ from other streams seeded with the same seed.
const genPoissonStream = 0x706f6973736f6e // "poisson"

// PoissonCapacity returns a capacity schedule over [0, d) that changes at
// the events of a Poisson process of rate 1/meanInterval (exponential
// times between changes, rounded to whole microseconds and at least 1 µs)
// and holds, from 0 and after each change, a capacity drawn uniformly from
// [1 − spread, 1 + spread] × mean, independently of every other. The
// time-weighted mean of a long schedule is therefore mean, and it holds
// about d ÷ meanInterval changes. The draws come from a PCG generator
// seeded with seed: the same arguments give the same schedule.
//
// It returns an error if mean is not positive, spread is outside [0, 1]
// (NaN included), (1 + spread) × mean exceeds [MaxLinkRate], d is outside
// (0, [MaxDuration]], meanInterval is under 1 µs, or d ÷ meanInterval
// exceeds [MaxPoissonEvents].
func PoissonCapacity(mean bwe.Bitrate, meanInterval time.Duration, spread float64, d time.Duration, seed uint64) (Steps, error) {
	switch {
	case mean <= 0:
		return nil, fmt.Errorf("traces: PoissonCapacity: mean %d bps is not positive", int64(mean))
	case !(spread >= 0 && spread <= 1):
		return nil, fmt.Errorf("traces: PoissonCapacity: spread %v is outside [0, 1]", spread)
	case mean > MaxLinkRate || mean.Scale(1+spread) > MaxLinkRate:
		return nil, fmt.Errorf("traces: PoissonCapacity: (1 + spread %v) × mean %v exceeds %v", spread, mean, MaxLinkRate)
	case d <= 0 || d > MaxDuration:
		return nil, fmt.Errorf("traces: PoissonCapacity: duration %v is outside (0, %v]", d, MaxDuration)
	case meanInterval < time.Microsecond:
		return nil, fmt.Errorf("traces: PoissonCapacity: mean interval %v is under 1µs", meanInterval)
	case d/meanInterval > MaxPoissonEvents:
		return nil, fmt.Errorf("traces: PoissonCapacity: %v ÷ mean interval %v exceeds %d changes", d, meanInterval, MaxPoissonEvents)
	}
	r := rand.New(rand.NewPCG(seed, genPoissonStream))
	draw := func() bwe.Bitrate { return mean.Scale(1 - spread + 2*spread*r.Float64()) }
	steps := Steps{{At: 0, Capacity: draw()}}
	var at time.Duration
	for {
		gap := r.ExpFloat64() * float64(meanInterval)
		if gap >= float64(d-at) {
			break
		}
		at += max(time.Duration(gap).Round(time.Microsecond), time.Microsecond)
		if at >= d {
			break
		}
		if len(steps) > 2*MaxPoissonEvents {
			// More than twice the accepted expectation: beyond any
			// plausible draw of the process.
			return nil, errors.New("traces: PoissonCapacity: too many changes")
		}
		steps = append(steps, Step{At: at, Capacity: draw()})
	}
	return steps, nil
}

// GilbertElliottFromMean returns the Gilbert–Elliott model that loses every
// packet in the bad state (LossBad 1) and none in the good one (LossGood
// 0), with stationary loss rate meanLoss and loss bursts of meanBurst
// packets on average:
//
//	BadToGood = 1 / meanBurst
//	GoodToBad = meanLoss · BadToGood / (1 − meanLoss)
//
// (the stationary probability of the bad state is GoodToBad ÷ (GoodToBad +
// BadToGood) = meanLoss, and a stay in it lasts 1/BadToGood packets). It
// returns an error unless 0 ≤ meanLoss < 1 and meanBurst ≥ 1, or if
// GoodToBad would exceed 1 (meanLoss above meanBurst ÷ (1 + meanBurst)).
// meanLoss 0 gives the disabled zero-loss model.
func GilbertElliottFromMean(meanLoss, meanBurst float64) (GilbertElliott, error) {
	switch {
	case !(meanLoss >= 0 && meanLoss < 1):
		return GilbertElliott{}, fmt.Errorf("traces: Gilbert–Elliott mean loss %v is outside [0, 1)", meanLoss)
	case !(meanBurst >= 1) || math.IsInf(meanBurst, 0):
		return GilbertElliott{}, fmt.Errorf("traces: Gilbert–Elliott mean burst %v is not a finite length of at least 1 packet", meanBurst)
	}
	b2g := 1 / meanBurst
	g2b := meanLoss * b2g / (1 - meanLoss)
	if g2b > 1 {
		return GilbertElliott{}, fmt.Errorf("traces: Gilbert–Elliott mean loss %v is too high for bursts of %v packets", meanLoss, meanBurst)
	}
	return GilbertElliott{GoodToBad: g2b, BadToGood: b2g, LossGood: 0, LossBad: 1}, nil
}

// BurstyLoss returns bursty-loss cases: one media flow on 2 Mbps, 50 ms
// one-way, 300 ms queue, 60 s (10 s warm-up), whose forward path loses
// packets in Gilbert–Elliott bursts ([GilbertElliottFromMean]) at a mean
// loss of 1, 5 or 10 % with mean bursts of 2 or 8 packets: 6 scenarios
// named "bursty-loss<percent>-burst<packets>".
func BurstyLoss(seed uint64) []Scenario {
	var out []Scenario
	for _, l := range []int{1, 5, 10} {
		for _, b := range []int{2, 8} {
			g, err := GilbertElliottFromMean(float64(l)/100, float64(b))
			if err != nil {
				panic("traces: BurstyLoss: " + err.Error()) // the parameters above are valid
			}
			s := genSteady(fmt.Sprintf("bursty-loss%d-burst%d", l, b), seed, 2*bwe.Mbps)
			s.Forward.Burst = g
			out = append(out, s)
		}
	}
	return out
}

// AppLimited returns the application-limited cases: one media flow, 50 ms
// one-way, 300 ms queue, 60 s (10 s warm-up):
//
//	app-limited-800kbps-3mbps
//	    the application has at most 0.8 Mbps to send on a 3 Mbps link
//	    (the evaluation notes' case): the estimate must stay bounded
//	app-limited-800kbps-3mbps-to-500kbps
//	    the same, the capacity dropping to 0.5 Mbps at 30 s: an estimate
//	    inflated while application-limited must come down
//	app-limited-pause-resume
//	    3 Mbps, no cap, the flow paused from 20 s to 30 s: on resume it
//	    must neither flood the queue nor stay low
func AppLimited(seed uint64) []Scenario {
	capped := genSteady("app-limited-800kbps-3mbps", seed, 3*bwe.Mbps)
	capped.Flows[0].AppRate = 800 * bwe.Kbps
	drop := genSteady("app-limited-800kbps-3mbps-to-500kbps", seed, 3*bwe.Mbps)
	drop.Flows[0].AppRate = 800 * bwe.Kbps
	drop.Forward.Capacity = Steps{{At: 0, Capacity: 3 * bwe.Mbps}, {At: 30 * time.Second, Capacity: 500 * bwe.Kbps}}
	pause := genSteady("app-limited-pause-resume", seed, 3*bwe.Mbps)
	pause.Flows[0].Pauses = []Span{{From: 20 * time.Second, To: 30 * time.Second}}
	return []Scenario{capped, drop, pause}
}

// Trace scenario parameters.
const (
	// genTraceWarmup is the warm-up of a trace scenario: 10 s, or half the
	// run if that is shorter.
	genTraceWarmup = 10 * time.Second
	// genTraceQueue is the queue of a trace scenario, as the time the
	// trace's mean capacity takes to drain it.
	genTraceQueue = RFC8867Queue
	// genTraceMinQueue is the smallest queue of a trace scenario: ten
	// default-sized media packets.
	genTraceMinQueue = 10 * DefaultPacketSize
	// genMaxName is the longest scenario name (see [Scenario.Name]).
	genMaxName = 128
)

// FromTrace returns a scenario whose forward capacity follows the recorded
// trace tr (which must not be nil; the scenario shares it): one media flow (the [Flow] defaults, no application cap),
// RFC 8867's 50 ms one-way delay each way, an uncongested return path,
// lasting d. The readers of this package make traces loop, so a run longer
// than the trace replays it from its start (a trace that does not loop
// holds its last rate). If d is not positive, the run lasts one pass of
// the trace (tr.Length), at most [MaxDuration]. The warm-up is 10 s, or
// half the run if that is shorter.
//
// The queue holds as many bytes as the trace's mean capacity drains in
// 300 ms (RFC 8867's queue), and at least ten 1200-byte packets. It is
// sized in bytes, not in time at the current capacity, because recorded
// capacities fall by orders of magnitude and to zero in outages: a
// time-sized queue would shrink with them and drop packets where a real
// buffer holds them and delays them, hiding the delay build-up a delay-
// based estimator should see.
//
// The name is "trace-" followed by tr.Name with every run of characters
// other than ASCII letters, digits and "-_.+" replaced by one "-", and
// leading and trailing "-" removed (so
// "mahimahi-cellular/ATT-LTE-driving.up" gives
// "trace-mahimahi-cellular-ATT-LTE-driving.up"); a name that would exceed
// 128 bytes is cut and ends with a hash of tr.Name. Distinct traces may
// thus share a name; [TraceScenarios] makes the names of one directory
// unique.
func FromTrace(tr *Trace, seed uint64, d time.Duration) Scenario {
	if d <= 0 {
		d = min(tr.Length, MaxDuration)
	}
	return Scenario{
		Name:     genTraceName(tr.Name),
		Seed:     seed,
		Duration: d,
		Warmup:   min(genTraceWarmup, d/2),
		Forward: Path{
			Capacity:   tr,
			Delay:      RFC8867Delay,
			QueueBytes: max(tr.Mean().Over(genTraceQueue), genTraceMinQueue),
		},
		Flows: []Flow{{}},
	}
}

// genTraceName returns the scenario name of the trace named name.
func genTraceName(name string) string {
	var b strings.Builder
	sep := false
	for _, r := range name {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' || r == '+' {
			b.WriteRune(r)
			sep = false
		} else if !sep {
			b.WriteByte('-')
			sep = true
		}
	}
	part := strings.Trim(b.String(), "-")
	if part == "" {
		part = "unnamed"
	}
	out := "trace-" + part
	if len(out) > genMaxName {
		h := fnv.New32a()
		h.Write([]byte(name))
		suffix := fmt.Sprintf("-%08x", h.Sum32())
		out = out[:genMaxName-len(suffix)] + suffix
	}
	return out
}

// genUniqueNames appends "-2", "-3", … to the names of scenarios whose name
// an earlier one already has, cutting the name if needed so that it stays
// within 128 bytes.
func genUniqueNames(ss []Scenario) {
	seen := make(map[string]bool, len(ss))
	for i := range ss {
		name := ss[i].Name
		for k := 2; seen[name]; k++ {
			suffix := fmt.Sprintf("-%d", k)
			base := ss[i].Name
			if len(base)+len(suffix) > genMaxName {
				base = base[:genMaxName-len(suffix)]
			}
			name = base + suffix
		}
		seen[name] = true
		ss[i].Name = name
	}
}
