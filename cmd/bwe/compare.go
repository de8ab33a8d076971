package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/bwelab/bwe/replay"
	"github.com/bwelab/bwe/traces"
)

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

// compareGroup are the metrics shown per estimator in the wide table.
var compareGroup = []column{
	columnByKey("utilization"), columnByKey("queue_p95_ms"), columnByKey("loss_pct"),
	columnByKey("mean_target_mbps"), columnByKey("score"),
}

// writeCompareTable writes the wide table: one line per scenario, a
// column group per estimator, then the ratios of every other estimator to
// the first; a last line gives the mean of each column (the geometric
// mean for ratios).
func writeCompareTable(w io.Writer, rows []compareRow, names []string) error {
	k := len(names)
	tw := newTable(w)
	var scen []string
	for s := 0; s+k <= len(rows); s += k {
		scen = append(scen, rows[s].Scenario)
	}
	h0, scen := leftColumn("scenario", append(scen, "mean"))
	head := []string{h0}
	for i := range names {
		for _, c := range compareGroup {
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
	val := func(p *float64) float64 {
		if p == nil {
			return math.NaN()
		}
		return *p
	}
	for s := 0; s+k <= len(rows); s += k {
		cells := []string{scen[s/k]}
		j := 0
		for i := range k {
			for _, c := range compareGroup {
				cells = add(cells, j, c.get(rows[s+i].row), c.prec, false)
				j++
			}
		}
		for i := 1; i < k; i++ {
			cells = add(cells, j, val(rows[s+i].UtilizationRatio), 3, true)
			cells = add(cells, j+1, val(rows[s+i].QueueP95Ratio), 3, true)
			j += 2
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
	}
	cells := []string{scen[len(scen)-1]}
	groupCols := k * len(compareGroup)
	for j := range ncols {
		prec := 3
		if j < groupCols {
			prec = compareGroup[j%len(compareGroup)].prec
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
JSON, one record per scenario and estimator.
`)
	var ests estimatorList
	c.fs.Var(&ests, "estimator", estimatorHelp+"\n(repeat: at least two; the first is the reference of the ratios)")
	var sf scenarioFlags
	sf.register(c.fs, true)
	workers := workersFlag(c.fs)
	format := c.fs.String("format", "table", "output `format`: table, csv or json")
	if code := c.parse(args, stdout, stderr); code >= 0 {
		return code
	}
	switch {
	case len(c.rest) > 0:
		return c.usageError(stderr, "unexpected argument %q", c.rest[0])
	case len(ests) < 2:
		return c.usageError(stderr, "-estimator: give at least two estimators to compare")
	case *workers < 1:
		return c.usageError(stderr, "-j %d: want at least 1", *workers)
	case sf.duration < 0:
		return c.usageError(stderr, "-duration %v: want a positive duration", sf.duration)
	}
	if err := parseFormat(*format); err != nil {
		return c.usageError(stderr, "%v", err)
	}
	scenarios, err := newResolver(&sf).resolve(sf.selectors(), sf.seed)
	if err != nil {
		return c.report(stderr, err)
	}
	start := time.Now()
	rows, err := compareRuns(scenarios, ests, *workers)
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
		if err = writeCompareTable(stdout, cr, names); err == nil {
			fmt.Fprintf(stdout, "\n%d runs in %.1f s wall time on %d workers\n", len(rows), time.Since(start).Seconds(), *workers)
		}
	}
	if err != nil {
		return c.fail(stderr, err)
	}
	return exitOK
}

// compareRuns runs every estimator on every scenario in parallel and
// returns the rows scenario by scenario, estimators in order.
func compareRuns(scenarios []traces.Scenario, ests []replay.Estimator, workers int) ([]row, error) {
	k := len(ests)
	type result struct {
		r   row
		err error
	}
	res := parallel(len(scenarios)*k, workers, func(i int) result {
		s, e := scenarios[i/k], ests[i%k]
		r, err := replay.Run(s, e)
		if err != nil {
			return result{err: fmt.Errorf("%s with %s: %w", s.Name, e.Name, err)}
		}
		return result{r: rowOf(r)}
	}, nil)
	rows := make([]row, len(res))
	for i, x := range res {
		if x.err != nil {
			return nil, x.err
		}
		rows[i] = x.r
	}
	return rows, nil
}
