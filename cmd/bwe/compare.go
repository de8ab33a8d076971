package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bwelab/bwe/bench/piongcc"
	"github.com/bwelab/bwe/internal/bubble"
	"github.com/bwelab/bwe/replay"
	"github.com/bwelab/bwe/traces"
)

// incumbents are the estimators of other code bases that -against names,
// each run in its own synctest bubble because it reads the wall clock.
var incumbents = map[string]func() replay.Estimator{
	"pion": piongcc.Estimator,
}

// incumbentNames lists the names -against accepts.
func incumbentNames() string {
	names := make([]string, 0, len(incumbents))
	for n := range incumbents {
		names = append(names, n)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// runBubbles runs body with a runner of synctest bubbles (bubble.Main);
// tests, which cannot run the test runner again, give their own.
var runBubbles = bubble.Main

// compareRow is one estimator on one scenario in a comparison, with its
// ratios to the first estimator on the same scenario (nil where the first
// estimator's value is 0).
type compareRow struct {
	row
	UtilizationRatio *float64 `json:"utilization_ratio"`
	QueueP95Ratio    *float64 `json:"queue_p95_ratio"`
}

// ratio returns a ÷ b, nil if b is 0.
func ratio(a, b float64) *float64 {
	if b == 0 {
		return nil
	}
	r := a / b
	return &r
}

// compareRows pairs every row with the row of the first estimator on the
// same scenario. rows holds, for each scenario, one row per estimator in
// estimator order.
func compareRows(rows []row, estimators int) []compareRow {
	out := make([]compareRow, len(rows))
	for i, r := range rows {
		first := rows[i-i%estimators]
		out[i] = compareRow{row: r,
			UtilizationRatio: ratio(r.Utilization, first.Utilization),
			QueueP95Ratio:    ratio(r.QueueP95Ms, first.QueueP95Ms),
		}
	}
	return out
}

// compareGroup are the metrics shown per estimator in the wide table by
// default (-metrics).
var compareGroup = []column{
	columnByKey("utilization"), columnByKey("queue_p95_ms"), columnByKey("loss_pct"),
	columnByKey("mean_target_mbps"), columnByKey("score"),
}

// compareLine is one scenario of the wide table: for each estimator the
// values of compareGroup's columns, and for each estimator after the first
// its utilization and p95 queuing-delay ratios to the first (NaN where
// undefined).
type compareLine struct {
	scenario string
	vals     [][]float64
	ratios   [][2]float64
}

// compareLines groups rows (scenario by scenario, one row per estimator;
// a scenario may come once per seed) into one line per scenario name, in
// first-seen order, each value the mean over the seeds; the ratios are
// those of the means.
func compareLines(rows []row, k int, group []column) []compareLine {
	// The ratios need utilization and p95 delay, shown or not.
	cols := append(slices.Clone(group), columnByKey("utilization"), columnByKey("queue_p95_ms"))
	var order []string
	values := map[string][][][]float64{} // scenario → estimator → column → per seed
	for i := 0; i+k <= len(rows); i += k {
		name := rows[i].Scenario
		v, ok := values[name]
		if !ok {
			v = make([][][]float64, k)
			for j := range v {
				v[j] = make([][]float64, len(cols))
			}
			order = append(order, name)
		}
		for j := range k {
			for c, col := range cols {
				v[j][c] = append(v[j][c], col.get(rows[i+j]))
			}
		}
		values[name] = v
	}
	util, q95 := len(cols)-2, len(cols)-1
	out := make([]compareLine, 0, len(order))
	for _, name := range order {
		l := compareLine{scenario: name, vals: make([][]float64, k)}
		for j := range k {
			l.vals[j] = make([]float64, len(cols))
			for c := range cols {
				l.vals[j][c] = math.NaN()
				if st, ok := meanStd(values[name][j][c]); ok {
					l.vals[j][c] = st.Mean
				}
			}
		}
		for j := 1; j < k; j++ {
			l.ratios = append(l.ratios, [2]float64{val(ratio(l.vals[j][util], l.vals[0][util])), val(ratio(l.vals[j][q95], l.vals[0][q95]))})
		}
		for j := range k {
			l.vals[j] = l.vals[j][:len(group)]
		}
		out = append(out, l)
	}
	return out
}

// val returns *p, NaN if p is nil.
func val(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

// writeCompareTable writes the wide table: one line per scenario, a
// column group per estimator, then the ratios of every other estimator to
// the first; a last line gives the mean of each column (the geometric
// mean for ratios).
func writeCompareTable(w io.Writer, lines []compareLine, names []string, group []column) error {
	k := len(names)
	tw := newTable(w)
	var scen []string
	for _, l := range lines {
		scen = append(scen, l.scenario)
	}
	h0, scen := leftColumn("scenario", append(scen, "mean"))
	head := []string{h0}
	for i := range names {
		for _, c := range group {
			head = append(head, fmt.Sprintf("[%d] %s", i+1, c.head))
		}
	}
	for i := 1; i < k; i++ {
		head = append(head, fmt.Sprintf("util [%d]/[1]", i+1), fmt.Sprintf("q95 [%d]/[1]", i+1))
	}
	for i, n := range names {
		fmt.Fprintf(w, "[%d] %s\n", i+1, n)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(tw, strings.Join(head, "\t")+"\t")
	ncols := len(head) - 1
	sums := make([]float64, ncols)
	counts := make([]int, ncols)
	add := func(cells []string, j int, x float64, prec int, geometric bool) []string {
		if math.IsNaN(x) {
			return append(cells, "-")
		}
		if geometric {
			if x > 0 {
				sums[j] += math.Log(x)
				counts[j]++
			}
		} else {
			sums[j] += x
			counts[j]++
		}
		return append(cells, formatNum(x, prec))
	}
	for n, l := range lines {
		cells := []string{scen[n]}
		j := 0
		for i := range k {
			for c, col := range group {
				cells = add(cells, j, l.vals[i][c], col.prec, false)
				j++
			}
		}
		for _, r := range l.ratios {
			cells = add(cells, j, r[0], 3, true)
			cells = add(cells, j+1, r[1], 3, true)
			j += 2
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
	}
	cells := []string{scen[len(scen)-1]}
	groupCols := k * len(group)
	for j := range ncols {
		prec := 3
		if j < groupCols {
			prec = group[j%len(group)].prec
		}
		switch {
		case counts[j] == 0:
			cells = append(cells, "-")
		case j >= groupCols:
			cells = append(cells, formatNum(math.Exp(sums[j]/float64(counts[j])), prec))
		default:
			cells = append(cells, formatNum(sums[j]/float64(counts[j]), prec))
		}
	}
	fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
	return tw.Flush()
}

// writeCompareCSV writes the long format: one record per scenario and
// estimator, every metric, and the ratios to the first estimator.
func writeCompareCSV(w io.Writer, rows []compareRow) error {
	cw := csv.NewWriter(w)
	head := []string{"scenario", "estimator", "seed", "flows", "cross"}
	for _, c := range metricColumns {
		head = append(head, c.key)
	}
	cw.Write(append(head, "utilization_ratio", "queue_p95_ratio"))
	opt := func(p *float64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatFloat(*p, 'f', -1, 64)
	}
	for _, r := range rows {
		rec := []string{r.Scenario, r.Estimator, strconv.FormatUint(r.Seed, 10), strconv.Itoa(r.Flows), strconv.Itoa(r.Cross)}
		for _, c := range metricColumns {
			rec = append(rec, formatCSV(c.get(r.row)))
		}
		cw.Write(append(rec, opt(r.UtilizationRatio), opt(r.QueueP95Ratio)))
	}
	cw.Flush()
	return cw.Error()
}

// parseFormat checks a -format value.
func parseFormat(f string) error {
	switch f {
	case "table", "csv", "json":
		return nil
	}
	return fmt.Errorf("-format %q: want table, csv or json", f)
}

// cmdCompare runs several estimators on the same scenarios.
func cmdCompare(args []string, stdout, stderr io.Writer) int {
	c := newCommand("compare", "", `Runs several estimators (repeat -estimator) closed loop on the same
scenarios, every run in parallel, and prints their metrics side by side:
in a table, one line per scenario with a column group per estimator and
the ratios of utilization and p95 queuing delay to the first estimator's
(a last line averages every column, ratios geometrically); in CSV or
JSON, one record per scenario, seed and estimator. With several -seeds,
a table line gives each metric's mean over the seeds.

-against pion puts pion/interceptor's gcc (gcc.NewSendSideBWE, v0.1.51,
unmodified) first, as the reference of the ratios: it runs through the
same emulator in virtual time, in a synctest bubble per run, with every
packet at its own departure time. Its runs are not bit-reproducible: it
processes each feedback on two goroutines whose order varies.
`)
	var ests estimatorList
	c.fs.Var(&ests, "estimator", estimatorHelp+"\n(repeat: at least two, or one with -against; the first is the reference of the ratios)")
	against := c.fs.String("against", "", "`incumbent` to compare with, first in the table: "+incumbentNames())
	seedsFlag := c.fs.String("seeds", "", "`seeds` to run every scenario with, a list such as 1-5 or 1,3 (default: -seed)")
	var sf scenarioFlags
	sf.register(c.fs, true)
	workers := workersFlag(c.fs)
	format := c.fs.String("format", "table", "output `format`: table, csv or json")
	var metricKeys []string
	for _, col := range compareGroup {
		metricKeys = append(metricKeys, col.key)
	}
	metricsFlag := c.fs.String("metrics", strings.Join(metricKeys, ","), "`metrics` of each estimator's column group in the table, comma-separated keys of the CSV header")
	if code := c.parse(args, stdout, stderr); code >= 0 {
		return code
	}
	var group []column
	for key := range strings.SplitSeq(*metricsFlag, ",") {
		i := slices.IndexFunc(metricColumns, func(c column) bool { return c.key == strings.TrimSpace(key) })
		if i < 0 {
			return c.usageError(stderr, "-metrics: unknown metric %q", key)
		}
		group = append(group, metricColumns[i])
	}
	if *against != "" {
		inc, ok := incumbents[*against]
		if !ok {
			return c.usageError(stderr, "-against %q: want one of %s", *against, incumbentNames())
		}
		if len(ests) == 0 {
			ests = estimatorList{defaultEstimator()}
		}
		ests = append(estimatorList{inc()}, ests...)
	}
	seeds := []uint64{sf.seed}
	if *seedsFlag != "" {
		var err error
		if seeds, err = parseSeeds(*seedsFlag); err != nil {
			return c.usageError(stderr, "-seeds: %v", err)
		}
	}
	switch {
	case len(c.rest) > 0:
		return c.usageError(stderr, "unexpected argument %q", c.rest[0])
	case len(ests) < 2:
		return c.usageError(stderr, "-estimator: give at least two estimators to compare, or one and -against")
	case *workers < 1:
		return c.usageError(stderr, "-j %d: want at least 1", *workers)
	case sf.duration < 0:
		return c.usageError(stderr, "-duration %v: want a positive duration", sf.duration)
	}
	if err := parseFormat(*format); err != nil {
		return c.usageError(stderr, "%v", err)
	}
	res := newResolver(&sf)
	var scenarios []traces.Scenario
	for _, seed := range seeds {
		ss, err := res.resolve(sf.selectors(), seed)
		if err != nil {
			return c.report(stderr, err)
		}
		scenarios = append(scenarios, ss...)
	}
	start := time.Now()
	rows, err := compareAll(scenarios, ests, *workers)
	if err != nil {
		return c.fail(stderr, err)
	}
	cr := compareRows(rows, len(ests))
	switch *format {
	case "csv":
		err = writeCompareCSV(stdout, cr)
	case "json":
		var js []byte
		if js, err = marshalIndent(cr); err == nil {
			_, err = stdout.Write(js)
		}
	default:
		names := make([]string, len(ests))
		for i, e := range ests {
			names[i] = e.Name
		}
		if len(seeds) > 1 {
			fmt.Fprintf(stdout, "Means over %d seeds (%s).\n", len(seeds), formatSeeds(seeds))
		}
		if err = writeCompareTable(stdout, compareLines(rows, len(ests), group), names, group); err == nil {
			fmt.Fprintf(stdout, "\n%d runs in %.1f s wall time on %d workers\n", len(rows), time.Since(start).Seconds(), *workers)
		}
	}
	if err != nil {
		return c.fail(stderr, err)
	}
	return exitOK
}

// compareAll runs compareRuns, in synctest bubbles if an estimator is an
// incumbent.
func compareAll(scenarios []traces.Scenario, ests []replay.Estimator, workers int) ([]row, error) {
	if !slices.ContainsFunc(ests, func(e replay.Estimator) bool { return e.New != nil }) {
		return compareRuns(scenarios, ests, workers, nil, nil)
	}
	var rows []row
	err := runBubbles(func(run bubble.Runner) error {
		var err error
		rows, err = compareRuns(scenarios, ests, workers, run, nil)
		return err
	})
	return rows, err
}

// runIn runs s with e, through inBubble if e is an incumbent (built by
// New), which reads the wall clock.
func runIn(inBubble bubble.Runner, s traces.Scenario, e replay.Estimator) (r *replay.Result, err error) {
	if e.New == nil {
		return replay.Run(s, e)
	}
	inBubble(func() { r, err = replay.Run(s, e) })
	return r, err
}

// compareRuns runs every estimator on every scenario in parallel and
// returns the rows scenario by scenario, estimators in order. Runs of an
// estimator built by New (an incumbent) go through inBubble. progress, if
// set, is told of every finished run.
func compareRuns(scenarios []traces.Scenario, ests []replay.Estimator, workers int, inBubble bubble.Runner, progress func(done, total int)) ([]row, error) {
	k := len(ests)
	type result struct {
		r   row
		err error
	}
	done := 0
	res := parallel(len(scenarios)*k, workers, func(i int) result {
		s, e := scenarios[i/k], ests[i%k]
		r, err := runIn(inBubble, s, e)
		if err != nil {
			return result{err: fmt.Errorf("%s with %s: %w", s.Name, e.Name, err)}
		}
		return result{r: rowOf(r)}
	}, func(int, result) {
		if progress != nil {
			done++
			progress(done, len(scenarios)*k)
		}
	})
	rows := make([]row, len(res))
	for i, x := range res {
		if x.err != nil {
			return nil, x.err
		}
		rows[i] = x.r
	}
	return rows, nil
}
