package traces

import (
	"strings"
	"testing"
	"time"

	"github.com/bwelab/bwe"
)

func TestShaped(t *testing.T) {
	want := []struct {
		name     string
		capacity bwe.Bitrate
		bucket   bwe.ByteCount
	}{
		{"shaped-1500kbps-bucket3000", 1500 * bwe.Kbps, 3000},
		{"shaped-1500kbps-bucket15000", 1500 * bwe.Kbps, 15000},
		{"shaped-4mbps-bucket3000", 4 * bwe.Mbps, 3000},
		{"shaped-4mbps-bucket15000", 4 * bwe.Mbps, 15000},
	}
	ss := Shaped(7)
	if len(ss) != len(want) {
		t.Fatalf("Shaped(7) = %d scenarios, want %d", len(ss), len(want))
	}
	for i, w := range want {
		s, err := ss[i].WithDefaults()
		if err != nil {
			t.Fatal(err)
		}
		f := s.Forward
		if s.Name != w.name || s.Seed != 7 || f.Capacity.At(0) != w.capacity || f.Capacity.NextChange(0) != bwe.MaxTime || f.Bucket != w.bucket {
			t.Errorf("scenario %d: %s seed %d, capacity %v (next change %v), bucket %d; want %s, 7, constant %v, %d",
				i, s.Name, s.Seed, f.Capacity.At(0), f.Capacity.NextChange(0), f.Bucket, w.name, w.capacity, w.bucket)
		}
		if f.Delay != 25*time.Millisecond || s.Backward.Delay != 25*time.Millisecond || s.Backward.Capacity != nil || f.QueueDelay != 300*time.Millisecond {
			t.Errorf("%s: delays %v and %v, queue %v; want 25 ms each way, an uncongested return path, 300 ms", s.Name, f.Delay, s.Backward.Delay, f.QueueDelay)
		}
		if fl := s.Flows; len(fl) != 1 || fl[0].Source != Video || fl[0].StartRate != 300*bwe.Kbps || fl[0].AppRate != 0 {
			t.Errorf("%s: flows %+v, want one uncapped video flow starting at 300 kbps", s.Name, fl)
		}
		if s.Duration != 60*time.Second || s.Warmup != 10*time.Second {
			t.Errorf("%s: %v with %v warm-up, want 60 s and 10 s", s.Name, s.Duration, s.Warmup)
		}
	}
}

// A bucket is validated like the other fields of a path, and its errors
// name it.
func TestPathBucket(t *testing.T) {
	ok := Scenario{Name: "x", Duration: time.Second, Forward: Path{Capacity: Constant(bwe.Mbps)}}
	for _, tc := range []struct {
		edit func(*Scenario)
		want string // "" for valid
	}{
		{func(s *Scenario) { s.Forward.Bucket = 0 }, ""},
		{func(s *Scenario) { s.Forward.Bucket = 1 }, ""},
		{func(s *Scenario) { s.Forward.Bucket = MaxBucket }, ""},
		{func(s *Scenario) { s.Forward.Bucket = -1 }, "Forward.Bucket -1 bytes is outside [0, 1073741824]"},
		{func(s *Scenario) { s.Forward.Bucket = MaxBucket + 1 }, "Forward.Bucket 1073741825 bytes is outside"},
		{func(s *Scenario) { s.Backward.Bucket = 3000 }, "Backward.Bucket is set on a path without Capacity"},
		{func(s *Scenario) { s.Backward.Capacity, s.Backward.Bucket = Constant(bwe.Mbps), 3000 }, ""},
	} {
		s := ok
		tc.edit(&s)
		_, err := s.WithDefaults()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("buckets %d and %d: WithDefaults error %v, want none", s.Forward.Bucket, s.Backward.Bucket, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("buckets %d and %d: WithDefaults error %v, want one with %q", s.Forward.Bucket, s.Backward.Bucket, err, tc.want)
		}
		if err := s.Forward.Validate(); tc.want == "" && err != nil {
			t.Errorf("Forward bucket %d: Validate error %v, want none", s.Forward.Bucket, err)
		}
	}
	if err := (Path{Capacity: Constant(bwe.Mbps), Bucket: -5}).Validate(); err == nil || !strings.Contains(err.Error(), "Path.Bucket") {
		t.Errorf("Path.Validate of a negative bucket = %v, want an error naming Path.Bucket", err)
	}
}
