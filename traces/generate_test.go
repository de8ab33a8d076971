package traces

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bwelab/bwe"
)

// genCapAt is the capacity a schedule must have at an instant.
type genCapAt struct {
	at   time.Duration
	want bwe.Bitrate
}

// genCaps lists, for each change of a schedule, the capacity 1 µs before
// it and at it; pairs holds (seconds, kbps) alternately.
func genCaps(pairs ...int64) []genCapAt {
	var out []genCapAt
	for i := 0; i+1 < len(pairs); i += 2 {
		at := time.Duration(pairs[i]) * time.Second
		if i > 0 {
			out = append(out, genCapAt{at - time.Microsecond, bwe.Bitrate(pairs[i-1]) * bwe.Kbps})
		}
		out = append(out, genCapAt{at, bwe.Bitrate(pairs[i+1]) * bwe.Kbps})
	}
	// And for ever after the last change.
	return append(out, genCapAt{time.Hour, bwe.Bitrate(pairs[len(pairs)-1]) * bwe.Kbps})
}

// genWantFlow is what a test expects of a media flow after WithDefaults.
type genWantFlow struct {
	start, stop time.Duration
	oneWay      time.Duration // propagation delay of its path plus ExtraDelay
	reverse     bool
	pauses      []Span
	app         bwe.Bitrate
}

func genFlows(n int, start, stop, oneWay time.Duration, app bwe.Bitrate) []genWantFlow {
	out := make([]genWantFlow, n)
	for i := range out {
		out[i] = genWantFlow{start: start, stop: stop, oneWay: oneWay, app: app}
	}
	return out
}

