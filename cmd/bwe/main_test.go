package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bwelab/bwe/traces"
)

func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// mustRun runs the command line and fails the test unless it exits 0.
func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := runCLI(args...)
	if code != 0 {
		t.Fatalf("bwe %q: exit %d, stderr:\n%s", args, code, errOut)
	}
	return out
}

// shortCorpus returns n scenarios of the default corpus (every k-th, so
// that they mix families: RFC 8867 cases with several flows and cross
// traffic, grids, weak networks, traces), cut to d.
func shortCorpus(t testing.TB, n int, d time.Duration) []traces.Scenario {
	t.Helper()
	all := traces.DefaultCorpus()
	k := max(len(all)/n, 1)
	var out []traces.Scenario
	for i := 0; i < len(all) && len(out) < n; i += k {
		s, err := withDuration(all[i], d)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// withCorpus makes the default job run scenarios until the test ends.
func withCorpus(t *testing.T, scenarios []traces.Scenario) {
	t.Helper()
	old := defaultScenarios
	defaultScenarios = func() []traces.Scenario { return scenarios }
	t.Cleanup(func() { defaultScenarios = old })
}

// checkSVG checks that path holds well-formed XML with an svg root.
func checkSVG(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			t.Fatalf("%s: no svg element", path)
		}
		if err != nil {
			t.Fatalf("%s: not well-formed XML: %v", path, err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			if se.Name.Local != "svg" {
				t.Fatalf("%s: root element %q, want svg", path, se.Name.Local)
			}
			return
		}
	}
}

// checkPNG checks that path starts with the PNG signature.
func checkPNG(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("%s: not a PNG file", path)
	}
}

// readJSON decodes the JSON file at path into v.
func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// readCSVFile returns the records of the CSV file at path.
func readCSVFile(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return recs
}

// The default job on two short scenarios writes, per scenario, a PNG, an
// SVG, the JSON result and the CSV series; the tables; and an index page
// that links every one of them.
func TestDefaultJobWritesEverything(t *testing.T) {
	scenarios := shortCorpus(t, 2, 10*time.Second)
	withCorpus(t, scenarios)
	dir := filepath.Join(t.TempDir(), "out") // created by the command
	out := mustRun(t, "-out", dir, "-j", "2")

	index, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	var rows []row
	readJSON(t, filepath.Join(dir, "results.json"), &rows)
	if len(rows) != len(scenarios) {
		t.Fatalf("results.json has %d rows, want %d", len(rows), len(scenarios))
	}
	recs := readCSVFile(t, filepath.Join(dir, "results.csv"))
	if len(recs) != 1+len(scenarios) {
		t.Errorf("results.csv has %d records, want a header and %d rows", len(recs), len(scenarios))
	}
	for i, s := range scenarios {
		if rows[i].Scenario != s.Name || rows[i].Estimator != "trendline+likelihood" {
			t.Errorf("row %d is %s with %s, want %s with trendline+likelihood", i, rows[i].Scenario, rows[i].Estimator, s.Name)
		}
		if rows[i].Utilization <= 0 || rows[i].Utilization > 1 {
			t.Errorf("%s: utilization %v outside (0, 1]", s.Name, rows[i].Utilization)
		}
		if !strings.Contains(out, s.Name) {
			t.Errorf("the printed table has no line for %s:\n%s", s.Name, out)
		}
		base := filepath.Join(dir, slug(s.Name))
		checkPNG(t, base+".png")
		checkSVG(t, base+".svg")
		var res struct {
			Scenario struct {
				Name  string   `json:"name"`
				Flows []string `json:"flows"`
			} `json:"scenario"`
		}
		readJSON(t, base+".json", &res)
		if res.Scenario.Name != s.Name || len(res.Scenario.Flows) != len(s.Flows) {
			t.Errorf("%s.json: scenario %q with %d flows, want %q with %d", base, res.Scenario.Name, len(res.Scenario.Flows), s.Name, len(s.Flows))
		}
		series := readCSVFile(t, base+".csv")
		if len(series) < 2 || series[0][0] != "flow" || series[0][len(series[0])-1] != "loss_pct" {
			t.Errorf("%s.csv: header %q, want flow ... loss_pct and samples", base, series[0])
		}
		for _, ext := range []string{".png", ".svg", ".json", ".csv"} {
			if ref := slug(s.Name) + ext; !bytes.Contains(index, []byte(`"`+ref+`"`)) {
				t.Errorf("index.html does not link %s", ref)
			}
		}
	}
	for _, ref := range []string{"results.csv", "results.json"} {
		if !bytes.Contains(index, []byte(`"`+ref+`"`)) {
			t.Errorf("index.html does not link %s", ref)
		}
	}
	if !strings.Contains(out, "wall time") || !strings.Contains(out, dir) {
		t.Errorf("the output does not give the wall time and the output directory:\n%s", out)
	}
}

