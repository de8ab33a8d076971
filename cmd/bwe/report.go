package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/bwelab/bwe/bench/piongcc"
	"github.com/bwelab/bwe/internal/bubble"
	"github.com/bwelab/bwe/replay"
	"github.com/bwelab/bwe/traces"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// reportCommand is the command line that regenerates docs/results.md.
const reportCommand = "go run ./cmd/bwe report"

// reportEstimators are the configurations the report compares with pion's
// gcc: the default (libwebrtc-equivalent) one first.
var reportEstimators = []string{"plain", "name=robust,detector=robust", "smooth"}

// reportFigures are the scenarios drawn in the report (seed 1), each
// estimator's estimate over the capacity and its queuing delay.
var reportFigures = []string{
	"reference-2mbps", "reference-3mbps-loss6", "reference-app-limited-800kbps-3mbps", "reference-20mbps-100ms",
	"rfc8867-5.1", "jitter-4mbps-swing-4s", "trace-norway-bus-ljansbakken",
}

// criterion is one acceptance bound of the comparison with pion's gcc,
// on a reference case.
type criterion struct {
	scenario string
	what     string
	bound    string
	get      func(m map[string]float64) float64 // from the means of metricColumns, by key
	ok       func(x float64) bool
}

// referenceCapacity returns the constant capacity of a reference case, in
// Mbps.
func referenceCapacity(name string) float64 {
	ss, err := traces.Family("reference", 1)
	if err != nil {
		return math.NaN()
	}
	for _, s := range ss {
		if s.Name == name {
			return s.Forward.Capacity.At(0).Float() / 1e6
		}
	}
	return math.NaN()
}

// acceptance are the bounds the comparison is judged by.
var acceptance = []criterion{
	{"reference-2mbps", "ramp-up from 300 kbps to 0.8 × capacity (s)", "≤ 4",
		func(m map[string]float64) float64 { return m["ramp_up_s"] }, func(x float64) bool { return x <= 4 }},
	{"reference-2mbps", "utilization, saturated", "≥ 0.9",
		func(m map[string]float64) float64 { return m["utilization"] }, func(x float64) bool { return x >= 0.9 }},
	{"reference-2mbps", "p95 queuing delay (ms), saturated", "≤ 100",
		func(m map[string]float64) float64 { return m["queue_p95_ms"] }, func(x float64) bool { return x <= 100 }},
	{"reference-3mbps", "utilization, saturated", "≥ 0.9",
		func(m map[string]float64) float64 { return m["utilization"] }, func(x float64) bool { return x >= 0.9 }},
	{"reference-3mbps", "p95 queuing delay (ms), saturated", "≤ 100",
		func(m map[string]float64) float64 { return m["queue_p95_ms"] }, func(x float64) bool { return x <= 100 }},
	{"reference-3mbps-loss6", "mean target ÷ capacity, 6 % random loss", "≥ 0.7",
		func(m map[string]float64) float64 {
			return m["mean_target_mbps"] / referenceCapacity("reference-3mbps-loss6")
		},
		func(x float64) bool { return x >= 0.7 }},
	{"reference-app-limited-800kbps-3mbps", "highest estimate (Mbps), 0.8 Mbps sent", "≤ 1.6",
		func(m map[string]float64) float64 { return m["max_estimate_mbps"] }, func(x float64) bool { return x <= 1.6 }},
	{"reference-20mbps-100ms", "utilization, 20 Mbps at 100 ms one-way", "≥ 0.9",
		func(m map[string]float64) float64 { return m["utilization"] }, func(x float64) bool { return x >= 0.9 }},
	{"reference-20mbps-100ms", "mean target ÷ capacity", "(information)",
		func(m map[string]float64) float64 {
			return m["mean_target_mbps"] / referenceCapacity("reference-20mbps-100ms")
		}, nil},
}

// reportGroup is a family of scenarios in the report.
type reportGroup struct {
	title     string
	scenarios []string
}

// reportRun is what the report is made of: the means over the seeds of
// every metric (metricColumns keys), per scenario and estimator.
type reportRun struct {
	names  []string // estimators, pion's first
	groups []reportGroup
	means  map[string][]map[string]float64 // scenario → estimator → key → mean
	seeds  []uint64
	runs   int
	wall   time.Duration
	traces string
}