// TestRFC8867Cases checks every number of the RFC 8867 cases: RFC 8867
// §5.1–5.8 as tabulated in the project's reference notes (gcc-libwebrtc.md
// §4), cross-checked against ns3-rmcat rmcat-wired-test-suite.cc.
func TestRFC8867Cases(t *testing.T) {
	const (
		d50  = 50 * time.Millisecond
		q300 = 300 * time.Millisecond
		cap  = 1500 * bwe.Kbps
	)
	tests := []struct {
		id               string
		duration, warmup time.Duration
		fwd, bwd         []genCapAt // bwd nil: uncongested return path
		queue            time.Duration
		delay            time.Duration // forward one-way propagation
		flows            []genWantFlow
		cross            []Cross // Kind, Variant, Start, Stop, StartOn
	}{
		{
			// RFC 8867 §5.1: 1 Mbps × 1.0/2.5/0.6/1.0 at 0/40/60/80 s.
			id: "5.1", duration: 100 * time.Second,
			fwd:   genCaps(0, 1000, 40, 2500, 60, 600, 80, 1000),
			queue: q300, delay: d50,
			flows: genFlows(1, 0, 99*time.Second, d50, cap),
		},
		{
			id: "5.1-100ms", duration: 100 * time.Second,
			fwd:   genCaps(0, 1000, 40, 2500, 60, 600, 80, 1000),
			queue: q300, delay: 100 * time.Millisecond,
			flows: genFlows(1, 0, 99*time.Second, 100*time.Millisecond, cap),
		},
		{
			id: "5.1-uncapped", duration: 100 * time.Second,
			fwd:   genCaps(0, 1000, 40, 2500, 60, 600, 80, 1000),
			queue: q300, delay: d50,
			flows: genFlows(1, 0, 99*time.Second, d50, 0),
		},
		{
			// RFC 8867 §5.2: 2 Mbps × 2.0/1.0/1.75/0.5/1.0 every 25 s.
			id: "5.2", duration: 125 * time.Second,
			fwd:   genCaps(0, 4000, 25, 2000, 50, 3500, 75, 1000, 100, 2000),
			queue: q300, delay: d50,
			flows: genFlows(2, 0, 124*time.Second, d50, cap),
		},
		{
			id: "5.2-uncapped", duration: 125 * time.Second,
			fwd:   genCaps(0, 4000, 25, 2000, 50, 3500, 75, 1000, 100, 2000),
			queue: q300, delay: d50,
			flows: genFlows(2, 0, 124*time.Second, d50, 0),
		},
		{
			// RFC 8867 §5.3: forward 1 Mbps × 2.0/1.0/0.5/2.0 at
			// 0/20/40/60 s, backward × 2.0/0.8/2.0 at 0/35/70 s.
			id: "5.3", duration: 100 * time.Second,
			fwd:   genCaps(0, 2000, 20, 1000, 40, 500, 60, 2000),
			bwd:   genCaps(0, 2000, 35, 800, 70, 2000),
			queue: q300, delay: d50,
			flows: []genWantFlow{
				{start: 0, stop: 99 * time.Second, oneWay: d50, app: cap},
				{start: 0, stop: 99 * time.Second, oneWay: d50, app: cap, reverse: true},
			},
		},
		{
			id: "5.3-uncapped", duration: 100 * time.Second,
			fwd:   genCaps(0, 2000, 20, 1000, 40, 500, 60, 2000),
			bwd:   genCaps(0, 2000, 35, 800, 70, 2000),
			queue: q300, delay: d50,
			flows: []genWantFlow{
				{start: 0, stop: 99 * time.Second, oneWay: d50},
				{start: 0, stop: 99 * time.Second, oneWay: d50, reverse: true},
			},
		},
		{
			// RFC 8867 §5.4: 3 flows from 0/20/40 s to 119 s, 3.5 Mbps.
			id: "5.4", duration: 120 * time.Second,
			fwd:   genCaps(0, 3500),
			queue: q300, delay: d50,
			flows: []genWantFlow{
				{start: 0, stop: 119 * time.Second, oneWay: d50, app: cap},
				{start: 20 * time.Second, stop: 119 * time.Second, oneWay: d50, app: cap},
				{start: 40 * time.Second, stop: 119 * time.Second, oneWay: d50, app: cap},
			},
		},
		{
			// RFC 8867 §5.5: one-way 10/25/50/100/150 ms, from
			// 0/10/20/30/40 s to 299 s, 4 Mbps, 300 ms queue.
			id: "5.5", duration: 300 * time.Second,
			fwd:   genCaps(0, 4000),
			queue: q300, delay: 10 * time.Millisecond,
			flows: []genWantFlow{
				{start: 0, stop: 299 * time.Second, oneWay: 10 * time.Millisecond, app: cap},
				{start: 10 * time.Second, stop: 299 * time.Second, oneWay: 25 * time.Millisecond, app: cap},
				{start: 20 * time.Second, stop: 299 * time.Second, oneWay: 50 * time.Millisecond, app: cap},
				{start: 30 * time.Second, stop: 299 * time.Second, oneWay: 100 * time.Millisecond, app: cap},
				{start: 40 * time.Second, stop: 299 * time.Second, oneWay: 150 * time.Millisecond, app: cap},
			},
		},
		{
			// RFC 8867 §5.6: media 5–119 s, one long TCP flow, 2 Mbps.
			id: "5.6", duration: 120 * time.Second, warmup: 5 * time.Second,
			fwd:   genCaps(0, 2000),
			queue: q300, delay: d50,
			flows: genFlows(1, 5*time.Second, 119*time.Second, d50, cap),
			cross: []Cross{{Kind: TCP, Variant: Reno}},
		},
		{
			id: "5.6-1000ms", duration: 120 * time.Second, warmup: 5 * time.Second,
			fwd:   genCaps(0, 2000),
			queue: time.Second, delay: d50,
			flows: genFlows(1, 5*time.Second, 119*time.Second, d50, cap),
			cross: []Cross{{Kind: TCP, Variant: Reno}},
		},
		{
			// RFC 8867 §5.7: 2 media flows 5–299 s, 10 short TCP flows of
			// which 2 start ON, 2 Mbps.
			id: "5.7", duration: 300 * time.Second, warmup: 5 * time.Second,
			fwd:   genCaps(0, 2000),
			queue: q300, delay: d50,
			flows: genFlows(2, 5*time.Second, 299*time.Second, d50, cap),
			cross: []Cross{
				{Kind: ShortTCP, StartOn: true}, {Kind: ShortTCP, StartOn: true},
				{Kind: ShortTCP}, {Kind: ShortTCP}, {Kind: ShortTCP}, {Kind: ShortTCP},
				{Kind: ShortTCP}, {Kind: ShortTCP}, {Kind: ShortTCP}, {Kind: ShortTCP},
			},
		},
		{
			// RFC 8867 §5.8: 3 flows at 3.5 Mbps, flow #1 paused 40–60 s.
			id: "5.8", duration: 120 * time.Second,
			fwd:   genCaps(0, 3500),
			queue: q300, delay: d50,
			flows: []genWantFlow{
				{start: 0, stop: 119 * time.Second, oneWay: d50, app: cap, pauses: []Span{{40 * time.Second, 60 * time.Second}}},
				{start: 0, stop: 119 * time.Second, oneWay: d50, app: cap},
				{start: 0, stop: 119 * time.Second, oneWay: d50, app: cap},
			},
		},
	}
	all := RFC8867(3)
	if len(all) != len(tests) {
		t.Errorf("RFC8867 returned %d cases, the test knows %d", len(all), len(tests))
	}
	for i, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			raw, err := RFC8867Case(tt.id, 3)
			if err != nil {
				t.Fatal(err)
			}
			if i < len(all) && !reflect.DeepEqual(all[i], raw) {
				t.Errorf("RFC8867(3)[%d] = %q, differs from RFC8867Case(%q, 3)", i, all[i].Name, tt.id)
			}
			if byName, err := RFC8867Case("rfc8867-"+tt.id, 3); err != nil || !reflect.DeepEqual(byName, raw) {
				t.Errorf("RFC8867Case(%q) differs from RFC8867Case(%q) (err %v)", "rfc8867-"+tt.id, tt.id, err)
			}
			s, err := raw.WithDefaults()
			if err != nil {
				t.Fatal(err)
			}
			if want := "rfc8867-" + tt.id; s.Name != want || s.Seed != 3 {
				t.Errorf("Name, Seed = %q, %d, want %q, 3", s.Name, s.Seed, want)
			}
			if s.Duration != tt.duration || s.Warmup != tt.warmup {
				t.Errorf("Duration, Warmup = %v, %v, want %v, %v", s.Duration, s.Warmup, tt.duration, tt.warmup)
			}
			genCheckCaps(t, "Forward", s.Forward.Capacity, tt.fwd)
			if s.Forward.QueueDelay != tt.queue || s.Forward.QueueBytes != 0 || s.Forward.Delay != tt.delay {
				t.Errorf("Forward queue, delay = %v (%d bytes), %v, want %v, %v", s.Forward.QueueDelay, s.Forward.QueueBytes, s.Forward.Delay, tt.queue, tt.delay)
			}
			if s.Backward.Delay != tt.delay {
				t.Errorf("Backward.Delay = %v, want %v", s.Backward.Delay, tt.delay)
			}
			if tt.bwd == nil {
				if s.Backward.Capacity != nil {
					t.Errorf("Backward.Capacity = %v, want nil (uncongested)", s.Backward.Capacity)
				}
			} else {
				genCheckCaps(t, "Backward", s.Backward.Capacity, tt.bwd)
				if s.Backward.QueueDelay != tt.queue {
					t.Errorf("Backward.QueueDelay = %v, want %v", s.Backward.QueueDelay, tt.queue)
				}
			}
			for _, p := range []Path{s.Forward, s.Backward} {
				if p.Loss != 0 || p.Burst.Enabled() || p.Jitter != 0 || p.SwingAmplitude != 0 || p.WalkRange != 0 {
					t.Errorf("path %+v has loss or delay variation, want none", p)
				}
			}
			if len(s.Flows) != len(tt.flows) {
				t.Fatalf("%d flows, want %d", len(s.Flows), len(tt.flows))
			}
			for j, w := range tt.flows {
				f := s.Flows[j]
				path := s.Forward.Delay
				if f.Reverse {
					path = s.Backward.Delay
				}
				if f.Start != w.start || f.Stop != w.stop || path+f.ExtraDelay != w.oneWay || f.Reverse != w.reverse {
					t.Errorf("flow %d: start %v, stop %v, one-way %v, reverse %v; want %v, %v, %v, %v",
						j, f.Start, f.Stop, path+f.ExtraDelay, f.Reverse, w.start, w.stop, w.oneWay, w.reverse)
				}
				if !reflect.DeepEqual(f.Pauses, append([]Span(nil), w.pauses...)) {
					t.Errorf("flow %d: pauses %v, want %v", j, f.Pauses, w.pauses)
				}
				// RFC 8867 media range: start and floor 150 kbps.
				if f.StartRate != 150*bwe.Kbps || f.MinRate != 150*bwe.Kbps || f.AppRate != w.app {
					t.Errorf("flow %d: start, min, app rate = %v, %v, %v; want 150 kbps, 150 kbps, %v", j, f.StartRate, f.MinRate, f.AppRate, w.app)
				}
				if f.Source != Video {
					t.Errorf("flow %d: source %v, want video", j, f.Source)
				}
			}
			if len(s.Cross) != len(tt.cross) {
				t.Fatalf("%d cross flows, want %d", len(s.Cross), len(tt.cross))
			}
			for j, w := range tt.cross {
				c := s.Cross[j]
				if c.Kind != w.Kind || c.Variant != w.Variant || c.Start != w.Start || c.Stop != w.Stop || c.StartOn != w.StartOn || c.Reverse {
					t.Errorf("cross %d = %+v, want kind %v, variant %v, [%v, %v), StartOn %v, forward", j, c, w.Kind, w.Variant, w.Start, w.Stop, w.StartOn)
				}
				// RFC 8868 short-TCP model: 30–50 kB files, mean idle 10 s.
				if c.Kind == ShortTCP && (c.MinFile != 30_000 || c.MaxFile != 50_000 || c.MeanIdle != 10*time.Second) {
					t.Errorf("cross %d: files %d–%d, idle %v; want 30000–50000, 10s", j, c.MinFile, c.MaxFile, c.MeanIdle)
				}
			}
		})
	}
	if _, err := RFC8867Case("5.9", 1); err == nil {
		t.Error(`RFC8867Case("5.9") succeeded, want an error`)
	}
}

