package pionbwe

import (
	"cmp"
	"slices"

	"github.com/bwelab/bwe"
	"github.com/bwelab/bwe/traces"
	"github.com/pion/rtcp"
)

// Units of the feedback formats.
const (
	// twccRefUnitUs is the unit of a TWCC reference time, 64 ms
	// (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1), in µs.
	twccRefUnitUs = 64_000
	// twccRefBits is the width of a TWCC reference time.
	twccRefBits = 24
	// ccfbOverRange and ccfbUnavailable are the RFC 8888 §3.1 arrival
	// time offsets that carry no usable arrival time.
	ccfbOverRange   = 0x1FFE
	ccfbUnavailable = 0x1FFF
)

// addTWCC appends the results of one transport-wide CC feedback packet
// to the batch. A packet whose chunks ask for more receive deltas than it
// carries, or that holds a chunk of unknown type, is skipped whole and
// counted as malformed. The caller holds the lock.
func (e *Estimator) addTWCC(fb *rtcp.TransportLayerCC) {
	e.stats.FeedbackPackets++
	if !validTWCC(fb) {
		e.stats.Malformed++
		return
	}
	ref := int64(fb.ReferenceTime & (1<<twccRefBits - 1))
	if e.twRefSet {
		ref = unwrapNear(e.twRef, ref, twccRefBits)
	}
	at := bwe.Time(ref * twccRefUnitUs)
	seq := e.hist.unwrapTW(fb.BaseSequenceNumber)
	remaining := int(fb.PacketStatusCount)
	deltas := fb.RecvDeltas
	status := func(sym uint16) {
		switch sym {
		case rtcp.TypeTCCPacketReceivedSmallDelta, rtcp.TypeTCCPacketReceivedLargeDelta:
			at = bwe.SatAdd(at, bwe.Time(deltas[0].Delta))
			deltas = deltas[1:]
			p, why := e.hist.byTransport(seq)
			e.addResult(p, why, true, at)
		case rtcp.TypeTCCPacketNotReceived:
			p, why := e.hist.byTransport(seq)
			e.addResult(p, why, false, 0)
		default:
			e.stats.NoArrival++
		}
		seq++
	}
	for _, c := range fb.PacketChunks {
		if remaining == 0 {
			break
		}
		switch c := c.(type) {
		case *rtcp.RunLengthChunk:
			n := min(int(c.RunLength), remaining)
			for range n {
				status(c.PacketStatusSymbol)
			}
			remaining -= n
		case *rtcp.StatusVectorChunk:
			n := min(len(c.SymbolList), remaining)
			for _, sym := range c.SymbolList[:n] {
				status(sym)
			}
			remaining -= n
		}
	}
	if fb.PacketStatusCount > 0 {
		e.twRef, e.twRefSet = ref, true
	}
}

// validTWCC reports whether every chunk of fb is of a known type and fb
// carries a receive delta for every received status it reports.
func validTWCC(fb *rtcp.TransportLayerCC) bool {
	if fb == nil {
		return false
	}
	need, remaining := 0, int(fb.PacketStatusCount)
	for _, c := range fb.PacketChunks {
		if remaining == 0 {
			break
		}
		switch c := c.(type) {
		case *rtcp.RunLengthChunk:
			if c == nil {
				return false
			}
			n := min(int(c.RunLength), remaining)
			if hasDelta(c.PacketStatusSymbol) {
				need += n
			}
			remaining -= n
		case *rtcp.StatusVectorChunk:
			if c == nil {
				return false
			}
			n := min(len(c.SymbolList), remaining)
			for _, sym := range c.SymbolList[:n] {
				if hasDelta(sym) {
					need++
				}
			}
			remaining -= n
		default:
			return false
		}
	}
	if need > len(fb.RecvDeltas) {
		return false
	}
	for _, d := range fb.RecvDeltas[:need] {
		if d == nil {
			return false
		}
	}
	return true
}

func hasDelta(sym uint16) bool {
	return sym == rtcp.TypeTCCPacketReceivedSmallDelta || sym == rtcp.TypeTCCPacketReceivedLargeDelta
}

// addCCFB appends the results of one RFC 8888 congestion control
// feedback report to the batch. Arrival times are the report timestamp
// (NTP 16.16 seconds, unwrapped) minus each packet's arrival time offset
// (1/1024 s), in µs on the receiver's clock. The caller holds the lock.
func (e *Estimator) addCCFB(fb *rtcp.CCFeedbackReport) {
	e.stats.FeedbackPackets++
	if fb == nil {
		e.stats.Malformed++
		return
	}
	rts := int64(fb.ReportTimestamp)
	if e.ccRefSet {
		rts = unwrapNear(e.ccRef, rts, 32)
	}
	e.ccRef, e.ccRefSet = rts, true
	// 1 s = 65536 units = 10⁶ µs: µs = units·15625/1024.
	refUs := bwe.Time(rts * 15625 / 1024)
	for _, rb := range fb.ReportBlocks {
		s := e.hist.stream(rb.MediaSSRC)
		if s == nil {
			e.stats.Unknown += int64(len(rb.MetricBlocks))
			continue
		}
		seq := unwrapNear(s.last, int64(rb.BeginSequence), 16)
		for _, mb := range rb.MetricBlocks {
			switch {
			case !mb.Received:
				p, why := e.hist.byRTP(s, seq)
				e.addResult(p, why, false, 0)
			case mb.ArrivalTimeOffset >= ccfbOverRange:
				e.stats.NoArrival++
			default:
				// 1/1024 s = 15625/16 µs.
				ato := bwe.Time(int64(mb.ArrivalTimeOffset&0x1FFF) * 15625 / 16)
				p, why := e.hist.byRTP(s, seq)
				e.addResult(p, why, true, refUs-ato)
			}
			seq++
		}
	}
}

// addResult appends the result of a history lookup to the batch, or
// counts why it cannot: a packet never sent or no longer in the window,
// one already reported received, or a batch full to the trace format's
// limit.
func (e *Estimator) addResult(p *sentPacket, why int, received bool, arrival bwe.Time) {
	switch {
	case why == lookUnknown:
		e.stats.Unknown++
		return
	case why == lookOld || p == nil:
		e.stats.Old++
		return
	case p.acked:
		e.stats.Duplicate++
		return
	case len(e.batch) >= traces.FeedbackMaxPackets:
		e.stats.Overflow++
		return
	}
	r := bwe.PacketResult{Seq: p.idx, SendTime: p.send, Size: p.size, ProbeCluster: p.probe}
	if received {
		r.Received, r.Arrival = true, arrival
		p.acked = true
	}
	e.batch = append(e.batch, r)
}

// finishBatch sorts the batch by sequence number and merges the results
// of one packet reported several times in one call (a loss, then a
// reception), keeping the reception.
func (e *Estimator) finishBatch() {
	b := e.batch
	if !slices.IsSortedFunc(b, byPacketSeq) {
		slices.SortStableFunc(b, byPacketSeq)
	}
	out := b[:0]
	for i := range b {
		if n := len(out); n > 0 && out[n-1].Seq == b[i].Seq {
			if b[i].Received && !out[n-1].Received {
				out[n-1] = b[i]
			}
			e.stats.Duplicate++
			continue
		}
		out = append(out, b[i])
	}
	e.batch = out
}

func byPacketSeq(a, b bwe.PacketResult) int { return cmp.Compare(a.Seq, b.Seq) }