// cmdReport runs the comparison with pion's gcc and writes the report.
func cmdReport(args []string, stdout, stderr io.Writer) int {
	c := newCommand("report", "", `Compares pion/interceptor's gcc with this module's estimators (the
default configuration, the robust detector and the smooth preset) on the
whole scenario catalogue (every family but the corpus, which repeats
them) and on every real capacity trace (those under -traces, else the
embedded ones), over several seeds, and writes docs/results.md: the
acceptance bounds of the comparison, a summary per family, a table per
family and figures of chosen runs (PNG, in a directory named after the
report). The machine, the commit and the command are recorded at its top.
Regenerate it whenever an algorithm changes.
`)
	out := c.fs.String("out", "docs/results.md", "`file` to write; figures go to its name without .md as a directory")
	bf := newBatchFlags(c.fs, "the report says so")
	if code := c.parse(args, stdout, stderr); code >= 0 {
		return code
	}
	seeds, code := bf.check(c, stderr)
	switch {
	case code >= 0:
		return code
	case !strings.HasSuffix(*out, ".md"):
		return c.usageError(stderr, "-out %q: want a .md file", *out)
	}
	tracesDir, duration, workers := bf.tracesDir, bf.duration, bf.workers
	ests := []replay.Estimator{piongcc.Estimator()}
	for _, spec := range reportEstimators {
		e, err := replay.ParseEstimator(spec)
		if err != nil {
			return c.fail(stderr, err)
		}
		ests = append(ests, e)
	}
	sf := scenarioFlags{tracesDir: *tracesDir, duration: *duration}
	res := newResolver(&sf)
	var groups []reportGroup
	selectors := reportSelectors(*tracesDir)
	realSel, realTitle := selectors[len(selectors)-1], "Real capacity traces (embedded)"
	if realSel == dirSelector {
		realTitle = "Real capacity traces (" + filepath.Base(filepath.Clean(*tracesDir)) + ", every file)"
	}
	var scenarios []traces.Scenario
	for i, seed := range seeds {
		for _, sel := range selectors {
			ss, err := res.resolve([]string{sel}, seed)
			if err != nil {
				return c.report(stderr, err)
			}
			if i == 0 {
				g := reportGroup{title: sel}
				if sel == realSel {
					g.title = realTitle
				}
				for _, s := range ss {
					g.scenarios = append(g.scenarios, s.Name)
				}
				groups = append(groups, g)
			}
			scenarios = append(scenarios, ss...)
		}
	}
	start := time.Now()
	progress := progressReporter(stderr, "runs", isTerminal(stderr))
	var rows []row
	var figs []figureRun
	err := runBubbles(func(run bubble.Runner) error {
		var err error
		if rows, err = compareRuns(scenarios, ests, *workers, run, progress); err != nil {
			return err
		}
		figs, err = figureRuns(res, ests, *workers, run)
		return err
	})
	if err != nil {
		return c.fail(stderr, err)
	}
	rr := &reportRun{groups: groups, seeds: seeds, runs: len(rows), wall: time.Since(start), traces: *tracesDir}
	for _, e := range ests {
		rr.names = append(rr.names, e.Name)
	}
	rr.means = reportMeans(rows, len(ests))
	figDir := strings.TrimSuffix(*out, ".md")
	if err := os.MkdirAll(figDir, 0o755); err != nil {
		return c.fail(stderr, err)
	}
	var figNames []string
	for _, f := range figs {
		if err := writeFigurePNG(filepath.Join(figDir, f.scenario), f); err != nil {
			return c.fail(stderr, err)
		}
		figNames = append(figNames, f.scenario)
	}
	var b bytes.Buffer
	rr.write(&b, filepath.Base(figDir), figNames, *duration)
	if err := os.WriteFile(*out, b.Bytes(), 0o644); err != nil {
		return c.fail(stderr, err)
	}
	fmt.Fprintf(stdout, "%d runs in %.1f s wall time on %d workers; wrote %s and %d figures in %s\n",
		rr.runs, rr.wall.Seconds(), *workers, *out, len(figs), figDir)
	return exitOK
}