func genCheckCaps(t *testing.T, path string, c Capacity, want []genCapAt) {
	t.Helper()
	if c == nil {
		t.Fatalf("%s.Capacity is nil", path)
	}
	for _, w := range want {
		if got := c.At(bwe.TimeFromDuration(w.at)); got != w.want {
			t.Errorf("%s.Capacity.At(%v) = %v, want %v", path, w.at, got, w.want)
		}
	}
}

// genAll returns every scenario of every family but the corpus, which
// repeats others.
func genAll(t *testing.T, seed uint64) map[string][]Scenario {
	t.Helper()
	out := map[string][]Scenario{}
	for _, name := range Families() {
		if name == "corpus" {
			continue
		}
		ss, err := Family(name, seed)
		if err != nil {
			t.Fatalf("Family(%q): %v", name, err)
		}
		out[name] = ss
	}
	return out
}

// TestScenariosValidate checks every generated scenario: it passes
// WithDefaults, has the seed it was given, a file-safe name with its
// family's prefix, unique across families.
func TestScenariosValidate(t *testing.T) {
	prefixes := map[string]string{
		"rfc8867": "rfc8867-", "rfc8868": "rfc8868-", "weak": "weak-", "jitter": "jitter-",
		"bursty": "bursty-", "episodes": "episodes-", "app-limited": "app-limited-", "shaped": "shaped-", "reference": "reference-", "traces": "trace-",
	}
	counts := map[string]int{
		"rfc8867": 13, "rfc8868": 4*5*3 + 2, "weak": 8, "jitter": 10, "bursty": 6, "episodes": 6, "app-limited": 3, "shaped": 4, "reference": 7,
		"traces": len(Corpus()),
	}
	const seed = 0xfeed
	fams := genAll(t, seed)
	if dir := EnvDir(); dir != "" {
		ss, err := TraceScenarios(dir, seed, DefaultTraceDuration)
		if err != nil {
			t.Fatalf("TraceScenarios(%q): %v", dir, err)
		}
		t.Logf("%s: %d trace scenarios", dir, len(ss))
		fams["env"] = ss
		prefixes["env"] = "trace-"
		counts["env"] = len(ss)
	}
	names := map[string]string{}
	for fam, ss := range fams {
		if len(ss) != counts[fam] {
			t.Errorf("family %s: %d scenarios, want %d", fam, len(ss), counts[fam])
		}
		for _, s := range ss {
			if _, err := s.WithDefaults(); err != nil {
				t.Errorf("family %s: %v", fam, err)
			}
			if s.Seed != seed {
				t.Errorf("%s: seed %d, want %d", s.Name, s.Seed, seed)
			}
			if !validName(s.Name) || strings.Contains(s.Name, "/") || !strings.HasPrefix(s.Name, prefixes[fam]) {
				t.Errorf("family %s: name %q is not a file-safe name starting with %q", fam, s.Name, prefixes[fam])
			}
			// The traces of BWE_TRACES may repeat the embedded ones.
			if other, ok := names[s.Name]; ok && !(fam == "env" || other == "env") {
				t.Errorf("name %q is used by families %s and %s", s.Name, other, fam)
			}
			names[s.Name] = fam
			if s.Warmup >= s.Duration || s.Warmup < 0 {
				t.Errorf("%s: warmup %v outside [0, %v)", s.Name, s.Warmup, s.Duration)
			}
		}
	}
}

