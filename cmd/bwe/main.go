// Command bwe runs the bwe bandwidth estimators through emulated networks
// and recorded traces, and turns the runs into tables, figures and files.
//
// Usage:
//
//	bwe [command] [flags]
//
// Commands:
//
//	run        (the default) the default scenario corpus, in parallel:
//	           a table, figures, JSON and CSV under ./bwe-out
//	simulate   chosen scenarios, families or real capacity traces
//	replay     open-loop replay of a recorded feedback trace
//	compare    several estimators on the same scenarios, side by side
//	sweep      estimators × scenarios × seeds, resumable and shardable
//	merge      the table of one or more sweep directories
//	plot       re-draw figures from a CSV written by the other commands
//	report     compare with pion's gcc everywhere and write docs/results.md
//	train      train and judge the network-state predictors
//
// Run "bwe <command> -h" for the flags of a command. The exit status is 0
// on success, 1 if a run or a file failed, and 2 for a usage error.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

const usage = `bwe runs the bwe bandwidth estimators through emulated networks and
recorded traces.

Usage:

	bwe [command] [flags]

Commands:

	run        (the default, also with no arguments) run the default
	           scenario corpus in parallel with one estimator; print a
	           table and write figures, JSON, CSV and index.html to -out
	simulate   run chosen scenarios, families or real capacity traces
	replay     replay a recorded feedback trace, open loop, through
	           one or more estimators
	compare    run several estimators on the same scenarios and print
	           their metrics side by side
	sweep      run a grid of estimators × scenarios × seeds, resumable,
	           shardable over a cluster (Kubernetes Indexed Job, Slurm)
	merge      merge sweep directories into one table (mean ± std)
	plot       re-draw figures from a CSV written by the other commands
	report     compare with pion's gcc on every scenario and real trace,
	           over several seeds, and write docs/results.md
	train      train and judge the network-state predictors (netstate)
	           on data generated in the emulator

Run "bwe <command> -h" for the flags of a command. Exit status: 0 on
success, 1 if a run or a file failed, 2 for a usage error.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// commands maps a command name to its implementation.
var commands = map[string]func(args []string, stdout, stderr io.Writer) int{
	"run":      cmdRun,
	"simulate": cmdSimulate,
	"replay":   cmdReplay,
	"compare":  cmdCompare,
	"sweep":    cmdSweep,
	"merge":    cmdMerge,
	"plot":     cmdPlot,
	"report":   cmdReport,
	"train":    cmdTrain,
}

// run executes the command line args and returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		return cmdRun(nil, stdout, stderr)
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	if c, ok := commands[args[0]]; ok {
		return c(args[1:], stdout, stderr)
	}
	if strings.HasPrefix(args[0], "-") {
		// Flags alone: the default command.
		return cmdRun(args, stdout, stderr)
	}
	fmt.Fprintf(stderr, "bwe: unknown command %q (see 'bwe -h')\n", args[0])
	return 2
}

// Exit statuses.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// command is the flag set and help text of one subcommand.
type command struct {
	name  string // "simulate"
	args  string // synopsis of the arguments after the flags
	about string // what the command does, as paragraphs
	fs    *flag.FlagSet
	rest  []string // the arguments that are not flags, in order
}

// newCommand returns a command whose flag set reports nothing itself: the
// command prints its help on -h and one line per error.
func newCommand(name, args, about string) *command {
	fs := flag.NewFlagSet("bwe "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &command{name: name, args: args, about: about, fs: fs}
}

// parse parses args, flags and other arguments in any order (after "--",
// everything is an argument); the other arguments go to c.rest. It
// returns -1 if the command should go on, or the exit status: 0 after
// printing the help for -h, 2 after a one-line error on stderr for a bad
// flag.
func (c *command) parse(args []string, stdout, stderr io.Writer) int {
	c.rest = nil
	for {
		err := c.fs.Parse(args)
		switch {
		case errors.Is(err, flag.ErrHelp):
			c.help(stdout)
			return exitOK
		case err != nil:
			fmt.Fprintf(stderr, "bwe %s: %s (see 'bwe %s -h')\n", c.name, oneLine(err.Error()), c.name)
			return exitUsage
		}
		rest := c.fs.Args()
		if len(rest) == 0 {
			return -1
		}
		if i := len(args) - len(rest); i > 0 && args[i-1] == "--" {
			c.rest = append(c.rest, rest...)
			return -1
		}
		c.rest = append(c.rest, rest[0])
		args = rest[1:]
	}
}

// help writes the command's help text and flags to w.
func (c *command) help(w io.Writer) {
	fmt.Fprintf(w, "Usage: bwe %s\n\n%s\nFlags:\n", strings.TrimSpace(c.name+" [flags] "+c.args), c.about)
	c.fs.SetOutput(w)
	c.fs.PrintDefaults()
	c.fs.SetOutput(io.Discard)
}

// usageError reports a usage error in one line and returns exitUsage.
func (c *command) usageError(stderr io.Writer, format string, args ...any) int {
	fmt.Fprintf(stderr, "bwe %s: %s (see 'bwe %s -h')\n", c.name, oneLine(fmt.Sprintf(format, args...)), c.name)
	return exitUsage
}

// fail reports a failure in one line and returns exitFail.
func (c *command) fail(stderr io.Writer, err error) int {
	fmt.Fprintf(stderr, "bwe %s: %s\n", c.name, oneLine(err.Error()))
	return exitFail
}

// oneLine folds a message onto one line.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", "; ")), " ")
}

// stringList is a repeatable string flag whose values may also be
// comma-separated lists.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }

func (l *stringList) Set(v string) error {
	*l = append(*l, v)
	return nil
}
