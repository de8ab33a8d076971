package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bwelab/bwe/traces"
)

// usageErr marks an error in what the user asked for (exit status 2),
// as opposed to a failure while doing it (exit status 1).
type usageErr struct{ error }

// exitCode maps an error to the exit status of a command.
func exitCode(err error) int {
	var u usageErr
	if errors.As(err, &u) {
		return exitUsage
	}
	return exitFail
}

// report prints err in one line and returns its exit status.
func (c *command) report(stderr io.Writer, err error) int {
	if exitCode(err) == exitUsage {
		return c.usageError(stderr, "%v", err)
	}
	return c.fail(stderr, err)
}

// scenarioFlags are the flags that choose scenarios.
type scenarioFlags struct {
	names     stringList
	tracesDir string
	seed      uint64
	duration  time.Duration
}

// register adds -scenario, -traces, -duration and, if withSeed, -seed.
func (f *scenarioFlags) register(fs *flag.FlagSet, withSeed bool) {
	fs.Var(&f.names, "scenario", "`names` of the scenarios to run, comma-separated or repeated: scenario names,\nfamily names ("+strings.Join(traces.Families(), ", ")+"),\nor \"dir\" for a scenario per trace under -traces (default: corpus)")
	fs.StringVar(&f.tracesDir, "traces", traces.EnvDir(), "`directory` of the real capacity traces that are not embedded\n(default $"+traces.EnvVar+")")
	fs.DurationVar(&f.duration, "duration", 0, "run each scenario for this long instead of its own duration: its\ntimeline is cut there (flows that would start later are left out) and\nits warm-up is at most a quarter of the run")
	if withSeed {
		fs.Uint64Var(&f.seed, "seed", 0, "seed of the scenarios' random processes (default: the scenarios' own, 1)")
	}
}

// selectors returns the scenario selectors, split at commas; none means
// the default corpus.
func (f *scenarioFlags) selectors() []string {
	var out []string
	for _, v := range f.names {
		for s := range strings.SplitSeq(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	if len(out) == 0 {
		out = []string{"corpus"}
	}
	return out
}

// dirSelector selects a scenario per trace of the -traces directory.
const dirSelector = "dir"

// resolver turns scenario selectors and names into scenarios. It caches
// what it generates, per seed; it is safe for concurrent use.
type resolver struct {
	tracesDir string
	duration  time.Duration

	mu     sync.Mutex
	dir    map[uint64][]traces.Scenario          // the -traces directory's
	byName map[uint64]map[string]traces.Scenario // every family's
}

func newResolver(f *scenarioFlags) *resolver {
	return &resolver{
		tracesDir: f.tracesDir,
		duration:  f.duration,
		dir:       map[uint64][]traces.Scenario{},
		byName:    map[uint64]map[string]traces.Scenario{},
	}
}

// dirScenarios returns the scenarios of the trace directory for seed.
func (r *resolver) dirScenarios(seed uint64) ([]traces.Scenario, error) {
	if r.tracesDir == "" {
		return nil, usageErr{fmt.Errorf("-scenario dir: no trace directory: set -traces or $%s", traces.EnvVar)}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if s, ok := r.dir[seed]; ok {
		return s, nil
	}
	s, err := traces.TraceScenarios(r.tracesDir, seed, r.duration)
	if err != nil {
		return nil, fmt.Errorf("-traces %s: %w", r.tracesDir, err)
	}
	r.dir[seed] = s
	return s, nil
}

// families returns every generated scenario by name for seed.
func (r *resolver) families(seed uint64) (map[string]traces.Scenario, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if m, ok := r.byName[seed]; ok {
		return m, nil
	}
	m := map[string]traces.Scenario{}
	for _, f := range traces.Families() {
		ss, err := traces.Family(f, seed)
		if err != nil {
			return nil, err
		}
		for _, s := range ss {
			m[s.Name] = s
		}
	}
	r.byName[seed] = m
	return m, nil
}

// expand returns the scenarios a selector names: a family (the default
// corpus is one), every scenario of the trace directory, or one scenario
// by name. seed 0 keeps the scenarios' own seed, 1.
func (r *resolver) expand(sel string, seed uint64) ([]traces.Scenario, error) {
	if seed == 0 {
		seed = 1
	}
	var out []traces.Scenario
	switch {
	case sel == dirSelector:
		s, err := r.dirScenarios(seed)
		if err != nil {
			return nil, err
		}
		out = slices.Clone(s)
	case slices.Contains(traces.Families(), sel):
		s, err := traces.Family(sel, seed)
		if err != nil {
			return nil, err
		}
		out = s
	default:
		s, err := r.lookup(sel, seed)
		if err != nil {
			return nil, err
		}
		out = []traces.Scenario{s}
	}
	for i := range out {
		var err error
		if out[i], err = r.withDuration(out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// lookup returns the scenario called name with the given seed: a
// generated scenario, or one built from the trace directory.
func (r *resolver) lookup(name string, seed uint64) (traces.Scenario, error) {
	m, err := r.families(seed)
	if err != nil {
		return traces.Scenario{}, err
	}
	if s, ok := m[name]; ok {
		return r.withDuration(s)
	}
	if r.tracesDir != "" {
		ts, err := r.dirScenarios(seed)
		if err != nil {
			return traces.Scenario{}, err
		}
		for _, t := range ts {
			if t.Name == name {
				return r.withDuration(t)
			}
		}
	}
	return traces.Scenario{}, usageErr{fmt.Errorf("-scenario: unknown scenario or family %q (families: %s; %s: every trace under -traces)",
		name, strings.Join(traces.Families(), ", "), dirSelector)}
}

// withDuration applies the -duration override d, if any: see
// withDuration.
func (r *resolver) withDuration(s traces.Scenario) (traces.Scenario, error) {
	if r.duration <= 0 {
		return s, nil
	}
	return withDuration(s, r.duration)
}

// withDuration returns s lasting d instead of its own duration, its
// timeline cut at d: the warm-up is at most a quarter of the run; flows
// and cross traffic that would start at or after d are left out, and those
// that would stop after d run to the end. It fails if no media flow is
// left.
func withDuration(s traces.Scenario, d time.Duration) (traces.Scenario, error) {
	if d == s.Duration {
		return s, nil
	}
	s.Duration = d
	s.Warmup = min(s.Warmup, d/4)
	var flows []traces.Flow
	for _, f := range s.Flows {
		if f.Start >= d {
			continue
		}
		if f.Stop > d {
			f.Stop = 0
		}
		flows = append(flows, f)
	}
	if len(s.Flows) > 0 && len(flows) == 0 {
		return s, usageErr{fmt.Errorf("-duration %v: every media flow of %s starts later", d, s.Name)}
	}
	s.Flows = flows
	var cross []traces.Cross
	for _, c := range s.Cross {
		if c.Start >= d {
			continue
		}
		if c.Stop > d {
			c.Stop = 0
		}
		cross = append(cross, c)
	}
	s.Cross = cross
	return s, nil
}

// resolve returns the scenarios the selectors name, in order, each once.
func (r *resolver) resolve(sels []string, seed uint64) ([]traces.Scenario, error) {
	var out []traces.Scenario
	seen := map[string]bool{}
	for _, sel := range sels {
		ss, err := r.expand(sel, seed)
		if err != nil {
			return nil, err
		}
		for _, s := range ss {
			if !seen[s.Name] {
				seen[s.Name] = true
				out = append(out, s)
			}
		}
	}
	return out, nil
}
