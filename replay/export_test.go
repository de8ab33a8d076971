package replay

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/sendside"
	"github.com/bwelab/bwe/traces"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files under testdata/")

// exportResult is a small hand-made result: two media flows of three
// samples each and one CBR cross flow, on a capacity that halves at 1 s.
func exportResult() *Result {
	sec := func(f float64) bwe.Time { return bwe.TimeFromDuration(time.Duration(f * float64(time.Second))) }
	capacity := traces.Steps{{At: 0, Capacity: 2 * bwe.Mbps}, {At: time.Second, Capacity: bwe.Mbps}}
	s := traces.Scenario{
		Name:           "golden/two-flows",
		Seed:           7,
		Duration:       2 * time.Second,
		Warmup:         500 * time.Millisecond,
		SampleInterval: 500 * time.Millisecond,
		Forward:        traces.Path{Capacity: capacity, Delay: 50 * time.Millisecond},
		Flows:          []traces.Flow{{Name: "a"}, {Name: "b"}},
		Cross:          []traces.Cross{{Kind: traces.CBR, Name: "cbr-1", Rate: 100 * bwe.Kbps}},
	}
	series := func(k bwe.Bitrate) []Sample {
		return []Sample{
			{At: sec(0), Capacity: 2 * bwe.Mbps, Target: 300 * bwe.Kbps, Estimate: 300 * bwe.Kbps, Limit: sendside.LimitStart},
			{At: sec(0.5), Capacity: 2 * bwe.Mbps, Target: 600*bwe.Kbps + k, Estimate: 700*bwe.Kbps + k, Delivered: 450 * bwe.Kbps, Sent: 500 * bwe.Kbps,
				DelayBased: 650 * bwe.Kbps, LossBased: 900 * bwe.Kbps, QueueDelay: 1500 * time.Microsecond,
				Limit: sendside.LimitDelay, Usage: bwe.Normal},
			{At: sec(1), Capacity: bwe.Mbps, Target: 480*bwe.Kbps + k, Estimate: 480*bwe.Kbps + k, Delivered: 700 * bwe.Kbps, Sent: 620 * bwe.Kbps,
				DelayBased: 480 * bwe.Kbps, LossBased: 2 * bwe.Mbps, QueueDelay: 42250 * time.Microsecond,
				Limit: sendside.LimitDelay, InALR: true, Usage: bwe.Overusing},
		}
	}
	return &Result{
		Scenario:  s,
		Estimator: Estimator{Name: "golden", Detector: "trendline", Loss: "likelihood"},
		Flows: []FlowResult{
			{Name: "a", Metrics: Metrics{Utilization: 0.25, BaseDelay: 50 * time.Millisecond, QueueP50: time.Millisecond,
				QueueP95: 30 * time.Millisecond, QueueP99: 42 * time.Millisecond, Sent: 100, Lost: 3, LossRate: 0.03,
				MeanTarget: 540 * bwe.Kbps, MaxEstimate: 700 * bwe.Kbps, RampUp: 500 * time.Millisecond, RampedUp: true, Overuses: 1}, Series: series(0), Packets: 120, Frames: 60, Feedbacks: 40},
			{Name: "b", Metrics: Metrics{Utilization: 0.2, Sent: 80, MeanTarget: 500 * bwe.Kbps}, Series: series(10 * bwe.Kbps), Packets: 90},
		},
		Cross: []CrossResult{{Name: "cbr-1", Kind: "cbr", Sent: 20, Delivered: 24000, Throughput: 96 * bwe.Kbps,
			Series: []CrossSample{{At: sec(0)}, {At: sec(0.5), Delivered: 96 * bwe.Kbps}, {At: sec(1), Delivered: 100 * bwe.Kbps}}}},
		Summary:  Summary{Utilization: 0.6, Jain: 0.99},
		Forward:  LinkStats{Sent: 230, Delivered: 227, TailDrops: 3},
		Backward: LinkStats{Sent: 40, Delivered: 40},
	}
}

// checkGolden compares got with the golden file name under testdata/, or
// rewrites it with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *updateGolden {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output (run go test -update if the change is intended); got:\n%s", path, got)
	}
}

func TestExportGolden(t *testing.T) {
	r := exportResult()
	var js, cs bytes.Buffer
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteSeriesCSV(&cs); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "export.json", js.Bytes())
	checkGolden(t, "export.csv", cs.Bytes())
}

// The scenario block: flow names, and the capacity means integrated over
// the steps (2 Mbps for 1 s then 1 Mbps for 1 s: 1.5 Mbps over the run;
// over [0.5 s, 2 s), (0.5·2 + 1·1) ÷ 1.5 = 1.333 Mbps).
func TestExportScenarioBlock(t *testing.T) {
	var b bytes.Buffer
	if err := exportResult().WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Scenario scenarioJSON `json:"scenario"`
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	want := scenarioJSON{
		Name: "golden/two-flows", Seed: 7, DurationS: 2, WarmupS: 0.5, SampleIntervalS: 0.5,
		Flows: []string{"a", "b"}, Cross: []string{"cbr-1"},
		CapacityMean: 1500 * bwe.Kbps, SteadyCapacityMean: 1333333,
	}
	if !reflect.DeepEqual(doc.Scenario, want) {
		t.Errorf("scenario block %+v, want %+v", doc.Scenario, want)
	}
}

