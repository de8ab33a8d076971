package main

import (
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/replay"
	"github.com/bwelab/bwe/traces"
)

// row is one line of a results table (replay.Row).
type row = replay.Row

// rowOf summarises a result as a table row.
func rowOf(r *replay.Result) row { return replay.RowOf(r) }

// column is one metric column of a table.
type column struct {
	head  string            // header in text tables
	key   string            // header in CSV, key in JSON
	prec  int               // decimals in text tables
	get   func(row) float64 // the value, NaN if there is none
	table bool              // shown in text tables
}

// optional returns *p, NaN for nil.
func optional(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

// metricColumns are the metric columns of every results table, in order.
var metricColumns = []column{
	{"util", "utilization", 3, func(r row) float64 { return r.Utilization }, true},
	{"media", "media_utilization", 3, func(r row) float64 { return r.MediaUtilization }, false},
	{"util8868", "sampled_utilization", 3, func(r row) float64 { return r.SampledUtilization }, false},
	{"q50 ms", "queue_p50_ms", 1, func(r row) float64 { return r.QueueP50Ms }, true},
	{"q95 ms", "queue_p95_ms", 1, func(r row) float64 { return r.QueueP95Ms }, true},
	{"q99 ms", "queue_p99_ms", 1, func(r row) float64 { return r.QueueP99Ms }, true},
	{"loss %", "loss_pct", 2, func(r row) float64 { return r.LossPct }, true},
	{"resid %", "residual_loss_pct", 2, func(r row) float64 { return r.ResidualLossPct }, false},
	{"goodput", "media_goodput_mbps", 3, func(r row) float64 { return r.MediaGoodputMbps }, false},
	{"Mbps", "mean_target_mbps", 3, func(r row) float64 { return r.MeanTargetMbps }, true},
	{"max Mbps", "max_estimate_mbps", 3, func(r row) float64 { return r.MaxEstimateMbps }, false},
	{"ramp s", "ramp_up_s", 1, func(r row) float64 { return optional(r.RampUpS) }, false},
	{"jain", "jain", 3, func(r row) float64 { return r.Jain }, true},
	{"fair1s", "fairness_1s", 3, func(r row) float64 { return r.Fairness1s }, false},
	{"fair5s", "fairness_5s", 3, func(r row) float64 { return r.Fairness5s }, false},
	{"fair20s", "fairness_20s", 3, func(r row) float64 { return r.Fairness20s }, false},
	{"osc", "oscillation", 3, func(r row) float64 { return r.Oscillation }, true},
	{"cv", "target_cv", 3, func(r row) float64 { return r.TargetCV }, false},
	{"conv s", "convergence_s", 1, func(r row) float64 { return optional(r.ConvergenceS) }, true},
	{"unconv", "unconverged", 0, func(r row) float64 { return float64(r.Unconverged) }, false},
	{"score", "score", 1, func(r row) float64 { return r.Score }, true},
	{"freezes", "freezes", 0, func(r row) float64 { return float64(r.Freezes) }, true},
	{"overuses", "overuses", 0, func(r row) float64 { return float64(r.Overuses) }, false},
}

// tableColumns are the metric columns of text tables.
func tableColumns() []column {
	var out []column
	for _, c := range metricColumns {
		if c.table {
			out = append(out, c)
		}
	}
	return out
}

// formatCSV formats x for a CSV cell: shortest exact form, empty for NaN.
func formatCSV(x float64) string {
	if math.IsNaN(x) {
		return ""
	}
	return strconv.FormatFloat(x, 'f', -1, 64)
}

// formatNum formats x for a text table with prec decimals.
func formatNum(x float64, prec int) string {
	if math.IsNaN(x) {
		return "-"
	}
	return strconv.FormatFloat(x, 'f', prec, 64)
}

// leftColumn pads the cells of column 0 of a text table to one width, so
// that they read left-aligned in a right-aligned tabwriter table.
func leftColumn(head string, cells []string) (string, []string) {
	w := len(head)
	for _, c := range cells {
		w = max(w, len(c))
	}
	out := make([]string, len(cells))
	for i, c := range cells {
		out[i] = fmt.Sprintf("%-*s", w, c)
	}
	return fmt.Sprintf("%-*s", w, head), out
}

// newTable returns a tabwriter for a table whose columns, but for the
// first (see leftColumn), are right-aligned.
func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
}

// scenarioCells returns the scenario names of rows, padded.
func scenarioCells(rows []row) (string, []string) {
	names := make([]string, len(rows))
	for i, r := range rows {
		names[i] = r.Scenario
	}
	return leftColumn("scenario", names)
}