// TestScenarioParameters checks the parameters of the steady-state
// families against their documentation.
func TestScenarioParameters(t *testing.T) {
	fams := genAll(t, 1)
	get := func(fam, name string) Scenario {
		t.Helper()
		for _, s := range fams[fam] {
			if s.Name == name {
				d, err := s.WithDefaults()
				if err != nil {
					t.Fatal(err)
				}
				return d
			}
		}
		t.Fatalf("family %s has no %q", fam, name)
		return Scenario{}
	}
	type want struct {
		fam, name    string
		capacity     bwe.Bitrate // at 0, for constant ones; 0: skip
		delay, queue time.Duration
		loss         float64
		jitter       time.Duration
		reorder      bool
		rttLo, rttHi time.Duration // bounds of propagation RTT incl. variation; 0: skip
		app          bwe.Bitrate
	}
	tests := []want{
		{fam: "rfc8868", name: "rfc8868-d1ms-loss0-q70ms", capacity: 2 * bwe.Mbps, delay: time.Millisecond, queue: 70 * time.Millisecond},
		{fam: "rfc8868", name: "rfc8868-d300ms-loss20-q1500ms", capacity: 2 * bwe.Mbps, delay: 300 * time.Millisecond, queue: 1500 * time.Millisecond, loss: 0.2},
		{fam: "rfc8868", name: "rfc8868-d150ms-loss5-q400ms", capacity: 2 * bwe.Mbps, delay: 150 * time.Millisecond, queue: 400 * time.Millisecond, loss: 0.05},
		{fam: "rfc8868", name: "rfc8868-jitter30ms", capacity: 2 * bwe.Mbps, delay: 50 * time.Millisecond, queue: 300 * time.Millisecond, jitter: 30 * time.Millisecond},
		{fam: "rfc8868", name: "rfc8868-jitter30ms-reorder", capacity: 2 * bwe.Mbps, delay: 50 * time.Millisecond, queue: 300 * time.Millisecond, jitter: 30 * time.Millisecond, reorder: true},
		// Live-push report: 150 ms RTT, 5–20 % loss, 2 and 4 Mbps.
		{fam: "weak", name: "weak-2mbps-loss5", capacity: 2 * bwe.Mbps, delay: 75 * time.Millisecond, queue: 300 * time.Millisecond, loss: 0.05, rttLo: 150 * time.Millisecond, rttHi: 150 * time.Millisecond},
		{fam: "weak", name: "weak-4mbps-loss20", capacity: 4 * bwe.Mbps, delay: 75 * time.Millisecond, queue: 300 * time.Millisecond, loss: 0.2, rttLo: 150 * time.Millisecond, rttHi: 150 * time.Millisecond},
		{fam: "weak", name: "weak-4mbps-loss15", capacity: 4 * bwe.Mbps, delay: 75 * time.Millisecond, queue: 300 * time.Millisecond, loss: 0.15},
		// Live-push report: RTT under 150 ms, no loss.
		{fam: "jitter", name: "jitter-4mbps-pdv", capacity: 4 * bwe.Mbps, delay: 40 * time.Millisecond, queue: 300 * time.Millisecond, jitter: 50 * time.Millisecond, rttLo: 80 * time.Millisecond, rttHi: 130 * time.Millisecond},
		{fam: "jitter", name: "jitter-2mbps-pdv-reorder", capacity: 2 * bwe.Mbps, delay: 40 * time.Millisecond, queue: 300 * time.Millisecond, jitter: 50 * time.Millisecond, reorder: true, rttLo: 80 * time.Millisecond, rttHi: 130 * time.Millisecond},
		{fam: "jitter", name: "jitter-4mbps-swing", capacity: 4 * bwe.Mbps, delay: 50 * time.Millisecond, queue: 300 * time.Millisecond, rttLo: 80 * time.Millisecond, rttHi: 120 * time.Millisecond},
		{fam: "jitter", name: "jitter-4mbps-swing-4s", capacity: 4 * bwe.Mbps, delay: 50 * time.Millisecond, queue: 300 * time.Millisecond, rttLo: 80 * time.Millisecond, rttHi: 120 * time.Millisecond},
		{fam: "jitter", name: "jitter-2mbps-swing-2s", capacity: 2 * bwe.Mbps, delay: 50 * time.Millisecond, queue: 300 * time.Millisecond, rttLo: 90 * time.Millisecond, rttHi: 110 * time.Millisecond},
		{fam: "jitter", name: "jitter-4mbps-walk-fast", capacity: 4 * bwe.Mbps, delay: 40 * time.Millisecond, queue: 300 * time.Millisecond, rttLo: 80 * time.Millisecond, rttHi: 120 * time.Millisecond},
		{fam: "jitter", name: "jitter-4mbps-walk", capacity: 4 * bwe.Mbps, delay: 40 * time.Millisecond, queue: 300 * time.Millisecond, rttLo: 80 * time.Millisecond, rttHi: 120 * time.Millisecond},
		{fam: "jitter", name: "jitter-4mbps-poisson", delay: 50 * time.Millisecond, queue: 300 * time.Millisecond, rttLo: 100 * time.Millisecond, rttHi: 100 * time.Millisecond},
		{fam: "bursty", name: "bursty-loss5-burst8", capacity: 2 * bwe.Mbps, delay: 50 * time.Millisecond, queue: 300 * time.Millisecond},
		{fam: "app-limited", name: "app-limited-800kbps-3mbps", capacity: 3 * bwe.Mbps, delay: 50 * time.Millisecond, queue: 300 * time.Millisecond, app: 800 * bwe.Kbps},
		{fam: "app-limited", name: "app-limited-pause-resume", capacity: 3 * bwe.Mbps, delay: 50 * time.Millisecond, queue: 300 * time.Millisecond},
	}
	for _, w := range tests {
		s := get(w.fam, w.name)
		p := s.Forward
		if w.capacity != 0 {
			if got := p.Capacity.At(0); got != w.capacity || p.Capacity.NextChange(0) != bwe.MaxTime {
				t.Errorf("%s: capacity %v (next change %v), want a constant %v", w.name, got, p.Capacity.NextChange(0), w.capacity)
			}
		}
		if p.Delay != w.delay || s.Backward.Delay != w.delay || p.QueueDelay != w.queue || p.Loss != w.loss || p.Jitter != w.jitter || p.Reorder != w.reorder {
			t.Errorf("%s: delay %v/%v, queue %v, loss %v, jitter %v, reorder %v; want %v each way, %v, %v, %v, %v",
				w.name, p.Delay, s.Backward.Delay, p.QueueDelay, p.Loss, p.Jitter, p.Reorder, w.delay, w.queue, w.loss, w.jitter, w.reorder)
		}
		if w.rttLo != 0 {
			lo := p.Delay - p.SwingAmplitude + s.Backward.Delay
			hi := p.Delay + p.SwingAmplitude + p.Jitter + p.WalkRange + s.Backward.Delay
			if lo != w.rttLo || hi != w.rttHi || hi >= 150*time.Millisecond && w.fam == "jitter" {
				t.Errorf("%s: propagation RTT in [%v, %v], want [%v, %v] (under 150 ms for jitter cases)", w.name, lo, hi, w.rttLo, w.rttHi)
			}
		}
		if w.fam == "jitter" && (p.Loss != 0 || p.Burst.Enabled()) {
			t.Errorf("%s: loss %v, burst %+v, want no loss", w.name, p.Loss, p.Burst)
		}
		if len(s.Flows) != 1 || s.Flows[0].AppRate != w.app || s.Duration != 60*time.Second || s.Warmup != 10*time.Second {
			t.Errorf("%s: %d flows, app rate %v, duration %v, warmup %v; want 1, %v, 1m0s, 10s", w.name, len(s.Flows), s.Flows[0].AppRate, s.Duration, s.Warmup, w.app)
		}
	}
	if p := get("app-limited", "app-limited-pause-resume").Flows[0].Pauses; !reflect.DeepEqual(p, []Span{{20 * time.Second, 30 * time.Second}}) {
		t.Errorf("app-limited-pause-resume pauses %v, want [20s, 30s)", p)
	}
	drop := get("app-limited", "app-limited-800kbps-3mbps-to-500kbps")
	genCheckCaps(t, "app-limited drop: Forward", drop.Forward.Capacity, genCaps(0, 3000, 30, 500))
	if drop.Flows[0].AppRate != 800*bwe.Kbps {
		t.Errorf("app-limited drop: app rate %v, want 800 kbps", drop.Flows[0].AppRate)
	}
	swing := get("jitter", "jitter-4mbps-swing").Forward
	if swing.SwingAmplitude != 20*time.Millisecond || swing.SwingPeriod != 10*time.Second {
		t.Errorf("jitter-4mbps-swing: swing ±%v every %v, want ±20ms every 10s", swing.SwingAmplitude, swing.SwingPeriod)
	}
	for _, c := range []struct {
		name        string
		amp, period time.Duration
	}{{"jitter-4mbps-swing-4s", 20 * time.Millisecond, 4 * time.Second}, {"jitter-2mbps-swing-2s", 10 * time.Millisecond, 2 * time.Second}} {
		if p := get("jitter", c.name).Forward; p.SwingAmplitude != c.amp || p.SwingPeriod != c.period {
			t.Errorf("%s: swing ±%v every %v, want ±%v every %v", c.name, p.SwingAmplitude, p.SwingPeriod, c.amp, c.period)
		}
	}
	if fast := get("jitter", "jitter-4mbps-walk-fast").Forward; fast.WalkRange != 40*time.Millisecond || fast.WalkStep != 8*time.Millisecond || fast.WalkInterval != 100*time.Millisecond {
		t.Errorf("jitter-4mbps-walk-fast: walk %v/%v/%v, want 40ms/8ms/100ms", fast.WalkRange, fast.WalkStep, fast.WalkInterval)
	}
	walk := get("jitter", "jitter-4mbps-walk").Forward
	if walk.WalkRange != 40*time.Millisecond || walk.WalkStep != 4*time.Millisecond || walk.WalkInterval != 100*time.Millisecond {
		t.Errorf("jitter-4mbps-walk: walk %v/%v/%v, want 40ms/4ms/100ms", walk.WalkRange, walk.WalkStep, walk.WalkInterval)
	}
	poisson := get("jitter", "jitter-4mbps-poisson")
	steps, err := PoissonCapacity(4*bwe.Mbps, 2*time.Second, 0.5, 60*time.Second, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(poisson.Forward.Capacity, steps) {
		t.Errorf("jitter-4mbps-poisson capacity = %v, want PoissonCapacity(4 Mbps, 2s, 0.5, 60s, seed 1) = %v", poisson.Forward.Capacity, steps)
	}
}

// TestDeterminism checks that generators are pure: the same seed gives
// deep-equal scenarios, another seed changes the seed and the random
// schedules only (the Poisson capacity and the loss episodes).
func TestDeterminism(t *testing.T) {
	a, b, c := genAll(t, 5), genAll(t, 5), genAll(t, 6)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two calls with seed 5 differ")
	}
	changed := 0
	for fam, ss := range a {
		if len(c[fam]) != len(ss) {
			t.Fatalf("family %s: %d scenarios with seed 5, %d with seed 6", fam, len(ss), len(c[fam]))
		}
		for i, s := range ss {
			o := c[fam][i]
			if o.Seed != 6 || o.Name != s.Name {
				t.Errorf("seed 6: %q seed %d, want %q seed 6", o.Name, o.Seed, s.Name)
			}
			o.Seed = s.Seed
			if reflect.DeepEqual(o, s) {
				continue
			}
			changed++
			if fam == "episodes" {
				o.Forward.LossEpisodes = s.Forward.LossEpisodes
			}
			if !reflect.DeepEqual(o, s) && s.Name != "jitter-4mbps-poisson" {
				t.Errorf("%s differs beyond its seed and its random schedule between seeds 5 and 6", s.Name)
			}
		}
	}
	if want := 1 + len(a["episodes"]); changed != want {
		t.Errorf("%d scenarios changed with the seed, want %d (the Poisson capacity and the loss episodes)", changed, want)
	}
}

