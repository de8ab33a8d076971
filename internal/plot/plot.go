package plot

import (
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Line is one data series: points (X[i], Y[i]) joined in order. Points
// with a NaN or infinite coordinate, or one beyond ±1e300, are skipped.
type Line struct {
	Name string
	X, Y []float64
}

// Panel is one chart of a [Figure].
type Panel struct {
	// Title is printed above the panel.
	Title string
	// YLabel names the y axis and its unit.
	YLabel string
	// FromZero makes the y axis start at 0 (or end there, if every value
	// is negative).
	FromZero bool
	Lines    []Line
}

// Figure is a stack of panels sharing one x axis.
type Figure struct {
	Title  string
	XLabel string
	// Width is the width of the document in pixels; default 900.
	Width int
	// PanelHeight is the height of each panel's plotting area in pixels;
	// default 260.
	PanelHeight int
	Panels      []Panel
}

// palette holds the line colours, used in turn within each panel.
var palette = []string{"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"}

// Layout, in pixels.
const (
	marginLeft   = 70
	marginRight  = 20
	titleHeight  = 34
	panelTitle   = 26
	panelGap     = 46
	xAxisHeight  = 44
	fontSize     = 12
	legendSwatch = 22
)

// WriteSVG writes f as an SVG document. It returns an error if a line's X
// and Y differ in length or the sizes are negative, and any error of w.
func (f Figure) WriteSVG(w io.Writer) error {
	width, ph := f.Width, f.PanelHeight
	if width == 0 {
		width = 900
	}
	if ph == 0 {
		ph = 260
	}
	if width < marginLeft+marginRight+10 || ph < 20 {
		return fmt.Errorf("plot: figure %dx%d is too small", width, ph)
	}
	for i, p := range f.Panels {
		for _, l := range p.Lines {
			if len(l.X) != len(l.Y) {
				return fmt.Errorf("plot: panel %d, line %q: %d x values but %d y values", i, l.Name, len(l.X), len(l.Y))
			}
		}
	}

	// Shared x range.
	xr := newRange()
	for _, p := range f.Panels {
		for _, l := range p.Lines {
			for i := range l.X {
				if finite(l.X[i]) && finite(l.Y[i]) {
					xr.add(l.X[i])
				}
			}
		}
	}
	xTicks := xr.ticks(false, false, width/90)
	plotW := float64(width - marginLeft - marginRight)

	height := titleHeight + len(f.Panels)*(panelTitle+ph+panelGap) + xAxisHeight - panelGap
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>`+"\n")
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="%d">`+"\n",
		width, height, width, height, fontSize)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", width, height)
	fmt.Fprintf(&b, `<text x="%d" y="22" text-anchor="middle" font-size="15" font-weight="bold">%s</text>`+"\n", width/2, esc(f.Title))

	top := titleHeight
	for i, p := range f.Panels {
		top += panelTitle
		last := i == len(f.Panels)-1
		f.drawPanel(&b, p, top, ph, plotW, xTicks, last)
		top += ph + panelGap
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// drawPanel draws panel p whose plotting area starts at y = top.
func (f Figure) drawPanel(b *strings.Builder, p Panel, top, ph int, plotW float64, xt axis, last bool) {
	yr := newRange()
	for _, l := range p.Lines {
		for i := range l.Y {
			if finite(l.X[i]) && finite(l.Y[i]) {
				yr.add(l.Y[i])
			}
		}
	}
	yt := yr.ticks(p.FromZero, true, 6)
	left, bottom := float64(marginLeft), float64(top+ph)
	sx := func(x float64) float64 { return left + (x-xt.lo)/(xt.hi-xt.lo)*plotW }
	sy := func(y float64) float64 { return bottom - (y-yt.lo)/(yt.hi-yt.lo)*float64(ph) }

	fmt.Fprintf(b, `<g class="panel">`+"\n")
	fmt.Fprintf(b, `<text x="%d" y="%d" font-size="13" font-weight="bold">%s</text>`+"\n", marginLeft, top-8, esc(p.Title))

	// Grid and ticks.
	for _, v := range yt.values {
		y := sy(v)
		fmt.Fprintf(b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#e0e0e0"/>`+"\n", num(left), num(y), num(left+plotW), num(y))
		fmt.Fprintf(b, `<text x="%s" y="%s" text-anchor="end">%s</text>`+"\n", num(left-6), num(y+4), yt.label(v))
	}
	for _, v := range xt.values {
		x := sx(v)
		fmt.Fprintf(b, `<line x1="%s" y1="%d" x2="%s" y2="%s" stroke="#e0e0e0"/>`+"\n", num(x), top, num(x), num(bottom))
		fmt.Fprintf(b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="black"/>`+"\n", num(x), num(bottom), num(x), num(bottom+5))
		if last {
			fmt.Fprintf(b, `<text x="%s" y="%s" text-anchor="middle">%s</text>`+"\n", num(x), num(bottom+18), xt.label(v))
		}
	}
	// Axes.
	fmt.Fprintf(b, `<rect x="%s" y="%d" width="%s" height="%d" fill="none" stroke="black"/>`+"\n", num(left), top, num(plotW), ph)
	fmt.Fprintf(b, `<text transform="translate(16 %s) rotate(-90)" text-anchor="middle">%s</text>`+"\n", num(float64(top)+float64(ph)/2), esc(p.YLabel))
	if last {
		fmt.Fprintf(b, `<text x="%s" y="%s" text-anchor="middle">%s</text>`+"\n", num(left+plotW/2), num(bottom+36), esc(f.XLabel))
	}

	// Lines, clipped to the plotting area by construction of the ranges.
	for i, l := range p.Lines {
		color := palette[i%len(palette)]
		var pts strings.Builder
		for k := range l.X {
			if !finite(l.X[k]) || !finite(l.Y[k]) {
				continue
			}
			if pts.Len() > 0 {
				pts.WriteByte(' ')
			}
			pts.WriteString(num(sx(l.X[k])))
			pts.WriteByte(',')
			pts.WriteString(num(sy(l.Y[k])))
		}
		fmt.Fprintf(b, `<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"><title>%s</title></polyline>`+"\n",
			color, pts.String(), esc(l.Name))
	}

	// Legend, right-aligned on the panel's title row, last entry rightmost.
	x := left + plotW
	y := float64(top) - 12
	for i := len(p.Lines) - 1; i >= 0; i-- {
		name := p.Lines[i].Name
		x -= float64(len([]rune(name))*7 + legendSwatch + 18)
		fmt.Fprintf(b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="2.5"/>`+"\n",
			num(x), num(y), num(x+legendSwatch), num(y), palette[i%len(palette)])
		fmt.Fprintf(b, `<text x="%s" y="%s">%s</text>`+"\n", num(x+legendSwatch+5), num(y+4), esc(name))
	}
	b.WriteString("</g>\n")
}

// dataRange accumulates the extent of finite values.
type dataRange struct{ lo, hi float64 }

func newRange() dataRange { return dataRange{lo: math.Inf(1), hi: math.Inf(-1)} }

func (r *dataRange) add(v float64) {
	r.lo = math.Min(r.lo, v)
	r.hi = math.Max(r.hi, v)
}

// axis is a range rounded out to tick positions.
type axis struct {
	lo, hi   float64
	values   []float64
	decimals int
	exp      bool // label in exponent form: the values are huge or tiny
}

// ticks returns an axis covering r with about n ticks at a nice step,
// from zero if fromZero, with some room beyond the data if headroom.
func (r dataRange) ticks(fromZero, headroom bool, n int) axis {
	lo, hi := r.lo, r.hi
	if lo > hi { // no data
		lo, hi = 0, 1
	}
	if fromZero {
		lo, hi = math.Min(lo, 0), math.Max(hi, 0)
	}
	if hi == lo {
		lo, hi = lo-1, hi+1
		if fromZero && r.lo >= 0 {
			lo = 0
		}
	}
	if headroom {
		// Keep lines off the frame: 4 % more room beyond the data, on the
		// side or sides not pinned at zero.
		pad := 0.04 * (hi - lo)
		if !(fromZero && lo == 0) {
			lo -= pad
		}
		if !(fromZero && hi == 0) {
			hi += pad
		}
	}
	n = max(n, 2)
	// A step below 1e-12 of the magnitude would not move a float64 tick.
	mag := math.Max(math.Abs(lo), math.Abs(hi))
	step := niceStep(math.Max((hi-lo)/float64(n), mag*1e-12))
	a := axis{lo: math.Floor(lo/step) * step, hi: math.Ceil(hi/step) * step}
	a.decimals = max(0, -int(math.Floor(math.Log10(step)+1e-9)))
	a.exp = a.decimals > 6 || mag >= 1e9
	for i := 0; i <= 4*n; i++ {
		v := a.lo + float64(i)*step
		if v > a.hi+step/2 {
			break
		}
		a.values = append(a.values, v)
	}
	return a
}

// niceStep returns 1, 2 or 5 times a power of ten, at least raw.
func niceStep(raw float64) float64 {
	if !(raw > 0) || math.IsInf(raw, 0) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw*(1-1e-9) {
			return m * p
		}
	}
	return 10 * p
}

func (a axis) label(v float64) string {
	if a.exp {
		return strconv.FormatFloat(v, 'g', 6, 64)
	}
	if math.Abs(v) < 1e-12 {
		v = 0
	}
	return strconv.FormatFloat(v, 'f', a.decimals, 64)
}

// num formats a pixel coordinate.
func num(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// maxAbs bounds the coordinates a figure draws, so that no range
// arithmetic overflows.
const maxAbs = 1e300

// finite reports whether v can be drawn: not NaN, and within ±maxAbs.
func finite(v float64) bool { return v >= -maxAbs && v <= maxAbs }

// esc escapes text for XML character data and attribute values; characters
// XML cannot carry (invalid UTF-8, most control characters) become U+FFFD.
func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s)) // a strings.Builder never fails
	return b.String()
}
