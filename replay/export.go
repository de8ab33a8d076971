package replay

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/traces"
)

// scenarioJSON is the scenario block of [Result.WriteJSON].
type scenarioJSON struct {
	Name string `json:"name"`
	Seed uint64 `json:"seed"`
	// DurationS and WarmupS are the run's length and its warm-up, in
	// seconds; SampleIntervalS the spacing of the series.
	DurationS       float64 `json:"duration_s"`
	WarmupS         float64 `json:"warmup_s"`
	SampleIntervalS float64 `json:"sample_interval_s"`
	// Flows and Cross name the media and cross-traffic flows, in order.
	Flows []string `json:"flows"`
	Cross []string `json:"cross"`
	// CapacityMean is the forward bottleneck's mean capacity over the
	// whole run, SteadyCapacityMean over the steady part.
	CapacityMean       bwe.Bitrate `json:"capacity_mean_bps"`
	SteadyCapacityMean bwe.Bitrate `json:"steady_capacity_mean_bps"`
}

// plainResult is Result without its methods, for encoding.
type plainResult Result

// resultJSON is the document [Result.WriteJSON] writes: the scenario block
// first, then the result's own fields.
type resultJSON struct {
	Scenario scenarioJSON `json:"scenario"`
	plainResult
}

// WriteJSON writes r as an indented JSON document: a "scenario" block
// (name, seed, duration, warm-up and sample interval in seconds, flow and
// cross-flow names, mean capacity of the forward path over the whole run
// and over its steady part, in bit/s), then the estimator, the per-flow
// results (metrics, estimator statistics, counts), the cross-traffic
// results, the summary and the link statistics. Time series are left out
// ([Result.WriteSeriesCSV] writes them).
//
// The output depends on r alone: equal results give identical bytes. It
// returns an error if a value cannot be encoded (a NaN metric) or w fails.
func (r *Result) WriteJSON(w io.Writer) error {
	doc := resultJSON{Scenario: scenarioInfo(r.Scenario), plainResult: plainResult(*r)}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("replay: result of %q: %w", r.Scenario.Name, err)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// scenarioInfo summarises s for the JSON document.
func scenarioInfo(s traces.Scenario) scenarioJSON {
	info := scenarioJSON{
		Name:            s.Name,
		Seed:            s.Seed,
		DurationS:       s.Duration.Seconds(),
		WarmupS:         s.Warmup.Seconds(),
		SampleIntervalS: s.SampleInterval.Seconds(),
		Flows:           []string{},
		Cross:           []string{},
	}
	for _, f := range s.Flows {
		info.Flows = append(info.Flows, f.Name)
	}
	for _, c := range s.Cross {
		info.Cross = append(info.Cross, c.Name)
	}
	if c := s.Forward.Capacity; c != nil {
		info.CapacityMean = meanCapacity(c, 0, s.Duration)
		info.SteadyCapacityMean = meanCapacity(c, s.Warmup, s.Duration)
	}
	return info
}

// meanCapacity returns the mean of c over [from, to), integrated over its
// constant pieces; 0 for an empty interval.
func meanCapacity(c traces.Capacity, from, to time.Duration) bwe.Bitrate {
	a, b := bwe.TimeFromDuration(from), bwe.TimeFromDuration(to)
	if b <= a {
		return 0
	}
	var bits float64 // bit·µs/s: rate × microseconds
	for t := a; t < b; {
		next := c.NextChange(t)
		if next <= t || next > b {
			next = b
		}
		bits += max(c.At(t), 0).Float() * float64(next-t)
		t = next
	}
	return bwe.BitrateFromFloat(bits / float64(b-a))
}

// SeriesCSVHeader is the header row of [Result.WriteSeriesCSV].
var SeriesCSVHeader = []string{
	"flow", "kind", "t_s", "capacity_bps", "target_bps", "delivered_bps", "sent_bps",
	"delay_based_bps", "loss_based_bps", "queue_ms", "limit", "alr", "usage",
	"estimate_bps",
}

// WriteSeriesCSV writes the time series of r as CSV (RFC 4180) with the
// header [SeriesCSVHeader]: one row per sample of every media flow (kind
// "media"), in flow order, then one row per sample of every cross-traffic
// flow (kind "tcp", "short-tcp" or "cbr") with only its time, the
// capacity and its delivered rate filled in. Columns:
//
//	flow             the flow's name
//	kind             media, or the kind of cross traffic
//	t_s              the sample's instant, seconds since the start
//	capacity_bps     the forward bottleneck's capacity at t_s, bit/s
//	target_bps       the encoder's target (the estimate, unless a rate
//	                 controller sits between them)
//	delivered_bps    the rate that reached the receiver over the last
//	                 DeliveredWindow (200 ms)
//	sent_bps         the rate sent over the last SentWindow (1 s)
//	delay_based_bps  the delay-based estimate
//	loss_based_bps   the loss-based estimate
//	queue_ms         the queuing delay of the latest arrival, ms
//	limit            what set the target (sendside.Limit names)
//	alr              true while the sender was application-limited
//	usage            the detector's latest verdict
//	estimate_bps     the estimator's target, before any rate controller
//
// Numbers are written in their shortest exact decimal form: equal results
// give identical bytes.
func (r *Result) WriteSeriesCSV(w io.Writer) error {
	bw := bufio.NewWriter(w)
	var line []byte
	line = appendCSVRow(line[:0], SeriesCSVHeader...)
	bw.Write(line)
	for _, f := range r.Flows {
		name := csvField(f.Name)
		for _, s := range f.Series {
			line = append(line[:0], name...)
			line = append(line, ",media,"...)
			line = appendSeconds(line, s.At)
			line = appendRate(append(line, ','), s.Capacity)
			line = appendRate(append(line, ','), s.Target)
			line = appendRate(append(line, ','), s.Delivered)
			line = appendRate(append(line, ','), s.Sent)
			line = appendRate(append(line, ','), s.DelayBased)
			line = appendRate(append(line, ','), s.LossBased)
			line = strconv.AppendFloat(append(line, ','), bwe.Millis(s.QueueDelay), 'f', -1, 64)
			line = append(append(line, ','), s.Limit.String()...)
			line = strconv.AppendBool(append(line, ','), s.InALR)
			line = append(append(line, ','), s.Usage.String()...)
			line = appendRate(append(line, ','), s.Estimate)
			bw.Write(append(line, '\n'))
		}
	}
	for _, c := range r.Cross {
		prefix := csvField(c.Name) + "," + csvField(c.Kind) + ","
		for i, s := range c.Series {
			line = append(line[:0], prefix...)
			line = appendSeconds(line, s.At)
			line = append(line, ',')
			if c := r.capacityAt(i, s.At); c >= 0 {
				line = appendRate(line, c)
			}
			line = append(line, ',', ',')
			line = appendRate(line, s.Delivered)
			bw.Write(append(line, ",,,,,,,,\n"...))
		}
	}
	return bw.Flush()
}

// capacityAt returns the forward capacity at the instant of the i-th
// sample: from the media series when it has that sample, else from the
// scenario; -1 if neither knows.
func (r *Result) capacityAt(i int, at bwe.Time) bwe.Bitrate {
	for _, f := range r.Flows {
		if i < len(f.Series) && f.Series[i].At == at {
			return f.Series[i].Capacity
		}
	}
	if c := r.Scenario.Forward.Capacity; c != nil {
		return max(c.At(at), 0)
	}
	return -1
}

// appendSeconds appends t in seconds, shortest form ("12.3").
func appendSeconds(b []byte, t bwe.Time) []byte {
	return strconv.AppendFloat(b, float64(t.Micros())/1e6, 'f', -1, 64)
}

// appendRate appends r in bit/s.
func appendRate(b []byte, r bwe.Bitrate) []byte { return strconv.AppendInt(b, int64(r), 10) }

// appendCSVRow appends fields as one CSV row.
func appendCSVRow(b []byte, fields ...string) []byte {
	for i, f := range fields {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, csvField(f)...)
	}
	return append(b, '\n')
}

// csvField quotes s if CSV requires it (RFC 4180: in double quotes, a
// double quote doubled).
func csvField(s string) string {
	if !strings.ContainsAny(s, ",\"\n\r") {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}
