package plot_test

import (
	"fmt"
	"strings"

	"github.com/bwelab/bwe/internal/plot"
)

// Two panels over a shared time axis: rates above, delay below.
func ExampleFigure_WriteSVG() {
	t := []float64{0, 1, 2, 3}
	fig := plot.Figure{
		Title:  "capacity drop",
		XLabel: "time (s)",
		Panels: []plot.Panel{
			{Title: "Rates", YLabel: "Mbps", FromZero: true, Lines: []plot.Line{
				{Name: "capacity", X: t, Y: []float64{1, 1, 0.5, 0.5}},
				{Name: "target", X: t, Y: []float64{0.8, 0.9, 0.6, 0.45}},
			}},
			{Title: "Queuing delay", YLabel: "ms", FromZero: true, Lines: []plot.Line{
				{Name: "queuing delay", X: t, Y: []float64{0, 5, 120, 20}},
			}},
		},
	}
	var b strings.Builder
	if err := fig.WriteSVG(&b); err != nil {
		fmt.Println(err)
		return
	}
	svg := b.String()
	fmt.Println(strings.Count(svg, "<polyline"), "lines in", strings.Count(svg, `<g class="panel">`), "panels")
	// Output: 3 lines in 2 panels
}