// writeTable writes rows as an aligned text table; withEstimator adds the
// estimator column.
func writeTable(w io.Writer, rows []row, withEstimator bool) error {
	tw := newTable(w)
	h0, names := scenarioCells(rows)
	head := []string{h0}
	if withEstimator {
		head = append(head, "estimator")
	}
	head = append(head, "seed", "flows")
	for _, c := range tableColumns() {
		head = append(head, c.head)
	}
	fmt.Fprintln(tw, strings.Join(head, "\t")+"\t")
	for i, r := range rows {
		cells := []string{names[i]}
		if withEstimator {
			cells = append(cells, r.Estimator)
		}
		flows := strconv.Itoa(r.Flows)
		if r.Cross > 0 {
			flows += "+" + strconv.Itoa(r.Cross)
		}
		cells = append(cells, strconv.FormatUint(r.Seed, 10), flows)
		for _, c := range tableColumns() {
			cells = append(cells, formatNum(c.get(r), c.prec))
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
	}
	return tw.Flush()
}

// writeRowsCSV writes rows as CSV, numbers in their shortest exact form.
func writeRowsCSV(w io.Writer, rows []row) error {
	cw := csv.NewWriter(w)
	head := []string{"scenario", "estimator", "seed", "flows", "cross"}
	for _, c := range metricColumns {
		head = append(head, c.key)
	}
	cw.Write(head)
	for _, r := range rows {
		rec := []string{r.Scenario, r.Estimator, strconv.FormatUint(r.Seed, 10), strconv.Itoa(r.Flows), strconv.Itoa(r.Cross)}
		for _, c := range metricColumns {
			rec = append(rec, formatCSV(c.get(r)))
		}
		cw.Write(rec)
	}
	cw.Flush()
	return cw.Error()
}

// marshalIndent returns v as indented JSON with a final newline.
func marshalIndent(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// outcome is what one closed-loop run produced.
type outcome struct {
	res      *replay.Result
	row      row
	json     []byte // the result, Result.WriteJSON
	csv      []byte // the series, Result.WriteSeriesCSV with loss_pct
	feedback []byte // the first media flow's feedback trace
	err      error
}

// execute runs est on s, recording the first media flow's feedback, and
// encodes the result.
func execute(s traces.Scenario, est replay.Estimator) outcome {
	var fb bytes.Buffer
	w, err := traces.NewFeedbackWriter(&fb, traces.FeedbackHeader{Meta: []traces.FeedbackMeta{
		{Key: "source", Value: "emulator"},
		{Key: "scenario", Value: s.Name},
		{Key: "seed", Value: strconv.FormatUint(s.Seed, 10)},
		{Key: "estimator", Value: est.Name},
	}})
	if err != nil {
		return outcome{err: err}
	}
	res, err := replay.RunRecord(s, est, w)
	if err != nil {
		return outcome{err: err}
	}
	o := outcome{res: res, row: rowOf(res), feedback: fb.Bytes()}
	var js bytes.Buffer
	if err := res.WriteJSON(&js); err != nil {
		return outcome{err: err}
	}
	o.json = js.Bytes()
	loss, err := feedbackLoss(fb.Bytes(), res)
	if err != nil {
		return outcome{err: fmt.Errorf("scenario %q: reading back its feedback: %w", s.Name, err)}
	}
	if o.csv, err = seriesCSV(res, loss); err != nil {
		return outcome{err: err}
	}
	return o
}

// feedbackLoss returns, for every sample of the first media flow, the
// share in percent of the packets sent in the sample's window (the sample
// interval ending at the sample) that the feedback reported lost; NaN
// where the feedback reported none.
func feedbackLoss(trace []byte, r *replay.Result) ([]float64, error) {
	if len(r.Flows) == 0 {
		return nil, nil
	}
	series := r.Flows[0].Series
	sent := make([]int, len(series))
	lost := make([]int, len(series))
	step := bwe.TimeFromDuration(r.Scenario.SampleInterval)
	fr, err := traces.NewFeedbackReader(bytes.NewReader(trace), "feedback")
	if err != nil {
		return nil, err
	}
	defer fr.Close()
	for {
		fb, err := fr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		for _, p := range fb.Packets {
			// Sample i at At covers (At − step, At].
			i := 0
			if step > 0 && p.SendTime > 0 {
				i = int((p.SendTime + step - 1) / step)
			}
			if i < 0 || i >= len(series) {
				continue
			}
			sent[i]++
			if !p.Received {
				lost[i]++
			}
		}
	}
	out := make([]float64, len(series))
	for i := range out {
		out[i] = math.NaN()
		if sent[i] > 0 {
			out[i] = 100 * float64(lost[i]) / float64(sent[i])
		}
	}
	return out, nil
}

// seriesCSV returns r.WriteSeriesCSV with a loss_pct column: loss for
// the rows of the first media flow (written first), empty elsewhere.
func seriesCSV(r *replay.Result, loss []float64) ([]byte, error) {
	var b bytes.Buffer
	if err := r.WriteSeriesCSV(&b); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	out.Grow(b.Len() + 8*len(loss) + 16)
	for i, line := range bytes.SplitAfter(b.Bytes(), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		out.Write(bytes.TrimSuffix(line, []byte("\n")))
		switch {
		case i == 0:
			out.WriteString(",loss_pct")
		case i-1 < len(loss) && !math.IsNaN(loss[i-1]):
			out.WriteByte(',')
			out.WriteString(strconv.FormatFloat(loss[i-1], 'f', -1, 64))
		default:
			out.WriteByte(',')
		}
		out.WriteByte('\n')
	}
	return out.Bytes(), nil
}

// writeFeedbackFile writes a feedback trace to path, gzip-compressed if
// the path ends in ".gz".
func writeFeedbackFile(path string, trace []byte) error {
	if !strings.HasSuffix(path, ".gz") {
		return os.WriteFile(path, trace, 0o644)
	}
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write(trace)
	if err := zw.Close(); err != nil {
		return err
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}
