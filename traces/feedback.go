package traces

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"unicode/utf8"

	"github.com/bwelab/bwe"
)

// The feedback-trace format, version 1, is specified in docs/trace-format.md.
// In short:
//
//	bwe-feedback-trace 1
//	meta source "emulator"
//	fb 1050000 2
//	p 17 1000000 1200 3230000
//	p 18 1005000 1200 lost 2
//
// A first line naming the format and version, "meta" lines of key/value
// metadata, then for each feedback batch an "fb" line (sender-clock time in
// µs, packet count) followed by that many "p" lines (sequence number, send
// time in µs, size in bytes, receiver-clock arrival in µs or "lost",
// optional probe cluster id).

// Limits and names of the feedback-trace format.
const (
	// FeedbackFormat is the first word of every feedback trace.
	FeedbackFormat = "bwe-feedback-trace"
	// FeedbackVersion is the version of the format this package reads and
	// writes.
	FeedbackVersion = 1
	// FeedbackMaxPackets is the largest packet count of one batch: a
	// transport-wide-CC feedback message counts its packet statuses in 16
	// bits (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1).
	FeedbackMaxPackets = 65535
	// FeedbackMaxPacketSize is the largest packet size, 1 MiB.
	FeedbackMaxPacketSize bwe.ByteCount = 1 << 20
	// FeedbackMaxLine is the largest length of a line in bytes, not
	// counting its terminator (LF or CR LF).
	FeedbackMaxLine = 4096
	// FeedbackMaxMeta is the largest number of metadata lines in a header.
	FeedbackMaxMeta = 1024
)

// Record tags and fixed words of the format.
const (
	fbTagMeta  = "meta"
	fbTagBatch = "fb"
	fbTagPkt   = "p"
	fbLost     = "lost"
)

// fbMaxFields is the most whitespace-separated fields a body line has
// ("p", seq, send, size, arrival, probe); one more slot detects extras.
const fbMaxFields = 6

// fbBufSize is the read buffer size; it exceeds FeedbackMaxLine so that a
// line too long is seen whole and reported as such.
const fbBufSize = 64 << 10

// ParseError is an error in input data: a trace file, a line of it, a field
// of that line. Readers of every trace format of this package return it,
// with the underlying problem in Err.
type ParseError struct {
	// File names the input, as given to the reader; it may be empty.
	File string
	// Line is the 1-based line number of the problem, 0 if unknown (as
	// for a corrupt gzip header).
	Line int
	// Field names the field or record at fault, as the format's
	// specification spells it; it is empty when the line as a whole is at
	// fault (too long, not UTF-8, unreadable).
	Field string
	// Err is the problem.
	Err error
}

// Error formats e as "file:line: field: problem", leaving out the parts
// that are empty or zero. A line without a file name reads "line 12".
func (e *ParseError) Error() string {
	var b []byte
	switch {
	case e.File != "" && e.Line > 0:
		b = append(append(append(b, e.File...), ':'), strconv.Itoa(e.Line)...)
	case e.File != "":
		b = append(b, e.File...)
	case e.Line > 0:
		b = append(append(b, "line "...), strconv.Itoa(e.Line)...)
	}
	if e.Field != "" {
		if len(b) > 0 {
			b = append(b, ": "...)
		}
		b = append(b, e.Field...)
	}
	if len(b) > 0 {
		b = append(b, ": "...)
	}
	if e.Err == nil {
		return string(append(b, "invalid input"...))
	}
	return string(append(b, e.Err.Error()...))
}

// Unwrap returns e.Err.
func (e *ParseError) Unwrap() error { return e.Err }

// FeedbackMeta is one metadata entry of a feedback-trace header.
type FeedbackMeta struct {
	// Key starts with an ASCII letter followed by ASCII letters, digits,
	// '_', '.' or '-'. Keys are case-sensitive and may repeat.
	Key string
	// Value is free UTF-8 text, possibly empty; the file stores it as a
	// JSON string, so any valid UTF-8 (newlines included) round-trips.
	Value string
}

