package main

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"image/color"
	"io"
	"math"
	"os"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// A figure is drawn from the CSV the commands write, never from the
// in-memory result, so that "bwe plot" redraws exactly what a run drew.

// flowSeries is the time series of one flow read from a series CSV.
type flowSeries struct {
	name, kind string
	t          []float64 // seconds
	capacity   []float64 // Mbps
	target     []float64 // Mbps (media)
	estimate   []float64 // Mbps (media; NaN in CSVs without the column)
	delivered  []float64 // Mbps
	queue      []float64 // ms (media)
	loss       []float64 // percent (media), NaN where unknown
}

// seriesSet is a series CSV: the media flows, then the cross traffic.
type seriesSet struct {
	media, cross []*flowSeries
}

// csvColumns maps the header of a CSV to column indices.
type csvColumns struct {
	file  string
	index map[string]int
}

func newCSVColumns(file string, header []string, required ...string) (csvColumns, error) {
	c := csvColumns{file: file, index: map[string]int{}}
	for i, h := range header {
		c.index[h] = i
	}
	for _, r := range required {
		if _, ok := c.index[r]; !ok {
			return c, fmt.Errorf("%s: line 1: no %q column", file, r)
		}
	}
	return c, nil
}

// num returns the number in column col of rec (line n), NaN if the
// column is absent or the cell empty.
func (c csvColumns) num(rec []string, n int, col string, scale float64) (float64, error) {
	i, ok := c.index[col]
	if !ok || i >= len(rec) || rec[i] == "" {
		return math.NaN(), nil
	}
	x, err := strconv.ParseFloat(rec[i], 64)
	if err != nil || math.IsInf(x, 0) || math.IsNaN(x) {
		return 0, fmt.Errorf("%s: line %d: column %s: %q is not a number", c.file, n, col, rec[i])
	}
	return x * scale, nil
}

// str returns the text in column col of rec.
func (c csvColumns) str(rec []string, col string) string {
	if i, ok := c.index[col]; ok && i < len(rec) {
		return rec[i]
	}
	return ""
}

// readCSV reads every record of a CSV; errors name the file.
func readCSV(r io.Reader, file string) ([][]string, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	recs, err := cr.ReadAll()
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("%s: line %d: %v", file, pe.Line, pe.Err)
		}
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("%s: empty file, want a CSV header", file)
	}
	return recs, nil
}

// parseSeriesCSV reads a series CSV (replay.SeriesCSVHeader, optionally
// with loss_pct) named file.
func parseSeriesCSV(r io.Reader, file string) (*seriesSet, error) {
	recs, err := readCSV(r, file)
	if err != nil {
		return nil, err
	}
	cols, err := newCSVColumns(file, recs[0], "flow", "kind", "t_s", "capacity_bps", "target_bps", "delivered_bps", "queue_ms")
	if err != nil {
		return nil, err
	}
	set := &seriesSet{}
	byName := map[string]*flowSeries{}
	for k, rec := range recs[1:] {
		n := k + 2
		name, kind := cols.str(rec, "flow"), cols.str(rec, "kind")
		fs := byName[name]
		if fs == nil {
			fs = &flowSeries{name: name, kind: kind}
			byName[name] = fs
			if kind == "media" {
				set.media = append(set.media, fs)
			} else {
				set.cross = append(set.cross, fs)
			}
		}
		var v [7]float64
		for i, c := range []struct {
			col   string
			scale float64
		}{{"t_s", 1}, {"capacity_bps", 1e-6}, {"target_bps", 1e-6}, {"delivered_bps", 1e-6}, {"queue_ms", 1}, {"loss_pct", 1}, {"estimate_bps", 1e-6}} {
			if v[i], err = cols.num(rec, n, c.col, c.scale); err != nil {
				return nil, err
			}
		}
		if math.IsNaN(v[0]) {
			return nil, fmt.Errorf("%s: line %d: column t_s is empty", file, n)
		}
		fs.t = append(fs.t, v[0])
		fs.capacity = append(fs.capacity, v[1])
		fs.target = append(fs.target, v[2])
		fs.delivered = append(fs.delivered, v[3])
		fs.queue = append(fs.queue, v[4])
		fs.loss = append(fs.loss, v[5])
		fs.estimate = append(fs.estimate, v[6])
	}
	if len(set.media)+len(set.cross) == 0 {
		return nil, fmt.Errorf("%s: no samples", file)
	}
	return set, nil
}

