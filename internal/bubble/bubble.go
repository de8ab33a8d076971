// Package bubble runs code in testing/synctest bubbles, from tests and
// from ordinary programs.
//
// Code that reads the wall clock (time.Now, timers) cannot be driven by an
// emulator's virtual clock, except inside a synctest bubble: there the
// clock stands still while any goroutine of the bubble runs and jumps to
// the next timer when all of them are blocked, so a single goroutine that
// sleeps until the emulator's next event sees exactly that instant. The
// bench uses it to run estimators from other code bases (pion's gcc) in
// the emulator, packet by packet at their virtual departure times.
//
// The standard library opens a bubble only for a test (synctest.Test
// takes a *testing.T). [Test] returns a [Runner] for a test; [Main] lets a
// command open bubbles by running the testing package's test runner
// in-process on one synthetic test, whose output it hides unless it
// fails. [Main] relies on testing.MainStart, which the testing package
// documents as not covered by the Go 1 compatibility promise; it is kept
// to this package so that a change there is mended in one place.
package bubble

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"reflect"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// A Runner runs f in a new bubble and returns when f and every goroutine
// it started have returned. A bubble's clock starts at midnight UTC,
// 2000-01-01. A Runner may be called from several goroutines at once; the
// bubbles are independent.
type Runner func(f func())

// Test returns a Runner that opens its bubbles in t.
func Test(t *testing.T) Runner {
	return func(f func()) {
		synctest.Test(t, func(*testing.T) { f() })
	}
}

// mainMu keeps calls of Main apart: the test runner is process-wide.
var mainMu sync.Mutex

// Main calls body with a Runner and returns body's error, or an error
// with the test runner's report if the synthetic test failed. It is for
// commands; tests use [Test]. While body runs, os.Stdout is the test
// runner's (body should write to the writers it was given). A bubble
// that deadlocks (every goroutine blocked on something other than time)
// or panics ends the program with a panic, as it ends a test binary.
func Main(body func(Runner) error) error {
	mainMu.Lock()
	defer mainMu.Unlock()
	var err error
	tests := []testing.InternalTest{{Name: "bubble", F: func(t *testing.T) {
		err = body(Test(t))
	}}}
	m := testing.MainStart(deps{}, tests, nil, nil, nil)
	// The test runner parses the command line on first use unless it has
	// been parsed; the command's own flags are not its business.
	if !flag.Parsed() {
		flag.CommandLine.Parse(nil)
	}
	var report bytes.Buffer
	code, capErr := capture(&report, m.Run)
	switch {
	case capErr != nil:
		return fmt.Errorf("bubble: %w", capErr)
	case code != 0:
		return fmt.Errorf("bubble: a bubble failed (exit code %d):\n%s", code, report.Bytes())
	}
	return err
}

// capture runs f with os.Stdout writing to w, where the test runner
// prints; the caller's own writers keep the *os.File they hold.
func capture(w io.Writer, f func() int) (int, error) {
	r, pw, err := os.Pipe()
	if err != nil {
		return 0, err
	}
	done := make(chan struct{})
	go func() {
		io.Copy(w, r)
		r.Close()
		close(done)
	}()
	saved := os.Stdout
	os.Stdout = pw
	code := f()
	os.Stdout = saved
	pw.Close()
	<-done
	return code, nil
}

// corpusEntry is the testing package's fuzz corpus entry, which the test
// runner's dependency interface names structurally.
type corpusEntry = struct {
	Parent     string
	Path       string
	Data       []byte
	Values     []any
	Generation int
	IsSeed     bool
}

var errUnsupported = errors.New("bubble: not supported outside go test")

// deps is the test runner's dependency set for running plain tests: every
// test matches, and profiling, fuzzing and coverage are unavailable.
type deps struct{}

func (deps) MatchString(pat, str string) (bool, error)   { return true, nil }
func (deps) StartCPUProfile(io.Writer) error             { return errUnsupported }
func (deps) StopCPUProfile()                             {}
func (deps) WriteProfileTo(string, io.Writer, int) error { return errUnsupported }
func (deps) ModulePath() string                          { return "" }
func (deps) ImportPath() string                          { return "" }
func (deps) StartTestLog(io.Writer)                      {}
func (deps) StopTestLog() error                          { return nil }
func (deps) SetPanicOnExit0(bool)                        {}
func (deps) CoordinateFuzzing(time.Duration, int64, time.Duration, int64, int, []corpusEntry, []reflect.Type, string, string) error {
	return errUnsupported
}
func (deps) RunFuzzWorker(func(corpusEntry) error) error { return errUnsupported }
func (deps) ReadCorpus(string, []reflect.Type) ([]corpusEntry, error) {
	return nil, errUnsupported
}
func (deps) CheckCorpus([]any, []reflect.Type) error { return nil }
func (deps) ResetCoverage()                          {}
func (deps) SnapshotCoverage()                       {}
func (deps) InitRuntimeCoverage() (string, func(string, string) (string, error), func() float64) {
	return "", nil, nil
}
