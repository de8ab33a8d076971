package traces

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bwelab/bwe"
)

// Tests against the full trace collection named by BWE_TRACES: every
// file loads, and the per-file statistics of each folder's README.md are
// reproduced by the Trace, within the README's rounding.

// trNear reports whether got matches want, a README figure given with
// the stated number of decimals: |got − want| ≤ half a unit of the last
// decimal.
func trNear(got, want float64, decimals int) bool {
	return math.Abs(got-want) <= 0.5*math.Pow(10, -float64(decimals))+1e-9
}

func trMbps(r bwe.Bitrate) float64 { return r.Float() / 1e6 }

// trMedian returns the median of rates, the mean of the middle two for an
// even count.
func trMedian(rates []bwe.Bitrate) float64 {
	s := slices.Clone(rates)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return trMbps(s[n/2])
	}
	return (trMbps(s[n/2-1]) + trMbps(s[n/2])) / 2
}

func trCheck(t *testing.T, name, what string, got, want float64, decimals int) {
	t.Helper()
	if !trNear(got, want, decimals) {
		t.Errorf("%s: %s = %.*f, README says %.*f", name, what, decimals+3, got, decimals, want)
	}
}

func trOpenReal(t *testing.T, dir, name string, o ReadOptions) *Trace {
	t.Helper()
	tr, err := OpenWith(filepath.Join(dir, filepath.FromSlash(name)), FormatUnknown, o)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return tr
}

func TestRealLoadDir(t *testing.T) {
	dir := trEnvDir(t)
	ts, err := LoadDir(dir)
	if err != nil {
		t.Fatalf("LoadDir(%s): %v", dir, err)
	}
	// 57 data files; the 5Gophers car-driving file gives one trace per
	// carrier.
	if len(ts) != 59 {
		t.Errorf("LoadDir: %d traces, want 59", len(ts))
	}
	perFolder := map[string]int{}
	for _, tr := range ts {
		if err := tr.Validate(); err != nil {
			t.Errorf("%s: %v", tr.Name, err)
		}
		perFolder[strings.Split(tr.Name, "/")[0]+" "+tr.Format.String()]++
	}
	want := map[string]int{
		"mahimahi-cellular mahimahi":      11,
		"orange-4g mahimahi":              1,
		"norway-hsdpa-3g pensieve":        8,
		"fcc-broadband pensieve":          6,
		"nyu-multipath-wifi-cellular nyu": 16,
		"ucc-5g ucc":                      6,
		"5gophers 5gophers":               4,
		"opennetlab-alphartc opennetlab":  7,
	}
	for k, n := range want {
		if perFolder[k] != n {
			t.Errorf("LoadDir: %d traces in %q, want %d", perFolder[k], k, n)
		}
	}
	if len(perFolder) != len(want) {
		t.Errorf("LoadDir: folders and formats %v, want %v", perFolder, want)
	}
}

