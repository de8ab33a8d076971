package traces

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestFamilies(t *testing.T) {
	want := []string{"rfc8867", "rfc8868", "weak", "jitter", "bursty", "episodes", "app-limited", "shaped", "reference", "traces", "corpus"}
	if got := Families(); !reflect.DeepEqual(got, want) {
		t.Errorf("Families() = %v, want %v", got, want)
	}
	for _, name := range want {
		ss, err := Family(name, 1)
		if err != nil || len(ss) == 0 {
			t.Errorf("Family(%q, 1) = %d scenarios, %v; want some", name, len(ss), err)
		}
	}
	if ss, err := Family("rfc9999", 1); err == nil {
		t.Errorf("Family(rfc9999) = %d scenarios, want an error", len(ss))
	}
	if got, _ := Family("rfc8867", 4); !reflect.DeepEqual(got, RFC8867(4)) {
		t.Error("Family(rfc8867, 4) differs from RFC8867(4)")
	}
}

// TestDefaultCorpus checks the composition of the default corpus: every
// family is there, with seed 1, and the picks are those documented.
func TestDefaultCorpus(t *testing.T) {
	c := DefaultCorpus()
	if again, err := Family("corpus", 1); err != nil || !reflect.DeepEqual(again, c) {
		t.Fatalf("Family(corpus, 1) differs from DefaultCorpus() (err %v)", err)
	}
	wantCount := map[string]int{
		"rfc8867-": 9, "rfc8868-": 4, "weak-": 4, "jitter-": 2, "bursty-": 2, "app-limited-": 1,
		"trace-": len(Corpus()),
	}
	count := map[string]int{}
	var rfc, steady, trace time.Duration
	names := map[string]bool{}
	for _, s := range c {
		if names[s.Name] {
			t.Errorf("%q appears twice", s.Name)
		}
		names[s.Name] = true
		if s.Seed != 1 {
			t.Errorf("%s: seed %d, want 1", s.Name, s.Seed)
		}
		if _, err := s.WithDefaults(); err != nil {
			t.Error(err)
		}
		prefix := ""
		for p := range wantCount {
			if strings.HasPrefix(s.Name, p) {
				prefix = p
			}
		}
		count[prefix]++
		switch prefix {
		case "rfc8867-":
			rfc += s.Duration
		case "trace-":
			trace += s.Duration
			if s.Duration != DefaultTraceDuration {
				t.Errorf("%s: duration %v, want %v", s.Name, s.Duration, DefaultTraceDuration)
			}
		default:
			steady += s.Duration
		}
		// Each scenario is the one its family generates.
		if byName, err := ScenarioByName(s.Name, 1); err != nil || !reflect.DeepEqual(byName, s) {
			t.Errorf("ScenarioByName(%q, 1) differs from the corpus' (err %v)", s.Name, err)
		}
	}
	if !reflect.DeepEqual(count, wantCount) {
		t.Errorf("corpus composition by family prefix = %v, want %v", count, wantCount)
	}
	// Every RFC 8867 case as the RFC specifies it, with the RFC's durations.
	for _, id := range []string{"5.1", "5.2", "5.3", "5.4", "5.5", "5.6", "5.7", "5.8"} {
		if !names["rfc8867-"+id] {
			t.Errorf("RFC 8867 case %s is missing", id)
		}
	}
	for _, e := range Corpus() {
		if n := genTraceName(e.Name); !names[n] {
			t.Errorf("embedded trace %s (%s) is missing", e.Name, n)
		}
	}
	// The emulated time the documentation states.
	if rfc != 1385*time.Second || steady != 780*time.Second || trace != time.Duration(len(Corpus()))*DefaultTraceDuration {
		t.Errorf("emulated time: RFC 8867 %v, steady %v, traces %v; want 23m5s, 13m0s, %v", rfc, steady, trace, time.Duration(len(Corpus()))*DefaultTraceDuration)
	}
	t.Logf("default corpus: %d scenarios, %v of emulated time", len(c), rfc+steady+trace)
}

func TestScenarioByName(t *testing.T) {
	for fam, ss := range genAll(t, 3) {
		for _, s := range ss {
			got, err := ScenarioByName(s.Name, 3)
			if err != nil || !reflect.DeepEqual(got, s) {
				t.Errorf("family %s: ScenarioByName(%q, 3) differs (err %v)", fam, s.Name, err)
			}
		}
	}
	for _, name := range []string{"", "rfc8867-5.9", "rfc8867-", "weak-3mbps-loss5", "trace-no-such-trace", "nonsense"} {
		if s, err := ScenarioByName(name, 1); err == nil {
			t.Errorf("ScenarioByName(%q) = %q, want an error", name, s.Name)
		}
	}
}

// TestTraceScenarios reads a directory of traces whose names collide once
// made file-safe.
func TestTraceScenarios(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "net")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	// Pensieve form: "time_s rate_Mbps".
	files := map[string]string{
		"net/a b": "0 1.0\n1 2.0\n2 3.0\n",
		"net/a-b": "0 4.0\n1 4.0\n",
		"README":  "not a trace",
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(name)), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ss, err := TraceScenarios(dir, 5, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"trace-net-a-b", "trace-net-a-b-2"}
	if len(ss) != len(want) {
		t.Fatalf("%d scenarios, want %d", len(ss), len(want))
	}
	for i, s := range ss {
		if s.Name != want[i] || s.Seed != 5 || s.Duration != 30*time.Second {
			t.Errorf("scenario %d: %q, seed %d, %v; want %q, 5, 30s", i, s.Name, s.Seed, s.Duration, want[i])
		}
		if _, err := s.WithDefaults(); err != nil {
			t.Error(err)
		}
	}
	if got := ss[1].Forward.Capacity.At(0); got != 4_000_000 {
		t.Errorf("second trace capacity %v, want 4 Mbps", got)
	}
	if _, err := TraceScenarios(filepath.Join(dir, "missing"), 1, time.Second); err == nil {
		t.Error("TraceScenarios(missing directory) succeeded, want an error")
	}
}

// TestEnvTraces reads the trace collection named by BWE_TRACES, if set, and
// finds its traces by name.
func TestEnvTraces(t *testing.T) {
	dir := EnvDir()
	if dir == "" {
		t.Skip("BWE_TRACES is not set")
	}
	ss, err := TraceScenarios(dir, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) == 0 {
		t.Fatalf("%s holds no traces", dir)
	}
	embedded := map[string]bool{}
	for _, e := range Corpus() {
		embedded[genTraceName(e.Name)] = true
	}
	for _, s := range ss {
		if _, err := s.WithDefaults(); err != nil {
			t.Error(err)
		}
		tr := s.Forward.Capacity.(*Trace)
		if s.Duration != min(tr.Length, MaxDuration) {
			t.Errorf("%s: duration %v, want one pass %v", s.Name, s.Duration, tr.Length)
		}
	}
	// A trace that is not embedded is found by name through BWE_TRACES.
	for _, s := range ss {
		if embedded[s.Name] {
			continue
		}
		got, err := ScenarioByName(s.Name, 1)
		if err != nil {
			t.Fatalf("ScenarioByName(%q): %v", s.Name, err)
		}
		if got.Duration != DefaultTraceDuration || got.Forward.Capacity.(*Trace).Name != s.Forward.Capacity.(*Trace).Name {
			t.Errorf("ScenarioByName(%q) = %v of %q, want %v of the same trace", s.Name, got.Duration, got.Forward.Capacity.(*Trace).Name, DefaultTraceDuration)
		}
		break
	}
}
