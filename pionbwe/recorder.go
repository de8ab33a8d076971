package pionbwe

import (
	"errors"
	"io"
	"sync"

	"github.com/pion/interceptor"
)

// RecorderFactory makes the recording interceptor of one PeerConnection:
// register it with a pion interceptor.Registry next to any bandwidth
// estimator (pion's gcc included) to write the native feedback trace of
// the session (package traces) to an io.Writer. `bwe replay` then runs
// any of this module's estimators over what the session sent and what
// its feedback said.
//
// The interceptor watches, it changes nothing: every local stream's
// packets pass through untouched (it never sets a transport-wide sequence
// number, unlike [Estimator]), and the RTCP the PeerConnection reads is
// passed on as read. It matches transport-wide CC and RFC 8888 feedback to
// the packets it saw leave, exactly as an [Estimator] does, and writes each
// batch. Replaying the trace with this module's default estimator gives
// the estimates an [Estimator] with the same options would have given
// live.
//
// Order matters: pion binds local streams in registration order, each
// interceptor wrapping the writers of those registered before it, so a
// packet passes from the last registered to the first. Register the
// recorder before the interceptor that numbers packets
// (webrtc.ConfigureTWCCHeaderExtensionSender), so that the numbers are in
// the headers when the packets reach it.
type RecorderFactory struct {
	w    io.Writer
	opts []Option

	mu   sync.Mutex
	used bool
}

// NewRecorder returns a factory whose one interceptor writes the trace to
// w. The options configure the matching (the clock, the send-history
// window); the pacer is off.
func NewRecorder(w io.Writer, opts ...Option) (*RecorderFactory, error) {
	if w == nil {
		return nil, errors.New("pionbwe: NewRecorder(nil)")
	}
	return &RecorderFactory{w: w, opts: opts}, nil
}

// NewInterceptor returns the recording interceptor. A trace holds one
// session: a second call returns an error.
func (f *RecorderFactory) NewInterceptor(string) (interceptor.Interceptor, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.used {
		return nil, errors.New("pionbwe: a RecorderFactory records one PeerConnection; make one per PeerConnection")
	}
	opts := append(append([]Option(nil), f.opts...), WithPacer(false), WithRecorder(f.w), func(e *Estimator) error {
		e.passive = true
		return nil
	})
	e, err := New(opts...)
	if err != nil {
		return nil, err
	}
	f.used = true
	return &recorder{e: e}, nil
}

// recorder is the recording interceptor.
type recorder struct {
	interceptor.NoOp
	e *Estimator
}

// BindLocalStream records the stream's packets as they leave.
func (r *recorder) BindLocalStream(info *interceptor.StreamInfo, w interceptor.RTPWriter) interceptor.RTPWriter {
	return r.e.AddStream(info, w)
}

// BindRTCPReader records the transport feedback among the RTCP read.
func (r *recorder) BindRTCPReader(reader interceptor.RTCPReader) interceptor.RTCPReader {
	return interceptor.RTCPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		n, attr, err := reader.Read(b, a)
		if err != nil {
			return n, attr, err
		}
		if attr == nil {
			attr = make(interceptor.Attributes)
		}
		pkts, perr := attr.GetRTCPPackets(b[:n])
		if perr == nil {
			_ = r.e.WriteRTCP(pkts, attr) // only ErrClosed, after Close
		} else {
			r.e.malformed()
		}
		return n, attr, nil
	})
}

// Close flushes the trace.
func (r *recorder) Close() error { return r.e.Close() }

var _ interceptor.Interceptor = (*recorder)(nil)

// malformed counts an RTCP compound packet that did not parse.
func (e *Estimator) malformed() {
	e.mu.Lock()
	e.stats.Malformed++
	e.mu.Unlock()
}
