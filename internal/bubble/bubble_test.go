package bubble

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// bubbleStart is where every bubble's clock starts.
var bubbleStart = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// sleepers runs n bubbles in parallel; bubble i sleeps i+1 hours and
// reports its start and the virtual time it slept.
func sleepers(run Runner, n int) []string {
	out := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			run(func() {
				t0 := time.Now()
				time.Sleep(time.Duration(i+1) * time.Hour)
				out[i] = fmt.Sprintf("%s+%v", t0.UTC().Format(time.DateOnly), time.Since(t0))
			})
		})
	}
	wg.Wait()
	return out
}

func checkSleepers(t *testing.T, got []string) {
	t.Helper()
	for i, g := range got {
		want := fmt.Sprintf("%s+%v", bubbleStart.Format(time.DateOnly), time.Duration(i+1)*time.Hour)
		if g != want {
			t.Errorf("bubble %d: started and slept %q, want %q", i, g, want)
		}
	}
}

func TestRunnerFromTest(t *testing.T) {
	start := time.Now()
	checkSleepers(t, sleepers(Test(t), 4))
	if d := time.Since(start); d > time.Minute {
		t.Errorf("10 virtual hours of sleep took %v of real time", d)
	}
}

// The tests of Main run this test binary again with envMain set: TestMain
// then plays an ordinary program calling Main.
const envMain = "BUBBLE_TEST_MAIN"

func TestMain(m *testing.M) {
	switch os.Getenv(envMain) {
	case "sleep":
		var got []string
		err := Main(func(run Runner) error {
			got = sleepers(run, 3)
			return nil
		})
		fmt.Println(strings.Join(got, " "))
		fmt.Println("err:", err)
		os.Exit(0)
	case "deadlock":
		err := Main(func(run Runner) error {
			run(func() { <-make(chan int) })
			return nil
		})
		fmt.Println("err:", err)
		os.Exit(0)
	case "error":
		err := Main(func(Runner) error { return fmt.Errorf("body failed") })
		fmt.Println("err:", err)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runMain runs the test binary as a program with the given mode and
// command-line arguments of its own, and returns its output and exit
// error.
func runMain(t *testing.T, mode string) (string, error) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "compare", "-against", "pion")
	cmd.Env = append(os.Environ(), envMain+"="+mode)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestMainRunsBubbles(t *testing.T) {
	out, err := runMain(t, "sleep")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want := "2000-01-01+1h0m0s 2000-01-01+2h0m0s 2000-01-01+3h0m0s\nerr: <nil>\n"
	if out != want {
		t.Errorf("Main printed %q, want %q (no test runner output on success)", out, want)
	}
}

func TestMainReportsFailures(t *testing.T) {
	out, err := runMain(t, "error")
	if err != nil || out != "err: body failed\n" {
		t.Errorf("a failing body: Main printed %q (exit %v), want its error", out, err)
	}
	// A deadlock fails the bubble's test, which ends the program with a
	// panic naming it, as it ends a test binary.
	out, err = runMain(t, "deadlock")
	if err == nil || !strings.Contains(out, "deadlock: all goroutines in bubble are blocked") || strings.Contains(out, "err:") {
		t.Errorf("a deadlocked bubble: exit %v, output %q; want a panic naming the deadlock", err, out)
	}
}