// FeedbackHeader is the header of a feedback trace: its version and its
// metadata, in file order. The format gives no meaning to metadata; by
// convention "source" names what recorded the trace (e.g. "emulator"),
// "description" is free text, "scenario" names a scenario and "seed" holds
// its seed in decimal.
type FeedbackHeader struct {
	// Version is the format version; 0 means [FeedbackVersion] when
	// writing. Readers report the version they read.
	Version int
	// Meta holds the metadata entries in file order.
	Meta []FeedbackMeta
}

// Get returns the value of the first entry with the given key, or "" if
// there is none.
func (h FeedbackHeader) Get(key string) string {
	for _, m := range h.Meta {
		if m.Key == key {
			return m.Value
		}
	}
	return ""
}

// FeedbackReader reads a feedback trace one batch at a time, from plain
// text or gzip (recognized by its magic bytes 0x1f 0x8b). It holds one
// batch in memory, never the whole trace, and allocates nothing per packet
// or per batch once its packet buffer has grown to the largest batch.
// Errors in the input are [*ParseError] values naming the input, the line
// and the field; line numbers count lines of the decompressed text.
//
// A FeedbackReader is not safe for concurrent use.
type FeedbackReader struct {
	name   string
	br     *bufio.Reader
	gz     *gzip.Reader
	closer io.Closer
	hdr    FeedbackHeader

	line    int                     // number of the last line read
	raw     []byte                  // the last record's line, without terminator
	fields  [fbMaxFields + 1][]byte // its fields; valid until the next read
	nfields int                     // their count, fbMaxFields+1 meaning "too many"
	pending bool                    // the header read a body record Next must use

	batchLine  int // line of the last batch line, 0 before the first
	batchCount int // packet count it announced
	packets    []bwe.PacketResult
	err        error // sticky: io.EOF or a *ParseError
}

// NewFeedbackReader reads the header of the feedback trace in r and returns
// a reader positioned at its first batch. Name identifies r in errors (a
// file name, or "" for none). Closing the reader does not close r.
func NewFeedbackReader(r io.Reader, name string) (*FeedbackReader, error) {
	fr := &FeedbackReader{name: name, br: bufio.NewReaderSize(r, fbBufSize)}
	if magic, _ := fr.br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(fr.br)
		if err != nil {
			return nil, &ParseError{File: name, Err: fmt.Errorf("gzip header: %w", err)}
		}
		fr.gz = gz
		fr.br = bufio.NewReaderSize(gz, fbBufSize)
	}
	if err := fr.readHeader(); err != nil {
		fr.Close()
		return nil, err
	}
	return fr, nil
}

// OpenFeedback opens the feedback trace at path, plain or gzip, and reads
// its header. Errors name the file by path. The caller must Close the
// reader, which closes the file.
func OpenFeedback(path string) (*FeedbackReader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	fr, err := NewFeedbackReader(f, path)
	if err != nil {
		f.Close()
		return nil, err
	}
	fr.closer = f
	return fr, nil
}

// Header returns the trace's header. Its Meta slice belongs to the reader
// and must not be modified.
func (r *FeedbackReader) Header() FeedbackHeader { return r.hdr }

// Close releases the reader's resources, and closes the file if the
// reader was made by [OpenFeedback]. It does not close the io.Reader given
// to [NewFeedbackReader].
func (r *FeedbackReader) Close() error {
	var err error
	if r.gz != nil {
		err = r.gz.Close()
	}
	if r.closer != nil {
		if cerr := r.closer.Close(); err == nil {
			err = cerr
		}
		r.closer = nil
	}
	return err
}

// Next returns the next feedback batch, or io.EOF after the last one. The
// returned Packets slice is reused: it is valid until the next call to
// Next. A batch may be empty. Errors are sticky: after one, Next returns
// it again.
func (r *FeedbackReader) Next() (bwe.Feedback, error) {
	if r.err != nil {
		return bwe.Feedback{}, r.err
	}
	fb, err := r.next()
	if err != nil {
		r.err = err
		return bwe.Feedback{}, err
	}
	return fb, nil
}

