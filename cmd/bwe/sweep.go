package main

import (
	"bytes"
	"cmp"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bwelab/bwe/replay"
)

// canonicalSpec returns the specification that ParseEstimator reads back
// as e (its Edit function aside).
func canonicalSpec(e replay.Estimator) string {
	return fmt.Sprintf("name=%s,detector=%s,loss=%s,probing=%t", e.Name, e.Detector, e.Loss, !e.NoProbing)
}

// cmdSweep runs a grid of jobs.
func cmdSweep(args []string, stdout, stderr io.Writer) int {
	c := newCommand("sweep", "", `Runs the grid estimators × scenarios × seeds, closed loop, jobs in
parallel, and writes each job's result to <out>/<job-id>.json, atomically.
A job id is a readable slug of estimator, scenario and seed followed by a
hash of the job: the same job has the same id on every machine. Jobs whose
file is already complete are skipped, so an interrupted sweep resumes
where it stopped. -shard splits the job list among the workers of a
cluster; "bwe merge" makes one table of the directories.

Shards: -shard i/n runs the jobs whose index in the grid is i modulo n
(0 ≤ i < n). -shard env takes i and n from a Slurm job array
(SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN, SLURM_ARRAY_TASK_COUNT);
-shard env/n takes i from JOB_COMPLETION_INDEX (Kubernetes Indexed Job)
or, if unset, from the Slurm variables.
`)
	var ests estimatorList
	c.fs.Var(&ests, "estimator", estimatorHelp+"\n(repeat for several; default the default estimator)")
	var sf scenarioFlags
	sf.register(c.fs, false)
	seedsFlag := c.fs.String("seeds", "1", "`seeds`: a list such as 1-5 or 1,3,10-12")
	out := c.fs.String("out", "bwe-sweep", "output `directory` of the job files (created if missing)")
	workers := workersFlag(c.fs)
	shardFlag := c.fs.String("shard", "", "run one `shard` of the jobs: i/n, env or env/n (default: all jobs)")
	if code := c.parse(args, stdout, stderr); code >= 0 {
		return code
	}
	switch {
	case len(c.rest) > 0:
		return c.usageError(stderr, "unexpected argument %q", c.rest[0])
	case *workers < 1:
		return c.usageError(stderr, "-j %d: want at least 1", *workers)
	case sf.duration < 0:
		return c.usageError(stderr, "-duration %v: want a positive duration", sf.duration)
	}
	seeds, err := parseSeeds(*seedsFlag)
	if err != nil {
		return c.usageError(stderr, "-seeds: %v", err)
	}
	sh, err := parseShard(*shardFlag, os.Getenv)
	if err != nil {
		return c.usageError(stderr, "-shard: %v", err)
	}
	if len(ests) == 0 {
		ests = estimatorList{defaultEstimator()}
	}
	res := newResolver(&sf)
	scenarios, err := res.resolve(sf.selectors(), seeds[0])
	if err != nil {
		return c.report(stderr, err)
	}
	names := make([]string, len(scenarios))
	for i, s := range scenarios {
		names[i] = s.Name
	}
	specs := make([]estimatorSpec, len(ests))
	for i, e := range ests {
		specs[i] = estimatorSpec{Name: e.Name, Spec: canonicalSpec(e)}
	}
	all := grid(specs, names, seeds, sf.duration)
	jobs := pick(all, sh)
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return c.fail(stderr, fmt.Errorf("-out: %w", err))
	}
	start := time.Now()
	progress := progressReporter(stderr, "bwe sweep", isTerminal(stderr))
	st, failed := runSweep(*out, jobs, *workers, func(j job) ([]byte, error) { return execJob(res, j) }, progress)
	for _, e := range failed {
		fmt.Fprintf(stderr, "bwe sweep: %s\n", oneLine(e.Error()))
	}
	fmt.Fprintf(stdout, "sweep: %d jobs in the grid (%d estimators × %d scenarios × %d seeds); shard %s: %d jobs\n",
		len(all), len(specs), len(names), len(seeds), sh, len(jobs))
	fmt.Fprintf(stdout, "ran %d, skipped %d already complete, failed %d, in %.1f s wall time on %d workers\n",
		st.Ran, st.Skipped, st.Failed, time.Since(start).Seconds(), *workers)
	fmt.Fprintf(stdout, "job files in %s; table: bwe merge %s\n", *out, *out)
	if st.Failed > 0 {
		return exitFail
	}
	return exitOK
}