// TestRealMahimahi: mahimahi-cellular/README.md and orange-4g/README.md.
// Duration = last timestamp; mean = lines × 12 000 bit / duration; min,
// median, max and zero seconds over the complete 1-s bins of timestamps.
func TestRealMahimahi(t *testing.T) {
	dir := trEnvDir(t)
	for _, tc := range []struct {
		file                      string
		dur, mean, lo, median, hi float64
		zero                      int
	}{
		{"mahimahi-cellular/ATT-LTE-driving.down", 786.1, 5.173, 0.012, 5.412, 15.492, 0},
		{"mahimahi-cellular/ATT-LTE-driving.up", 1012.5, 0.834, 0.000, 1.044, 1.296, 94},
		{"mahimahi-cellular/TMobile-LTE-driving.down", 474.6, 12.770, 0.012, 9.966, 59.460, 0},
		{"mahimahi-cellular/TMobile-LTE-short.down", 140.0, 16.703, 1.476, 13.812, 59.112, 0},
		{"mahimahi-cellular/TMobile-LTE-short.up", 140.0, 13.318, 0.612, 11.496, 29.748, 0},
		{"mahimahi-cellular/TMobile-UMTS-driving.down", 928.4, 2.020, 0.000, 1.890, 7.092, 32},
		{"mahimahi-cellular/TMobile-UMTS-driving.up", 931.2, 0.943, 0.000, 1.080, 1.476, 27},
		{"mahimahi-cellular/Verizon-EVDO-driving.down", 1062.0, 0.521, 0.000, 0.408, 3.012, 43},
		// README: 30 zero seconds. The trace folds the 3 opportunities of
		// the last timestamp (1 064 718 ms) into the first millisecond of
		// the pass, where mm-link uses them when it wraps around; the
		// README counts them in the incomplete last bin, so its first bin
		// is empty and the trace's is not: 29.
		{"mahimahi-cellular/Verizon-EVDO-driving.up", 1064.7, 0.843, 0.000, 0.960, 1.776, 29},
		{"mahimahi-cellular/Verizon-LTE-short.down", 140.0, 5.028, 0.288, 4.302, 16.776, 0},
		{"mahimahi-cellular/Verizon-LTE-short.up", 140.0, 5.946, 0.000, 5.694, 12.948, 1},
		{"orange-4g/orange-4G-traces-A-up.pps", 603.6, 2.440, 0.684, 2.460, 3.684, 0},
	} {
		tr := trOpenReal(t, dir, tc.file, ReadOptions{})
		if tr.Format != FormatMahimahi || !tr.Loop {
			t.Errorf("%s: format %v loop %v, want mahimahi, looping", tc.file, tr.Format, tr.Loop)
		}
		trCheck(t, tc.file, "duration (s)", tr.Length.Seconds(), tc.dur, 1)
		trCheck(t, tc.file, "mean (Mbps)", trMbps(tr.Mean()), tc.mean, 3)
		if got, want := tr.Volume(), bwe.ByteCount(tr.Records)*MahimahiPacketSize; got != want {
			t.Errorf("%s: Volume = %d bytes, want 1500 per line = %d", tc.file, got, want)
		}
		bins := tr.Averages(time.Second, nil)
		if len(bins) != int(tr.Length/time.Second) {
			t.Errorf("%s: %d complete 1-s bins, want %d", tc.file, len(bins), tr.Length/time.Second)
		}
		trCheck(t, tc.file, "min 1-s bin (Mbps)", trMbps(slices.Min(bins)), tc.lo, 3)
		trCheck(t, tc.file, "median 1-s bin (Mbps)", trMedian(bins), tc.median, 3)
		trCheck(t, tc.file, "max 1-s bin (Mbps)", trMbps(slices.Max(bins)), tc.hi, 3)
		zero := 0
		for _, b := range bins {
			if b == 0 {
				zero++
			}
		}
		if zero != tc.zero {
			t.Errorf("%s: %d zero 1-s bins, want %d", tc.file, zero, tc.zero)
		}
	}
}

