package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/internal/plot"
	"github.com/bwelab/bwe/lossbased"
	"github.com/bwelab/bwe/replay"
	"github.com/bwelab/bwe/traces"
	"github.com/bwelab/bwe/trendline"
)

func detectorNames() string { return strings.Join(trendline.Names(), "|") }

func lossNames() string { return strings.Join(lossbased.Names(), "|") }

func scenarioNames() string {
	var names []string
	for _, s := range replay.Scenarios() {
		names = append(names, s.Name)
	}
	return strings.Join(names, "|")
}

// simulate runs the "simulate" command.
func simulate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "out", "directory to write the SVG plots to (created if missing)")
	scenario := fs.String("scenario", "all", "scenario to run: all|"+scenarioNames())
	detector := fs.String("detector", "all", "delay detector: all|"+detectorNames())
	loss := fs.String("loss", "likelihood", "loss-based estimator: "+lossNames())
	probing := fs.Bool("probing", true, "let the probe controller schedule probe clusters")
	seed := fs.Uint64("seed", 1, "seed of the link's random processes (loss, jitter)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, `Usage: bwe simulate [flags]

Runs the send-side estimator (delay-based, loss-based, probing), closed
loop, through emulated bottleneck scenarios with each delay detector,
prints a table of metrics over the steady part of each run (after its
warm-up) and writes one SVG plot per run, named <scenario>-<detector>.svg,
to the -out directory.

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "bwe simulate: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return 2
	}

	var scenarios []traces.Scenario
	if *scenario == "all" {
		scenarios = replay.Scenarios()
	} else {
		s, err := replay.ScenarioByName(*scenario)
		if err != nil {
			fmt.Fprintf(stderr, "bwe simulate: -scenario: unknown scenario %q (want all|%s)\n", *scenario, scenarioNames())
			return 2
		}
		scenarios = []traces.Scenario{s}
	}
	dets := trendline.Names()
	if *detector != "all" {
		if !slices.Contains(dets, *detector) {
			fmt.Fprintf(stderr, "bwe simulate: -detector: unknown detector %q (want all|%s)\n", *detector, detectorNames())
			return 2
		}
		dets = []string{*detector}
	}
	if !slices.Contains(lossbased.Names(), *loss) {
		fmt.Fprintf(stderr, "bwe simulate: -loss: unknown loss-based estimator %q (want %s)\n", *loss, lossNames())
		return 2
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fmt.Fprintf(stderr, "bwe simulate: -out: %v\n", err)
		return 1
	}

	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\tdetector\tutilization\tqueue p50 (ms)\tqueue p95 (ms)\tloss (%)\tmean target (Mbps)\toveruses")
	var files []string
	for _, s := range scenarios {
		s.Seed = *seed
		for _, name := range dets {
			res, err := replay.Run(s, replay.Estimator{Detector: name, Loss: *loss, NoProbing: !*probing})
			if err != nil {
				fmt.Fprintf(stderr, "bwe simulate: %s with %s: %v\n", s.Name, name, err)
				return 1
			}
			m := res.Flows[0].Metrics
			fmt.Fprintf(tw, "%s\t%s\t%.3f\t%.1f\t%.1f\t%.2f\t%.3f\t%d\n",
				s.Name, name, m.Utilization, bwe.Millis(m.QueueP50), bwe.Millis(m.QueueP95),
				100*m.LossRate, m.MeanTarget.Float()/1e6, m.Overuses)
			path := filepath.Join(*out, s.Name+"-"+name+".svg")
			if err := writePlot(path, name, res); err != nil {
				fmt.Fprintf(stderr, "bwe simulate: %v\n", err)
				return 1
			}
			files = append(files, path)
		}
	}
	if err := tw.Flush(); err != nil {
		fmt.Fprintf(stderr, "bwe simulate: %v\n", err)
		return 1
	}
	plots := "plots"
	if len(files) == 1 {
		plots = "plot"
	}
	fmt.Fprintf(stdout, "\nMetrics cover the steady part of each run (after its warm-up).\n%d SVG %s written to %s\n", len(files), plots, *out)
	return 0
}

// writePlot writes the rates and queuing-delay panels of res to path.
func writePlot(path, detector string, res *replay.Result) error {
	n := len(res.Flows[0].Series)
	t := make([]float64, n)
	capacity, target, delivered, queue := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	delay, loss := make([]float64, n), make([]float64, n)
	for i, s := range res.Flows[0].Series {
		t[i] = float64(s.At.Micros()) / 1e6
		capacity[i] = s.Capacity.Float() / 1e6
		target[i] = s.Target.Float() / 1e6
		delay[i] = s.DelayBased.Float() / 1e6
		loss[i] = s.LossBased.Float() / 1e6
		delivered[i] = s.Delivered.Float() / 1e6
		queue[i] = bwe.Millis(s.QueueDelay)
	}
	m := res.Flows[0].Metrics
	fig := plot.Figure{
		Title: fmt.Sprintf("%s, %s detector: utilization %.3f, queuing p95 %.1f ms, loss %.2f %%",
			res.Scenario.Name, detector, m.Utilization, bwe.Millis(m.QueueP95), 100*m.LossRate),
		XLabel: "time (s)",
		Panels: []plot.Panel{
			{
				Title:    "Rates",
				YLabel:   "Mbps",
				FromZero: true,
				Lines: []plot.Line{
					{Name: "capacity", X: t, Y: capacity},
					{Name: "target", X: t, Y: target},
					{Name: "delivered (200 ms)", X: t, Y: delivered},
					{Name: "delay-based", X: t, Y: delay},
					{Name: "loss-based", X: t, Y: loss},
				},
			},
			{
				Title:    "Queuing delay (one-way delay − base delay)",
				YLabel:   "ms",
				FromZero: true,
				Lines:    []plot.Line{{Name: "queuing delay", X: t, Y: queue}},
			},
		},
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := fig.WriteSVG(f); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Close()
}