// batchFlags are the flags of the commands that run the whole catalogue
// over several seeds (report, train).
type batchFlags struct {
	seeds     *string
	tracesDir *string
	duration  *time.Duration
	workers   *int
}

// newBatchFlags registers -seeds, -traces, -duration (cut, explained by
// cutNote) and -j on fs.
func newBatchFlags(fs *flag.FlagSet, cutNote string) batchFlags {
	return batchFlags{
		seeds:     fs.String("seeds", "1-3", "`seeds` of every scenario"),
		tracesDir: fs.String("traces", traces.EnvDir(), "`directory` of the real capacity traces (default $"+traces.EnvVar+"; empty: the embedded traces)"),
		duration:  fs.Duration("duration", 0, "cut every run to this `duration` (for a quick look; "+cutNote+")"),
		workers:   workersFlag(fs),
	}
}

// check checks the flags and the absence of arguments once c has parsed
// them, and returns the seeds, or the exit status of a usage error (≥ 0;
// −1 when all is well).
func (b batchFlags) check(c *command, stderr io.Writer) ([]uint64, int) {
	seeds, err := parseSeeds(*b.seeds)
	switch {
	case len(c.rest) > 0:
		return nil, c.usageError(stderr, "unexpected argument %q", c.rest[0])
	case err != nil:
		return nil, c.usageError(stderr, "-seeds: %v", err)
	case *b.workers < 1:
		return nil, c.usageError(stderr, "-j %d: want at least 1", *b.workers)
	case *b.duration < 0:
		return nil, c.usageError(stderr, "-duration %v: want a positive duration", *b.duration)
	}
	return seeds, -1
}

// reportMeans averages each metric of each scenario and estimator over
// its seeds.
func reportMeans(rows []row, k int) map[string][]map[string]float64 {
	vals := map[string][]map[string][]float64{}
	for i := 0; i+k <= len(rows); i += k {
		name := rows[i].Scenario
		if vals[name] == nil {
			vals[name] = make([]map[string][]float64, k)
			for j := range k {
				vals[name][j] = map[string][]float64{}
			}
		}
		for j := range k {
			for _, col := range metricColumns {
				vals[name][j][col.key] = append(vals[name][j][col.key], col.get(rows[i+j]))
			}
		}
	}
	out := map[string][]map[string]float64{}
	for name, per := range vals {
		out[name] = make([]map[string]float64, k)
		for j := range k {
			out[name][j] = map[string]float64{}
			for key, xs := range per[j] {
				out[name][j][key] = math.NaN()
				if st, ok := meanStd(xs); ok {
					out[name][j][key] = st.Mean
				}
			}
		}
	}
	return out
}