func (r *FeedbackReader) next() (bwe.Feedback, error) {
	if r.pending {
		r.pending = false
	} else if err := r.record(); err != nil {
		return bwe.Feedback{}, err
	}
	if string(r.fields[0]) != fbTagBatch {
		return bwe.Feedback{}, r.misplaced()
	}
	t, err := r.parseBatch()
	if err != nil {
		return bwe.Feedback{}, err
	}
	r.packets = r.packets[:0]
	for len(r.packets) < r.batchCount {
		err := r.record()
		switch {
		case err == io.EOF:
			return bwe.Feedback{}, r.errorf(r.batchLine, "count", "%d packets announced, input ends after %d", r.batchCount, len(r.packets))
		case err != nil:
			return bwe.Feedback{}, err
		case string(r.fields[0]) == fbTagBatch:
			return bwe.Feedback{}, r.errorf(r.batchLine, "count", "%d packets announced, %d found before the next batch at line %d", r.batchCount, len(r.packets), r.line)
		case string(r.fields[0]) != fbTagPkt:
			return bwe.Feedback{}, r.misplaced()
		}
		p, err := r.parsePacket()
		if err != nil {
			return bwe.Feedback{}, err
		}
		r.packets = append(r.packets, p)
	}
	return bwe.Feedback{Time: t, Packets: r.packets}, nil
}

// misplaced returns the error for the current record, which is not a
// batch line where a batch line (or the end) must come.
func (r *FeedbackReader) misplaced() error {
	switch tag := string(r.fields[0]); {
	case tag == fbTagPkt && r.batchLine == 0:
		return r.errorf(r.line, "record", "packet line before the first batch line")
	case tag == fbTagPkt:
		return r.errorf(r.line, "record", "packet line beyond the %d packets announced by the batch at line %d", r.batchCount, r.batchLine)
	case tag == fbTagMeta:
		return r.errorf(r.line, "record", "meta line after the first batch line")
	}
	return r.errorf(r.line, "record", "unknown record type %q (want %q or %q)", fbClip(r.fields[0]), fbTagBatch, fbTagPkt)
}

// readHeader reads the format line and the metadata lines, and leaves the
// first body record, if any, pending for Next.
func (r *FeedbackReader) readHeader() error {
	line, err := r.readLine()
	if err == io.EOF {
		return r.errorf(1, "format", "empty input, want a first line %q", fbFirstLine)
	}
	if err != nil {
		return err
	}
	r.split(line)
	if r.nfields == 0 || string(r.fields[0]) != FeedbackFormat {
		return r.errorf(1, "format", "not a feedback trace: first line %q, want %q", fbClip(line), fbFirstLine)
	}
	if r.nfields < 2 {
		return r.errorf(1, "version", "missing (want %d)", FeedbackVersion)
	}
	if r.nfields > 2 {
		return r.errorf(1, "record", "unexpected field %q after the version", fbClip(r.fields[2]))
	}
	v, st := fbParseInt(r.fields[1])
	switch {
	case st != fbNumOK || v < 1:
		return r.errorf(1, "version", "%q is not a version number (want %d)", fbClip(r.fields[1]), FeedbackVersion)
	case v != FeedbackVersion:
		return r.errorf(1, "version", "unsupported version %d (this reader reads version %d)", v, FeedbackVersion)
	}
	r.hdr.Version = FeedbackVersion
	for {
		if err := r.record(); err == io.EOF {
			r.err = io.EOF
			return nil
		} else if err != nil {
			return err
		}
		if string(r.fields[0]) != fbTagMeta {
			r.pending = true
			return nil
		}
		m, err := r.parseMeta()
		if err != nil {
			return err
		}
		if len(r.hdr.Meta) == FeedbackMaxMeta {
			return r.errorf(r.line, "record", "more than %d meta lines", FeedbackMaxMeta)
		}
		r.hdr.Meta = append(r.hdr.Meta, m)
	}
}

