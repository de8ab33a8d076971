package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/bwelab/bwe/replay"
	"github.com/bwelab/bwe/traces"
)

// defaultScenarios returns the scenarios of the default job (a variable
// so that tests can run a short subset).
var defaultScenarios = traces.DefaultCorpus

// estimatorFlag is a flag holding one estimator specification.
type estimatorFlag struct{ est replay.Estimator }

func (f *estimatorFlag) String() string { return f.est.Name }

func (f *estimatorFlag) Set(v string) error {
	e, err := replay.ParseEstimator(v)
	if err != nil {
		return errors.New(strings.TrimPrefix(err.Error(), "replay: "))
	}
	f.est = e
	return nil
}

// estimatorList is a repeatable flag of estimator specifications.
type estimatorList []replay.Estimator

func (l *estimatorList) String() string {
	var names []string
	for _, e := range *l {
		names = append(names, e.Name)
	}
	return strings.Join(names, " ")
}

func (l *estimatorList) Set(v string) error {
	var f estimatorFlag
	if err := f.Set(v); err != nil {
		return err
	}
	for _, e := range *l {
		if e.Name == f.est.Name {
			return fmt.Errorf("estimator name %q is used twice (set name=...)", e.Name)
		}
	}
	*l = append(*l, f.est)
	return nil
}

// defaultEstimator is the estimator of every command by default.
func defaultEstimator() replay.Estimator {
	e, err := replay.Estimator{}.WithDefaults()
	if err != nil {
		panic("bwe: the default estimator is invalid: " + err.Error())
	}
	return e
}

const estimatorHelp = "estimator `spec`: comma-separated name=, detector=, loss=, probing=, probes=, backoff=, osc=, smoother=, rate=, smoothness=, predictor=, protect=\n(e.g. \"detector=kalman,loss=classic\"); a bare word is a preset (plain, smooth, protect, live) or a detector"

// batch is a set of closed-loop runs whose outputs go to one directory.
type batch struct {
	out     string           // output directory
	workers int              // parallel runs
	est     replay.Estimator // the estimator of every run
	record  string           // if set, where to write flow 0's feedback
	title   string           // of index.html
}

// batchResult is the outcome of runBatch.
type batchResult struct {
	rows   []row
	failed []error
}

// runBatch runs b.est on every scenario in parallel and writes, for each,
// the figure (PNG, SVG), the result (JSON) and the series (CSV), then
// results.json, results.csv and index.html for the runs that succeeded.
// Outputs depend on the scenarios and the estimator only, not on the
// number of workers or on scheduling.
func runBatch(scenarios []traces.Scenario, b batch, progress func(done, total int)) (batchResult, error) {
	if err := os.MkdirAll(b.out, 0o755); err != nil {
		return batchResult{}, fmt.Errorf("-out: %w", err)
	}
	names := make([]string, len(scenarios))
	for i, s := range scenarios {
		names[i] = s.Name
	}
	slugs := uniqueSlugs(names)
	done := 0
	outs := parallel(len(scenarios), b.workers, func(i int) outcome {
		o := execute(scenarios[i], b.est)
		if o.err == nil {
			o.err = writeRun(filepath.Join(b.out, slugs[i]), o)
		}
		if o.err == nil && b.record != "" {
			o.err = writeFeedbackFile(recordPath(b.record, slugs[i], len(scenarios)), o.feedback)
		}
		o.res, o.feedback, o.csv, o.json = nil, nil, nil, nil // keep memory flat over a long corpus
		return o
	}, func(int, outcome) {
		done++
		if progress != nil {
			progress(done, len(scenarios))
		}
	})
	var res batchResult
	var entries []indexEntry
	for i, o := range outs {
		if o.err != nil {
			res.failed = append(res.failed, fmt.Errorf("%s: %w", scenarios[i].Name, o.err))
			continue
		}
		res.rows = append(res.rows, o.row)
		entries = append(entries, indexEntry{Title: o.row.Scenario, Base: slugs[i]})
	}
	if err := writeTables(b.out, res.rows); err != nil {
		return res, err
	}
	page, err := indexHTML(b.title, res.rows, entries)
	if err != nil {
		return res, err
	}
	return res, os.WriteFile(filepath.Join(b.out, "index.html"), page, 0o644)
}

// writeRun writes one run's JSON, CSV and figure next to base.
func writeRun(base string, o outcome) error {
	if err := os.WriteFile(base+".json", o.json, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(base+".csv", o.csv, 0o644); err != nil {
		return err
	}
	set, err := parseSeriesCSV(strings.NewReader(string(o.csv)), base+".csv")
	if err != nil {
		return err
	}
	r := o.row
	title := fmt.Sprintf("%s — %s: utilization %.3f, queuing p95 %.1f ms, loss %.2f %%",
		r.Scenario, r.Estimator, r.Utilization, r.QueueP95Ms, r.LossPct)
	panels, err := seriesFigure(set, title)
	if err != nil {
		return err
	}
	return writeFigure(base, panels)
}

// writeTables writes results.json and results.csv into dir.
func writeTables(dir string, rows []row) error {
	if rows == nil {
		rows = []row{}
	}
	js, err := marshalIndent(rows)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), js, 0o644); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, "results.csv"))
	if err != nil {
		return err
	}
	if err := writeRowsCSV(f, rows); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// recordPath returns where to record the feedback of the run with the
