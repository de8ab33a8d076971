package traces

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// DefaultTraceDuration is the duration of the scenarios built from the
// embedded traces, in [DefaultCorpus] and the "traces" family: 120 s.
const DefaultTraceDuration = 120 * time.Second

// genFamily is one family of scenarios: its name, the prefix of the names
// of its scenarios ("" for the corpus, which borrows from the others), and
// its generator.
type genFamily struct {
	name, prefix string
	gen          func(seed uint64) ([]Scenario, error)
}

// genNoError adapts a generator that cannot fail.
func genNoError(f func(uint64) []Scenario) func(uint64) ([]Scenario, error) {
	return func(seed uint64) ([]Scenario, error) { return f(seed), nil }
}

// genFamilies lists the families in the order [Families] gives them.
var genFamilies = []genFamily{
	{"rfc8867", "rfc8867-", genNoError(RFC8867)},
	{"rfc8868", "rfc8868-", genNoError(RFC8868Grid)},
	{"weak", "weak-", genNoError(WeakNetwork)},
	{"jitter", "jitter-", genNoError(RTTJitter)},
	{"bursty", "bursty-", genNoError(BurstyLoss)},
	{"episodes", "episodes-", genNoError(Episodes)},
	{"app-limited", "app-limited-", genNoError(AppLimited)},
	{"shaped", "shaped-", genNoError(Shaped)},
	{"reference", "reference-", genNoError(Reference)},
	{"traces", "trace-", genEmbedded},
	{"corpus", "", func(seed uint64) ([]Scenario, error) { return genCorpus(seed) }},
}

// Families returns the names of the scenario families, for [Family]:
//
//	rfc8867      RFC 8867 §5 wired test cases ([RFC8867])
//	rfc8868      RFC 8868 condition grid and jitter models ([RFC8868Grid])
//	weak         weak networks: 150 ms RTT, 5–20 % loss ([WeakNetwork])
//	jitter       RTT jitter without loss ([RTTJitter])
//	bursty       Gilbert–Elliott bursty loss ([BurstyLoss])
//	episodes     episodes of random loss on clean links ([Episodes])
//	app-limited  application-limited senders ([AppLimited])
//	shaped       token-bucket bottlenecks ([Shaped])
//	reference    the cases in which pion's gcc was measured ([Reference])
//	traces       the embedded real capacity traces ([Corpus], [FromTrace]),
//	             DefaultTraceDuration each
//	corpus       the default corpus ([DefaultCorpus])
func Families() []string {
	out := make([]string, len(genFamilies))
	for i, f := range genFamilies {
		out[i] = f.name
	}
	return out
}

// Family returns the scenarios of the family called name (see [Families])
// with the given seed.
func Family(name string, seed uint64) ([]Scenario, error) {
	for _, f := range genFamilies {
		if f.name == name {
			return f.gen(seed)
		}
	}
	return nil, fmt.Errorf("traces: no scenario family %q (families: %s)", name, strings.Join(Families(), ", "))
}

// genEmbedded returns one scenario per embedded trace, in [Corpus] order.
func genEmbedded(seed uint64) ([]Scenario, error) {
	entries := Corpus()
	out := make([]Scenario, 0, len(entries))
	for _, e := range entries {
		tr, err := CorpusTrace(e.Name)
		if err != nil {
			return nil, err
		}
		out = append(out, FromTrace(tr, seed, DefaultTraceDuration))
	}
	genUniqueNames(out)
	return out, nil
}

// genCorpusPicks are the scenarios of the steady-state families in the
// default corpus.
var genCorpusPicks = []string{
	// RFC 8868 grid: the three queue regimes, each with a harder delay
	// and loss, and the reordering jitter model.
	"rfc8868-d1ms-loss0-q70ms",
	"rfc8868-d50ms-loss1-q400ms",
	"rfc8868-d150ms-loss5-q1500ms",
	"rfc8868-jitter30ms-reorder",
	// Weak networks on 2 Mbps.
	"weak-2mbps-loss5",
	"weak-2mbps-loss10",
	"weak-2mbps-loss15",
	"weak-2mbps-loss20",
	// RTT jitter: random delay variation, and Poisson capacity.
	"jitter-4mbps-pdv",
	"jitter-4mbps-poisson",
	// Bursty loss: one mean loss, short and long bursts.
	"bursty-loss5-burst2",
	"bursty-loss5-burst8",
	// The evaluation notes' application-limited case.
	"app-limited-800kbps-3mbps",
}

