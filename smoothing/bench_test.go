package smoothing

import "testing"

// BenchmarkSmooth measures one Smooth call per smoother, estimates every
// 50 ms swinging with a 4 s period, the oscillation detected.
func BenchmarkSmooth(b *testing.B) {
	for _, name := range Names() {
		b.Run(name, func(b *testing.B) {
			sm, err := NewByName(name)
			if err != nil {
				b.Fatal(err)
			}
			f := feed(sm)
			for range 3000 {
				f()
			}
			b.ReportAllocs()
			for b.Loop() {
				f()
			}
		})
	}
}