var fbFirstLine = FeedbackFormat + " " + strconv.Itoa(FeedbackVersion)

// readLine returns the next line without its terminator (LF or CR LF). The
// slice is valid until the next read. It returns io.EOF at the end.
func (r *FeedbackReader) readLine() ([]byte, error) {
	line, err := r.br.ReadSlice('\n')
	switch {
	case err == bufio.ErrBufferFull:
		r.line++
		return nil, r.errorf(r.line, "", "line longer than %d bytes", FeedbackMaxLine)
	case err == io.EOF && len(line) == 0:
		return nil, io.EOF
	case err != nil && err != io.EOF:
		if r.gz != nil {
			return nil, r.errorf(r.line+1, "", "reading gzip stream: %w", err)
		}
		return nil, r.errorf(r.line+1, "", "reading: %w", err)
	}
	r.line++
	if n := len(line); n > 0 && line[n-1] == '\n' {
		line = line[:n-1]
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
	}
	if len(line) > FeedbackMaxLine {
		return nil, r.errorf(r.line, "", "line longer than %d bytes", FeedbackMaxLine)
	}
	return line, nil
}

// record reads lines up to the next one that is neither blank nor a
// comment and splits it into r.fields.
func (r *FeedbackReader) record() error {
	for {
		line, err := r.readLine()
		if err != nil {
			return err
		}
		r.split(line)
		if r.nfields == 0 {
			continue
		}
		if r.fields[0][0] == '#' {
			if !utf8.Valid(line) {
				return r.errorf(r.line, "", "comment is not valid UTF-8")
			}
			continue
		}
		return nil
	}
}

// split cuts line into fields separated by runs of spaces and tabs. At
// most fbMaxFields+1 fields are kept; nfields is fbMaxFields+1 when there
// are more than fbMaxFields.
func (r *FeedbackReader) split(line []byte) {
	r.raw = line
	n := 0
	for i := 0; i < len(line) && n <= fbMaxFields; {
		for i < len(line) && fbBlank(line[i]) {
			i++
		}
		if i == len(line) {
			break
		}
		j := i
		for j < len(line) && !fbBlank(line[j]) {
			j++
		}
		r.fields[n] = line[i:j]
		n++
		i = j
	}
	r.nfields = n
}

func fbBlank(c byte) bool { return c == ' ' || c == '\t' }

// fieldCount checks that the current record has at least least fields
// (its tag included) and no more than the tag and the named fields.
func (r *FeedbackReader) fieldCount(least int, names ...string) error {
	if r.nfields < least {
		return r.errorf(r.line, names[r.nfields-1], "missing")
	}
	if most := len(names) + 1; r.nfields > most {
		return r.errorf(r.line, "record", "unexpected field %q after %s", fbClip(r.fields[most]), names[most-2])
	}
	return nil
}

// parseMeta parses the current record, a meta line: "meta", a key, and a
// JSON string running to the end of the line.
func (r *FeedbackReader) parseMeta() (FeedbackMeta, error) {
	if !utf8.Valid(r.raw) {
		return FeedbackMeta{}, r.errorf(r.line, "", "meta line is not valid UTF-8")
	}
	if r.nfields < 2 {
		return FeedbackMeta{}, r.errorf(r.line, "key", "missing")
	}
	key := r.fields[1]
	if err := fbCheckKey(string(key)); err != nil {
		return FeedbackMeta{}, r.errorf(r.line, "key", "%w", err)
	}
	// The value is what follows the key, less surrounding blanks.
	rest := bytes.TrimLeft(r.raw, " \t")[len(fbTagMeta):]
	rest = bytes.TrimLeft(rest, " \t")[len(key):]
	rest = bytes.Trim(rest, " \t")
	if len(rest) == 0 {
		return FeedbackMeta{}, r.errorf(r.line, "value", "missing (want a JSON string, e.g. \"\")")
	}
	var v string
	if len(rest) < 2 || rest[0] != '"' || rest[len(rest)-1] != '"' {
		return FeedbackMeta{}, r.errorf(r.line, "value", "%q is not a JSON string", fbClip(rest))
	}
	if err := json.Unmarshal(rest, &v); err != nil {
		return FeedbackMeta{}, r.errorf(r.line, "value", "%q is not a JSON string: %v", fbClip(rest), err)
	}
	return FeedbackMeta{Key: string(key), Value: v}, nil
}