// readTree returns every file under dir by relative path.
func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		files[rel] = data
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// sameTrees compares the files of two output directories byte for byte
// (every file, or those with the given extension).
func sameTrees(t *testing.T, a, b, ext string) {
	t.Helper()
	fa, fb := readTree(t, a), readTree(t, b)
	var names []string
	for n := range fa {
		if ext == "" || filepath.Ext(n) == ext {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	if len(names) == 0 {
		t.Fatalf("no %q file in %s", ext, a)
	}
	for _, n := range names {
		if _, ok := fb[n]; !ok {
			t.Errorf("%s is in %s but not in %s", n, a, b)
			continue
		}
		if !bytes.Equal(fa[n], fb[n]) {
			t.Errorf("%s differs between %s and %s", n, a, b)
		}
	}
	for n := range fb {
		if _, ok := fa[n]; !ok && (ext == "" || filepath.Ext(n) == ext) {
			t.Errorf("%s is in %s but not in %s", n, b, a)
		}
	}
}

// Golden determinism: two runs, one worker or eight, give the same bytes
// in every file (JSON, CSV, figures, index).
func TestDefaultJobDeterministic(t *testing.T) {
	withCorpus(t, shortCorpus(t, 8, 12*time.Second))
	tmp := t.TempDir()
	a, b, c := filepath.Join(tmp, "a"), filepath.Join(tmp, "b"), filepath.Join(tmp, "c")
	mustRun(t, "run", "-out", a, "-j", "1")
	mustRun(t, "run", "-out", b, "-j", "1")
	mustRun(t, "run", "-out", c, "-j", "8")
	sameTrees(t, a, b, "")
	sameTrees(t, a, c, "")
}

// The acceptance check on the whole default corpus: the JSON results at
// -j 1 with GOMAXPROCS 1 and at -j 8 with GOMAXPROCS 4 are the same bytes.
func TestDefaultCorpusDeterministic(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole default corpus twice")
	}
	tmp := t.TempDir()
	a, b := filepath.Join(tmp, "a"), filepath.Join(tmp, "b")
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	mustRun(t, "-out", a, "-j", "1")
	runtime.GOMAXPROCS(4)
	mustRun(t, "-out", b, "-j", "8")
	sameTrees(t, a, b, ".json")
	var rows []row
	readJSON(t, filepath.Join(a, "results.json"), &rows)
	if want := len(traces.DefaultCorpus()); len(rows) != want {
		t.Errorf("results.json has %d rows, want one per corpus scenario, %d", len(rows), want)
	}
}

func TestSimulateSelectRecordReplayPlot(t *testing.T) {
	dir := t.TempDir()
	rec := filepath.Join(dir, "fb.bfb.gz")
	out := mustRun(t, "simulate", "-scenario", "weak-2mbps-loss5,jitter", "-duration", "8s", "-seed", "3",
		"-estimator", "name=k,detector=kalman", "-record", rec, "-out", dir)
	jitter, err := traces.Family("jitter", 3)
	if err != nil {
		t.Fatal(err)
	}
	var rows []row
	readJSON(t, filepath.Join(dir, "results.json"), &rows)
	if len(rows) != 1+len(jitter) {
		t.Fatalf("%d rows, want weak-2mbps-loss5 and the %d jitter scenarios:\n%s", len(rows), len(jitter), out)
	}
	for i, r := range rows {
		if r.Seed != 3 || r.Estimator != "k" {
			t.Errorf("row %d: seed %d estimator %q, want 3 and k", i, r.Seed, r.Estimator)
		}
	}
	if rows[0].Scenario != "weak-2mbps-loss5" || rows[1].Scenario != jitter[0].Name {
		t.Errorf("rows start %s, %s; want the order asked for", rows[0].Scenario, rows[1].Scenario)
	}
	// One feedback trace per scenario; replay the first through two
	// estimators.
	trace := filepath.Join(dir, "fb-weak-2mbps-loss5.bfb.gz")
	out = mustRun(t, "replay", trace, "-estimator", "trendline", "-estimator", "name=noprobe,probing=false", "-out", dir)
	for _, name := range []string{"trendline+likelihood", "noprobe"} {
		if !strings.Contains(out, name) {
			t.Errorf("the replay table has no line for %s:\n%s", name, out)
		}
	}
	base := filepath.Join(dir, "replay-fb-weak-2mbps-loss5")
	checkPNG(t, base+".png")
	checkSVG(t, base+".svg")
	recs := readCSVFile(t, base+".csv")
	if !slices.Equal(recs[0], replayCSVHeader) || len(recs) < 3 {
		t.Errorf("replay CSV header %q and %d records", recs[0], len(recs))
	}

	// plot redraws a run's figure from its CSV: with the run's title, the
	// same SVG bytes.
	plotDir := filepath.Join(dir, "redrawn")
	r := rows[0]
	title := r.Scenario + " — " + r.Estimator + ": utilization " + formatNum(r.Utilization, 3) +
		", queuing p95 " + formatNum(r.QueueP95Ms, 1) + " ms, loss " + formatNum(r.LossPct, 2) + " %"
	mustRun(t, "plot", "-out", plotDir, "-title", title, filepath.Join(dir, "weak-2mbps-loss5.csv"), base+".csv")
	a, _ := os.ReadFile(filepath.Join(dir, "weak-2mbps-loss5.svg"))
	b, _ := os.ReadFile(filepath.Join(plotDir, "weak-2mbps-loss5.svg"))
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Errorf("bwe plot drew a different SVG from the run's CSV")
	}
	checkPNG(t, filepath.Join(plotDir, "replay-fb-weak-2mbps-loss5.png"))
}

