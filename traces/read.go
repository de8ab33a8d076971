package traces

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/bwelab/bwe"
)

// Format is a capacity-trace file format. The zero value, FormatUnknown,
// asks [Read] and [OpenFormat] to detect the format (see [Detect]).
type Format uint8

// Capacity-trace formats.
const (
	// FormatUnknown: detect the format from the content.
	FormatUnknown Format = iota
	// FormatMahimahi: one delivery opportunity of a 1500-byte packet per
	// line, as a millisecond timestamp; see [ReadMahimahi].
	FormatMahimahi
	// FormatPensieve: "time_s rate_Mbps" per line (Pensieve's "cooked"
	// traces); see [ReadPensieve].
	FormatPensieve
	// FormatNYU: "second,bytes" per line; see [ReadNYU].
	FormatNYU
	// FormatUCC: the per-second KPI CSV of the UCC 5G dataset
	// (DL_bitrate, kbit/s); see [ReadUCC].
	FormatUCC
	// FormatFiveGophers: the per-second CSV of the 5Gophers dataset
	// (*throughput_mbps, Mbit/s); see [ReadFiveGophers].
	FormatFiveGophers
	// FormatOpenNetLab: the JSON segments of the OpenNetLab AlphaRTC gym
	// (capacity kbit/s for duration ms); see [ReadOpenNetLab].
	FormatOpenNetLab
	trFormats // number of formats
)

var trFormatNames = [trFormats]string{"unknown", "mahimahi", "pensieve", "nyu", "ucc", "5gophers", "opennetlab"}

// String returns the format's name: "mahimahi", "pensieve", "nyu", "ucc",
// "5gophers", "opennetlab", or "unknown".
func (f Format) String() string {
	if f < trFormats {
		return trFormatNames[f]
	}
	return "Format(" + strconv.Itoa(int(f)) + ")"
}

// ParseFormat returns the format named s (as [Format.String] spells it,
// ignoring case).
func ParseFormat(s string) (Format, error) {
	for f, n := range trFormatNames {
		if strings.EqualFold(s, n) {
			return Format(f), nil
		}
	}
	return FormatUnknown, fmt.Errorf("traces: unknown trace format %q (want one of %s)", s, strings.Join(trFormatNames[1:], ", "))
}

// MarshalText implements [encoding.TextMarshaler].
func (f Format) MarshalText() ([]byte, error) { return []byte(f.String()), nil }

// UnmarshalText implements [encoding.TextUnmarshaler] with [ParseFormat].
func (f *Format) UnmarshalText(b []byte) error {
	g, err := ParseFormat(string(b))
	if err != nil {
		return err
	}
	*f = g
	return nil
}

// GapPolicy says what a reader puts where a periodic series of samples has
// a gap: a missing sample, or a time step much longer than the series'
// nominal step.
type GapPolicy uint8

const (
	// GapHold lets the last sample before a gap hold through it, the rule
	// Pensieve's simulator applies ("value i holds until the next
	// timestamp"). A gap before the first sample (a missing value on the
	// first row) is an outage.
	GapHold GapPolicy = iota
	// GapOutage fills a gap with a capacity of 0.
	GapOutage
)

// DefaultSpikeThreshold is the rate from which an OpenNetLab segment is an
// absurd spike (1 Gbit/s). The OpenNetLab AlphaRTC traces of 4G, 5G and
// wired links of at most 35 Mbit/s nominal carry isolated segments of
// 8 to 33 Gbit/s, three orders of magnitude above their neighbours.
const DefaultSpikeThreshold = bwe.Gbps

// ReadOptions adjust how a reader turns a file into a [Trace]. The zero
// value gives every format's default.
type ReadOptions struct {
	// Column names the rate column of a CSV format (UCC, 5Gophers).
	// Default: "DL_bitrate" for UCC; for 5Gophers the first column whose
	// name ends in "throughput_mbps" (the Sprint phone's in the
	// car-driving file).
	Column string
	// Gaps fills gaps in a series of samples: missing seconds of the NYU
	// and 5Gophers series, missing values ("-" or empty) of the UCC and
	// 5Gophers rate columns, steps longer than 1.5 nominal steps of a
	// Pensieve series. Default GapHold.
	Gaps GapPolicy
	// KeepSpikes keeps OpenNetLab segments at or above SpikeThreshold as
	// they are. By default each is replaced by the rate of the segment
	// before it (by the first rate below the threshold for spikes at the
	// start of the file; kept if there is no such rate).
	KeepSpikes bool
	// SpikeThreshold is the rate from which an OpenNetLab segment is a
	// spike, in bit/s. Default DefaultSpikeThreshold (1 Gbit/s).
	SpikeThreshold bwe.Bitrate
}

