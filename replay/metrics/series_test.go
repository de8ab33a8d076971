package metrics

import (
	"slices"
	"testing"
	"time"

	"github.com/bwelab/bwe"
)

func TestSeriesAtWindowMean(t *testing.T) {
	s := Series{Step: step, Rates: []bwe.Bitrate{100, -5, 300, 400}}
	if got := s.Duration(); got != 400*time.Millisecond {
		t.Errorf("Duration() = %v, want 400ms", got)
	}
	for _, c := range []struct {
		at   time.Duration
		want bwe.Bitrate
		ok   bool
	}{
		{-1, 0, false}, {0, 100, true}, {99 * time.Millisecond, 100, true},
		{100 * time.Millisecond, 0, true}, // negative reads as 0
		{399 * time.Millisecond, 400, true}, {400 * time.Millisecond, 0, false},
	} {
		if got, ok := s.At(c.at); got != c.want || ok != c.ok {
			t.Errorf("At(%v) = %v, %v, want %v, %v", c.at, got, ok, c.want, c.ok)
		}
	}
	if got := s.Mean(); got != 200 {
		t.Errorf("Mean() = %v, want 200 (negative sample read as 0)", got)
	}
	for _, c := range []struct {
		from, to time.Duration
		want     []bwe.Bitrate
	}{
		{0, time.Second, []bwe.Bitrate{100, -5, 300, 400}},
		{1, 250 * time.Millisecond, []bwe.Bitrate{-5, 300}}, // origin rounds up to 100 ms
		{200 * time.Millisecond, 200 * time.Millisecond, []bwe.Bitrate{}},
		{300 * time.Millisecond, 100 * time.Millisecond, []bwe.Bitrate{}},
		{-time.Hour, 100 * time.Millisecond, []bwe.Bitrate{100}},
		{time.Hour, 2 * time.Hour, []bwe.Bitrate{}},
	} {
		w := s.Window(c.from, c.to)
		if !slices.Equal(w.Rates, c.want) || w.Step != step {
			t.Errorf("Window(%v, %v) = %v, want %v", c.from, c.to, w.Rates, c.want)
		}
	}
	if (Series{Step: 0, Rates: []bwe.Bitrate{1}}).Len() != 0 {
		t.Error("a series with Step 0 has samples")
	}
	if got := (Series{}).Mean(); got != 0 {
		t.Errorf("empty Mean() = %v", got)
	}
}

func TestPhases(t *testing.T) {
	c := Series{Step: time.Second, Rates: []bwe.Bitrate{1, 1, 2, 2, 2, -1, 0, 1}}
	got := Phases(nil, c)
	want := []Phase{
		{0, 2 * time.Second, 1},
		{2 * time.Second, 5 * time.Second, 2},
		{5 * time.Second, 7 * time.Second, 0}, // −1 reads as 0, one phase with the 0
		{7 * time.Second, 8 * time.Second, 1},
	}
	if !slices.Equal(got, want) {
		t.Errorf("Phases = %v, want %v", got, want)
	}
	if got := Phases(got, Series{}); len(got) != 0 {
		t.Errorf("Phases(empty) = %v, want none", got)
	}
}