func TestCompare(t *testing.T) {
	args := []string{"compare", "-scenario", "weak-2mbps-loss5,rfc8867-5.1", "-duration", "10s",
		"-estimator", "trendline", "-estimator", "name=kal,detector=kalman", "-estimator", "name=classic,loss=classic"}
	out := mustRun(t, args...)
	for _, want := range []string{"[1] trendline+likelihood", "[2] kal", "[3] classic", "util [2]/[1]", "q95 [3]/[1]", "weak-2mbps-loss5", "rfc8867-5.1", "mean"} {
		if !strings.Contains(out, want) {
			t.Errorf("the compare table lacks %q:\n%s", want, out)
		}
	}
	out = mustRun(t, append(args, "-format", "csv")...)
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1+2*3 {
		t.Fatalf("%d CSV records, want a header and 2 scenarios × 3 estimators", len(recs))
	}
	for i, rec := range recs[1:] {
		if want := []string{"trendline+likelihood", "kal", "classic"}[i%3]; rec[1] != want {
			t.Errorf("record %d: estimator %q, want %q", i+1, rec[1], want)
		}
		if i%3 == 0 && (rec[len(rec)-2] != "1" && rec[len(rec)-2] != "") {
			t.Errorf("record %d: the first estimator's utilization ratio is %q, want 1", i+1, rec[len(rec)-2])
		}
	}
	out = mustRun(t, append(args, "-format", "json")...)
	var rows []compareRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil || len(rows) != 6 {
		t.Errorf("JSON output: %d rows, %v; want 6", len(rows), err)
	}
}

