package main

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/replay"
	"github.com/bwelab/bwe/traces"
)

// cmdReplay replays a recorded feedback trace open loop.
func cmdReplay(args []string, stdout, stderr io.Writer) int {
	c := newCommand("replay", "[trace]", `Replays a recorded feedback trace (docs/trace-format.md; plain or gzip)
open loop through one or more estimators: every estimator sees the same
feedback, batch by batch, whatever its target. Prints a table of the
targets, and writes under -out replay-<trace>.csv (every estimator's state
after every batch), replay-<trace>.json (the results) and a figure of the
targets over time (PNG, SVG). Record a trace with "bwe simulate -record".
`)
	trace := c.fs.String("trace", "", "the feedback trace `file` (or give it as the argument)")
	var ests estimatorList
	c.fs.Var(&ests, "estimator", estimatorHelp+"\n(repeat for several; default the default estimator)")
	out := c.fs.String("out", "bwe-out", "output `directory` (created if missing)")
	workers := workersFlag(c.fs)
	if code := c.parse(args, stdout, stderr); code >= 0 {
		return code
	}
	switch {
	case len(c.rest) > 1 || (len(c.rest) == 1 && *trace != ""):
		return c.usageError(stderr, "give one trace, with -trace or as the argument")
	case len(c.rest) == 1:
		*trace = c.rest[0]
	case *trace == "":
		return c.usageError(stderr, "no trace: give -trace file or the file as the argument")
	}
	if *workers < 1 {
		return c.usageError(stderr, "-j %d: want at least 1", *workers)
	}
	if len(ests) == 0 {
		ests = estimatorList{defaultEstimator()}
	}
	start := time.Now()
	// Check the file once before the parallel replays.
	r, err := traces.OpenFeedback(*trace)
	if err != nil {
		return c.fail(stderr, err)
	}
	r.Close()
	type replayed struct {
		res *replay.ReplayResult
		err error
	}
	results := parallel(len(ests), *workers, func(i int) replayed {
		r, err := traces.OpenFeedback(*trace)
		if err != nil {
			return replayed{err: err}
		}
		defer r.Close()
		res, err := replay.Replay(r, ests[i])
		return replayed{res, err}
	}, nil)
	var res []*replay.ReplayResult
	for _, x := range results {
		if x.err != nil {
			return c.fail(stderr, x.err)
		}
		res = append(res, x.res)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return c.fail(stderr, fmt.Errorf("-out: %w", err))
	}
	base := filepath.Join(*out, "replay-"+slug(traceStem(*trace)))
	data, err := replayCSV(res)
	if err != nil {
		return c.fail(stderr, err)
	}
	if err := os.WriteFile(base+".csv", data, 0o644); err != nil {
		return c.fail(stderr, err)
	}
	js, err := marshalIndent(res)
	if err != nil {
		return c.fail(stderr, err)
	}
	if err := os.WriteFile(base+".json", js, 0o644); err != nil {
		return c.fail(stderr, err)
	}
	series, err := parseReplayCSV(bytes.NewReader(data), base+".csv")
	if err != nil {
		return c.fail(stderr, err)
	}
	panels, err := replayFigure(series, "open-loop replay of "+filepath.Base(*trace))
	if err != nil {
		return c.fail(stderr, err)
	}
	if err := writeFigure(base, panels); err != nil {
		return c.fail(stderr, err)
	}
	if h := res[0].Header; len(h.Meta) > 0 {
		var meta []string
		for _, m := range h.Meta {
			if m.Key != "description" {
				meta = append(meta, m.Key+"="+strconv.Quote(m.Value))
			}
		}
		fmt.Fprintf(stdout, "trace %s: %s\n\n", *trace, strings.Join(meta, " "))
	}
	if err := writeReplayTable(stdout, res); err != nil {
		return c.fail(stderr, err)
	}
	fmt.Fprintf(stdout, "\n%d replays in %.1f s wall time; output in %s.{csv,json,png,svg}\n", len(res), time.Since(start).Seconds(), base)
	return exitOK
}

// traceStem returns the file name of path without its extensions
// (".bfb.gz" and the like).
func traceStem(path string) string {
	base := filepath.Base(path)
	if i := strings.Index(base, "."); i > 0 {
		return base[:i]
	}
	return base
}

// writeReplayTable writes one line per replay.
func writeReplayTable(w io.Writer, res []*replay.ReplayResult) error {
	tw := newTable(w)
	names := make([]string, len(res))
	for i, r := range res {
		names[i] = r.Estimator.Name
	}
	h0, names := leftColumn("estimator", names)
	fmt.Fprintln(tw, h0+"\tbatches\tpackets\tlost %\tmean Mbps\tmin Mbps\tmax Mbps\tfinal Mbps\ttimeouts\tprobes\t")
	for i, r := range res {
		lost, final := 0.0, bwe.Bitrate(0)
		if r.Packets > 0 {
			lost = 100 * float64(r.Lost) / float64(r.Packets)
		}
		if n := len(r.Series); n > 0 {
			final = r.Series[n-1].Target
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.2f\t%.3f\t%.3f\t%.3f\t%.3f\t%d\t%d\t\n", names[i], r.Batches, r.Packets, lost,
			r.MeanTarget.Float()/1e6, r.MinTarget.Float()/1e6, r.MaxTarget.Float()/1e6, final.Float()/1e6,
			r.Stats.Timeouts, r.Stats.ProbesIssued)
	}
	return tw.Flush()
}

// replayCSV returns the series of every replay as CSV (replayCSVHeader).
func replayCSV(res []*replay.ReplayResult) ([]byte, error) {
	var b bytes.Buffer
	cw := csv.NewWriter(&b)
	cw.Write(replayCSVHeader)
	rate := func(r bwe.Bitrate) string { return strconv.FormatInt(int64(r), 10) }
	for _, r := range res {
		for _, s := range r.Series {
			cw.Write([]string{
				r.Estimator.Name,
				strconv.FormatFloat(float64(s.At.Micros())/1e6, 'f', -1, 64),
				strconv.Itoa(s.Packets), strconv.Itoa(s.Lost),
				rate(s.Target), rate(s.DelayBased), rate(s.LossBased), rate(s.Acked),
				strconv.FormatFloat(bwe.Millis(s.RTT), 'f', -1, 64),
				s.Limit.String(), s.Usage.String(),
			})
		}
	}
	cw.Flush()
	return b.Bytes(), cw.Error()
}