// parseBatch parses the current record, a batch line "fb time count", and
// makes it the current batch.
func (r *FeedbackReader) parseBatch() (bwe.Time, error) {
	if err := r.fieldCount(3, "time", "count"); err != nil {
		return 0, err
	}
	t, err := r.intField(1, "time", "an integer µs")
	if err != nil {
		return 0, err
	}
	n, err := r.intField(2, "count", "an integer")
	if err != nil {
		return 0, err
	}
	if err := fbCheckCount(n); err != nil {
		return 0, r.errorf(r.line, "count", "%w", err)
	}
	r.batchLine, r.batchCount = r.line, int(n)
	return bwe.Time(t), nil
}

// parsePacket parses the current record, a packet line
// "p seq send size arrival [probe]".
func (r *FeedbackReader) parsePacket() (bwe.PacketResult, error) {
	var p bwe.PacketResult
	if err := r.fieldCount(5, "seq", "send", "size", "arrival", "probe"); err != nil {
		return p, err
	}
	seq, err := r.intField(1, "seq", "an integer")
	if err != nil {
		return p, err
	}
	send, err := r.intField(2, "send", "an integer µs")
	if err != nil {
		return p, err
	}
	size, err := r.intField(3, "size", "an integer byte count")
	if err != nil {
		return p, err
	}
	if err := fbCheckSize(bwe.ByteCount(size)); err != nil {
		return p, r.errorf(r.line, "size", "%w", err)
	}
	p.Seq, p.SendTime, p.Size = seq, bwe.Time(send), bwe.ByteCount(size)
	if string(r.fields[4]) != fbLost {
		arr, err := r.intField(4, "arrival", `an integer µs or "lost"`)
		if err != nil {
			return p, err
		}
		p.Arrival, p.Received = bwe.Time(arr), true
	}
	if r.nfields == 6 {
		id, err := r.intField(5, "probe", "an integer")
		if err != nil {
			return p, err
		}
		if err := fbCheckProbe(id); err != nil {
			return p, r.errorf(r.line, "probe", "%w", err)
		}
		p.ProbeCluster = int32(id)
	}
	return p, nil
}

func (r *FeedbackReader) errorf(line int, field, format string, args ...any) error {
	return &ParseError{File: r.name, Line: line, Field: field, Err: fmt.Errorf(format, args...)}
}

// fbNum classifies a numeric field.
type fbNum int

const (
	fbNumOK     fbNum = iota
	fbNumSyntax       // not a canonical decimal integer
	fbNumRange        // a decimal integer outside the int64 range
)

// fbParseInt parses a canonical decimal int64: "0", or an optional '-'
// followed by digits without leading zeros. It does not allocate.
func fbParseInt(b []byte) (int64, fbNum) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || (b[0] == '0' && (len(b) > 1 || neg)) {
		return 0, fbNumSyntax
	}
	var u uint64
	for _, c := range b {
		d := c - '0'
		if d > 9 {
			return 0, fbNumSyntax
		}
		u = u*10 + uint64(d)
	}
	if len(b) > 19 { // 20 digits or more exceed int64 (and may wrap u)
		return 0, fbNumRange
	}
	switch {
	case neg && u > 1<<63:
		return 0, fbNumRange
	case neg:
		return int64(-u), fbNumOK // -(1<<63) wraps to math.MinInt64
	case u > math.MaxInt64:
		return 0, fbNumRange
	}
	return int64(u), fbNumOK
}

