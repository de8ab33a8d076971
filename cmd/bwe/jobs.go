package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// This file holds the orchestration the commands share, free of I/O
// policy and of the clock so that tests drive it directly: ordered
// parallel execution, seed lists, the job grid of a sweep, shards and
// resumable job files.

// parallel calls fn(i) for every i in [0, n) on at most workers
// goroutines and returns the results in index order, whatever the order in
// which the calls finish. If done is not nil, it is called once per index
// as calls finish (in completion order), from the calling goroutine, so it
// needs no lock. workers < 1 means 1.
func parallel[T any](n, workers int, fn func(i int) T, done func(i int, v T)) []T {
	out := make([]T, n)
	if n == 0 {
		return out
	}
	workers = min(max(workers, 1), n)
	next := make(chan int)
	finished := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				out[i] = fn(i)
				finished <- i
			}
		}()
	}
	go func() {
		for i := range n {
			next <- i
		}
		close(next)
	}()
	for range n {
		i := <-finished
		if done != nil {
			done(i, out[i])
		}
	}
	wg.Wait()
	return out
}

// maxSeeds bounds the length of a seed list, so that a typo such as
// "1-1000000000" fails instead of allocating gigabytes.
const maxSeeds = 1 << 16

// parseSeeds parses a seed list: comma-separated seeds and inclusive
// ranges, such as "1-5" or "1,3,10-12". Seeds are unsigned 64-bit
// integers; the list keeps the order given, may not name a seed twice and
// holds at most maxSeeds seeds.
func parseSeeds(s string) ([]uint64, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("empty seed list")
	}
	var out []uint64
	seen := map[uint64]bool{}
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.ParseUint(lo, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("seed %q is not an unsigned integer", lo)
		}
		b := a
		if isRange {
			if b, err = strconv.ParseUint(hi, 10, 64); err != nil {
				return nil, fmt.Errorf("seed %q is not an unsigned integer", hi)
			}
			if b < a {
				return nil, fmt.Errorf("seed range %q runs backwards", part)
			}
		}
		if b-a >= maxSeeds || len(out)+int(b-a) >= maxSeeds {
			return nil, fmt.Errorf("seed list %q holds more than %d seeds", s, maxSeeds)
		}
		for x := a; ; x++ {
			if seen[x] {
				return nil, fmt.Errorf("seed %d is listed twice", x)
			}
			seen[x] = true
			out = append(out, x)
			if x == b {
				break
			}
		}
	}
	return out, nil
}