// given slug: path itself for a single run, otherwise path with the slug
// inserted before its extension (".bfb", ".bfb.gz").
func recordPath(path, slug string, runs int) string {
	if runs == 1 {
		return path
	}
	dir, base := filepath.Split(path)
	stem, ext := base, ""
	if i := strings.Index(base, "."); i > 0 {
		stem, ext = base[:i], base[i:]
	}
	return filepath.Join(dir, stem+"-"+slug+ext)
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progressReporter returns a progress callback writing to w: a bar
// redrawn in place on a terminal, otherwise a line at every tenth of the
// work (and at the end), unless quiet.
func progressReporter(w io.Writer, what string, bar bool) func(done, total int) {
	last := -1
	return func(done, total int) {
		if total == 0 {
			return
		}
		if bar {
			const width = 30
			n := done * width / total
			fmt.Fprintf(w, "\r%s [%s%s] %d/%d", what, strings.Repeat("=", n), strings.Repeat(" ", width-n), done, total)
			if done == total {
				fmt.Fprintln(w)
			}
			return
		}
		if tenth := done * 10 / total; tenth > last {
			if done > 0 {
				fmt.Fprintf(w, "%s: %d/%d done\n", what, done, total)
			}
			last = tenth
		}
	}
}

// workersFlag registers -j.
func workersFlag(fs *flag.FlagSet) *int {
	return fs.Int("j", runtime.NumCPU(), "number of runs in parallel")
}

// cmdRun is the default command: the default corpus.
func cmdRun(args []string, stdout, stderr io.Writer) int {
	c := newCommand("run", "", `Runs the default scenario corpus (the RFC 8867 cases, weak networks,
jitter, application-limited senders, embedded real capacity traces...)
closed loop with one estimator, every scenario in parallel; prints a table
of metrics over the steady part of each run, and writes to -out, for each
scenario, a figure (PNG and SVG: target and delivered rate against the
capacity, queuing delay, loss), its result (JSON) and its time series
(CSV), plus results.json, results.csv and index.html. Files are the same,
byte for byte, whatever -j. "bwe" with no arguments runs it.
`)
	out := c.fs.String("out", "bwe-out", "output `directory` (created if missing)")
	workers := workersFlag(c.fs)
	est := estimatorFlag{defaultEstimator()}
	c.fs.Var(&est, "estimator", estimatorHelp)
	if code := c.parse(args, stdout, stderr); code >= 0 {
		return code
	}
	if len(c.rest) > 0 {
		return c.usageError(stderr, "unexpected argument %q", c.rest[0])
	}
	if *workers < 1 {
		return c.usageError(stderr, "-j %d: want at least 1", *workers)
	}
	return c.batch(defaultScenarios(), batch{out: *out, workers: *workers, est: est.est, title: "bwe: default corpus, " + est.est.Name}, stdout, stderr)
}

// cmdSimulate runs chosen scenarios.
func cmdSimulate(args []string, stdout, stderr io.Writer) int {
	c := newCommand("simulate", "", `Runs chosen scenarios closed loop with one estimator, in parallel, like
the default command: a table on stdout; a figure (PNG, SVG), the result
(JSON) and the time series (CSV) of every run, results.json, results.csv
and index.html under -out.

Scenarios are chosen by name ("rfc8867-5.1"), by family ("weak"; "corpus"
is the default corpus, "traces" the embedded real capacity traces), or as
"dir": a scenario per capacity trace under -traces, for the real traces
that cannot be embedded. -record writes the feedback the first media
flow's sender received, for "bwe replay".
`)
	var sf scenarioFlags
	sf.register(c.fs, true)
	out := c.fs.String("out", "bwe-out", "output `directory` (created if missing)")
	workers := workersFlag(c.fs)
	est := estimatorFlag{defaultEstimator()}
	c.fs.Var(&est, "estimator", estimatorHelp)
	record := c.fs.String("record", "", "write the first media flow's feedback trace to this `file`\n(gzip if it ends in .gz; with several scenarios, the scenario's\nname is inserted before the extension)")
	if code := c.parse(args, stdout, stderr); code >= 0 {
		return code
	}
	if len(c.rest) > 0 {
		return c.usageError(stderr, "unexpected argument %q", c.rest[0])
	}
	if *workers < 1 {
		return c.usageError(stderr, "-j %d: want at least 1", *workers)
	}
	if sf.duration < 0 {
		return c.usageError(stderr, "-duration %v: want a positive duration", sf.duration)
	}
	scenarios, err := newResolver(&sf).resolve(sf.selectors(), sf.seed)
	if err != nil {
		return c.report(stderr, err)
	}
	return c.batch(scenarios, batch{out: *out, workers: *workers, est: est.est, record: *record, title: "bwe simulate: " + est.est.Name}, stdout, stderr)
}

// batch runs a batch and reports it: the table on stdout, failures on
// stderr, then the wall time and the output directory.
func (c *command) batch(scenarios []traces.Scenario, b batch, stdout, stderr io.Writer) int {
	if len(scenarios) == 0 {
		return c.usageError(stderr, "no scenario to run")
	}
	start := time.Now()
	var progress func(int, int)
	if isTerminal(stderr) {
		progress = progressReporter(stderr, "bwe "+c.name, true)
	}
	res, err := runBatch(scenarios, b, progress)
	if err != nil {
		return c.fail(stderr, err)
	}
	for _, e := range res.failed {
		fmt.Fprintf(stderr, "bwe %s: %s\n", c.name, oneLine(e.Error()))
	}
	if err := writeTable(stdout, res.rows, false); err != nil {
		return c.fail(stderr, err)
	}
	fmt.Fprintf(stdout, "\nEstimator %s. Metrics cover the steady part of each run (after its warm-up);\n"+
		"queuing delays are the worst media flow's, loss and target pool the media flows.\n", b.est.Name)
	fmt.Fprintf(stdout, "%d of %d runs in %.1f s wall time on %d workers; output in %s (open index.html)\n",
		len(res.rows), len(scenarios), time.Since(start).Seconds(), min(b.workers, len(scenarios)), b.out)
	if len(res.failed) > 0 {
		return exitFail
	}
	return exitOK
}