func (o ReadOptions) spikeThreshold() bwe.Bitrate {
	if o.SpikeThreshold > 0 {
		return o.SpikeThreshold
	}
	return DefaultSpikeThreshold
}

// Read reads a capacity trace of format f from r, with the default
// [ReadOptions]. name names the input in errors and becomes Trace.Name. If
// f is FormatUnknown, the format is detected from the first bytes of r
// and from name as a path hint (see [Detect]).
func Read(r io.Reader, name string, f Format) (*Trace, error) {
	return ReadWith(r, name, f, ReadOptions{})
}

// ReadWith is [Read] with options.
func ReadWith(r io.Reader, name string, f Format, o ReadOptions) (*Trace, error) {
	if f == FormatUnknown {
		br := bufio.NewReaderSize(r, trSniffSize)
		head, _ := br.Peek(trSniffSize) // a short read is reported by the reader
		if f = Detect(head, name); f == FormatUnknown {
			return nil, &ParseError{File: name, Err: errors.New("cannot tell the trace format from the content or the path")}
		}
		r = br
	}
	switch f {
	case FormatMahimahi:
		return ReadMahimahi(r, name)
	case FormatPensieve:
		return trReadPensieve(r, name, o)
	case FormatNYU:
		return trReadNYU(r, name, o)
	case FormatUCC:
		return trReadUCC(r, name, o)
	case FormatFiveGophers:
		return trReadFiveGophers(r, name, o)
	case FormatOpenNetLab:
		return trReadOpenNetLab(r, name, o)
	}
	return nil, fmt.Errorf("traces: %s: unknown format %v", name, f)
}

// trSniffSize is how much of a file [Detect] looks at.
const trSniffSize = 4096

// trFolderFormats maps the folder names of the trace collection (the
// layout of BWE_TRACES) to their formats.
var trFolderFormats = map[string]Format{
	"mahimahi-cellular":           FormatMahimahi,
	"orange-4g":                   FormatMahimahi,
	"norway-hsdpa-3g":             FormatPensieve,
	"fcc-broadband":               FormatPensieve,
	"nyu-multipath-wifi-cellular": FormatNYU,
	"ucc-5g":                      FormatUCC,
	"5gophers":                    FormatFiveGophers,
	"opennetlab-alphartc":         FormatOpenNetLab,
}

// Detect returns the format of a capacity trace whose content begins with
// head and whose path is p (separated by slashes or backslashes; may be
// empty), or
// FormatUnknown. The content decides, from its first non-blank line (a
// UTF-8 byte-order mark is skipped):
//
//   - "{" begins it: FormatOpenNetLab;
//   - comma-separated, with a field "DL_bitrate": FormatUCC;
//   - comma-separated, with a field "seq_num": FormatFiveGophers;
//   - two comma-separated integers: FormatNYU;
//   - a single unsigned integer: FormatMahimahi;
//   - two blank-separated decimal numbers: FormatPensieve.
//
// Only if the content fits none of these (an empty file, a first line
// that is garbage) does the path decide: the innermost directory named
// like a folder of the trace collection (mahimahi-cellular, orange-4g,
// norway-hsdpa-3g, fcc-broadband, nyu-multipath-wifi-cellular, ucc-5g,
// 5gophers, opennetlab-alphartc) gives its format; failing that, the
// extension ".json" means FormatOpenNetLab and ".up", ".down" or ".pps"
// FormatMahimahi.
func Detect(head []byte, p string) Format {
	if f := trDetectContent(head); f != FormatUnknown {
		return f
	}
	dirs := strings.FieldsFunc(p, func(r rune) bool { return r == '/' || r == '\\' })
	if len(dirs) == 0 {
		return FormatUnknown
	}
	for i := len(dirs) - 2; i >= 0; i-- {
		if f, ok := trFolderFormats[dirs[i]]; ok {
			return f
		}
	}
	switch strings.ToLower(path.Ext(dirs[len(dirs)-1])) {
	case ".json":
		return FormatOpenNetLab
	case ".up", ".down", ".pps":
		return FormatMahimahi
	}
	return FormatUnknown
}