// genTimeMean returns the time-weighted mean of s over [0, d) in bps, and
// the number of changes.
func genTimeMean(s Steps, d time.Duration) (float64, int) {
	var sum float64
	for i, st := range s {
		end := d
		if i+1 < len(s) {
			end = s[i+1].At
		}
		sum += st.Capacity.Float() * float64(end-st.At)
	}
	return sum / float64(d), len(s) - 1
}

// TestPoissonCapacityStatistics checks the schedule against the process it
// samples. Over n ≈ d/τ pieces of exponential length L (mean τ, E[L²] =
// 2τ²) holding independent values V uniform in m·[1−s, 1+s] (variance
// s²m²/3), the time-weighted mean Σ L·V / Σ L has a standard deviation of
// about sqrt(E[L²]·Var V / n) / τ = s·m·sqrt(2/(3n)) (delta method), and the
// number of changes is Poisson with mean and variance d/τ. Each seed must
// fall within 4 standard deviations of both (a false failure has odds
// below 1e-4 per seed).
func TestPoissonCapacityStatistics(t *testing.T) {
	const (
		mean   = 4 * bwe.Mbps
		tau    = 2 * time.Second
		spread = 0.5
		d      = 20000 * time.Second
	)
	n := float64(d / tau)
	sdMean := spread * mean.Float() * math.Sqrt(2/(3*n))
	sdCount := math.Sqrt(n)
	lo, hi := mean.Scale(1-spread), mean.Scale(1+spread)
	for seed := range uint64(20) {
		s, err := PoissonCapacity(mean, tau, spread, d, seed)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		got, changes := genTimeMean(s, d)
		if math.Abs(got-mean.Float()) > 4*sdMean {
			t.Errorf("seed %d: time-weighted mean %.0f bps, want %v ± %.0f (4σ)", seed, got, mean, 4*sdMean)
		}
		if math.Abs(float64(changes)-n) > 4*sdCount {
			t.Errorf("seed %d: %d changes, want %.0f ± %.0f (4σ)", seed, changes, n, 4*sdCount)
		}
		for i, st := range s {
			if st.Capacity < lo || st.Capacity > hi || st.At%time.Microsecond != 0 || st.At >= d {
				t.Fatalf("seed %d: step %d = %+v outside [%v, %v] or [0, %v) or off the µs grid", seed, i, st, lo, hi, d)
			}
		}
	}
	// Spread 0: the capacity never moves, though the steps remain.
	s, err := PoissonCapacity(mean, tau, 0, 100*time.Second, 1)
	if err != nil {
		t.Fatal(err)
	}
	for i, st := range s {
		if st.Capacity != mean {
			t.Errorf("spread 0: step %d capacity %v, want %v", i, st.Capacity, mean)
		}
	}
	// A mean interval far longer than the run: a single step.
	if s, err := PoissonCapacity(mean, 1000*time.Hour, 0.5, time.Second, 1); err != nil || len(s) != 1 {
		t.Errorf("PoissonCapacity(mean interval 1000h, 1s) = %v, %v; want one step", s, err)
	}
}