// decoupled reports whether the flow's encoder target ever differs from
// its estimate: only then is the estimate drawn as a line of its own.
func (f *flowSeries) decoupled() bool {
	for i := range min(len(f.estimate), len(f.target)) {
		if !math.IsNaN(f.estimate[i]) && f.estimate[i] != f.target[i] {
			return true
		}
	}
	return false
}

// points returns the points (x[i], y[i]) where y[i] is a number.
func points(x, y []float64) plotter.XYs {
	var out plotter.XYs
	for i := range min(len(x), len(y)) {
		if !math.IsNaN(y[i]) && !math.IsNaN(x[i]) {
			out = append(out, plotter.XY{X: x[i], Y: y[i]})
		}
	}
	return out
}

// addLine adds the line through xy to p, with a legend entry if name is
// not empty. It does nothing for fewer than one point.
func addLine(p *plot.Plot, xy plotter.XYs, name string, c color.Color, width vg.Length, dashes []vg.Length, step bool) error {
	if len(xy) == 0 {
		return nil
	}
	l, err := plotter.NewLine(xy)
	if err != nil {
		return err
	}
	l.Color, l.Width, l.Dashes = c, width, dashes
	if step {
		l.StepStyle = plotter.PostStep
	}
	p.Add(l)
	if name != "" {
		p.Legend.Add(name, l)
	}
	return nil
}

// panel returns a new plot with the shared look of every panel.
func panel(title, ylabel string, xmax float64) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = ylabel
	p.X.Min, p.X.Max = 0, xmax
	p.Y.Min = 0
	p.Legend.Top = true
	p.Legend.Left = false
	p.Legend.Padding = vg.Points(1)
	p.X.Tick.Marker = niceTicks{}
	p.Y.Tick.Marker = niceTicks{}
	p.Add(plotter.NewGrid())
	return p
}

// headroom raises the top of p's y axis so that the legend, drawn in the
// top right corner, sits above the data: entries legend lines, each about
// 4 % of a panel's height.
func headroom(p *plot.Plot, entries int) {
	ymax := p.Y.Max // Add has grown it to the data
	if ymax <= 0 || math.IsInf(ymax, 0) {
		return
	}
	p.Y.Max = ymax / (1 - min(0.07*float64(entries), 0.6))
}

// niceTicks places major ticks at 1, 2 or 5 times a power of ten, five to
// ten of them over the axis, labelled in their shortest form.
type niceTicks struct{}

func (niceTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) || math.IsInf(hi-lo, 0) {
		return []plot.Tick{{Value: lo, Label: strconv.FormatFloat(lo, 'g', 4, 64)}}
	}
	span := hi - lo
	step := math.Pow(10, math.Floor(math.Log10(span/5)))
	for _, m := range []float64{1, 2, 5, 10} {
		if span/(step*m) <= 10 {
			step *= m
			break
		}
	}
	var ticks []plot.Tick
	prec := max(0, int(-math.Floor(math.Log10(step)+1e-9)))
	minor := step / 2
	for k := math.Ceil(lo / minor); k*minor <= hi+minor*1e-9; k++ {
		v := k * minor
		if math.Abs(math.Remainder(v, step)) < minor*1e-6 {
			v = math.Round(v/step) * step
			ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', prec, 64)})
		} else {
			ticks = append(ticks, plot.Tick{Value: v})
		}
	}
	return ticks
}

var (
	black = color.Gray{Y: 0}
	gray  = func(i int) color.Color { return color.Gray{Y: uint8(110 + 30*(i%4))} }
)

