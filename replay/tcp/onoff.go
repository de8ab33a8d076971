package tcp

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/bwelab/bwe"
)

// OnOffConfig configures an [OnOff] flow. Zero fields take the defaults of
// [DefaultOnOffConfig].
type OnOffConfig struct {
	// Sender configures the TCP sender of every file.
	Sender Config
	// MinFile and MaxFile bound the file sizes, drawn uniformly from the
	// whole bytes in [MinFile, MaxFile]. Defaults 30 KiB = 30 720 B and
	// 50 KiB = 51 200 B: RFC 8868 §6.1 (draft-ietf-rmcat-eval-criteria-06)
	// says "30-50 KB"; ns3-rmcat reads KB as 1024 B
	// (RMCAT_TC_SHORT_TCP_MIN_FILE_SIZE, RMCAT_TC_SHORT_TCP_MAX_FILE_SIZE).
	MinFile, MaxFile bwe.ByteCount
	// MeanIdle is the mean of the exponentially distributed idle time
	// between the end of one file and the start of the next. Default 10 s
	// (RFC 8868 §6.1; ns3-rmcat RMCAT_TC_SHORT_TCP_MEAN_OFF_TIME = 10).
	MeanIdle time.Duration
	// StartOn makes the first file start at Start; otherwise the flow
	// starts with an idle time. RFC 8867 §5.7 starts 2 of its 10 short
	// flows ON and 8 OFF.
	StartOn bool
	// Start is when the process begins. Default 0.
	Start bwe.Time
}

// DefaultOnOffConfig returns the defaults documented on [OnOffConfig].
func DefaultOnOffConfig() OnOffConfig {
	return OnOffConfig{
		Sender:   DefaultConfig(),
		MinFile:  30 << 10,
		MaxFile:  50 << 10,
		MeanIdle: 10 * time.Second,
	}
}

func (c OnOffConfig) withDefaults() OnOffConfig {
	d := DefaultOnOffConfig()
	if c.MinFile == 0 {
		c.MinFile = d.MinFile
	}
	if c.MaxFile == 0 {
		c.MaxFile = d.MaxFile
	}
	if c.MeanIdle == 0 {
		c.MeanIdle = d.MeanIdle
	}
	return c
}

// maxMeanIdle bounds MeanIdle so that idle draws (at most about 40 means
// with math/rand/v2's ExpFloat64) stay far inside bwe.Time.
const maxMeanIdle = 1000 * time.Hour

func (c OnOffConfig) validate() error {
	switch {
	case c.MinFile < 1:
		return fmt.Errorf("tcp: OnOffConfig.MinFile %d B is not positive", c.MinFile)
	case c.MaxFile < c.MinFile || c.MaxFile == math.MaxInt64:
		return fmt.Errorf("tcp: OnOffConfig.MaxFile %d B is not in [MinFile %d, MaxInt64)", c.MaxFile, c.MinFile)
	case c.MeanIdle < 0 || c.MeanIdle > maxMeanIdle:
		return fmt.Errorf("tcp: OnOffConfig.MeanIdle %v is not in (0, %v]", c.MeanIdle, maxMeanIdle)
	}
	return nil
}

// OnOffStats describes an [OnOff] flow.
type OnOffStats struct {
	// Sender holds the counters of all files together; its state fields
	// (Cwnd, SRTT...) are those of the current or last file.
	Sender Stats
	// FilesStarted and FilesCompleted count files; FileBytes is the total
	// size of the files started.
	FilesStarted, FilesCompleted int64
	FileBytes                    bwe.ByteCount
	// CompletionTime is the sum, over completed files, of the time from a
	// file's start to the acknowledgement of its last byte.
	CompletionTime time.Duration
	// IdlePeriods counts idle periods that have ended (a file started);
	// IdleTime is their total length.
	IdlePeriods int64
	IdleTime    time.Duration
}

// MeanCompletionTime returns CompletionTime / FilesCompleted, or zero
// before the first file completes.
func (s OnOffStats) MeanCompletionTime() time.Duration {
	if s.FilesCompleted == 0 {
		return 0
	}
	return s.CompletionTime / time.Duration(s.FilesCompleted)
}

