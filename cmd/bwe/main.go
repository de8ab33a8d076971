// Command bwe runs the bwe bandwidth estimators through emulated networks.
//
// Usage:
//
//	bwe <command> [flags]
//
// Commands:
//
//	simulate   run the delay-based estimator, closed loop, through built-in
//	           bottleneck scenarios with each delay detector; print a table
//	           of metrics and write one SVG plot per run
//
// Run "bwe <command> -h" for the flags of a command. The exit status is 0
// on success, 1 if a run or a file failed, and 2 for a usage error.
package main

import (
	"fmt"
	"io"
	"os"
)

const usage = `bwe runs the bwe bandwidth estimators through emulated networks.

Usage:

	bwe <command> [flags]

Commands:

	simulate   run the delay-based estimator, closed loop, through built-in
	           bottleneck scenarios with each delay detector; print a table
	           of metrics and write one SVG plot per run to -out

Run "bwe <command> -h" for the flags of a command.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the command line args and returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	case "simulate":
		return simulate(args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "bwe: unknown command %q\n\n%s", args[0], usage)
	return 2
}