// genCorpusRFC8867 are the RFC 8867 cases of the default corpus: every
// case as the RFC specifies it, and 5.1 without the application cap.
var genCorpusRFC8867 = []string{"5.1", "5.1-uncapped", "5.2", "5.3", "5.4", "5.5", "5.6", "5.7", "5.8"}

// DefaultCorpus returns the scenarios run when no scenario is named, all
// with seed 1, in this order:
//
//   - the RFC 8867 cases 5.1 to 5.8 as the RFC specifies them (their
//     durations are the RFC's: 100 to 300 s), and 5.1 without the 1.5 Mbps
//     application cap (see [RFC8867Case]);
//   - from the RFC 8868 grid, the short, nominal and bloated queues
//     (rfc8868-d1ms-loss0-q70ms, rfc8868-d50ms-loss1-q400ms,
//     rfc8868-d150ms-loss5-q1500ms) and the reordering jitter model;
//   - the four weak networks on 2 Mbps (5, 10, 15, 20 % loss);
//   - two RTT-jitter cases: jitter-4mbps-pdv and jitter-4mbps-poisson;
//   - two bursty-loss cases: 5 % loss in bursts of 2 and of 8 packets;
//   - the application-limited case app-limited-800kbps-3mbps;
//   - one scenario per embedded trace ([Corpus]), [DefaultTraceDuration]
//     each.
//
// That is 1385 s of emulated time for the RFC 8867 cases and 780 s for the
// steady-state picks, plus DefaultTraceDuration per embedded trace.
//
// It panics if an embedded trace cannot be read, which the package's tests
// rule out.
func DefaultCorpus() []Scenario {
	out, err := genCorpus(1)
	if err != nil {
		panic(err)
	}
	return out
}

func genCorpus(seed uint64) ([]Scenario, error) {
	var out []Scenario
	for _, id := range genCorpusRFC8867 {
		s, err := RFC8867Case(id, seed)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	var pool []Scenario
	pool = append(pool, RFC8868Grid(seed)...)
	pool = append(pool, WeakNetwork(seed)...)
	pool = append(pool, RTTJitter(seed)...)
	pool = append(pool, BurstyLoss(seed)...)
	pool = append(pool, AppLimited(seed)...)
	for _, name := range genCorpusPicks {
		i := slices.IndexFunc(pool, func(s Scenario) bool { return s.Name == name })
		if i < 0 {
			return nil, fmt.Errorf("traces: default corpus: no scenario %q", name)
		}
		out = append(out, pool[i])
	}
	embedded, err := genEmbedded(seed)
	if err != nil {
		return nil, err
	}
	return append(out, embedded...), nil
}

// ScenarioByName returns the scenario called name, with the given seed,
// from any family (see [Families]). A name starting with "trace-" that no
// embedded trace has is also looked for among the traces of the directory
// named by BWE_TRACES ([EnvDir]), at [DefaultTraceDuration].
func ScenarioByName(name string, seed uint64) (Scenario, error) {
	for _, f := range genFamilies {
		if f.prefix == "" || !strings.HasPrefix(name, f.prefix) {
			continue
		}
		ss, err := f.gen(seed)
		if err != nil {
			return Scenario{}, err
		}
		if i := slices.IndexFunc(ss, func(s Scenario) bool { return s.Name == name }); i >= 0 {
			return ss[i], nil
		}
	}
	if dir := EnvDir(); dir != "" && strings.HasPrefix(name, "trace-") {
		ss, err := TraceScenarios(dir, seed, DefaultTraceDuration)
		if err != nil {
			return Scenario{}, err
		}
		if i := slices.IndexFunc(ss, func(s Scenario) bool { return s.Name == name }); i >= 0 {
			return ss[i], nil
		}
	}
	return Scenario{}, fmt.Errorf("traces: no scenario named %q", name)
}

// TraceScenarios returns one scenario ([FromTrace]) per trace of the
// directory dir, as [LoadDir] reads it, each lasting d (one pass of its
// trace if d is not positive), in LoadDir's order. Names that two traces
// would share are made unique with "-2", "-3", … in that order. It is how
// the traces that cannot be embedded (under BWE_TRACES, see [EnvDir]) are
// run.
func TraceScenarios(dir string, seed uint64, d time.Duration) ([]Scenario, error) {
	trs, err := LoadDir(dir)
	if err != nil {
		return nil, err
	}
	out := make([]Scenario, len(trs))
	for i, tr := range trs {
		out[i] = FromTrace(tr, seed, d)
	}
	genUniqueNames(out)
	return out, nil
}