// TestRealNorway: norway-hsdpa-3g/README.md. Duration = last − first time
// + median step; time-weighted mean; min and max over samples; steps
// longer than 1.5 s (up to merges of equal samples). The README's median
// is over samples, which the trace does not keep apart once equal
// neighbours merge, and the irregular ~1.01-s steps do not fall into
// windows: not checked.
func TestRealNorway(t *testing.T) {
	dir := trEnvDir(t)
	for _, tc := range []struct {
		file         string
		dur          float64
		samples      int
		mean, lo, hi float64
		gaps         int
	}{
		{"bus.ljansbakken-oslo-report.2010-09-28_1407CEST.log", 462.9, 449, 2.790, 0.110, 5.497, 4},
		{"car.aarnes-elverum-report.2011-02-10_1611CET.log", 4208.0, 3963, 0.989, 0.100, 4.688, 45},
		{"car.snaroya-smestad-report.2011-02-14_2032CET.log", 408.6, 395, 1.782, 0.282, 7.266, 4},
		{"ferry.nesoddtangen-oslo-report.2010-09-20_1542CEST.log", 971.4, 945, 1.706, 0.102, 4.465, 4},
		{"metro.kalbakken-jernbanetorget-report.2010-09-14_1038CEST.log", 694.7, 665, 0.962, 0.100, 2.390, 7},
		{"train.oslo-vestby-report.2011-02-11_1618CET.log", 1655.5, 1586, 1.186, 0.101, 7.230, 12},
		{"tram.jernbanetorget-universitetssykehuset-report.2010-11-23_1606CET.log", 1414.2, 1345, 0.855, 0.009, 2.357, 4},
		{"tram.ljabru-jernbanetorget-report.2010-12-09_1334CET.log", 1196.2, 1135, 0.845, 0.101, 2.934, 7},
	} {
		name := "norway-hsdpa-3g/" + tc.file
		tr := trOpenReal(t, dir, name, ReadOptions{})
		trCheck(t, name, "duration (s)", tr.Length.Seconds(), tc.dur, 1)
		if tr.Records != tc.samples {
			t.Errorf("%s: %d samples, README says %d", name, tr.Records, tc.samples)
		}
		trCheck(t, name, "mean (Mbps)", trMbps(tr.Mean()), tc.mean, 3)
		trCheck(t, name, "min (Mbps)", trMbps(tr.Min()), tc.lo, 3)
		trCheck(t, name, "max (Mbps)", trMbps(tr.Max()), tc.hi, 3)
		gaps := 0
		for i := range tr.Segments {
			if tr.SegmentDuration(i) > 1500*time.Millisecond {
				gaps++
			}
		}
		// Equal neighbouring samples merge into one segment, which may
		// last more than 1.5 s without a gap: every README gap must be
		// there, and every extra long segment must come from a merge.
		merges := tr.Records - len(tr.Segments)
		if gaps < tc.gaps || gaps > tc.gaps+merges {
			t.Errorf("%s: %d segments > 1.5 s with %d merges, README says %d steps > 1.5 s", name, gaps, merges, tc.gaps)
		}
		// With gaps as outages, each such gap becomes an outage and the
		// mean drops.
		out := trOpenReal(t, dir, name, ReadOptions{Gaps: GapOutage})
		if out.Length != tr.Length || (tc.gaps > 0) != (out.Outage() > 0) || out.Mean() >= tr.Mean() {
			t.Errorf("%s: GapOutage trace: length %v (want %v), outage %v, mean %v (held: %v)", name, out.Length, tr.Length, out.Outage(), out.Mean(), tr.Mean())
		}
	}
}

// TestRealFCC: fcc-broadband/README.md. Duration = samples × 5 s;
// time-weighted mean; min, median, max over samples (each 5-s window is
// one sample).
func TestRealFCC(t *testing.T) {
	dir := trEnvDir(t)
	for _, tc := range []struct {
		file                 string
		dur                  float64
		samples              int
		mean, lo, median, hi float64
	}{
		{"trace_10322_http---edition.cnn.com", 1505, 301, 0.894, 0.529, 0.900, 0.903},
		{"trace_207336_http---www.amazon.com", 1850, 370, 2.174, 0.000, 1.125, 4.649},
		{"trace_215252_http---www.msn.com", 1655, 331, 1.697, 0.199, 1.709, 2.247},
		{"trace_30637_http---www.amazon.com", 1030, 206, 2.925, 1.195, 2.019, 7.039},
		{"trace_5294_http---www.youtube.com", 1860, 372, 0.193, 0.000, 0.204, 0.212},
		{"trace_799296_http---www.amazon.com", 1855, 371, 1.855, 0.191, 1.492, 3.371},
	} {
		name := "fcc-broadband/" + tc.file
		tr := trOpenReal(t, dir, name, ReadOptions{})
		trCheck(t, name, "duration (s)", tr.Length.Seconds(), tc.dur, 0)
		if tr.Records != tc.samples {
			t.Errorf("%s: %d samples, README says %d", name, tr.Records, tc.samples)
		}
		trCheck(t, name, "mean (Mbps)", trMbps(tr.Mean()), tc.mean, 3)
		trCheck(t, name, "min (Mbps)", trMbps(tr.Min()), tc.lo, 3)
		windows := tr.Averages(5*time.Second, nil)
		if len(windows) != tc.samples {
			t.Errorf("%s: %d 5-s windows, want %d", name, len(windows), tc.samples)
		}
		trCheck(t, name, "median (Mbps)", trMedian(windows), tc.median, 3)
		trCheck(t, name, "max (Mbps)", trMbps(tr.Max()), tc.hi, 3)
	}
}

