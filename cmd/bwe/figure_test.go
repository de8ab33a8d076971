package main

import (
	"strings"
	"testing"
)

// The estimate gets a line of its own only when a rate controller made
// the encoder's target differ from it; CSVs written before the column
// existed still parse.
func TestSeriesCSVEstimate(t *testing.T) {
	head := "flow,kind,t_s,capacity_bps,target_bps,delivered_bps,queue_ms"
	tests := []struct {
		name, csv string
		decoupled bool
	}{
		{"no column", head + "\na,media,0,1000000,500000,0,0\n", false},
		{"equal", head + ",estimate_bps\na,media,0,1000000,500000,0,0,500000\na,media,0.1,1000000,600000,0,0,600000\n", false},
		{"differs", head + ",estimate_bps\na,media,0,1000000,500000,0,0,500000\na,media,0.1,1000000,600000,0,0,400000\n", true},
	}
	for _, tt := range tests {
		set, err := parseSeriesCSV(strings.NewReader(tt.csv), "x.csv")
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := set.media[0].decoupled(); got != tt.decoupled {
			t.Errorf("%s: decoupled() = %v, want %v", tt.name, got, tt.decoupled)
		}
	}
}
