package main

import (
	"encoding/csv"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/bwelab/bwe/internal/bubble"
)

// inTestBubbles makes the commands open their synctest bubbles in t.
func inTestBubbles(t *testing.T) {
	saved := runBubbles
	runBubbles = func(body func(bubble.Runner) error) error { return body(bubble.Test(t)) }
	t.Cleanup(func() { runBubbles = saved })
}

// TestCompareAgainstPion runs pion's gcc first and the default estimator
// second on the ramp-up case, over two seeds: the CSV has a record per
// seed and estimator, and pion's documented 8 %/s ramp-up (about 21 s to
// 0.8 of 2 Mbps) shows against ours, which probes.
func TestCompareAgainstPion(t *testing.T) {
	inTestBubbles(t)
	args := []string{"compare", "-against", "pion", "-scenario", "reference-2mbps", "-seeds", "1-2", "-duration", "30s"}
	out := mustRun(t, args...)
	for _, want := range []string{"Means over 2 seeds (1,2).", "[1] pion-gcc", "[2] trendline+likelihood", "reference-2mbps", "util [2]/[1]"} {
		if !strings.Contains(out, want) {
			t.Errorf("the table lacks %q:\n%s", want, out)
		}
	}
	recs, err := csv.NewReader(strings.NewReader(mustRun(t, append(args, "-format", "csv")...))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1+2*2 {
		t.Fatalf("%d CSV records, want a header and 2 seeds × 2 estimators", len(recs))
	}
	col := slices.Index(recs[0], "ramp_up_s")
	if col < 0 {
		t.Fatalf("no ramp_up_s column in %q", recs[0])
	}
	for i, rec := range recs[1:] {
		est, seed := rec[1], rec[2]
		if want := []string{"pion-gcc", "trendline+likelihood"}[i%2]; est != want {
			t.Errorf("record %d: estimator %q, want %q", i+1, est, want)
		}
		if want := strconv.Itoa(1 + i/2); seed != want {
			t.Errorf("record %d: seed %q, want %s", i+1, seed, want)
		}
		ramp, err := strconv.ParseFloat(rec[col], 64)
		if err != nil {
			t.Errorf("record %d: ramp-up %q", i+1, rec[col])
			continue
		}
		if est == "pion-gcc" && (ramp < 19 || ramp > 24) {
			t.Errorf("pion's gcc ramped up in %.1f s, want about 21 s", ramp)
		}
		if est != "pion-gcc" && ramp > 4 {
			t.Errorf("the default estimator ramped up in %.1f s, want at most 4 s", ramp)
		}
	}
}