// formatSeeds writes seeds in the syntax of parseSeeds, runs of
// consecutive increasing seeds (three or more) as ranges.
func formatSeeds(seeds []uint64) string {
	var b strings.Builder
	for i := 0; i < len(seeds); {
		j := i
		for j+1 < len(seeds) && seeds[j] != ^uint64(0) && seeds[j+1] == seeds[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		if j-i >= 2 {
			fmt.Fprintf(&b, "%d-%d", seeds[i], seeds[j])
			i = j + 1
			continue
		}
		b.WriteString(strconv.FormatUint(seeds[i], 10))
		i++
	}
	return b.String()
}

// shard selects the part of a job list one worker of a cluster runs: the
// jobs whose index in the list is Index modulo Count.
type shard struct {
	Index, Count int
}

// maxShards bounds the shard count.
const maxShards = 1 << 20

// String returns the shard as "i/n".
func (s shard) String() string { return strconv.Itoa(s.Index) + "/" + strconv.Itoa(s.Count) }

// Environment variables that carry a worker's index in a cluster.
const (
	envK8sIndex   = "JOB_COMPLETION_INDEX"   // Kubernetes Indexed Job, 0-based
	envSlurmID    = "SLURM_ARRAY_TASK_ID"    // Slurm job array task
	envSlurmMin   = "SLURM_ARRAY_TASK_MIN"   // its first task id
	envSlurmCount = "SLURM_ARRAY_TASK_COUNT" // its number of tasks
)

// parseShard parses a shard specification:
//
//	i/n     shard i (0-based) of n
//	env     the index and count from a Slurm job array
//	        (SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN of
//	        SLURM_ARRAY_TASK_COUNT)
//	env/n   the index from JOB_COMPLETION_INDEX (Kubernetes Indexed Job)
//	        or, if unset, SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN; n
//	        shards
//
// The empty string is the whole list, shard 0/1. getenv reads the
// environment (os.Getenv in the command).
func parseShard(s string, getenv func(string) string) (shard, error) {
	if s == "" {
		return shard{0, 1}, nil
	}
	idx, cnt, hasCount := strings.Cut(s, "/")
	if !hasCount && idx != "env" {
		return shard{}, fmt.Errorf("shard %q is not i/n, env or env/n", s)
	}
	var sh shard
	var err error
	if hasCount {
		if sh.Count, err = atoiBounded(cnt, maxShards); err != nil || sh.Count < 1 {
			return shard{}, fmt.Errorf("shard %q: count %q is not an integer in [1, %d]", s, cnt, maxShards)
		}
	}
	switch {
	case idx != "env":
		if sh.Index, err = atoiBounded(idx, maxShards); err != nil {
			return shard{}, fmt.Errorf("shard %q: index %q is not an integer in [0, %d)", s, idx, maxShards)
		}
	case hasCount && getenv(envK8sIndex) != "":
		v := getenv(envK8sIndex)
		if sh.Index, err = atoiBounded(v, maxShards); err != nil {
			return shard{}, fmt.Errorf("shard %q: %s=%q is not a shard index", s, envK8sIndex, v)
		}
	default:
		id, base := getenv(envSlurmID), getenv(envSlurmMin)
		if id == "" {
			if hasCount {
				return shard{}, fmt.Errorf("shard %q: neither %s nor %s is set", s, envK8sIndex, envSlurmID)
			}
			return shard{}, fmt.Errorf("shard %q: %s is not set (use env/n with %s)", s, envSlurmID, envK8sIndex)
		}
		if base == "" {
			base = "0"
		}
		i, err1 := atoiBounded(id, maxShards)
		b, err2 := atoiBounded(base, maxShards)
		if err1 != nil || err2 != nil || i < b {
			return shard{}, fmt.Errorf("shard %q: %s=%q and %s=%q give no shard index", s, envSlurmID, id, envSlurmMin, base)
		}
		sh.Index = i - b
		if !hasCount {
			v := getenv(envSlurmCount)
			if sh.Count, err = atoiBounded(v, maxShards); err != nil || sh.Count < 1 {
				return shard{}, fmt.Errorf("shard %q: %s=%q is not a shard count", s, envSlurmCount, v)
			}
		}
	}
	if sh.Index >= sh.Count {
		return shard{}, fmt.Errorf("shard %q: index %d is not below the count %d", s, sh.Index, sh.Count)
	}
	return sh, nil
}

// atoiBounded parses a decimal integer in [0, limit].
func atoiBounded(s string, limit int) (int, error) {
	n, err := strconv.ParseUint(s, 10, 31)
	if err != nil || n > uint64(limit) {
		return 0, fmt.Errorf("%q is not an integer in [0, %d]", s, limit)
	}
	return int(n), nil
}

// pick returns the items of list that belong to shard s: those whose
// index is s.Index modulo s.Count. Across i = 0..n−1, the shards i/n
// partition the list.
func pick[T any](list []T, s shard) []T {
	var out []T
	for i := s.Index; i < len(list); i += s.Count {
		out = append(out, list[i])
	}
	return out
}

// job is one run of a sweep: an estimator on a scenario with a seed.
type job struct {
	// Estimator is the canonical specification of the estimator, and
	// EstimatorName its label.
	Estimator     string `json:"estimator"`
	EstimatorName string `json:"estimator_name"`
	// Scenario names the scenario, Seed seeds it and Duration, if not 0,
	// overrides its duration.
	Scenario string        `json:"scenario"`
	Seed     uint64        `json:"seed"`
	Duration time.Duration `json:"duration_ns,omitempty"`
	// EstimatorIndex and ScenarioIndex are the positions of the estimator
	// and the scenario in the sweep's lists, for ordering merged tables.
	EstimatorIndex int `json:"estimator_index"`
	ScenarioIndex  int `json:"scenario_index"`
}

// ID returns the job's stable identifier, a readable slug of estimator,
// scenario and seed followed by a hash of everything that defines the
// run: the same job always gets the same ID, on every machine.
func (j job) ID() string {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s\x00%s\x00%d\x00%d", j.Estimator, j.Scenario, j.Seed, int64(j.Duration))
	return fmt.Sprintf("%s__%s__s%d-%08x", slug(j.EstimatorName), slug(j.Scenario), j.Seed, h.Sum64()>>32)
}

// grid returns the jobs of a sweep in a fixed order: estimators, then
// scenarios, then seeds. specs are canonical estimator specifications with
// their names.
func grid(specs []estimatorSpec, scenarios []string, seeds []uint64, d time.Duration) []job {
	var out []job
	for ei, e := range specs {
		for si, s := range scenarios {
			for _, seed := range seeds {
				out = append(out, job{
					Estimator: e.Spec, EstimatorName: e.Name,
					Scenario: s, Seed: seed, Duration: d,
					EstimatorIndex: ei, ScenarioIndex: si,
				})
			}
		}
	}
	return out
}

// estimatorSpec is a parsed estimator as a sweep records it.
type estimatorSpec struct {
	Name string // label
	Spec string // canonical specification
}

// slug turns a name into a file-name fragment: letters, digits and "-_.+"
// kept, anything else replaced by '_'.
func slug(name string) string {
	b := []byte(name)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_.+", c) >= 0) {
			b[i] = '_'
		}
	}
	if len(b) == 0 {
		return "_"
	}
	return string(b)
}