// Every command's -h exits 0 and prints its usage; a bad flag exits 2
// with one line naming it; a missing file exits 1 with one line naming
// it.
func TestUsageAndErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.bfb")
	for name := range commands {
		code, out, errOut := runCLI(name, "-h")
		if code != 0 || !strings.Contains(out, "Usage: bwe "+name) || !strings.Contains(out, "Flags:") || errOut != "" {
			t.Errorf("bwe %s -h: exit %d, stdout %q, stderr %q; want exit 0 and the usage on stdout", name, code, out, errOut)
		}
		code, _, errOut = runCLI(name, "-bogus")
		if code != 2 || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "-bogus") {
			t.Errorf("bwe %s -bogus: exit %d, stderr %q; want exit 2 and one line naming -bogus", name, code, errOut)
		}
	}
	for _, tc := range []struct {
		args   []string
		code   int
		stdout string // substring wanted in stdout
		stderr string // substring wanted in stderr (one line)
	}{
		{[]string{"-h"}, 0, "Commands:", ""},
		{[]string{"help"}, 0, "Usage:", ""},
		{[]string{"nope"}, 2, "", `unknown command "nope"`},
		{[]string{"-j", "0"}, 2, "", "-j 0"},
		{[]string{"run", "extra"}, 2, "", `unexpected argument "extra"`},
		{[]string{"simulate", "-scenario", "nope"}, 2, "", `"nope"`},
		{[]string{"simulate", "-estimator", "detector=nope"}, 2, "", "-estimator"},
		{[]string{"simulate", "-seed", "abc"}, 2, "", "-seed"},
		{[]string{"simulate", "-scenario", "dir", "-traces", ""}, 2, "", "-traces"},
		{[]string{"simulate", "-scenario", "weak-2mbps-loss5", "-duration", "2s", "-out", file}, 1, "", file},
		{[]string{"simulate", "-scenario", "dir", "-traces", filepath.Join(dir, "nodir")}, 1, "", "nodir"},
		{[]string{"replay"}, 2, "", "no trace"},
		{[]string{"replay", missing}, 1, "", missing},
		{[]string{"replay", "-trace", missing}, 1, "", missing},
		{[]string{"replay", file}, 1, "", file},
		{[]string{"compare", "-estimator", "trendline"}, 2, "", "at least two"},
		{[]string{"compare", "-estimator", "trendline", "-estimator", "trendline"}, 2, "", "used twice"},
		{[]string{"compare", "-estimator", "trendline", "-estimator", "kalman", "-format", "xml"}, 2, "", "-format"},
		{[]string{"sweep", "-seeds", "5-1"}, 2, "", "-seeds"},
		{[]string{"sweep", "-shard", "3/3"}, 2, "", "-shard"},
		{[]string{"merge"}, 2, "", "no sweep directory"},
		{[]string{"merge", filepath.Join(dir, "nodir")}, 1, "", "nodir"},
		{[]string{"merge", dir}, 1, "", "no job files"},
		{[]string{"plot"}, 2, "", "no CSV file"},
		{[]string{"plot", filepath.Join(dir, "missing.csv")}, 1, "", "missing.csv"},
		{[]string{"plot", file}, 1, "", file},
	} {
		code, out, errOut := runCLI(tc.args...)
		if code != tc.code || !strings.Contains(out, tc.stdout) || !strings.Contains(errOut, tc.stderr) {
			t.Errorf("bwe %q: exit %d, stdout %q, stderr %q; want exit %d, stdout with %q, stderr with %q",
				tc.args, code, out, errOut, tc.code, tc.stdout, tc.stderr)
		}
		if tc.code != 0 && strings.Count(errOut, "\n") != 1 {
			t.Errorf("bwe %q: stderr has %d lines, want one:\n%s", tc.args, strings.Count(errOut, "\n"), errOut)
		}
	}
}

// parallel returns the results in index order whatever the order in
// which the calls finish, and reports each index once.
func TestParallelOrder(t *testing.T) {
	for _, workers := range []int{0, 1, 3, runtime.NumCPU() + 5} {
		const n = 40
		seen := map[int]int{}
		got := parallel(n, workers, func(i int) int {
			if i%3 == 0 {
				time.Sleep(time.Duration(n-i) * 50 * time.Microsecond) // finish out of order
			}
			return i * i
		}, func(i, v int) {
			seen[i]++
			if v != i*i {
				t.Errorf("done(%d, %d), want value %d", i, v, i*i)
			}
		})
		for i, v := range got {
			if v != i*i || seen[i] != 1 {
				t.Errorf("workers %d: result %d = %d reported %d times, want %d once", workers, i, v, seen[i], i*i)
			}
		}
	}
	if got := parallel(0, 4, func(int) int { return 1 }, nil); len(got) != 0 {
		t.Errorf("parallel of nothing returned %v", got)
	}
}

func TestWithDuration(t *testing.T) {
	s, err := traces.ScenarioByName("rfc8867-5.6", 1)
	if err != nil {
		t.Fatal(err)
	}
	cut, err := withDuration(s, 8*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if cut.Duration != 8*time.Second || cut.Warmup > 2*time.Second {
		t.Errorf("duration %v, warm-up %v; want 8s and at most 2s", cut.Duration, cut.Warmup)
	}
	for _, f := range cut.Flows {
		if f.Start >= 8*time.Second || f.Stop > 8*time.Second {
			t.Errorf("flow %s runs [%v, %v), outside the 8 s run", f.Name, f.Start, f.Stop)
		}
	}
	if _, err := cut.WithDefaults(); err != nil {
		t.Errorf("the cut scenario is invalid: %v", err)
	}
	if _, err := withDuration(s, time.Millisecond); err == nil || exitCode(err) != exitUsage {
		t.Errorf("cutting every flow: error %v, want a usage error", err)
	}
}