// intField parses field i of the current record as an int64; field names
// it in errors and what says what it should be ("an integer µs").
func (r *FeedbackReader) intField(i int, field, what string) (int64, error) {
	v, st := fbParseInt(r.fields[i])
	switch st {
	case fbNumOK:
		return v, nil
	case fbNumRange:
		return 0, r.errorf(r.line, field, "%q is outside the int64 range", fbClip(r.fields[i]))
	}
	return 0, r.errorf(r.line, field, "%q is not %s", fbClip(r.fields[i]), what)
}

// fbClip shortens b for quoting in an error message.
func fbClip(b []byte) string {
	const most = 40
	if len(b) > most {
		return string(b[:most]) + "…"
	}
	return string(b)
}

// fbCheckKey reports whether k is a valid metadata key.
func fbCheckKey(k string) error {
	ok := k != "" && fbLetter(k[0])
	for i := 1; ok && i < len(k); i++ {
		c := k[i]
		ok = fbLetter(c) || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'
	}
	if !ok {
		return fmt.Errorf("%q is not a key (want a letter, then letters, digits, '_', '.' or '-')", k)
	}
	return nil
}

func fbLetter(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }

func fbCheckCount(n int64) error {
	switch {
	case n < 0:
		return fmt.Errorf("%d packets is negative", n)
	case n > FeedbackMaxPackets:
		return fmt.Errorf("%d packets exceed the maximum of %d per batch", n, FeedbackMaxPackets)
	}
	return nil
}

func fbCheckSize(s bwe.ByteCount) error {
	switch {
	case s < 0:
		return fmt.Errorf("%d bytes is negative", s)
	case s > FeedbackMaxPacketSize:
		return fmt.Errorf("%d bytes exceeds the maximum of %d", s, FeedbackMaxPacketSize)
	}
	return nil
}

func fbCheckProbe(id int64) error {
	switch {
	case id < 0:
		return fmt.Errorf("%d is negative (0 means not a probe)", id)
	case id > math.MaxInt32:
		return fmt.Errorf("%d exceeds the maximum of %d", id, math.MaxInt32)
	}
	return nil
}

// FeedbackWriter writes a feedback trace as plain text; wrap the
// destination in a [gzip.Writer] to compress it. The same header and
// batches always give the same bytes. Output is buffered: call Flush when
// done. It allocates nothing per batch or per packet.
//
// A FeedbackWriter is not safe for concurrent use.
type FeedbackWriter struct {
	w       io.Writer
	buf     []byte // pending output
	batches int    // batches written
	err     error  // sticky write error
}

// fbMaxPacketLine bounds the length of a packet line with its LF:
// "p ", three int64s, an int64 or "lost", an int32, four spaces.
const fbMaxPacketLine = 2 + 4*20 + 11 + 4 + 1

// NewFeedbackWriter validates h and writes it to a buffer in front of w. It
// rejects a version other than 0 or [FeedbackVersion], more than
// [FeedbackMaxMeta] entries, invalid keys, values that are not valid UTF-8,
// and meta lines longer than [FeedbackMaxLine] bytes.
func NewFeedbackWriter(w io.Writer, h FeedbackHeader) (*FeedbackWriter, error) {
	if h.Version != 0 && h.Version != FeedbackVersion {
		return nil, fmt.Errorf("traces: feedback header: version %d not supported (want %d)", h.Version, FeedbackVersion)
	}
	if len(h.Meta) > FeedbackMaxMeta {
		return nil, fmt.Errorf("traces: feedback header: %d meta entries exceed the maximum of %d", len(h.Meta), FeedbackMaxMeta)
	}
	buf := make([]byte, 0, fbBufSize)
	buf = append(append(buf, fbFirstLine...), '\n')
	for i, m := range h.Meta {
		if err := fbCheckKey(m.Key); err != nil {
			return nil, fmt.Errorf("traces: feedback header: meta %d: key: %w", i, err)
		}
		if !utf8.ValidString(m.Value) {
			return nil, fmt.Errorf("traces: feedback header: meta %d (%s): value is not valid UTF-8", i, m.Key)
		}
		start := len(buf)
		buf = append(append(append(buf, fbTagMeta+" "...), m.Key...), ' ')
		buf = fbAppendQuoted(buf, m.Value)
		if n := len(buf) - start; n > FeedbackMaxLine {
			return nil, fmt.Errorf("traces: feedback header: meta %d (%s): line of %d bytes exceeds the maximum of %d", i, m.Key, n, FeedbackMaxLine)
		}
		buf = append(buf, '\n')
	}
	return &FeedbackWriter{w: w, buf: buf}, nil
}