// seriesFigure returns the panels of a series CSV's figure: rates (the
// capacity, every media flow's target and delivered rate, every cross
// flow's delivered rate), queuing delay, and loss per sample window.
func seriesFigure(set *seriesSet, title string) ([]*plot.Plot, error) {
	xmax := 0.0
	for _, f := range slices.Concat(set.media, set.cross) {
		if n := len(f.t); n > 0 {
			xmax = max(xmax, f.t[n-1])
		}
	}
	if xmax <= 0 {
		xmax = 1
	}
	rates := panel(title, "rate (Mbps)", xmax)
	queue := panel("queuing delay", "ms", xmax)
	loss := panel("loss per sample window", "% of packets sent", xmax)
	loss.X.Label.Text = "time (s)"
	one := len(set.media) == 1

	var capSrc *flowSeries
	if len(set.media) > 0 {
		capSrc = set.media[0]
	} else if len(set.cross) > 0 {
		capSrc = set.cross[0]
	}
	if capSrc != nil {
		if err := addLine(rates, points(capSrc.t, capSrc.capacity), "capacity", black, vg.Points(1.5), nil, true); err != nil {
			return nil, err
		}
	}
	anyLoss := false
	for i, f := range set.media {
		c := plotutil.Color(i)
		tname, dname, qname, lname := f.name+" target", f.name+" delivered", f.name, f.name
		if one {
			tname, dname, qname, lname = "target", "delivered (200 ms)", "", ""
		}
		if err := addLine(rates, points(f.t, f.target), tname, c, vg.Points(1.3), nil, true); err != nil {
			return nil, err
		}
		if f.decoupled() {
			ename := f.name + " estimate"
			if one {
				ename = "estimate"
			}
			if err := addLine(rates, points(f.t, f.estimate), ename, c, vg.Points(0.8), []vg.Length{vg.Points(1), vg.Points(1.5)}, true); err != nil {
				return nil, err
			}
		}
		if err := addLine(rates, points(f.t, f.delivered), dname, c, vg.Points(0.7), []vg.Length{vg.Points(3), vg.Points(2)}, false); err != nil {
			return nil, err
		}
		if err := addLine(queue, points(f.t, f.queue), qname, c, vg.Points(1), nil, false); err != nil {
			return nil, err
		}
		lp := points(f.t, f.loss)
		anyLoss = anyLoss || len(lp) > 0
		if err := addLine(loss, lp, lname, c, vg.Points(1), nil, true); err != nil {
			return nil, err
		}
	}
	if len(set.cross) <= maxCrossLines {
		for i, f := range set.cross {
			if err := addLine(rates, points(f.t, f.delivered), f.name+" ("+f.kind+")", gray(i), vg.Points(0.9), nil, false); err != nil {
				return nil, err
			}
		}
	} else if err := addLine(rates, crossSum(set.cross), fmt.Sprintf("cross traffic (%d flows)", len(set.cross)), gray(0), vg.Points(0.9), nil, false); err != nil {
		return nil, err
	}
	if !anyLoss {
		loss.Title.Text += " (no data)"
		loss.Y.Max = 1
	}
	headroom(rates, 1+2*len(set.media)+min(len(set.cross), maxCrossLines))
	for _, p := range []*plot.Plot{rates, queue, loss} {
		if p.Y.Max <= p.Y.Min {
			p.Y.Max = p.Y.Min + 1
		}
	}
	if len(set.media) > 1 {
		headroom(queue, len(set.media))
		headroom(loss, len(set.media))
	}
	return []*plot.Plot{rates, queue, loss}, nil
}

// maxCrossLines is the most cross flows drawn one by one; more are drawn
// as their sum.
const maxCrossLines = 3

// crossSum returns the sum of the cross flows' delivered rates at the
// instants of the first one (the flows of a run share their sampling
// instants).
func crossSum(cross []*flowSeries) plotter.XYs {
	if len(cross) == 0 {
		return nil
	}
	var out plotter.XYs
	for i, t := range cross[0].t {
		sum, ok := 0.0, false
		for _, f := range cross {
			if i < len(f.delivered) && !math.IsNaN(f.delivered[i]) {
				sum, ok = sum+f.delivered[i], true
			}
		}
		if ok {
			out = append(out, plotter.XY{X: t, Y: sum})
		}
	}
	return out
}

// Figure size.
const (
	figWidth    = 10 * vg.Inch
	panelHeight = 3 * vg.Inch
	pngDPI      = 96
)

// render draws panels stacked vertically on c.
func render(c vg.CanvasSizer, panels []*plot.Plot) {
	grid := make([][]*plot.Plot, len(panels))
	for i, p := range panels {
		grid[i] = []*plot.Plot{p}
	}
	tiles := draw.Tiles{Rows: len(panels), Cols: 1, PadTop: vg.Points(4), PadBottom: vg.Points(4), PadLeft: vg.Points(4), PadRight: vg.Points(8), PadY: vg.Points(10)}
	cv := plot.Align(grid, tiles, draw.New(c))
	for i, p := range panels {
		p.Draw(cv[i][0])
	}
}

