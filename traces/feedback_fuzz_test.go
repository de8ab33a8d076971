package traces

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"reflect"
	"testing"
	"unicode/utf8"

	"github.com/bwelab/bwe"
)

// FuzzFeedbackReader reads arbitrary bytes as a feedback trace. The reader
// must never panic and must report every failure as a *ParseError; a trace
// it reads whole must be accepted by the writer, and the rewritten trace
// must read back to the same header and batches and rewrite to the same
// bytes.
func FuzzFeedbackReader(f *testing.F) {
	golden, err := os.ReadFile(fbGoldenPath)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(golden)
	f.Add(fbGzip(f, golden))
	f.Add([]byte(fbHead))
	f.Add([]byte(fbHead + "# c\n\nmeta k \"a\\u00e9\\n\"\r\nfb -1 2\n\tp 1 2 3 lost 0\np -9 -8 1048576 -7 2147483647"))
	f.Add([]byte(fbHead + "fb 9223372036854775807 1\np -9223372036854775808 0 0 0\nfb 0 0\n"))
	f.Add([]byte(fbHead + "fb 1 2\np 1 2 3 4\nfb 2 0\n"))
	f.Add([]byte("bwe-feedback-trace 2\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, batches, err := fbReadAll(bytes.NewReader(data), "fuzz.bfb")
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v (%T) is not a *ParseError", err, err)
			}
			if pe.File != "fuzz.bfb" || pe.Err == nil {
				t.Fatalf("error %q: File %q, Err %v", err, pe.File, pe.Err)
			}
			return
		}
		if h.Version != FeedbackVersion {
			t.Fatalf("header version %d", h.Version)
		}
		first := fbWrite(t, h, batches)
		h2, batches2, err := fbReadAll(bytes.NewReader(first), "rewritten.bfb")
		if err != nil {
			t.Fatalf("rewritten trace does not read: %v\n%s", err, first)
		}
		if !reflect.DeepEqual(h2, h) {
			t.Fatalf("rewritten header %+v, want %+v", h2, h)
		}
		if d := fbDiff(batches2, batches); d != "" {
			t.Fatalf("rewritten trace: %s", d)
		}
		if second := fbWrite(t, h2, batches2); !bytes.Equal(second, first) {
			t.Fatalf("second rewrite differs:\n%s\nwant:\n%s", second, first)
		}
	})
}

// fbFuzzSource hands out the bytes of a fuzz input as values; past the
// end it gives zeros.
type fbFuzzSource struct{ b []byte }

func (s *fbFuzzSource) byte() byte {
	if len(s.b) == 0 {
		return 0
	}
	c := s.b[0]
	s.b = s.b[1:]
	return c
}

func (s *fbFuzzSource) bytes(n int) []byte {
	n = min(n, len(s.b))
	out := s.b[:n]
	s.b = s.b[n:]
	return out
}

// int64 draws a value that is often small, sometimes near the int64 limits
// and otherwise anything.
func (s *fbFuzzSource) int64() int64 {
	var buf [8]byte
	switch mode := s.byte(); mode % 4 {
	case 0:
		return int64(int8(s.byte()))
	case 1:
		copy(buf[:], s.bytes(2))
		return int64(int16(binary.BigEndian.Uint16(buf[:])))
	case 2:
		copy(buf[:], s.bytes(8))
		return int64(binary.BigEndian.Uint64(buf[:]))
	default:
		if mode&4 != 0 {
			return -1<<63 + int64(s.byte())
		}
		return 1<<63 - 1 - int64(s.byte())
	}
}

// fbFuzzKeyOK and fbFuzzLineLen restate the writer's header rules
// independently: a key is an ASCII letter then letters, digits, '_', '.'
// or '-'; the value is escaped with the JSON escapes JSON requires, in
// their shortest forms.
func fbFuzzKeyOK(k string) bool {
	for i := 0; i < len(k); i++ {
		c := k[i]
		letter := ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
		if !letter && (i == 0 || !(('0' <= c && c <= '9') || c == '_' || c == '.' || c == '-')) {
			return false
		}
	}
	return k != ""
}