// write writes the report as Markdown.
func (r *reportRun) write(w io.Writer, figDir string, figs []string, cut time.Duration) {
	fmt.Fprintf(w, "# Results: this module's estimators against pion's gcc\n\n")
	fmt.Fprintf(w, "Generated by `%s` (do not edit by hand; regenerate it whenever an algorithm changes).\n\n", reportCommand)
	fmt.Fprintf(w, "- commit: `%s`\n", commitID())
	fmt.Fprintf(w, "- machine: %s, %d logical CPUs, %s/%s, %s\n", cpuModel(), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version())
	fmt.Fprintf(w, "- date: %s\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(w, "- runs: %d (%d scenarios × %d estimators × seeds %s) in %.0f s of wall time\n",
		r.runs, r.runs/len(r.names)/len(r.seeds), len(r.names), formatSeeds(r.seeds), r.wall.Seconds())
	if cut > 0 {
		fmt.Fprintf(w, "- **every run cut to %v** (a quick look, not the published comparison)\n", cut)
	}
	fmt.Fprintf(w, "\nEstimators, in the order of every table cell (a / b / c / d):\n\n")
	for i, n := range r.names {
		about := map[int]string{
			0: "pion/interceptor v0.1.51 `gcc.NewSendSideBWE`, unmodified, driven in virtual time (bench/piongcc)",
			1: "this module's default configuration: libwebrtc's trendline, the likelihood loss-based estimator, probing",
			2: "the same with the jitter-robust delay detector",
			3: "the default with the live-push remedy: oscillation detector, oscillation-aware smoother, encoder rate controller",
		}[i]
		fmt.Fprintf(w, "%d. **%s**: %s\n", i+1, n, about)
	}
	fmt.Fprintf(w, "\nEvery run is closed loop through the same emulator (video source, pacer at 2.5 × the estimate, "+
		"drop-tail bottleneck, feedback every 50 ms); values are means over the seeds. Metrics are defined in "+
		"[metrics.md](metrics.md); they cover each run's steady part (after its warm-up). pion's runs are not "+
		"bit-reproducible: its delay controller processes each feedback on two goroutines whose order varies.\n")

	fmt.Fprintf(w, "\n## Acceptance: the reference cases\n\n")
	fmt.Fprintf(w, "The cases in which pion's gcc was measured (`-scenario reference`: perfect 30 fps encoder, 1200-byte packets, "+
		"50 ms one-way, 75 KB drop-tail queue, 60 s). \"Met\" judges this module's default configuration.\n\n")
	fmt.Fprintf(w, "| case | measure | bound | %s | %s | met |\n|---|---|---|---:|---:|---|\n", r.names[0], r.names[1])
	for _, c := range acceptance {
		per := r.means[c.scenario]
		if per == nil {
			continue
		}
		pion, ours := c.get(per[0]), c.get(per[1])
		met := "—"
		if c.ok != nil {
			met = "yes"
			if math.IsNaN(ours) || !c.ok(ours) {
				met = "**no**"
			}
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", c.scenario, c.what, c.bound, formatNum(pion, 2), formatNum(ours, 2), met)
	}

	metrics := []struct{ key, head string }{
		{"utilization", "utilization"}, {"queue_p95_ms", "p95 queuing ms"}, {"loss_pct", "loss %"},
		{"convergence_s", "convergence s"}, {"oscillation", "oscillation"}, {"score", "score"},
	}
	precision := map[string]int{"utilization": 2, "queue_p95_ms": 0, "loss_pct": 1, "convergence_s": 1, "oscillation": 2, "score": 0}
	cell := func(per []map[string]float64, key string) string {
		parts := make([]string, len(per))
		for j := range per {
			parts[j] = formatNum(per[j][key], precision[key])
		}
		return strings.Join(parts, " / ")
	}
	fmt.Fprintf(w, "\n## Summary by family\n\nMeans over each family's scenarios (convergence over the runs that settled).\n\n| family | scenarios |")
	for _, m := range metrics {
		fmt.Fprintf(w, " %s |", m.head)
	}
	fmt.Fprintf(w, "\n|---|---:|%s\n", strings.Repeat("---|", len(metrics)))
	for _, g := range r.groups {
		per := make([]map[string]float64, len(r.names))
		for j := range per {
			per[j] = map[string]float64{}
			for _, m := range metrics {
				var xs []float64
				for _, s := range g.scenarios {
					xs = append(xs, r.means[s][j][m.key])
				}
				per[j][m.key] = math.NaN()
				if st, ok := meanStd(xs); ok {
					per[j][m.key] = st.Mean
				}
			}
		}
		fmt.Fprintf(w, "| %s | %d |", g.title, len(g.scenarios))
		for _, m := range metrics {
			fmt.Fprintf(w, " %s |", cell(per, m.key))
		}
		fmt.Fprintln(w)
	}

	if len(figs) > 0 {
		fmt.Fprintf(w, "\n## Figures\n\nSeed 1: each estimator's estimate against the capacity, and the queuing delay its packets met.\n\n")
		for _, f := range figs {
			fmt.Fprintf(w, "### %s\n\n![%s](%s/%s.png)\n\n", f, f, figDir, f)
		}
	}

	for _, g := range r.groups {
		fmt.Fprintf(w, "\n## %s\n\n| scenario |", g.title)
		for _, m := range metrics {
			fmt.Fprintf(w, " %s |", m.head)
		}
		fmt.Fprintf(w, "\n|---|%s\n", strings.Repeat("---|", len(metrics)))
		for _, s := range g.scenarios {
			fmt.Fprintf(w, "| %s |", s)
			for _, m := range metrics {
				fmt.Fprintf(w, " %s |", cell(r.means[s], m.key))
			}
			fmt.Fprintln(w)
		}
	}
}

// figureRun is one scenario run by every estimator, for a figure.
type figureRun struct {
	scenario string
	names    []string
	results  []*replay.Result
}

// figureRuns runs the report's figure scenarios (seed 1) with every
// estimator, keeping the results.
func figureRuns(res *resolver, ests []replay.Estimator, workers int, inBubble bubble.Runner) ([]figureRun, error) {
	var ss []traces.Scenario
	for _, name := range reportFigures {
		got, err := res.resolve([]string{name}, 1)
		if err != nil {
			continue // a figure scenario the catalogue lacks (a trace not embedded) is left out
		}
		ss = append(ss, got...)
	}
	k := len(ests)
	type out struct {
		r   *replay.Result
		err error
	}
	runs := parallel(len(ss)*k, workers, func(i int) out {
		var o out
		o.r, o.err = runIn(inBubble, ss[i/k], ests[i%k])
		return o
	}, nil)
	figs := make([]figureRun, len(ss))
	for i, o := range runs {
		if o.err != nil {
			return nil, o.err
		}
		f := &figs[i/k]
		f.scenario = ss[i/k].Name
		f.names = append(f.names, ests[i%k].Name)
		f.results = append(f.results, o.r)
	}
	return figs, nil
}

// writeFigurePNG draws a figure run: every estimator's estimate over the
// capacity, and every estimator's queuing delay (first media flow). It is
// drawn from the results in memory: the report keeps no series files.
func writeFigurePNG(base string, f figureRun) error {
	xmax := f.results[0].Scenario.Duration.Seconds()
	rates := panel(f.scenario, "rate (Mbps)", xmax)
	queue := panel("queuing delay", "ms", xmax)
	queue.X.Label.Text = "time (s)"
	var capT, capY []float64
	for _, s := range f.results[0].Flows[0].Series {
		capT = append(capT, float64(s.At)/1e6)
		capY = append(capY, s.Capacity.Float()/1e6)
	}
	if err := addLine(rates, points(capT, capY), "capacity", black, vg.Points(1.5), nil, true); err != nil {
		return err
	}
	for i, r := range f.results {
		var t, est, q []float64
		for _, s := range r.Flows[0].Series {
			t = append(t, float64(s.At)/1e6)
			est = append(est, s.Estimate.Float()/1e6)
			q = append(q, float64(s.QueueDelay)/float64(time.Millisecond))
		}
		// Later lines are dashed, so that identical estimates stay visible.
		c, dash := plotutil.Color(i), plotutil.Dashes(max(i-1, 0))
		if err := addLine(rates, points(t, est), f.names[i], c, vg.Points(1.2), dash, true); err != nil {
			return err
		}
		if err := addLine(queue, points(t, q), f.names[i], c, vg.Points(1), dash, false); err != nil {
			return err
		}
	}
	headroom(rates, len(f.results)+1)
	headroom(queue, len(f.results))
	pngData, _, err := encodeFigure([]*plot.Plot{rates, queue})
	if err != nil {
		return fmt.Errorf("%s: %w", base, err)
	}
	return os.WriteFile(base+".png", pngData, 0o644)
}

// commitID returns the commit the program was built from, with "+dirty"
// if the working tree differs from it: from git in the current directory
// if it answers, else from the build information.
func commitID() string {
	if out, err := exec.Command("git", "rev-parse", "--short=12", "HEAD").Output(); err == nil {
		id := strings.TrimSpace(string(out))
		if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(bytes.TrimSpace(st)) > 0 {
			id += "+dirty"
		}
		return id
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		var rev, dirty string
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					dirty = "+dirty"
				}
			}
		}
		if rev != "" {
			return rev[:min(12, len(rev))] + dirty
		}
	}
	return "unknown"
}

// cpuModel returns the processor's model name (Linux), else the
// architecture.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				return strings.TrimSpace(v)
			}
		}
	}
	return runtime.GOARCH
}