func trDetectContent(head []byte) Format {
	head = bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	var line []byte
	for len(head) > 0 {
		var ok bool
		line, head, ok = bytes.Cut(head, []byte("\n"))
		if !ok && len(head) == 0 && len(line) == trSniffSize {
			return FormatUnknown // the line goes on beyond what we have
		}
		if line = trTrim(line); len(line) > 0 {
			break
		}
	}
	switch {
	case len(line) == 0:
		return FormatUnknown
	case line[0] == '{':
		return FormatOpenNetLab
	case bytes.IndexByte(line, ',') >= 0:
		fields := strings.Split(string(line), ",")
		for _, f := range fields {
			switch strings.TrimSpace(f) {
			case "DL_bitrate":
				return FormatUCC
			case "seq_num":
				return FormatFiveGophers
			}
		}
		if len(fields) == 2 && trIsUint([]byte(strings.TrimSpace(fields[0]))) && trIsUint([]byte(strings.TrimSpace(fields[1]))) {
			return FormatNYU
		}
		return FormatUnknown
	}
	fields := bytes.Fields(line)
	switch {
	case len(fields) == 1 && trIsUint(fields[0]):
		return FormatMahimahi
	case len(fields) == 2:
		if _, err := trDecimal(fields[0]); err != nil {
			return FormatUnknown
		}
		if _, err := trDecimal(fields[1]); err != nil {
			return FormatUnknown
		}
		return FormatPensieve
	}
	return FormatUnknown
}

// Open reads the capacity trace at path, detecting its format with
// [Detect] from its content and its path. Trace.Name is path.
func Open(path string) (*Trace, error) { return OpenWith(path, FormatUnknown, ReadOptions{}) }

// OpenFormat reads the capacity trace of format f at path (FormatUnknown:
// detect it, as [Open] does).
func OpenFormat(path string, f Format) (*Trace, error) {
	return OpenWith(path, f, ReadOptions{})
}

// OpenWith is [OpenFormat] with options.
func OpenWith(path string, f Format, o ReadOptions) (*Trace, error) {
	fd, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("traces: %w", err)
	}
	defer fd.Close()
	return ReadWith(fd, path, f, o)
}

// LoadDir reads every capacity trace under dir, a directory laid out like
// the trace collection of BWE_TRACES (one folder per source, possibly with
// sub-folders). It skips hidden files and folders and documentation:
// files named README*, LICENSE*, COPYING* or ATTRIBUTION*, and files
// ending in .md, .txt, .pdf or .html. Every other file must be a trace of
// a format [Detect] recognises, or LoadDir fails. Each trace is named by
// its slash-separated path under dir ("<folder>/<file>"), with the default
// [ReadOptions]; a 5Gophers file with several throughput columns gives
// one trace per column, named "<folder>/<file>#<column>". Traces come in
// lexical order of their paths.
func LoadDir(dir string) ([]*Trace, error) {
	var out []*Trace
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("traces: %w", err)
		}
		if p != dir && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() || !d.Type().IsRegular() || trIsDoc(d.Name()) {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return fmt.Errorf("traces: %w", err)
		}
		name := filepath.ToSlash(rel)
		data, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("traces: %w", err)
		}
		f := Detect(data, name)
		if f == FormatUnknown {
			return &ParseError{File: name, Err: errors.New("cannot tell the trace format from the content or the path")}
		}
		cols := []string{""}
		if f == FormatFiveGophers {
			if c := trRateColumns(data); len(c) > 1 {
				cols = c
			}
		}
		for _, c := range cols {
			n := name
			if c != "" {
				n += "#" + c
			}
			t, err := ReadWith(bytes.NewReader(data), n, f, ReadOptions{Column: c})
			if err != nil {
				return err
			}
			out = append(out, t)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func trIsDoc(name string) bool {
	u := strings.ToUpper(name)
	for _, p := range []string{"README", "LICENSE", "COPYING", "ATTRIBUTION"} {
		if strings.HasPrefix(u, p) {
			return true
		}
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".md", ".txt", ".pdf", ".html":
		return true
	}
	return false
}

// trMaxLine is the longest line a line-oriented reader accepts.
const trMaxLine = 64 << 10

// trLines reads an input line by line, skipping blank lines and trimming
// blanks (spaces, tabs, a CR before the LF) around each line.
type trLines struct {
	sc   *bufio.Scanner
	name string
	line int // number of the line last returned
}

func trNewLines(r io.Reader, name string) *trLines {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), trMaxLine)
	return &trLines{sc: sc, name: name}
}