// execJob runs one job and returns its file's bytes.
func execJob(res *resolver, j job) ([]byte, error) {
	est, err := replay.ParseEstimator(j.Estimator)
	if err != nil {
		return nil, err
	}
	s, err := res.lookup(j.Scenario, j.Seed)
	if err != nil {
		return nil, err
	}
	r, err := replay.Run(s, est)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := r.WriteJSON(&b); err != nil {
		return nil, err
	}
	return encodeJobFile(j, rowOf(r), b.Bytes())
}

// stat is the mean and standard deviation of a metric over seeds.
type stat struct {
	Mean float64 `json:"mean"`
	Std  float64 `json:"std"`
}

// mergedRow is one estimator on one scenario over its seeds.
type mergedRow struct {
	Scenario  string          `json:"scenario"`
	Estimator string          `json:"estimator"`
	Seeds     []uint64        `json:"seeds"`
	Metrics   map[string]stat `json:"metrics"`

	order [2]int // scenario and estimator index in the sweep
}

// meanStd returns the mean and the sample standard deviation (n − 1) of
// the numbers of x (NaN values left out); the deviation is 0 for a single
// value. ok is false if x holds no number.
func meanStd(all []float64) (s stat, ok bool) {
	var x []float64
	for _, v := range all {
		if !math.IsNaN(v) {
			x = append(x, v)
		}
	}
	if len(x) == 0 {
		return stat{}, false
	}
	var sum float64
	for _, v := range x {
		sum += v
	}
	m := sum / float64(len(x))
	if len(x) == 1 {
		return stat{Mean: m}, true
	}
	var ss float64
	for _, v := range x {
		ss += (v - m) * (v - m)
	}
	return stat{Mean: m, Std: math.Sqrt(ss / float64(len(x)-1))}, true
}

// mergeJobs groups job files by scenario and estimator, in the order of
// the sweep's lists, and computes each metric's mean and standard
// deviation over the seeds. A job found twice (the same id) counts once.
func mergeJobs(files []jobFile) []mergedRow {
	type key struct{ scenario, estimator string }
	groups := map[key]*mergedRow{}
	values := map[key][][]float64{}
	var order []key
	seen := map[string]bool{}
	for _, f := range files {
		if seen[f.ID] {
			continue
		}
		seen[f.ID] = true
		k := key{f.Row.Scenario, f.Row.Estimator}
		g := groups[k]
		if g == nil {
			g = &mergedRow{Scenario: k.scenario, Estimator: k.estimator, order: [2]int{f.Job.ScenarioIndex, f.Job.EstimatorIndex}}
			groups[k] = g
			values[k] = make([][]float64, len(metricColumns))
			order = append(order, k)
		}
		g.Seeds = append(g.Seeds, f.Row.Seed)
		for i, c := range metricColumns {
			values[k][i] = append(values[k][i], c.get(f.Row))
		}
	}
	out := make([]mergedRow, 0, len(order))
	for _, k := range order {
		g := groups[k]
		// Seeds in increasing order, the values with them.
		idx := make([]int, len(g.Seeds))
		for i := range idx {
			idx[i] = i
		}
		slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(g.Seeds[a], g.Seeds[b]) })
		seeds := make([]uint64, len(idx))
		for i, j := range idx {
			seeds[i] = g.Seeds[j]
		}
		g.Seeds = seeds
		g.Metrics = map[string]stat{}
		for i, c := range metricColumns {
			v := make([]float64, len(idx))
			for n, j := range idx {
				v[n] = values[k][i][j]
			}
			if st, ok := meanStd(v); ok {
				g.Metrics[c.key] = st
			}
		}
		out = append(out, *g)
	}
	slices.SortStableFunc(out, func(a, b mergedRow) int {
		return cmp.Or(cmp.Compare(a.order[0], b.order[0]), cmp.Compare(a.Scenario, b.Scenario),
			cmp.Compare(a.order[1], b.order[1]), cmp.Compare(a.Estimator, b.Estimator))
	})
	return out
}

// mergeColumns are the metrics of the merged text table.
var mergeColumns = []string{"utilization", "queue_p95_ms", "loss_pct", "mean_target_mbps", "jain", "oscillation", "convergence_s", "score"}