// TestRealNYU: nyu-multipath-wifi-cellular/README.md. Duration = rows;
// mean, min, max over rows; zero seconds.
func TestRealNYU(t *testing.T) {
	dir := trEnvDir(t)
	for _, tc := range []struct {
		file         string
		dur          int
		mean, lo, hi float64
		zero         int
	}{
		{"7_1_wifi.csv", 100, 30.453, 0.000, 57.524, 1},
		{"7_1_cellular.csv", 100, 47.435, 19.673, 79.460, 0},
		{"8_1_wifi.csv", 100, 31.881, 0.000, 64.634, 9},
		{"8_1_cellular.csv", 100, 45.041, 8.511, 82.226, 0},
		{"11_1_wifi.csv", 100, 44.115, 7.184, 64.889, 0},
		{"11_1_cellular.csv", 100, 41.384, 12.134, 71.439, 0},
		{"12_1_wifi.csv", 100, 33.680, 0.000, 54.242, 1},
		{"12_1_cellular.csv", 100, 45.635, 28.091, 82.543, 0},
		{"13_1_wifi.csv", 100, 21.053, 0.000, 88.313, 20},
		{"13_1_cellular.csv", 100, 9.753, 0.299, 36.334, 0},
		{"21_1_wifi.csv", 56, 1.511, 0.000, 11.589, 8},
		{"21_1_cellular.csv", 54, 2.249, 0.613, 5.298, 0},
		{"22_1_wifi.csv", 39, 13.401, 1.141, 45.568, 0},
		{"22_1_cellular.csv", 34, 8.339, 2.916, 30.534, 0},
		{"23_1_wifi.csv", 28, 8.351, 2.437, 26.688, 0},
		{"23_1_cellular.csv", 26, 1.823, 0.217, 3.295, 0},
	} {
		name := "nyu-multipath-wifi-cellular/" + tc.file
		tr := trOpenReal(t, dir, name, ReadOptions{})
		if tr.Length != time.Duration(tc.dur)*time.Second || tr.Records != tc.dur {
			t.Errorf("%s: length %v from %d rows, README says %d s", name, tr.Length, tr.Records, tc.dur)
		}
		trCheck(t, name, "mean (Mbps)", trMbps(tr.Mean()), tc.mean, 3)
		trCheck(t, name, "min (Mbps)", trMbps(tr.Min()), tc.lo, 3)
		trCheck(t, name, "max (Mbps)", trMbps(tr.Max()), tc.hi, 3)
		if got := tr.Outage(); got != time.Duration(tc.zero)*time.Second {
			t.Errorf("%s: outage %v, README says %d zero seconds", name, got, tc.zero)
		}
	}
}