// OnOff is a short-TCP-flow source (RFC 8868 §6.1): a sequence of file
// transfers separated by idle times. Each file is a new connection (fresh
// slow start and RTT estimate) carried by one [Sender]; the next file
// starts when the previous one has been fully acknowledged and an idle time
// has passed. File sizes are uniform and idle times exponential, drawn
// from a PCG generator seeded at construction.
//
// OnOff is driven like a [Sender]: its [OnOff.Deadline] also covers the
// start of the next file. An OnOff is not safe for concurrent use.
type OnOff struct {
	cfg OnOffConfig
	s   *Sender
	rng *rand.Rand

	on        bool
	idle      bool     // off after a drawn idle time (not before a StartOn flow's first file)
	next      bwe.Time // start of the next file, when off
	idleStart bwe.Time // start of the current idle time, when off
	fileStart bwe.Time // start of the current file, when on

	st OnOffStats
}

// streamOnOff is the PCG stream of the file-size and idle-time draws.
const streamOnOff = 0x6f6e6f6666 // "onoff"

// NewOnOff returns an on/off flow whose random draws come from seed. It
// returns an error naming the first field of cfg that is out of range.
func NewOnOff(cfg OnOffConfig, seed uint64) (*OnOff, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s, err := NewSender(cfg.Sender)
	if err != nil {
		return nil, err
	}
	f := &OnOff{
		cfg:       cfg,
		s:         s,
		rng:       rand.New(rand.NewPCG(seed, streamOnOff)),
		idleStart: cfg.Start,
		next:      cfg.Start,
	}
	if !cfg.StartOn {
		f.idle = true
		f.next = cfg.Start.Add(f.drawIdle())
	}
	return f, nil
}

// drawIdle returns an exponential idle time with mean MeanIdle.
func (f *OnOff) drawIdle() time.Duration {
	return scaleDuration(f.cfg.MeanIdle, f.rng.ExpFloat64())
}

// drawFile returns a file size uniform on [MinFile, MaxFile].
func (f *OnOff) drawFile() bwe.ByteCount {
	return f.cfg.MinFile + bwe.ByteCount(f.rng.Int64N(int64(f.cfg.MaxFile-f.cfg.MinFile)+1))
}

// scaleDuration returns d·x rounded to the nanosecond, for x >= 0.
func scaleDuration(d time.Duration, x float64) time.Duration {
	v := math.Round(float64(d) * x)
	if !(v < math.MaxInt64) {
		return math.MaxInt64
	}
	return time.Duration(max(v, 0))
}

// advance starts the next file if its time has come.
func (f *OnOff) advance(now bwe.Time) bwe.Time {
	now = f.s.clock(now)
	if !f.on && now >= f.next {
		if f.idle {
			f.st.IdlePeriods++
			f.st.IdleTime += now.Sub(f.idleStart)
		}
		size := f.drawFile()
		f.s.newConnection()
		f.s.AddData(size)
		f.on = true
		f.fileStart = now
		f.st.FilesStarted++
		f.st.FileBytes += size
	}
	return now
}

// finish ends the current file if all of it has been acknowledged, and
// draws the idle time before the next one.
func (f *OnOff) finish(now bwe.Time) {
	if !f.on || !f.s.Complete() {
		return
	}
	f.on, f.idle = false, true
	f.st.FilesCompleted++
	f.st.CompletionTime += now.Sub(f.fileStart)
	f.idleStart = now
	f.next = now.Add(f.drawIdle())
}

// On reports whether a file transfer is in progress.
func (f *OnOff) On() bool { return f.on }

// CanSend reports whether [OnOff.Send] would return a segment at now.
func (f *OnOff) CanSend(now bwe.Time) bool { return f.s.CanSend(f.advance(now)) }

// Send returns the next segment to transmit at now, as [Sender.Send].
func (f *OnOff) Send(now bwe.Time) (Segment, bool) { return f.s.Send(f.advance(now)) }

// OnAck reports the acknowledgement of segment seq at now, as
// [Sender.OnAck]; the acknowledgement of a file's last byte completes it.
func (f *OnOff) OnAck(now bwe.Time, seq int64) {
	now = f.advance(now)
	f.s.OnAck(now, seq)
	f.finish(now)
}

// Deadline returns when [OnOff.OnTimer] must next be called: the
// retransmission timer, or the start of the next file.
func (f *OnOff) Deadline() bwe.Time {
	if !f.on {
		return min(f.next, f.s.Deadline())
	}
	return f.s.Deadline()
}

// OnTimer starts the next file or runs the retransmission timer if either
// is due at now.
func (f *OnOff) OnTimer(now bwe.Time) {
	now = f.advance(now)
	f.s.OnTimer(now)
}

// Stats returns the flow's counters and state.
func (f *OnOff) Stats() OnOffStats {
	st := f.st
	st.Sender = f.s.Stats()
	return st
}