// writeMergedTable writes the merged rows as a text table of mean ± std.
func writeMergedTable(w io.Writer, rows []mergedRow) error {
	tw := newTable(w)
	names := make([]string, len(rows))
	for i, r := range rows {
		names[i] = r.Scenario
	}
	h0, names := leftColumn("scenario", names)
	head := []string{h0, "estimator", "seeds"}
	for _, k := range mergeColumns {
		head = append(head, columnByKey(k).head)
	}
	fmt.Fprintln(tw, strings.Join(head, "\t")+"\t")
	for i, r := range rows {
		cells := []string{names[i], r.Estimator, strconv.Itoa(len(r.Seeds))}
		for _, k := range mergeColumns {
			c, s := columnByKey(k), r.Metrics[k]
			if _, ok := r.Metrics[k]; !ok {
				cells = append(cells, "-")
				continue
			}
			cells = append(cells, formatNum(s.Mean, c.prec)+" ± "+formatNum(s.Std, c.prec))
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
	}
	return tw.Flush()
}

// columnByKey returns the metric column with the given key.
func columnByKey(key string) column {
	for _, c := range metricColumns {
		if c.key == key {
			return c
		}
	}
	panic("bwe: no metric column " + key)
}

// writeMergedCSV writes the merged rows: scenario, estimator, seed count
// and list, and every metric's mean and standard deviation.
func writeMergedCSV(w io.Writer, rows []mergedRow) error {
	cw := csv.NewWriter(w)
	head := []string{"scenario", "estimator", "n", "seeds"}
	for _, c := range metricColumns {
		head = append(head, c.key+"_mean", c.key+"_std")
	}
	cw.Write(head)
	for _, r := range rows {
		rec := []string{r.Scenario, r.Estimator, strconv.Itoa(len(r.Seeds)), formatSeeds(r.Seeds)}
		for _, c := range metricColumns {
			s, ok := r.Metrics[c.key]
			if !ok {
				rec = append(rec, "", "")
				continue
			}
			rec = append(rec, formatCSV(s.Mean), formatCSV(s.Std))
		}
		cw.Write(rec)
	}
	cw.Flush()
	return cw.Error()
}

// cmdMerge merges sweep directories.
func cmdMerge(args []string, stdout, stderr io.Writer) int {
	c := newCommand("merge", "dir...", `Reads the job files of one or more sweep directories (for example, one
per shard) and prints, per scenario and estimator, the mean ± standard
deviation of the metrics over the seeds. Writes merged.csv and
merged.json to -out. A job present in several directories counts once.
`)
	out := c.fs.String("out", "", "`directory` of merged.csv and merged.json (default: the first directory)")
	if code := c.parse(args, stdout, stderr); code >= 0 {
		return code
	}
	if len(c.rest) == 0 {
		return c.usageError(stderr, "no sweep directory given")
	}
	paths, err := jobFiles(c.rest)
	if err != nil {
		return c.fail(stderr, err)
	}
	var files []jobFile
	for _, p := range paths {
		jf, ok, err := readJobFile(p)
		if err != nil {
			return c.fail(stderr, err)
		}
		if ok {
			files = append(files, jf)
		}
	}
	if len(files) == 0 {
		return c.fail(stderr, fmt.Errorf("no job files in %s", strings.Join(c.rest, ", ")))
	}
	rows := mergeJobs(files)
	if *out == "" {
		*out = c.rest[0]
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return c.fail(stderr, fmt.Errorf("-out: %w", err))
	}
	var b bytes.Buffer
	if err := writeMergedCSV(&b, rows); err != nil {
		return c.fail(stderr, err)
	}
	if err := writeAtomic(filepath.Join(*out, "merged.csv"), b.Bytes()); err != nil {
		return c.fail(stderr, err)
	}
	js, err := marshalIndent(rows)
	if err != nil {
		return c.fail(stderr, err)
	}
	if err := writeAtomic(filepath.Join(*out, "merged.json"), js); err != nil {
		return c.fail(stderr, err)
	}
	if err := writeMergedTable(stdout, rows); err != nil {
		return c.fail(stderr, err)
	}
	jobs := 0
	for _, r := range rows {
		jobs += len(r.Seeds)
	}
	fmt.Fprintf(stdout, "\n%d jobs merged into %d rows; wrote %s and %s\n", jobs, len(rows),
		filepath.Join(*out, "merged.csv"), filepath.Join(*out, "merged.json"))
	return exitOK
}