// encodeFigure returns the panels as PNG and SVG documents.
func encodeFigure(panels []*plot.Plot) (pngData, svgData []byte, err error) {
	h := panelHeight * vg.Length(len(panels))
	img := vgimg.NewWith(vgimg.UseWH(figWidth, h), vgimg.UseDPI(pngDPI), vgimg.UseBackgroundColor(color.White))
	render(img, panels)
	var pb bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&pb); err != nil {
		return nil, nil, err
	}
	svg := vgsvg.New(figWidth, h)
	render(svg, panels)
	var sb bytes.Buffer
	if _, err := svg.WriteTo(&sb); err != nil {
		return nil, nil, err
	}
	return pb.Bytes(), sb.Bytes(), nil
}

// writeFigure writes the panels to base+".png" and base+".svg".
func writeFigure(base string, panels []*plot.Plot) error {
	pngData, svgData, err := encodeFigure(panels)
	if err != nil {
		return fmt.Errorf("%s: %w", base, err)
	}
	if err := os.WriteFile(base+".png", pngData, 0o644); err != nil {
		return err
	}
	return os.WriteFile(base+".svg", svgData, 0o644)
}

// replaySeries is one estimator's targets in a replay CSV.
type replaySeries struct {
	name                             string
	t, target, delay, lossBased, pct []float64
}

// replayCSVHeader is the header of the CSV "bwe replay" writes.
var replayCSVHeader = []string{"estimator", "t_s", "packets", "lost", "target_bps", "delay_based_bps", "loss_based_bps", "acked_bps", "rtt_ms", "limit", "usage"}

// parseReplayCSV reads a replay CSV named file.
func parseReplayCSV(r io.Reader, file string) ([]*replaySeries, error) {
	recs, err := readCSV(r, file)
	if err != nil {
		return nil, err
	}
	cols, err := newCSVColumns(file, recs[0], "estimator", "t_s", "packets", "lost", "target_bps")
	if err != nil {
		return nil, err
	}
	var out []*replaySeries
	byName := map[string]*replaySeries{}
	for k, rec := range recs[1:] {
		n := k + 2
		name := cols.str(rec, "estimator")
		s := byName[name]
		if s == nil {
			s = &replaySeries{name: name}
			byName[name] = s
			out = append(out, s)
		}
		var v [6]float64
		for i, c := range []struct {
			col   string
			scale float64
		}{{"t_s", 1}, {"target_bps", 1e-6}, {"delay_based_bps", 1e-6}, {"loss_based_bps", 1e-6}, {"packets", 1}, {"lost", 1}} {
			if v[i], err = cols.num(rec, n, c.col, c.scale); err != nil {
				return nil, err
			}
		}
		pct := math.NaN()
		if v[4] > 0 {
			pct = 100 * v[5] / v[4]
		}
		s.t = append(s.t, v[0])
		s.target = append(s.target, v[1])
		s.delay = append(s.delay, v[2])
		s.lossBased = append(s.lossBased, v[3])
		s.pct = append(s.pct, pct)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no samples", file)
	}
	return out, nil
}

// replayFigure returns the panels of a replay: every estimator's target
// over the trace's time, and the loss the trace reports per batch.
func replayFigure(series []*replaySeries, title string) ([]*plot.Plot, error) {
	t0, xmax := math.Inf(1), 0.0
	for _, s := range series {
		if len(s.t) > 0 {
			t0 = min(t0, s.t[0])
			xmax = max(xmax, s.t[len(s.t)-1])
		}
	}
	if math.IsInf(t0, 0) {
		t0 = 0
	}
	rel := func(t []float64) []float64 {
		out := make([]float64, len(t))
		for i, x := range t {
			out[i] = x - t0
		}
		return out
	}
	span := max(xmax-t0, 1e-3)
	targets := panel(title, "target (Mbps)", span)
	loss := panel("loss reported per feedback batch", "% of packets", span)
	loss.X.Label.Text = fmt.Sprintf("time since the first batch, at %.3f s of the trace (s)", t0)
	for i, s := range series {
		if err := addLine(targets, points(rel(s.t), s.target), s.name, plotutil.Color(i), vg.Points(1.2), nil, true); err != nil {
			return nil, err
		}
	}
	headroom(targets, len(series))
	if len(series) > 0 {
		s := series[0]
		if err := addLine(loss, points(rel(s.t), s.pct), "", black, vg.Points(0.8), nil, true); err != nil {
			return nil, err
		}
	}
	return []*plot.Plot{targets, loss}, nil
}
