package main

import (
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// testGrid is a grid of 2 estimators × 3 scenarios × 4 seeds.
func testGrid() []job {
	specs := []estimatorSpec{{"a", "name=a,detector=trendline"}, {"b", "name=b,detector=kalman"}}
	return grid(specs, []string{"s1", "s2", "rfc/x"}, []uint64{1, 2, 3, 4}, 0)
}

// Across i = 0..n−1, the shards i/n cover every job exactly once, and
// their sizes differ by at most one.
func TestShardPartition(t *testing.T) {
	jobs := testGrid()
	for n := 1; n <= len(jobs)+2; n++ {
		count := map[string]int{}
		lo, hi := len(jobs), 0
		for i := range n {
			sh, err := parseShard(fmt.Sprintf("%d/%d", i, n), nil)
			if err != nil {
				t.Fatal(err)
			}
			part := pick(jobs, sh)
			lo, hi = min(lo, len(part)), max(hi, len(part))
			for _, j := range part {
				count[j.ID()]++
			}
		}
		if len(count) != len(jobs) {
			t.Errorf("n=%d: the shards cover %d of %d jobs", n, len(count), len(jobs))
		}
		for id, c := range count {
			if c != 1 {
				t.Errorf("n=%d: job %s runs %d times", n, id, c)
			}
		}
		if hi-lo > 1 {
			t.Errorf("n=%d: shard sizes from %d to %d", n, lo, hi)
		}
	}
}

// Job ids are unique across the grid, stable, and readable.
func TestJobIDs(t *testing.T) {
	jobs := testGrid()
	seen := map[string]bool{}
	for _, j := range jobs {
		id := j.ID()
		if seen[id] {
			t.Errorf("id %s used twice", id)
		}
		seen[id] = true
		if id != j.ID() {
			t.Errorf("id of %+v changes", j)
		}
		if strings.ContainsAny(id, "/ ,=") || !strings.Contains(id, slug(j.Scenario)) || !strings.Contains(id, j.EstimatorName) {
			t.Errorf("id %q is not a readable file name for %+v", id, j)
		}
	}
	// The duration override is part of the job.
	j := jobs[0]
	j.Duration = time.Second
	if seen[j.ID()] {
		t.Errorf("a job with another duration has the same id %s", j.ID())
	}
	if got := jobs[0].ID(); !strings.HasPrefix(got, "a__s1__s1-") || len(got) != len("a__s1__s1-")+8 {
		t.Errorf("id %q, want a__s1__s1-<hash>", got)
	}
}

func TestParseShardEnv(t *testing.T) {
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	for _, tc := range []struct {
		spec string
		env  func(string) string
		want shard
		err  string
	}{
		{"", env(), shard{0, 1}, ""},
		{"2/5", env(), shard{2, 5}, ""},
		{"0/1", env(), shard{0, 1}, ""},
		{"5/5", env(), shard{}, "not below"},
		{"-1/5", env(), shard{}, "index"},
		{"1/0", env(), shard{}, "count"},
		{"1", env(), shard{}, "i/n"},
		{"a/b", env(), shard{}, "count"},
		{"env/4", env("JOB_COMPLETION_INDEX", "3"), shard{3, 4}, ""},
		{"env/4", env("JOB_COMPLETION_INDEX", "4"), shard{}, "not below"},
		{"env/4", env("JOB_COMPLETION_INDEX", "x"), shard{}, "JOB_COMPLETION_INDEX"},
		{"env/4", env("SLURM_ARRAY_TASK_ID", "2"), shard{2, 4}, ""},
		{"env/4", env("SLURM_ARRAY_TASK_ID", "7", "SLURM_ARRAY_TASK_MIN", "5"), shard{2, 4}, ""},
		{"env/4", env(), shard{}, "neither"},
		{"env", env("SLURM_ARRAY_TASK_ID", "11", "SLURM_ARRAY_TASK_MIN", "10", "SLURM_ARRAY_TASK_COUNT", "3"), shard{1, 3}, ""},
		{"env", env("SLURM_ARRAY_TASK_ID", "0", "SLURM_ARRAY_TASK_COUNT", "8"), shard{0, 8}, ""},
		{"env", env("SLURM_ARRAY_TASK_ID", "3"), shard{}, "SLURM_ARRAY_TASK_COUNT"},
		{"env", env("SLURM_ARRAY_TASK_ID", "1", "SLURM_ARRAY_TASK_MIN", "2", "SLURM_ARRAY_TASK_COUNT", "3"), shard{}, "no shard index"},
		{"env", env("JOB_COMPLETION_INDEX", "1"), shard{}, "env/n"},
	} {
		got, err := parseShard(tc.spec, tc.env)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("parseShard(%q) = %v, %v; want an error with %q", tc.spec, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("parseShard(%q) = %v, %v; want %v", tc.spec, got, err, tc.want)
		}
	}
}

func TestParseSeeds(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []uint64
		err  string
	}{
		{"1-5", []uint64{1, 2, 3, 4, 5}, ""},
		{"7", []uint64{7}, ""},
		{"1,3,10-12", []uint64{1, 3, 10, 11, 12}, ""},
		{" 4 , 2 ", []uint64{4, 2}, ""},
		{"18446744073709551614-18446744073709551615", []uint64{1<<64 - 2, 1<<64 - 1}, ""},
		{"", nil, "empty"},
		{"5-1", nil, "backwards"},
		{"1,1", nil, "twice"},
		{"1-3,2", nil, "twice"},
		{"x", nil, "not an unsigned"},
		{"1-", nil, "not an unsigned"},
		{"-1", nil, "not an unsigned"},
		{"0-99999999", nil, "more than"},
		{"0-65536", nil, "more than"},
	} {
		got, err := parseSeeds(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("parseSeeds(%q) = %v, %v; want an error with %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("parseSeeds(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	if got := formatSeeds([]uint64{1, 2, 3, 4, 5, 9, 11, 12, 3}); got != "1-5,9,11,12,3" {
		t.Errorf("formatSeeds = %q, want 1-5,9,11,12,3", got)
	}
}

// A sweep resumes: complete job files are skipped; missing and broken
// ones run again.
func TestSweepResume(t *testing.T) {
	dir := t.TempDir()
	jobs := testGrid()
	var runs atomic.Int64
	exec := func(j job) ([]byte, error) {
		runs.Add(1)
		return encodeJobFile(j, row{Scenario: j.Scenario, Estimator: j.EstimatorName, Seed: j.Seed, Utilization: float64(j.Seed) / 10}, []byte(`{}`))
	}
	var progress []int
	st, errs := runSweep(dir, jobs, 4, exec, func(done, total int) {
		if total != len(jobs) {
			t.Errorf("progress total %d, want %d", total, len(jobs))
		}
		progress = append(progress, done)
	})
	if errs != nil || st != (sweepStats{Ran: len(jobs)}) || runs.Load() != int64(len(jobs)) {
		t.Fatalf("first sweep: %+v, %v, %d runs; want all %d jobs run", st, errs, runs.Load(), len(jobs))
	}
	if len(progress) != len(jobs)+1 || progress[len(progress)-1] != len(jobs) {
		t.Errorf("progress calls %v, want 0 to %d", progress, len(jobs))
	}
	runs.Store(0)
	st, _ = runSweep(dir, jobs, 4, exec, nil)
	if st != (sweepStats{Skipped: len(jobs)}) || runs.Load() != 0 {
		t.Errorf("second sweep: %+v and %d runs, want every job skipped", st, runs.Load())
	}
	// Remove one file, truncate another (as a crash without the atomic
	// rename would), put another job's content in a third.
	if err := os.Remove(jobPath(dir, jobs[0])); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(jobPath(dir, jobs[1]))
	os.WriteFile(jobPath(dir, jobs[1]), data[:len(data)/2], 0o644)
	other, _ := os.ReadFile(jobPath(dir, jobs[3]))
	os.WriteFile(jobPath(dir, jobs[2]), other, 0o644)
	runs.Store(0)
	st, _ = runSweep(dir, jobs, 4, exec, nil)
	if st != (sweepStats{Ran: 3, Skipped: len(jobs) - 3}) || runs.Load() != 3 {
		t.Errorf("third sweep: %+v and %d runs, want 3 jobs run again", st, runs.Load())
	}
	// No temporary file is left behind.
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("left-over file %s", e.Name())
		}
	}
	// A failing job is reported and leaves no file; the others run.
	dir2 := t.TempDir()
	st, errs = runSweep(dir2, jobs[:4], 2, func(j job) ([]byte, error) {
		if j == jobs[2] {
			return nil, errors.New("boom")
		}
		return exec(j)
	}, nil)
	if st != (sweepStats{Ran: 3, Failed: 1}) || len(errs) != 1 || !strings.Contains(errs[0].Error(), jobs[2].ID()) {
		t.Errorf("sweep with a failing job: %+v, %v", st, errs)
	}
	if _, err := os.Stat(jobPath(dir2, jobs[2])); err == nil {
		t.Errorf("the failed job left a file")
	}
}

func TestMergeStats(t *testing.T) {
	var files []jobFile
	for _, j := range testGrid() {
		files = append(files, jobFile{ID: j.ID(), Job: j, Row: row{Scenario: j.Scenario, Estimator: j.EstimatorName, Seed: j.Seed,
			Utilization: float64(j.Seed), QueueP95Ms: 10}})
	}
	files = append(files, files[0]) // the same job from another directory
	rows := mergeJobs(files)
	if len(rows) != 6 {
		t.Fatalf("%d merged rows, want 2 estimators × 3 scenarios", len(rows))
	}
	// Scenario order of the sweep, then estimators.
	want := []string{"s1/a", "s1/b", "s2/a", "s2/b", "rfc/x/a", "rfc/x/b"}
	for i, r := range rows {
		if got := r.Scenario + "/" + r.Estimator; got != want[i] {
			t.Errorf("row %d is %s, want %s", i, got, want[i])
		}
		// Utilization = seed over 1..4: mean 2.5, sample std √(5/3).
		u := r.Metrics["utilization"]
		if !slices.Equal(r.Seeds, []uint64{1, 2, 3, 4}) || u.Mean != 2.5 || fmt.Sprintf("%.6f", u.Std) != "1.290994" {
			t.Errorf("%s: seeds %v, utilization %+v; want 1-4, 2.5 ± 1.290994", want[i], r.Seeds, u)
		}
		if q := r.Metrics["queue_p95_ms"]; q.Mean != 10 || q.Std != 0 {
			t.Errorf("%s: q95 %+v, want 10 ± 0", want[i], q)
		}
	}
}

// A sweep end to end: sharded over two directories and merged, it gives
// the same merged table as one unsharded sweep; run again, it skips
// everything.
func TestSweepShardMergeCLI(t *testing.T) {
	tmp := t.TempDir()
	one, s0, s1 := filepath.Join(tmp, "one"), filepath.Join(tmp, "s0"), filepath.Join(tmp, "s1")
	args := []string{"sweep", "-scenario", "weak-2mbps-loss5,rfc8867-5.1", "-duration", "6s", "-seeds", "1-3",
		"-estimator", "trendline", "-estimator", "name=kal,detector=kalman"}
	out := mustRun(t, append(args, "-out", one)...)
	if !strings.Contains(out, "12 jobs in the grid") || !strings.Contains(out, "ran 12, skipped 0") {
		t.Errorf("first sweep output:\n%s", out)
	}
	out = mustRun(t, append(args, "-out", one)...)
	if !strings.Contains(out, "ran 0, skipped 12") {
		t.Errorf("a second sweep did not skip every job:\n%s", out)
	}
	t.Setenv("JOB_COMPLETION_INDEX", "1")
	mustRun(t, append(args, "-out", s0, "-shard", "0/2")...)
	out = mustRun(t, append(args, "-out", s1, "-shard", "env/2")...)
	if !strings.Contains(out, "shard 1/2: 6 jobs") {
		t.Errorf("-shard env/2 with JOB_COMPLETION_INDEX=1:\n%s", out)
	}
	table := mustRun(t, "merge", one)
	mustRun(t, "merge", "-out", filepath.Join(tmp, "merged"), s0, s1)
	a, _ := os.ReadFile(filepath.Join(one, "merged.csv"))
	b, _ := os.ReadFile(filepath.Join(tmp, "merged", "merged.csv"))
	if len(a) == 0 || string(a) != string(b) {
		t.Errorf("the merged shards differ from the unsharded sweep:\n%s\n%s", a, b)
	}
	for _, want := range []string{"weak-2mbps-loss5", "rfc8867-5.1", "trendline+likelihood", "kal", " ± ", "12 jobs merged into 4 rows"} {
		if !strings.Contains(table, want) {
			t.Errorf("the merge table lacks %q:\n%s", want, table)
		}
	}
	recs, err := csv.NewReader(strings.NewReader(string(a))).ReadAll()
	if err != nil || len(recs) != 5 || recs[1][2] != "3" || recs[1][3] != "1-3" {
		t.Errorf("merged.csv: %v, %q", err, recs)
	}
	// The merged files in a sweep directory do not count as jobs.
	out = mustRun(t, "merge", one)
	if !strings.Contains(out, "12 jobs merged") {
		t.Errorf("merging again:\n%s", out)
	}
}

func FuzzParseShard(f *testing.F) {
	for _, s := range []string{"", "0/1", "3/8", "env", "env/4", "7/3", "a/b", "1/", "/", "00/01", "+1/2", "1/2/3", "2147483647/2147483648"} {
		f.Add(s, "2", "1", "4")
	}
	f.Fuzz(func(t *testing.T, spec, index, min, count string) {
		getenv := func(k string) string {
			switch k {
			case envK8sIndex, envSlurmID:
				return index
			case envSlurmMin:
				return min
			case envSlurmCount:
				return count
			}
			return ""
		}
		sh, err := parseShard(spec, getenv)
		if err != nil {
			return
		}
		if sh.Count < 1 || sh.Index < 0 || sh.Index >= sh.Count {
			t.Fatalf("parseShard(%q) = %v: not a shard", spec, sh)
		}
		back, err := parseShard(sh.String(), nil)
		if err != nil || back != sh {
			t.Fatalf("parseShard(%q) = %v; its String %q parses as %v, %v", spec, sh, sh.String(), back, err)
		}
	})
}

func FuzzParseSeeds(f *testing.F) {
	for _, s := range []string{"1-5", "1,3,10-12", "7", "", "5-1", "1,1", "0-65535", "18446744073709551615", " 2 ,1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		seeds, err := parseSeeds(s)
		if err != nil {
			return
		}
		if len(seeds) == 0 || len(seeds) > maxSeeds {
			t.Fatalf("parseSeeds(%q) gave %d seeds", s, len(seeds))
		}
		text := formatSeeds(seeds)
		back, err := parseSeeds(text)
		if err != nil || !slices.Equal(back, seeds) {
			t.Fatalf("parseSeeds(%q) = %v; formatted %q parses as %v, %v", s, seeds, text, back, err)
		}
		if formatSeeds(back) != text {
			t.Fatalf("formatSeeds is not stable: %q then %q", text, formatSeeds(back))
		}
	})
}

// Off a terminal, progress is a line at every tenth of the work and at
// the end; on a terminal, a bar redrawn in place.
func TestProgressReporter(t *testing.T) {
	var b strings.Builder
	p := progressReporter(&b, "sweep", false)
	for done := 0; done <= 95; done++ {
		p(done, 95)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 10 || lines[0] != "sweep: 10/95 done" || lines[9] != "sweep: 95/95 done" {
		t.Errorf("progress lines %q, want ten from 10/95 to 95/95", lines)
	}
	b.Reset()
	p = progressReporter(&b, "sweep", true)
	p(0, 4)
	p(2, 4)
	p(4, 4)
	if got := b.String(); strings.Count(got, "\r") != 3 || !strings.HasSuffix(got, "] 4/4\n") || !strings.Contains(got, "[===============               ] 2/4") {
		t.Errorf("progress bar %q", got)
	}
}
