//go:build unix

package bench

import "syscall"

const cpuTimeKnown = true

// cpuTime returns the CPU time the process has used (user and system),
// in ns.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
