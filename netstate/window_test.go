package netstate

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/bwelab/bwe"
)

// series returns n steps of 100 packets without loss, step i ending at
// i+1 seconds, with feature 0 equal to i.
func series(n int) []Step {
	s := make([]Step, n)
	for i := range s {
		s[i] = Step{At: bwe.Time(int64(i+1) * 1e6), F: Features{float64(i) / 8}, Packets: 100}
	}
	return s
}

func TestWindowsLabels(t *testing.T) {
	s := series(25)
	s[16].Loss = 0.15                   // 15 of 100 lost
	s[21].Packets = 0                   // no feedback
	s[22].Loss, s[22].Packets = 0.5, 10 // 5 of 10
	s[23].Loss = 0.03                   // 3 of 100
	ws, err := Windows(s, "run", WindowConfig{})
	if err != nil {
		t.Fatal(err)
	}
	// Horizon of window i: steps i+15 … i+19.
	want := []struct {
		label bool
		loss  string
	}{
		{true, "15/500"}, {true, "15/500"}, {false, "0/400"}, {false, "5/310"}, {true, "8/310"}, {true, "8/310"},
	}
	if len(ws) != len(want) {
		t.Fatalf("Windows made %d windows, want %d", len(ws), len(want))
	}
	for i, w := range ws {
		if w.Label != want[i].label {
			t.Errorf("window %d: Label = %v, want %v (horizon loss %s)", i, w.Label, want[i].label, want[i].loss)
		}
		if len(w.X) != 15 || w.X[0] != s[i].F || w.X[14] != s[i+14].F {
			t.Errorf("window %d: X does not hold steps %d … %d", i, i, i+14)
		}
		if w.Group != "run" || w.At != s[i+14].At {
			t.Errorf("window %d: Group %q, At %v; want run, %v", i, w.Group, w.At, s[i+14].At)
		}
	}
}

func TestWindowsEdges(t *testing.T) {
	// Exactly 2 % is not above the threshold.
	s := series(3)
	s[1].Loss, s[1].Packets = 0.02, 50
	s[2].Loss, s[2].Packets = 0.02, 50
	ws, err := Windows(s, "g", WindowConfig{Steps: 1, Horizon: 2})
	if err != nil || len(ws) != 1 || ws[0].Label {
		t.Errorf("horizon loss exactly 2 %%: %+v, %v; want one window labelled false", ws, err)
	}
	// A horizon without packets is skipped; NaN loss counts as 0 and
	// loss above 1 as 1.
	s = series(6)
	s[2].Packets, s[3].Packets = 0, -5
	s[5].Loss = math.NaN()
	s[4].Loss = 7
	ws, err = Windows(s, "g", WindowConfig{Steps: 1, Horizon: 2})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range ws {
		got = append(got, fmt.Sprintf("%v:%v", w.At, w.Label))
	}
	// Windows ending at 1 s (horizon steps 1, 2: 0/100), 2 s (steps 2, 3:
	// no packets, skipped), 3 s (steps 3, 4: 100/100), 4 s (steps 4, 5:
	// 100/200).
	if want := []string{"1.000000s:false", "3.000000s:true", "4.000000s:true"}; !slices.Equal(got, want) {
		t.Errorf("windows = %v, want %v", got, want)
	}
	// Stride 2 keeps every other start; a series shorter than one window
	// and its horizon gives none.
	if ws, _ := Windows(series(25), "g", WindowConfig{Stride: 2}); len(ws) != 3 || ws[1].At != bwe.Time(17e6) {
		t.Errorf("stride 2: %d windows, want 3 ending at 15, 17, 19 s", len(ws))
	}
	if ws, err := Windows(series(19), "g", WindowConfig{}); len(ws) != 0 || err != nil {
		t.Errorf("19 steps: %d windows, %v; want none", len(ws), err)
	}
	// Features are sanitized.
	s = series(3)
	s[0].F[FeatLoss] = math.NaN()
	if ws, _ := Windows(s, "g", WindowConfig{Steps: 1, Horizon: 1}); ws[0].X[0][FeatLoss] != 0 {
		t.Errorf("NaN loss feature kept: %v", ws[0].X[0])
	}
}