// TestRealUCC: ucc-5g/README.md. Duration = rows; DL mean, min, max over
// rows. (The seconds per NetworkMode are not part of a Trace.)
func TestRealUCC(t *testing.T) {
	dir := trEnvDir(t)
	for _, tc := range []struct {
		file         string
		dur          int
		mean, lo, hi float64
	}{
		{"Download/Driving/B_2019.12.16_07.22.43.csv", 2617, 23.21, 0.00, 532.90},
		{"Download/Driving/B_2020.01.16_07.26.43.csv", 1981, 9.26, 0.00, 47.48},
		{"Download/Driving/B_2020.02.14_12.58.17.csv", 960, 4.45, 0.00, 32.86},
		{"Download/Driving/B_2020.02.27_17.30.15.csv", 866, 2.89, 0.00, 14.29},
		{"Download/Static/B_2019.12.16_13.40.04.csv", 2143, 50.38, 0.00, 302.69},
		{"Download/Static/B_2020.02.14_13.21.26.csv", 1013, 121.02, 0.00, 254.07},
	} {
		name := "ucc-5g/" + tc.file
		tr := trOpenReal(t, dir, name, ReadOptions{})
		if tr.Length != time.Duration(tc.dur)*time.Second || tr.Records != tc.dur {
			t.Errorf("%s: length %v from %d rows, README says %d s", name, tr.Length, tr.Records, tc.dur)
		}
		trCheck(t, name, "DL mean (Mbps)", trMbps(tr.Mean()), tc.mean, 2)
		trCheck(t, name, "DL min (Mbps)", trMbps(tr.Min()), tc.lo, 2)
		trCheck(t, name, "DL max (Mbps)", trMbps(tr.Max()), tc.hi, 2)
	}
}

// TestRealFiveGophers: 5gophers/README.md. Mean, min, max over rows. The
// car-driving file has 120 rows with seq_num 0–125 (103–108 missing):
// the trace lasts 126 s, the missing seconds holding second 102's rate,
// and the README's row statistics are those of the 1-s windows of the
// seconds present.
func TestRealFiveGophers(t *testing.T) {
	dir := trEnvDir(t)
	for _, tc := range []struct {
		file, column string
		rows, secs   int
		mean, lo, hi float64
	}{
		{"car-driving-trace-1.csv", "Sprint_throughput_mbps", 120, 126, 264.89, 9.86, 532.02},
		{"car-driving-trace-1.csv", "TMobile_throughput_mbps", 120, 126, 97.06, 0.00, 364.31},
		{"car-driving-trace-1.csv", "Verizon_throughput_mbps", 120, 126, 274.89, 0.00, 1663.70},
		{"walking-trace.csv", "", 603, 603, 332.89, 0.00, 954.00},
	} {
		name := "5gophers/" + tc.file + "#" + tc.column
		tr := trOpenReal(t, dir, "5gophers/"+tc.file, ReadOptions{Column: tc.column})
		if tr.Records != tc.rows || tr.Length != time.Duration(tc.secs)*time.Second {
			t.Errorf("%s: %d rows over %v, want %d rows over %d s", name, tr.Records, tr.Length, tc.rows, tc.secs)
		}
		windows := tr.Averages(time.Second, nil)
		if tc.secs != tc.rows {
			windows = slices.Delete(windows, 103, 109) // seq_num 103–108 are missing
		}
		var sum float64
		for _, w := range windows {
			sum += trMbps(w)
		}
		trCheck(t, name, "mean over rows (Mbps)", sum/float64(len(windows)), tc.mean, 2)
		trCheck(t, name, "min (Mbps)", trMbps(tr.Min()), tc.lo, 2)
		trCheck(t, name, "max (Mbps)", trMbps(tr.Max()), tc.hi, 2)
	}
}