func TestPoissonCapacityErrors(t *testing.T) {
	tests := []struct {
		name     string
		mean     bwe.Bitrate
		interval time.Duration
		spread   float64
		d        time.Duration
	}{
		{"zero mean", 0, time.Second, 0.5, time.Second},
		{"negative mean", -1, time.Second, 0.5, time.Second},
		{"negative spread", bwe.Mbps, time.Second, -0.1, time.Second},
		{"spread above 1", bwe.Mbps, time.Second, 1.01, time.Second},
		{"NaN spread", bwe.Mbps, time.Second, math.NaN(), time.Second},
		{"mean too high", MaxLinkRate, time.Second, 0.5, time.Second},
		{"zero duration", bwe.Mbps, time.Second, 0.5, 0},
		{"duration too long", bwe.Mbps, time.Second, 0.5, MaxDuration + 1},
		{"interval under 1µs", bwe.Mbps, time.Nanosecond, 0.5, time.Second},
		{"too many events", bwe.Mbps, time.Microsecond, 0.5, 2 * time.Second},
	}
	for _, tt := range tests {
		if s, err := PoissonCapacity(tt.mean, tt.interval, tt.spread, tt.d, 1); err == nil {
			t.Errorf("%s: PoissonCapacity(%v, %v, %v, %v) = %d steps, want an error", tt.name, tt.mean, tt.interval, tt.spread, tt.d, len(s))
		}
	}
	// The limits themselves are accepted.
	if _, err := PoissonCapacity(MaxLinkRate/2, time.Microsecond, 1, time.Second, 1); err != nil {
		t.Errorf("at the limits: %v", err)
	}
}