// A real run: the JSON is the same bytes twice, parses back to the same
// values, and the CSV holds every sample of every flow.
func TestExportRun(t *testing.T) {
	s, err := ScenarioByName("drop-1M-0.5M")
	if err != nil {
		t.Fatal(err)
	}
	s.Duration, s.Warmup = 8*time.Second, 2*time.Second
	s.Cross = []traces.Cross{{Kind: traces.CBR, Rate: 100 * bwe.Kbps}}
	res := func() *Result {
		r, err := Run(s, Estimator{})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	r1, r2 := res(), res()
	var j1, j2 bytes.Buffer
	if err := r1.WriteJSON(&j1); err != nil {
		t.Fatal(err)
	}
	if err := r2.WriteJSON(&j2); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(j1.Bytes(), j2.Bytes()) {
		t.Fatal("two runs of the same scenario wrote different JSON")
	}

	var back struct {
		Scenario  scenarioJSON  `json:"scenario"`
		Estimator Estimator     `json:"estimator"`
		Flows     []FlowResult  `json:"flows"`
		Cross     []CrossResult `json:"cross"`
		Summary   Summary       `json:"summary"`
		Forward   LinkStats     `json:"forward"`
		Backward  LinkStats     `json:"backward"`
	}
	if err := json.Unmarshal(j1.Bytes(), &back); err != nil {
		t.Fatalf("the JSON does not parse back: %v", err)
	}
	if back.Scenario.Name != s.Name || back.Scenario.Seed != s.Seed || back.Scenario.DurationS != 8 || back.Scenario.WarmupS != 2 {
		t.Errorf("scenario block %+v, want %s seed %d, 8 s, 2 s warm-up", back.Scenario, s.Name, s.Seed)
	}
	if back.Estimator.Name != r1.Estimator.Name || back.Estimator.Detector != r1.Estimator.Detector || back.Estimator.Loss != r1.Estimator.Loss {
		t.Errorf("estimator %+v, want %+v", back.Estimator, r1.Estimator)
	}
	if len(back.Flows) != len(r1.Flows) || len(back.Cross) != len(r1.Cross) {
		t.Fatalf("%d flows and %d cross flows parsed back, want %d and %d", len(back.Flows), len(back.Cross), len(r1.Flows), len(r1.Cross))
	}
	for i := range back.Flows {
		got, want := back.Flows[i], r1.Flows[i]
		want.Series = nil
		if !reflect.DeepEqual(got, want) {
			t.Errorf("flow %d parsed back as %+v, want %+v", i, got, want)
		}
	}
	for i := range back.Cross {
		got, want := back.Cross[i], r1.Cross[i]
		want.Series = nil
		if !reflect.DeepEqual(got, want) {
			t.Errorf("cross flow %d parsed back as %+v, want %+v", i, got, want)
		}
	}
	if back.Summary != r1.Summary || back.Forward != r1.Forward || back.Backward != r1.Backward {
		t.Errorf("summary and link stats parsed back as %+v %+v %+v, want %+v %+v %+v",
			back.Summary, back.Forward, back.Backward, r1.Summary, r1.Forward, r1.Backward)
	}

	var c1, c2 bytes.Buffer
	if err := r1.WriteSeriesCSV(&c1); err != nil {
		t.Fatal(err)
	}
	if err := r2.WriteSeriesCSV(&c2); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(c1.Bytes(), c2.Bytes()) {
		t.Fatal("two runs of the same scenario wrote different CSV")
	}
	rows, err := csv.NewReader(&c1).ReadAll()
	if err != nil {
		t.Fatalf("the CSV does not parse: %v", err)
	}
	if !reflect.DeepEqual(rows[0], SeriesCSVHeader) {
		t.Errorf("header %q, want %q", rows[0], SeriesCSVHeader)
	}
	media := r1.Flows[0].Series
	cross := r1.Cross[0].Series
	if len(rows) != 1+len(media)+len(cross) {
		t.Fatalf("%d rows, want 1 + %d media + %d cross", len(rows), len(media), len(cross))
	}
	for i, s := range media {
		row := rows[1+i]
		want := []string{"media", "media", strconv.FormatFloat(float64(s.At)/1e6, 'f', -1, 64),
			strconv.FormatInt(int64(s.Capacity), 10), strconv.FormatInt(int64(s.Target), 10)}
		if !reflect.DeepEqual(row[:5], want) {
			t.Fatalf("row %d starts %q, want %q", 1+i, row[:5], want)
		}
		if q, err := strconv.ParseFloat(row[9], 64); err != nil || q != bwe.Millis(s.QueueDelay) {
			t.Fatalf("row %d: queue_ms %q, want %v", 1+i, row[9], bwe.Millis(s.QueueDelay))
		}
	}
	for i, s := range cross {
		row := rows[1+len(media)+i]
		if row[0] != "cbr-1" || row[1] != "cbr" || row[5] != strconv.FormatInt(int64(s.Delivered), 10) || row[4] != "" {
			t.Fatalf("cross row %d = %q, want cbr-1, cbr, delivered %d, no target", i, row, s.Delivered)
		}
	}
	if strings.Contains(c1.String(), "NaN") {
		t.Error("the CSV holds a NaN")
	}
}

// Write the time series of a short run as CSV: a header, then one row per
// sample (every 100 ms by default).
func ExampleResult_WriteSeriesCSV() {
	s := traces.Scenario{
		Name:     "example",
		Duration: 2 * time.Second,
		Forward:  traces.Path{Capacity: traces.Constant(bwe.Mbps), Delay: 20 * time.Millisecond},
	}
	r, err := Run(s, Estimator{})
	if err != nil {
		fmt.Println(err)
		return
	}
	var b bytes.Buffer
	if err := r.WriteSeriesCSV(&b); err != nil {
		fmt.Println(err)
		return
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	fmt.Println(lines[0])
	fmt.Println(len(lines)-1, "samples")
	// Output:
	// flow,kind,t_s,capacity_bps,target_bps,delivered_bps,sent_bps,delay_based_bps,loss_based_bps,queue_ms,limit,alr,usage,estimate_bps
	// 20 samples
}