// Write appends one batch. A batch the format cannot hold (more than
// [FeedbackMaxPackets] packets, a size outside 0..[FeedbackMaxPacketSize],
// a negative probe cluster id) is rejected whole with an error naming the
// batch and packet index (both 0-based, counting accepted batches), and
// nothing of it is written. The arrival time of a packet not received is
// not recorded: it reads back as 0. After a write error of the underlying
// writer, Write returns that error.
func (w *FeedbackWriter) Write(fb bwe.Feedback) error {
	if w.err != nil {
		return w.err
	}
	if err := fbCheckCount(int64(len(fb.Packets))); err != nil {
		return fmt.Errorf("traces: feedback batch %d: count: %w", w.batches, err)
	}
	for i := range fb.Packets {
		p := &fb.Packets[i]
		if err := fbCheckSize(p.Size); err != nil {
			return fmt.Errorf("traces: feedback batch %d, packet %d: size: %w", w.batches, i, err)
		}
		if err := fbCheckProbe(int64(p.ProbeCluster)); err != nil {
			return fmt.Errorf("traces: feedback batch %d, packet %d: probe: %w", w.batches, i, err)
		}
	}
	if !w.room() {
		return w.err
	}
	w.buf = append(w.buf, fbTagBatch+" "...)
	w.buf = strconv.AppendInt(w.buf, int64(fb.Time), 10)
	w.buf = append(w.buf, ' ')
	w.buf = strconv.AppendInt(w.buf, int64(len(fb.Packets)), 10)
	w.buf = append(w.buf, '\n')
	for i := range fb.Packets {
		if !w.room() {
			return w.err
		}
		w.buf = fbAppendPacket(w.buf, &fb.Packets[i])
	}
	w.batches++
	return nil
}

// room makes room in the buffer for one line, writing it out if needed,
// and reports whether that succeeded.
func (w *FeedbackWriter) room() bool {
	if cap(w.buf)-len(w.buf) >= fbMaxPacketLine {
		return true
	}
	return w.Flush() == nil
}

// fbAppendPacket appends p's line to b.
func fbAppendPacket(b []byte, p *bwe.PacketResult) []byte {
	b = append(b, fbTagPkt+" "...)
	b = strconv.AppendInt(b, p.Seq, 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(p.SendTime), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(p.Size), 10)
	b = append(b, ' ')
	if p.Received {
		b = strconv.AppendInt(b, int64(p.Arrival), 10)
	} else {
		b = append(b, fbLost...)
	}
	if p.ProbeCluster != 0 {
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(p.ProbeCluster), 10)
	}
	return append(b, '\n')
}

// Flush writes buffered data to the underlying writer.
func (w *FeedbackWriter) Flush() error {
	if w.err != nil {
		return w.err
	}
	if len(w.buf) > 0 {
		_, w.err = w.w.Write(w.buf)
		w.buf = w.buf[:0]
	}
	return w.err
}

// fbAppendQuoted appends s, valid UTF-8, as a JSON string with the
// escapes JSON requires and no others, in their shortest forms: '"' and
// '\' preceded by a backslash, BS, FF, LF, CR and tab as \b, \f, \n, \r,
// \t, the other control characters below U+0020 as \u00XX (lower-case
// hex). Since a JSON decoder's input escapes the same characters at least
// as long, re-encoding what the reader decoded never lengthens a line.
func fbAppendQuoted(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\b':
			b = append(b, '\\', 'b')
		case c == '\f':
			b = append(b, '\\', 'f')
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