// TestGilbertElliottFromMean checks the closed form: the stationary loss
// rate GoodToBad/(GoodToBad+BadToGood) is the requested mean loss and the
// mean stay in the bad state, 1/BadToGood, the requested burst length.
func TestGilbertElliottFromMean(t *testing.T) {
	tests := []struct{ loss, burst, g2b, b2g float64 }{
		{0.01, 2, 0.01 * 0.5 / 0.99, 0.5},
		{0.05, 2, 0.05 * 0.5 / 0.95, 0.5},
		{0.10, 8, 0.10 * 0.125 / 0.90, 0.125},
		{0.20, 1, 0.25, 1},
		{0.5, 1, 1, 1},
		{0, 4, 0, 0.25},
	}
	for _, tt := range tests {
		g, err := GilbertElliottFromMean(tt.loss, tt.burst)
		if err != nil {
			t.Errorf("GilbertElliottFromMean(%v, %v): %v", tt.loss, tt.burst, err)
			continue
		}
		if math.Abs(g.GoodToBad-tt.g2b) > 1e-15 || g.BadToGood != tt.b2g || g.LossGood != 0 || g.LossBad != 1 {
			t.Errorf("GilbertElliottFromMean(%v, %v) = %+v, want GoodToBad %v, BadToGood %v, LossGood 0, LossBad 1", tt.loss, tt.burst, g, tt.g2b, tt.b2g)
		}
		if got := g.MeanLoss(); math.Abs(got-tt.loss) > 1e-15 {
			t.Errorf("GilbertElliottFromMean(%v, %v).MeanLoss() = %v", tt.loss, tt.burst, got)
		}
		if got := 1 / g.BadToGood; math.Abs(got-tt.burst) > 1e-12 {
			t.Errorf("GilbertElliottFromMean(%v, %v): mean burst 1/BadToGood = %v", tt.loss, tt.burst, got)
		}
		if g.Enabled() != (tt.loss > 0) {
			t.Errorf("GilbertElliottFromMean(%v, %v).Enabled() = %v", tt.loss, tt.burst, g.Enabled())
		}
	}
	for _, bad := range [][2]float64{
		{-0.01, 2}, {1, 2}, {math.NaN(), 2}, {0.1, 0.5}, {0.1, math.NaN()}, {0.1, math.Inf(1)}, {0.6, 1},
	} {
		if g, err := GilbertElliottFromMean(bad[0], bad[1]); err == nil {
			t.Errorf("GilbertElliottFromMean(%v, %v) = %+v, want an error", bad[0], bad[1], g)
		}
	}
}

// TestBurstyLossSimulated runs each bursty-loss model as scenario.go
// describes it (a packet is lost according to the current state, then the
// state moves) and measures the loss rate and the mean burst length. With
// n packets, the loss rate of a two-state chain whose state has lag-1
// autocorrelation ρ = 1 − GoodToBad − BadToGood has a standard deviation
// of sqrt(p(1−p)/n · (1+ρ)/(1−ρ)); burst lengths are geometric with
// variance (1−b)/b² for b = BadToGood, over about n·p·b bursts. The
// tolerances are 4 standard deviations.
func TestBurstyLossSimulated(t *testing.T) {
	const n = 2_000_000
	for _, s := range BurstyLoss(1) {
		g := s.Forward.Burst
		r := rand.New(rand.NewPCG(7, 7))
		p := g.MeanLoss()
		bad := r.Float64() < p // stationary start
		lost, bursts, run := 0, 0, 0
		for range n {
			if bad {
				lost++
				run++
			} else if run > 0 {
				bursts++
				run = 0
			}
			if bad {
				bad = r.Float64() >= g.BadToGood
			} else {
				bad = r.Float64() < g.GoodToBad
			}
		}
		rho := 1 - g.GoodToBad - g.BadToGood
		sdLoss := math.Sqrt(p * (1 - p) / n * (1 + rho) / (1 - rho))
		if got := float64(lost) / n; math.Abs(got-p) > 4*sdLoss {
			t.Errorf("%s: simulated loss %.5f, want %.5f ± %.5f", s.Name, got, p, 4*sdLoss)
		}
		b := g.BadToGood
		sdBurst := math.Sqrt((1 - b) / (b * b) / (n * p * b))
		if got := float64(lost-run) / float64(bursts); math.Abs(got-1/b) > 4*sdBurst {
			t.Errorf("%s: simulated mean burst %.3f packets, want %.3f ± %.3f", s.Name, got, 1/b, 4*sdBurst)
		}
		var wantLoss, wantBurst float64
		if _, err := fmt.Sscanf(s.Name, "bursty-loss%g-burst%g", &wantLoss, &wantBurst); err != nil {
			t.Fatal(err)
		}
		if math.Abs(p-wantLoss/100) > 1e-15 || math.Abs(1/b-wantBurst) > 1e-12 {
			t.Errorf("%s: mean loss %v, burst %v; the name says %v %%, %v", s.Name, p, 1/b, wantLoss, wantBurst)
		}
	}
}

func TestFromTrace(t *testing.T) {
	tr := &Trace{Name: "lte/run 1#up", Loop: true}
	tr.Append(10*time.Second, 1*bwe.Mbps)
	tr.Append(10*time.Second, 3*bwe.Mbps)
	s := FromTrace(tr, 9, 60*time.Second)
	d, err := s.WithDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if d.Name != "trace-lte-run-1-up" || d.Seed != 9 || d.Duration != 60*time.Second || d.Warmup != 10*time.Second {
		t.Errorf("name, seed, duration, warmup = %q, %d, %v, %v; want trace-lte-run-1-up, 9, 1m0s, 10s", d.Name, d.Seed, d.Duration, d.Warmup)
	}
	// 300 ms at the 2 Mbps mean: 75 000 bytes.
	if d.Forward.Capacity != Capacity(tr) || d.Forward.Delay != 50*time.Millisecond || d.Backward.Delay != 50*time.Millisecond ||
		d.Forward.QueueBytes != 75_000 || d.Forward.QueueDelay != 0 || d.Backward.Capacity != nil {
		t.Errorf("forward %+v, backward %+v; want the trace, 50 ms each way, 75000-byte queue, uncongested return", d.Forward, d.Backward)
	}
	if len(d.Flows) != 1 || d.Flows[0].AppRate != 0 || d.Flows[0].StartRate != DefaultStartRate {
		t.Errorf("flows %+v, want one flow with the defaults", d.Flows)
	}
	// The trace loops: at 25 s the first segment again.
	if got := d.Forward.Capacity.At(bwe.TimeFromDuration(25 * time.Second)); got != bwe.Mbps {
		t.Errorf("capacity at 25s = %v, want 1 Mbps", got)
	}
	if s := FromTrace(tr, 9, 0); s.Duration != 20*time.Second || s.Warmup != 10*time.Second {
		t.Errorf("d = 0: duration, warmup = %v, %v; want one pass (20s), 10s", s.Duration, s.Warmup)
	}
	if s := FromTrace(tr, 9, 4*time.Second); s.Duration != 4*time.Second || s.Warmup != 2*time.Second {
		t.Errorf("d = 4s: duration, warmup = %v, %v; want 4s, 2s", s.Duration, s.Warmup)
	}
	// An outage trace: the queue keeps its floor of ten packets.
	out := &Trace{Name: "outage", Loop: true}
	out.Append(time.Second, 0)
	if s := FromTrace(out, 1, time.Second); s.Forward.QueueBytes != 12_000 {
		t.Errorf("outage trace: queue %d bytes, want 12000", s.Forward.QueueBytes)
	}

	names := []struct{ in, want string }{
		{"norway/bus-ljansbakken", "trace-norway-bus-ljansbakken"},
		{"5gophers/car-driving-trace-1.csv#Sprint_throughput_mbps", "trace-5gophers-car-driving-trace-1.csv-Sprint_throughput_mbps"},
		{"a  b//c", "trace-a-b-c"},
		{"été+1", "trace-t-+1"},
		{"", "trace-unnamed"},
	}
	for _, n := range names {
		if got := genTraceName(n.in); got != n.want {
			t.Errorf("genTraceName(%q) = %q, want %q", n.in, got, n.want)
		}
	}
	long1, long2 := strings.Repeat("x", 200)+"1", strings.Repeat("x", 200)+"2"
	g1, g2 := genTraceName(long1), genTraceName(long2)
	if len(g1) != 128 || len(g2) != 128 || g1 == g2 || !validName(g1) || !validName(g2) {
		t.Errorf("long names give %q and %q, want distinct valid 128-byte names", g1, g2)
	}
}

