package traces

import (
	"strings"
	"testing"
	"time"

	"github.com/bwelab/bwe"
)

func TestScenarioDefaults(t *testing.T) {
	s := Scenario{Name: "x", Duration: time.Minute, Forward: Path{Capacity: Constant(bwe.Mbps), Delay: 30 * time.Millisecond, WalkRange: time.Millisecond, WalkStep: time.Millisecond}}
	s.Cross = []Cross{{Kind: ShortTCP}, {Kind: CBR, Rate: bwe.Mbps}}
	d, err := s.WithDefaults()
	if err != nil {
		t.Fatal(err)
	}
	f := d.Flows[0]
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"flow name", f.Name, "media"},
		{"start rate", f.StartRate, DefaultStartRate},
		{"min rate", f.MinRate, DefaultMinRate},
		{"packet size", f.PacketSize, DefaultPacketSize},
		{"frame rate", f.Video.FrameRate, DefaultFrameRate},
		{"pacing factor", f.Video.PacingFactor, DefaultPacingFactor},
		{"variation", f.Video.Variation, DefaultVariation},
		{"queue", d.Forward.QueueDelay, DefaultQueueDelay},
		{"walk interval", d.Forward.WalkInterval, DefaultWalkInterval},
		{"backward delay", d.Backward.Delay, 30 * time.Millisecond},
		{"backward queue", d.Backward.QueueDelay, time.Duration(0)},
		{"feedback", d.FeedbackInterval, DefaultFeedbackInterval},
		{"short name", d.Cross[0].Name, "short-tcp-1"},
		{"short files", [2]bwe.ByteCount{d.Cross[0].MinFile, d.Cross[0].MaxFile}, [2]bwe.ByteCount{DefaultMinFile, DefaultMaxFile}},
		{"segment", d.Cross[0].PacketSize, DefaultSegmentSize},
		{"cbr packet", d.Cross[1].PacketSize, DefaultPacketSize},
	} {
		if c.got != c.want {
			t.Errorf("%s: %v, want %v", c.name, c.got, c.want)
		}
	}
	if len(s.Flows) != 0 || s.Cross[0].Name != "" {
		t.Errorf("WithDefaults changed its receiver's slices")
	}
	two := s
	two.Flows = []Flow{{}, {Video: VideoConfig{Variation: -1}}}
	d, err = two.WithDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if d.Flows[0].Name != "media-1" || d.Flows[1].Name != "media-2" || d.Flows[1].Video.Variation != 0 {
		t.Errorf("flows %+v", d.Flows)
	}
}

func TestScenarioErrorsNameTheField(t *testing.T) {
	ok := Scenario{Name: "x", Duration: time.Second, Forward: Path{Capacity: Constant(bwe.Mbps)}}
	for _, tc := range []struct {
		edit func(*Scenario)
		want string
	}{
		{func(s *Scenario) { s.Name = "a b" }, "Name"},
		{func(s *Scenario) { s.Forward.Capacity = Steps{{At: time.Second, Capacity: 1}} }, "Forward.Capacity: capacity step 0"},
		{func(s *Scenario) { s.Backward.Burst.LossBad = 2 }, "Backward.Burst.LossBad"},
		{func(s *Scenario) { s.Flows = []Flow{{Stop: 2 * time.Second}} }, "Flows[0].Stop"},
		{func(s *Scenario) { s.Flows = []Flow{{Pauses: []Span{{From: 1, To: 1}}}} }, "Flows[0].Pauses[0]"},
		{func(s *Scenario) { s.Flows = []Flow{{Video: VideoConfig{PacingFactor: 0.5}}} }, "Flows[0].Video.PacingFactor"},
		{func(s *Scenario) { s.Flows = []Flow{{Source: 9}} }, "Flows[0].Source"},
		{func(s *Scenario) { s.Cross = []Cross{{Kind: ShortTCP, MinFile: 10, MaxFile: 5}} }, "Cross[0].MinFile"},
		{func(s *Scenario) { s.Cross = []Cross{{Kind: 7}} }, "Cross[0].Kind"},
		{func(s *Scenario) { s.Flows = []Flow{{Name: "a"}}; s.Cross = []Cross{{Name: "a", Kind: CBR, Rate: 1}} }, "Cross[0].Name"},
	} {
		s := ok
		tc.edit(&s)
		_, err := s.WithDefaults()
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), `scenario "`) {
			t.Errorf("WithDefaults error = %v, want one naming the scenario and %s", err, tc.want)
		}
	}
}

func TestFlowActive(t *testing.T) {
	f := Flow{Start: time.Second, Stop: 10 * time.Second, Pauses: []Span{{From: 3 * time.Second, To: 5 * time.Second}}}
	for _, tc := range []struct {
		at   time.Duration
		want bool
	}{{0, false}, {time.Second, true}, {3*time.Second - 1, true}, {3 * time.Second, false}, {5 * time.Second, true}, {10 * time.Second, false}} {
		if got := f.Active(tc.at); got != tc.want {
			t.Errorf("Active(%v) = %v, want %v", tc.at, got, tc.want)
		}
	}
}

func TestStepsAndGilbertElliott(t *testing.T) {
	s := Steps{{At: 0, Capacity: 1}, {At: time.Second, Capacity: 2}}
	for _, tc := range []struct {
		at         bwe.Time
		rate       bwe.Bitrate
		nextChange bwe.Time
	}{{-1, 0, 0}, {0, 1, 1_000_000}, {999_999, 1, 1_000_000}, {1_000_000, 2, bwe.MaxTime}} {
		if r, n := s.At(tc.at), s.NextChange(tc.at); r != tc.rate || n != tc.nextChange {
			t.Errorf("at %d: rate %v, next %d; want %v, %d", tc.at, r, n, tc.rate, tc.nextChange)
		}
	}
	g := GilbertElliott{GoodToBad: 0.01, BadToGood: 0.5, LossGood: 0.001, LossBad: 0.5}
	if want := (0.5*0.001 + 0.01*0.5) / 0.51; g.MeanLoss() != want || !g.Enabled() {
		t.Errorf("MeanLoss %v, want %v", g.MeanLoss(), want)
	}
	if (GilbertElliott{GoodToBad: 0.1}).Enabled() {
		t.Errorf("a chain that never loses is enabled")
	}
}
