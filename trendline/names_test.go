package trendline

import (
	"fmt"
	"testing"
)

func TestNewByName(t *testing.T) {
	want := map[string]string{"trendline": "*trendline.Estimator", "kalman": "*trendline.Kalman", "robust": "*trendline.Robust"}
	for _, name := range Names() {
		d, err := NewByName(name)
		if err != nil {
			t.Fatalf("NewByName(%q): %v", name, err)
		}
		if got := fmt.Sprintf("%T", d); got != want[name] {
			t.Fatalf("NewByName(%q) = %s, want %s", name, got, want[name])
		}
		delete(want, name)
	}
	if len(want) != 0 {
		t.Fatalf("Names() misses %v", want)
	}
	if _, err := NewByName("nope"); err == nil {
		t.Fatal(`NewByName("nope") = nil error`)
	}
}
