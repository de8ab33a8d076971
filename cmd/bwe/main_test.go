package main

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/bwelab/bwe/replay"
	"github.com/bwelab/bwe/trendline"
)

func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// tableRows returns the rows of the simulate table, header excluded, as
// fields.
func tableRows(t *testing.T, out string) [][]string {
	t.Helper()
	lines := strings.Split(out, "\n")
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "scenario") {
		t.Fatalf("output does not start with the table header:\n%s", out)
	}
	var rows [][]string
	for _, l := range lines[1:] {
		if strings.TrimSpace(l) == "" {
			break
		}
		rows = append(rows, strings.Fields(l))
	}
	return rows
}

// parseSVG checks that path holds well-formed XML with an svg root, and
// counts its polylines.
func parseSVG(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	root, lines := "", 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: not well-formed XML: %v", path, err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			if root == "" {
				root = se.Name.Local
			}
			if se.Name.Local == "polyline" {
				lines++
			}
		}
	}
	if root != "svg" {
		t.Fatalf("%s: root element %q, want svg", path, root)
	}
	return lines
}

func TestSimulateAll(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "plots") // created by the command
	code, out, errOut := runCLI("simulate", "-out", dir)
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	rows := tableRows(t, out)
	want := map[string]bool{}
	for _, s := range replay.Scenarios() {
		for _, name := range trendline.Names() {
			want[s.Name+" "+name] = true
		}
	}
	if len(rows) != len(want) {
		t.Errorf("%d table rows, want %d:\n%s", len(rows), len(want), out)
	}
	for _, r := range rows {
		if len(r) != 8 {
			t.Errorf("row %q has %d columns, want 8", r, len(r))
			continue
		}
		key := r[0] + " " + r[1]
		if !want[key] {
			t.Errorf("unexpected or repeated row %q", key)
		}
		delete(want, key)
		for _, v := range r[2:] {
			if _, err := strconv.ParseFloat(v, 64); err != nil {
				t.Errorf("row %q: %q is not a number", key, v)
			}
		}
		if u, _ := strconv.ParseFloat(r[2], 64); u <= 0 || u > 1 {
			t.Errorf("row %q: utilization %v outside (0, 1]", key, u)
		}
		path := filepath.Join(dir, r[0]+"-"+r[1]+".svg")
		if n := parseSVG(t, path); n != 6 {
			t.Errorf("%s: %d lines, want 6 (capacity, target, delivered, delay-based, loss-based, queuing delay)", path, n)
		}
	}
	for key := range want {
		t.Errorf("no row for %s", key)
	}

	// Same flags, same bytes.
	_, again, _ := runCLI("simulate", "-out", dir)
	if again != out {
		t.Errorf("a second run printed a different table")
	}
}

func TestSimulateOne(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := runCLI("simulate", "-out", dir, "-scenario", "jitter-4M", "-detector", "kalman", "-seed", "3")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	rows := tableRows(t, out)
	if len(rows) != 1 || rows[0][0] != "jitter-4M" || rows[0][1] != "kalman" {
		t.Errorf("rows %q, want one for jitter-4M/kalman", rows)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.svg"))
	if err != nil || len(files) != 1 {
		t.Fatalf("SVG files %v (%v), want one", files, err)
	}
	parseSVG(t, files[0])
	// Another seed draws other jitter.
	_, out1, _ := runCLI("simulate", "-out", dir, "-scenario", "jitter-4M", "-detector", "kalman", "-seed", "1")
	if out1 == out {
		t.Errorf("seeds 1 and 3 gave the same table")
	}
}

// The loss estimator and probing are chosen by flag: on steady-2M, the
// run without probing ramps at 8 %/s and carries less of the link than the
// default run, whose initial probes find the capacity at once.
func TestSimulateParts(t *testing.T) {
	dir := t.TempDir()
	util := func(args ...string) float64 {
		t.Helper()
		args = append([]string{"simulate", "-out", dir, "-scenario", "steady-2M", "-detector", "trendline"}, args...)
		code, out, errOut := runCLI(args...)
		if code != 0 {
			t.Fatalf("%q: exit %d, stderr:\n%s", args, code, errOut)
		}
		rows := tableRows(t, out)
		if len(rows) != 1 {
			t.Fatalf("%q: rows %q, want one", args, rows)
		}
		u, err := strconv.ParseFloat(rows[0][2], 64)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	probing, none := util(), util("-probing=false", "-loss", "classic")
	if none >= probing {
		t.Errorf("utilization without probing %.3f ≥ with probing %.3f", none, probing)
	}
}

func TestUsageAndErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args   []string
		code   int
		stdout string // substring wanted in stdout
		stderr string // substring wanted in stderr
	}{
		{nil, 2, "", "Usage:"},
		{[]string{"-h"}, 0, "simulate", ""},
		{[]string{"help"}, 0, "Usage:", ""},
		{[]string{"replay"}, 2, "", `unknown command "replay"`},
		{[]string{"simulate", "-h"}, 0, "", "-scenario"},
		{[]string{"simulate", "-detector", "nope"}, 2, "", `unknown detector "nope"`},
		{[]string{"simulate", "-scenario", "nope"}, 2, "", `unknown scenario "nope"`},
		{[]string{"simulate", "-loss", "nope"}, 2, "", `unknown loss-based estimator "nope"`},
		{[]string{"simulate", "-seed", "abc"}, 2, "", "-seed"},
		{[]string{"simulate", "-bogus"}, 2, "", "-bogus"},
		{[]string{"simulate", "extra"}, 2, "", `unexpected argument "extra"`},
		{[]string{"simulate", "-out", file, "-scenario", "steady-2M", "-detector", "kalman"}, 1, "", "-out"},
	} {
		code, out, errOut := runCLI(tc.args...)
		if code != tc.code || !strings.Contains(out, tc.stdout) || !strings.Contains(errOut, tc.stderr) {
			t.Errorf("bwe %q: exit %d, stdout %q, stderr %q; want exit %d, stdout with %q, stderr with %q",
				tc.args, code, out, errOut, tc.code, tc.stdout, tc.stderr)
		}
	}
}