// TestRealOpenNetLab: opennetlab-alphartc/README.md, on the raw traces
// (KeepSpikes). Duration, segments, duration-weighted mean with and
// without the segments ≥ 1 Gbit/s, min, max. The README's median and
// count of zero-capacity segments are over the file's segments, which
// the trace merges where neighbours are equal: the test checks that the
// outage is there exactly when zero segments are (about 14 s in
// 4G_3mbps, as the README says) instead.
func TestRealOpenNetLab(t *testing.T) {
	dir := trEnvDir(t)
	for _, tc := range []struct {
		file                 string
		dur                  float64
		segments             int
		mean, robust, lo, hi float64
		zero                 int
	}{
		{"4G_3mbps.json", 60.9, 306, 30.195, 3.799, 0.000, 8039.999, 70},
		{"4G_500kbps.json", 106.0, 530, 0.498, 0.498, 0.002, 1.125, 0},
		{"5G_12mbps.json", 61.0, 307, 11.645, 11.645, 0.000, 37.700, 3},
		{"5G_13mbps.json", 60.8, 305, 173.156, 11.918, 0.000, 16399.999, 3},
		{"WIRED_200kbps.json", 222.9, 412, 0.204, 0.204, 0.019, 0.469, 0},
		{"WIRED_35mbps.json", 61.4, 308, 352.588, 34.891, 0.000, 32799.999, 3},
		{"WIRED_900kbs.json", 57.6, 114, 0.863, 0.863, 0.556, 1.141, 0},
	} {
		name := "opennetlab-alphartc/" + tc.file
		raw := trOpenReal(t, dir, name, ReadOptions{KeepSpikes: true})
		trCheck(t, name, "duration (s)", raw.Length.Seconds(), tc.dur, 1)
		if raw.Records != tc.segments {
			t.Errorf("%s: %d segments, README says %d", name, raw.Records, tc.segments)
		}
		trCheck(t, name, "mean (Mbps)", trMbps(raw.Mean()), tc.mean, 3)
		var bits, secs float64
		zeros := 0
		for i, s := range raw.Segments {
			d := raw.SegmentDuration(i).Seconds()
			if s.Rate < bwe.Gbps {
				bits += s.Rate.Float() * d
				secs += d
			}
			if s.Rate == 0 {
				zeros++
			}
		}
		trCheck(t, name, "mean excl. >=1 Gbps (Mbps)", bits/secs/1e6, tc.robust, 3)
		trCheck(t, name, "min (Mbps)", trMbps(raw.Min()), tc.lo, 3)
		trCheck(t, name, "max (Mbps)", trMbps(raw.Max()), tc.hi, 3)
		if (zeros > 0) != (tc.zero > 0) || zeros > tc.zero {
			t.Errorf("%s: %d zero-capacity pieces, README says %d zero segments", name, zeros, tc.zero)
		}
		if tc.file == "4G_3mbps.json" && raw.Outage().Round(time.Second) != 14*time.Second {
			t.Errorf("%s: outage %v, README says about 14 s", name, raw.Outage())
		}

		// By default, the spikes take the rate before them.
		def := trOpenReal(t, dir, name, ReadOptions{})
		if def.Max() >= DefaultSpikeThreshold || def.Length != raw.Length {
			t.Errorf("%s: default trace max %v, length %v; want below 1 Gbps, %v", name, def.Max(), def.Length, raw.Length)
		}
		if tc.mean == tc.robust && !trEqualSegments(def.Segments, raw.Segments) {
			t.Errorf("%s: no spike, yet the default trace differs from the raw one", name)
		}
		t.Logf("%s: mean with spikes replaced %.3f Mbps", name, trMbps(def.Mean()))
	}
}

// BenchmarkReadMahimahiReal reads the largest Mahimahi trace of the
// collection (T-Mobile LTE driving downlink, 505 078 lines).
func BenchmarkReadMahimahiReal(b *testing.B) {
	dir := trEnvDir(b)
	data, err := os.ReadFile(filepath.Join(dir, "mahimahi-cellular", "TMobile-LTE-driving.down"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ReadMahimahi(bytes.NewReader(data), "TMobile-LTE-driving.down"); err != nil {
			b.Fatal(err)
		}
	}
}
