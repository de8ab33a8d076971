package main

import (
	"io"
	"strings"
	"testing"
)

// Bad flags fail before any session starts, with an error naming the flag.
func TestRunRejects(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-estimator", "quic"}, "-estimator"},
		{[]string{"-spec", "detector=none"}, "unknown detector"},
		{[]string{"-pace", "0.5"}, "WithPacing"},
		{[]string{"-overhead", "-1"}, "WithPacketOverhead"},
		{[]string{"-duration", "1s"}, "-duration"},
		{[]string{"-high", "0"}, "-high"},
	}
	for _, tt := range tests {
		err := run(tt.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("run(%q) = %v, want an error containing %q", tt.args, err, tt.want)
		}
	}
}
