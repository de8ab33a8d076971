package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gonum.org/v1/plot"
)

// cmdPlot redraws figures from CSV files.
func cmdPlot(args []string, stdout, stderr io.Writer) int {
	c := newCommand("plot", "file.csv...", `Redraws the figure of every CSV file given: a run's time series (the
<scenario>.csv that run, simulate write: rates against the capacity,
queuing delay, loss) or a replay's (replay-<trace>.csv: targets over the
trace's time). Writes <name>.png and <name>.svg to -out.
`)
	out := c.fs.String("out", "", "output `directory` (default: each CSV's own directory)")
	title := c.fs.String("title", "", "figure title (default: the CSV's file name)")
	if code := c.parse(args, stdout, stderr); code >= 0 {
		return code
	}
	if len(c.rest) == 0 {
		return c.usageError(stderr, "no CSV file given")
	}
	if *out != "" {
		if err := os.MkdirAll(*out, 0o755); err != nil {
			return c.fail(stderr, fmt.Errorf("-out: %w", err))
		}
	}
	for _, path := range c.rest {
		base, err := plotCSV(path, *out, *title)
		if err != nil {
			return c.fail(stderr, err)
		}
		fmt.Fprintf(stdout, "%s.png %s.svg\n", base, base)
	}
	return exitOK
}

// plotCSV draws the figure of the CSV at path into dir (the CSV's own
// directory if empty) and returns the figure's path without extension.
func plotCSV(path, dir, title string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	header, err := csv.NewReader(bufio.NewReader(bytes.NewReader(data))).Read()
	if err != nil {
		return "", fmt.Errorf("%s: line 1: not a CSV header: %w", path, err)
	}
	name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	if title == "" {
		title = name
	}
	var panels []*plot.Plot
	switch {
	case slices.Contains(header, "flow") && slices.Contains(header, "kind"):
		set, err := parseSeriesCSV(bytes.NewReader(data), path)
		if err != nil {
			return "", err
		}
		panels, err = seriesFigure(set, title)
		if err != nil {
			return "", err
		}
	case slices.Contains(header, "estimator") && slices.Contains(header, "target_bps"):
		series, err := parseReplayCSV(bytes.NewReader(data), path)
		if err != nil {
			return "", err
		}
		panels, err = replayFigure(series, title)
		if err != nil {
			return "", err
		}
	default:
		return "", fmt.Errorf("%s: line 1: neither a run's series (flow, kind, t_s...) nor a replay's (estimator, t_s, target_bps...)", path)
	}
	if dir == "" {
		dir = filepath.Dir(path)
	}
	base := filepath.Join(dir, name)
	return base, writeFigure(base, panels)
}