func TestUniqueNames(t *testing.T) {
	long := strings.Repeat("y", 128)
	ss := []Scenario{{Name: "a"}, {Name: "a"}, {Name: "b"}, {Name: "a"}, {Name: "a-2"}, {Name: long}, {Name: long}}
	genUniqueNames(ss)
	want := []string{"a", "a-2", "b", "a-3", "a-2-2", long, long[:126] + "-2"}
	for i, s := range ss {
		if s.Name != want[i] {
			t.Errorf("name %d = %q, want %q", i, s.Name, want[i])
		}
	}
}

// FuzzPoissonCapacity checks that arbitrary parameters never panic and
// give either an error or a valid schedule within the documented bounds.
func FuzzPoissonCapacity(f *testing.F) {
	f.Add(int64(4_000_000), int64(2*time.Second), 0.5, int64(60*time.Second), uint64(1))
	f.Add(int64(1), int64(time.Microsecond), 1.0, int64(time.Second), uint64(0))
	f.Add(int64(MaxLinkRate), int64(time.Second), 0.0, int64(MaxDuration), uint64(3))
	f.Add(int64(-5), int64(-1), math.NaN(), int64(-1), uint64(9))
	f.Fuzz(func(t *testing.T, mean, interval int64, spread float64, d int64, seed uint64) {
		m, iv, dur := bwe.Bitrate(mean), time.Duration(interval), time.Duration(d)
		s, err := PoissonCapacity(m, iv, spread, dur, seed)
		if err != nil {
			if s != nil {
				t.Fatalf("error %v with a schedule of %d steps", err, len(s))
			}
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("PoissonCapacity(%d, %v, %v, %v, %d): %v", mean, iv, spread, dur, seed, err)
		}
		lo, hi := m.Scale(1-spread), m.Scale(1+spread)
		for i, st := range s {
			if st.Capacity < lo || st.Capacity > hi || st.At >= dur {
				t.Fatalf("step %d = %+v outside [%v, %v] × [0, %v)", i, st, lo, hi, dur)
			}
		}
		if len(s)-1 > 2*MaxPoissonEvents {
			t.Fatalf("%d changes", len(s)-1)
		}
		if len(s) < 10_000 {
			again, err := PoissonCapacity(m, iv, spread, dur, seed)
			if err != nil || !reflect.DeepEqual(again, s) {
				t.Fatalf("second call differs (err %v)", err)
			}
		}
	})
}

// FuzzGilbertElliottFromMean checks that arbitrary parameters give either
// an error or a valid model with the requested mean loss and burst.
func FuzzGilbertElliottFromMean(f *testing.F) {
	f.Add(0.05, 2.0)
	f.Add(0.0, 1.0)
	f.Add(0.5, 1.0)
	f.Add(math.NaN(), math.Inf(1))
	f.Fuzz(func(t *testing.T, loss, burst float64) {
		g, err := GilbertElliottFromMean(loss, burst)
		if err != nil {
			return
		}
		p := Path{Burst: g}
		if err := p.validate("Path"); err != nil {
			t.Fatalf("GilbertElliottFromMean(%v, %v) = %+v: %v", loss, burst, g, err)
		}
		if got := g.MeanLoss(); math.Abs(got-loss) > 1e-9 {
			t.Fatalf("GilbertElliottFromMean(%v, %v).MeanLoss() = %v", loss, burst, got)
		}
		if got := 1 / g.BadToGood; math.Abs(got-burst) > 1e-9*burst {
			t.Fatalf("GilbertElliottFromMean(%v, %v): burst %v", loss, burst, got)
		}
	})
}

// FuzzTraceName checks that any trace name gives a valid, file-safe
// scenario name.
func FuzzTraceName(f *testing.F) {
	f.Add("norway/bus-ljansbakken")
	f.Add("5gophers/x.csv#col")
	f.Add("")
	f.Add(strings.Repeat("ü/", 100))
	f.Fuzz(func(t *testing.T, name string) {
		got := genTraceName(name)
		if !validName(got) || strings.Contains(got, "/") || !strings.HasPrefix(got, "trace-") {
			t.Fatalf("genTraceName(%q) = %q, not a file-safe scenario name", name, got)
		}
		if got != genTraceName(name) {
			t.Fatalf("genTraceName(%q) is not stable", name)
		}
	})
}