// next returns the next non-blank line, trimmed; nil and a nil error at
// the end of the input. The bytes are valid until the next call.
func (l *trLines) next() ([]byte, error) {
	for l.sc.Scan() {
		l.line++
		b := l.sc.Bytes()
		if l.line == 1 {
			b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")) // a UTF-8 byte-order mark
		}
		if b = trTrim(b); len(b) > 0 {
			return b, nil
		}
	}
	if err := l.sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			err = fmt.Errorf("line longer than %d bytes", trMaxLine)
		}
		return nil, &ParseError{File: l.name, Line: l.line + 1, Err: err}
	}
	return nil, nil
}

// errorf returns a *ParseError at the line last returned.
func (l *trLines) errorf(field, format string, args ...any) error {
	return &ParseError{File: l.name, Line: l.line, Field: field, Err: fmt.Errorf(format, args...)}
}

// trTrim cuts blanks (space, tab, CR) from both ends of b.
func trTrim(b []byte) []byte {
	for len(b) > 0 && trBlank(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && trBlank(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

func trBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\r' }

func trIsUint(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// trClip quotes b for an error message, cut to a readable length.
func trClip(b []byte) string {
	const n = 40
	if len(b) > n {
		return strconv.Quote(string(b[:n])) + "..."
	}
	return strconv.Quote(string(b))
}

// trDecimal parses a plain decimal number (digits, an optional sign,
// fraction and exponent; no hexadecimal, infinities, NaN or underscores).
func trDecimal(b []byte) (float64, error) {
	ok := len(b) > 0
	for _, c := range b {
		if (c < '0' || c > '9') && c != '.' && c != 'e' && c != 'E' && c != '+' && c != '-' {
			ok = false
			break
		}
	}
	if ok {
		if v, err := strconv.ParseFloat(string(b), 64); err == nil && !math.IsInf(v, 0) {
			return v, nil
		}
	}
	return 0, fmt.Errorf("%s is not a decimal number", trClip(b))
}

// trRate parses a non-negative decimal rate in units of unit bit/s and
// rounds it to whole bits per second; it rejects rates above MaxLinkRate.
func trRate(b []byte, unit float64) (bwe.Bitrate, error) {
	v, err := trDecimal(b)
	if err != nil {
		return 0, err
	}
	if v < 0 {
		return 0, fmt.Errorf("rate %s is negative", b)
	}
	bps := math.Round(v * unit)
	if bps > float64(MaxLinkRate) {
		return 0, fmt.Errorf("rate %s exceeds %v", b, MaxLinkRate)
	}
	return bwe.Bitrate(bps), nil
}

// trOffset converts a non-negative decimal number of units (unit in µs)
// to whole microseconds, rounding; it rejects negative and over-long
// values.
func trOffset(b []byte, unit float64) (int64, error) {
	v, err := trDecimal(b)
	if err != nil {
		return 0, err
	}
	if v < 0 {
		return 0, fmt.Errorf("%s is negative", b)
	}
	us := math.Round(v * unit)
	if us > float64(MaxTraceLength/time.Microsecond) {
		return 0, fmt.Errorf("%s is beyond the longest trace, %v", b, MaxTraceLength)
	}
	return int64(us), nil
}

// trFinish checks a trace a reader has built and fills in its header.
func trFinish(t *Trace, name string, f Format, records int) (*Trace, error) {
	t.Name, t.Format, t.Loop, t.Records = name, f, true, records
	if t.Length > MaxTraceLength {
		return nil, &ParseError{File: name, Err: fmt.Errorf("trace lasts more than %v", MaxTraceLength)}
	}
	if err := t.Validate(); err != nil {
		return nil, &ParseError{File: name, Err: err}
	}
	return t, nil
}