func TestWindowConfigErrors(t *testing.T) {
	for _, tt := range []struct {
		cfg  WindowConfig
		want string
	}{
		{WindowConfig{Steps: 300}, "netstate: WindowConfig.Steps 300 is not in [1, 256]"},
		{WindowConfig{Horizon: -1}, "netstate: WindowConfig.Horizon -1 is below 1"},
		{WindowConfig{Stride: -2}, "netstate: WindowConfig.Stride -2 is below 1"},
		{WindowConfig{LossRate: 1}, "netstate: WindowConfig.LossRate 1 is not in (0, 1)"},
		{WindowConfig{LossRate: math.NaN()}, "netstate: WindowConfig.LossRate NaN is not in (0, 1)"},
		{WindowConfig{MinPackets: -1}, "netstate: WindowConfig.MinPackets -1 is below 1"},
	} {
		if _, err := Windows(series(30), "g", tt.cfg); err == nil || err.Error() != tt.want {
			t.Errorf("Windows(%+v) error = %v, want %q", tt.cfg, err, tt.want)
		}
	}
}

func groupWindows() []Window {
	var ws []Window
	for g := range 10 {
		for i := range 3 {
			ws = append(ws, Window{Group: string(rune('a' + g)), At: bwe.Time(g*10 + i)})
		}
	}
	return ws
}

func groupsOf(ws []Window) []string {
	var gs []string
	for _, w := range ws {
		if len(gs) == 0 || gs[len(gs)-1] != w.Group {
			gs = append(gs, w.Group)
		}
	}
	return gs
}

func TestSplitByGroup(t *testing.T) {
	ws := groupWindows()
	train, val := SplitByGroup(ws, 0.3, 7)
	if len(train) != 21 || len(val) != 9 {
		t.Fatalf("SplitByGroup(30 windows in 10 groups, 0.3) = %d, %d windows; want 21, 9", len(train), len(val))
	}
	tg, vg := groupsOf(train), groupsOf(val)
	for _, g := range vg {
		if slices.Contains(tg, g) {
			t.Errorf("group %q on both sides", g)
		}
	}
	if !slices.IsSortedFunc(train, func(a, b Window) int { return int(a.At - b.At) }) {
		t.Errorf("training windows out of input order")
	}
	// Deterministic, and independent of the input order.
	rev := slices.Clone(ws)
	slices.Reverse(rev)
	_, val2 := SplitByGroup(rev, 0.3, 7)
	vg2 := groupsOf(val2)
	slices.Sort(vg2)
	if !slices.Equal(vg, vg2) {
		t.Errorf("validation groups %v with the input reversed, %v without", vg2, vg)
	}
	differs := false
	for seed := uint64(8); seed < 12; seed++ {
		_, v := SplitByGroup(ws, 0.3, seed)
		differs = differs || !slices.Equal(groupsOf(v), vg)
	}
	if !differs {
		t.Errorf("validation groups %v for seeds 7 … 11", vg)
	}
	tr, va, te := SplitTrainValTest(ws, 0.2, 0.2, 7)
	if len(tr) != 18 || len(va) != 6 || len(te) != 6 {
		t.Errorf("SplitTrainValTest(0.2, 0.2) = %d, %d, %d windows; want 18, 6, 6", len(tr), len(va), len(te))
	}
	for _, g := range groupsOf(te) {
		if slices.Contains(groupsOf(tr), g) || slices.Contains(groupsOf(va), g) {
			t.Errorf("test group %q also elsewhere", g)
		}
	}
	if tr, va := SplitByGroup(ws, 0, 1); len(tr) != 30 || len(va) != 0 {
		t.Errorf("SplitByGroup(0) = %d, %d; want 30, 0", len(tr), len(va))
	}
}