// uniqueSlugs returns one file-name fragment per name, in order, made
// unique by a "-2", "-3"... suffix where two names give the same slug.
func uniqueSlugs(names []string) []string {
	out := make([]string, len(names))
	used := map[string]bool{}
	for i, n := range names {
		s := slug(n)
		for k := 2; used[s]; k++ {
			s = slug(n) + "-" + strconv.Itoa(k)
		}
		used[s] = true
		out[i] = s
	}
	return out
}

// writeAtomic writes data to path through a temporary file in the same
// directory and a rename, so that path holds either nothing, its old
// content or all of data, never a part.
func writeAtomic(path string, data []byte) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// jobFileKind marks a sweep's job file.
const jobFileKind = "bwe-sweep-job"

// jobFile is what a sweep writes for each job: the job, its table row and
// the full result.
type jobFile struct {
	Kind   string          `json:"kind"`
	ID     string          `json:"id"`
	Job    job             `json:"job"`
	Row    row             `json:"row"`
	Result json.RawMessage `json:"result"`
}

// jobPath returns the file of job j under dir.
func jobPath(dir string, j job) string { return filepath.Join(dir, j.ID()+".json") }

// encodeJobFile returns the bytes of a job file.
func encodeJobFile(j job, r row, result []byte) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	err := enc.Encode(jobFile{Kind: jobFileKind, ID: j.ID(), Job: j, Row: r, Result: json.RawMessage(result)})
	return b.Bytes(), err
}

// readJobFile reads the job file at path. ok is false, with no error, for
// a JSON file that is not a job file (an array, an object of another
// kind); malformed JSON is an error naming the file.
func readJobFile(path string) (jf jobFile, ok bool, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return jf, false, err
	}
	if !json.Valid(data) {
		return jf, false, fmt.Errorf("%s: not valid JSON (an interrupted write?)", path)
	}
	if t := bytes.TrimSpace(data); len(t) == 0 || t[0] != '{' {
		return jf, false, nil
	}
	var head struct {
		Kind string `json:"kind"`
	}
	if json.Unmarshal(data, &head) != nil || head.Kind != jobFileKind {
		return jf, false, nil
	}
	if err := json.Unmarshal(data, &jf); err != nil {
		return jf, false, fmt.Errorf("%s: %w", path, err)
	}
	return jf, true, nil
}

// completed reports whether dir holds a complete file for job j: one that
// parses as a job file of that very job.
func completed(dir string, j job) bool {
	jf, ok, err := readJobFile(jobPath(dir, j))
	return err == nil && ok && jf.ID == j.ID() && jf.Job == j
}

// sweepStats counts what a sweep did.
type sweepStats struct {
	Ran, Skipped, Failed int
}

// runSweep runs the jobs not yet complete in dir on at most workers
// goroutines, writing each one's file atomically as it finishes. exec
// runs one job and returns its file's bytes. progress, if not nil, is
// called after every job (done counts skipped ones too). Errors of
// failed jobs are returned in job order; the other jobs still run.
func runSweep(dir string, jobs []job, workers int, exec func(job) ([]byte, error), progress func(done, total int)) (sweepStats, []error) {
	var st sweepStats
	var todo []job
	for _, j := range jobs {
		if completed(dir, j) {
			st.Skipped++
			continue
		}
		todo = append(todo, j)
	}
	done := st.Skipped
	if progress != nil {
		progress(done, len(jobs))
	}
	errs := parallel(len(todo), workers, func(i int) error {
		data, err := exec(todo[i])
		if err != nil {
			return fmt.Errorf("job %s: %w", todo[i].ID(), err)
		}
		return writeAtomic(jobPath(dir, todo[i]), data)
	}, func(int, error) {
		done++
		if progress != nil {
			progress(done, len(jobs))
		}
	})
	var failed []error
	for _, err := range errs {
		if err != nil {
			failed = append(failed, err)
			st.Failed++
		} else {
			st.Ran++
		}
	}
	return st, failed
}

// jobFiles lists the candidate job files of the directories (not their
// subdirectories), in lexical order of path: hidden files and files not
// ending in .json are left out.
func jobFiles(dirs []string) ([]string, error) {
	var out []string
	for _, d := range dirs {
		ents, err := os.ReadDir(d)
		if err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				return nil, fmt.Errorf("%s: %w", d, pe.Err)
			}
			return nil, err
		}
		for _, e := range ents {
			n := e.Name()
			if e.IsDir() || strings.HasPrefix(n, ".") || !strings.HasSuffix(n, ".json") {
				continue
			}
			out = append(out, filepath.Join(d, n))
		}
	}
	slices.Sort(out)
	return out, nil
}