func fbFuzzLineLen(m FeedbackMeta) int {
	n := len("meta ") + len(m.Key) + len(` ""`)
	for i := 0; i < len(m.Value); i++ {
		switch c := m.Value[i]; {
		case c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t':
			n += 2
		case c < 0x20:
			n += 6
		default:
			n++
		}
	}
	return n
}

// FuzzFeedbackRoundTrip builds a header and batches from arbitrary bytes,
// values out of range included. The writer must reject exactly what the
// format cannot hold; what it accepts must read back equal (lost packets'
// arrival times reading back as 0).
func FuzzFeedbackRoundTrip(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("\x01\x03keyvalue\x02\x05\x00\x01\x00\x02\x00\x03\x01\x04\x01\x00\x05"))
	f.Add([]byte("\x02\x01k\x03\"\n\x01\x00\x02\x0e\x03\x07\x01\x02\x03\x04\x05\x06\x07\x08\xff\xff\xff\xff"))
	f.Add([]byte("\x00\x03\x07\x04\x02\x03\x00\x00\x00\x00\x00\x00\x00\x00\x0f\xff\xff\x80\x10\x00\x00\x80\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		src := &fbFuzzSource{b: data}
		var h FeedbackHeader
		for range src.byte() % 4 {
			key := []byte(string(src.bytes(int(src.byte() % 8))))
			if src.byte()%2 == 0 { // mostly valid keys
				for i, c := range key {
					if !fbFuzzKeyOK("k" + string(c)) {
						key[i] = '_'
					}
				}
				key = append([]byte{'k'}, key...)
			}
			value := string(src.bytes(int(src.byte())))
			if src.byte() == 255 {
				value += string(bytes.Repeat([]byte{'\x01'}, FeedbackMaxLine/6))
			}
			h.Meta = append(h.Meta, FeedbackMeta{string(key), value})
		}
		headerOK := true
		for _, m := range h.Meta {
			headerOK = headerOK && fbFuzzKeyOK(m.Key) && utf8.ValidString(m.Value) && fbFuzzLineLen(m) <= FeedbackMaxLine
		}
		var buf bytes.Buffer
		w, err := NewFeedbackWriter(&buf, h)
		if (err == nil) != headerOK {
			t.Fatalf("NewFeedbackWriter(%+v): error %v, want ok=%v", h, err, headerOK)
		}
		if err != nil {
			return
		}
		var written []bwe.Feedback
		for range src.byte() % 8 {
			fb := bwe.Feedback{Time: bwe.Time(src.int64())}
			ok := true
			for range src.byte() % 16 {
				flags := src.byte()
				p := bwe.PacketResult{
					Seq:      src.int64(),
					SendTime: bwe.Time(src.int64()),
					Size:     bwe.ByteCount(src.int64()),
					Received: flags&1 != 0,
				}
				if flags&2 != 0 {
					p.Arrival = bwe.Time(src.int64())
				}
				if flags&4 != 0 {
					p.Size = FeedbackMaxPacketSize + bwe.ByteCount(int8(src.byte()))
				}
				if flags&8 != 0 {
					p.ProbeCluster = int32(src.int64())
				}
				ok = ok && p.Size >= 0 && p.Size <= FeedbackMaxPacketSize && p.ProbeCluster >= 0
				fb.Packets = append(fb.Packets, p)
			}
			err := w.Write(fb)
			if (err == nil) != ok {
				t.Fatalf("Write(%+v): error %v, want ok=%v", fb, err, ok)
			}
			if err != nil {
				continue
			}
			for i := range fb.Packets {
				if !fb.Packets[i].Received {
					fb.Packets[i].Arrival = 0
				}
			}
			written = append(written, fb)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		got, batches, err := fbReadAll(&buf, "rt.bfb")
		if err != nil {
			t.Fatalf("read back: %v", err)
		}
		if d := fbHeaderDiff(got, h); d != "" {
			t.Fatal(d)
		}
		if d := fbDiff(batches, written); d != "" {
			t.Fatal(d)
		}
	})
}
