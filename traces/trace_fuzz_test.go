package traces

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/bwelab/bwe"
)

// trFuzzCheck checks what a reader returned for arbitrary input: an error
// is a *ParseError and comes without a trace; a trace validates, and At
// and NextChange behave at instants drawn from the input and at the edges
// of the clock.
func trFuzzCheck(t *testing.T, tr *Trace, err error, data []byte) {
	t.Helper()
	if err != nil {
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Fatalf("error %q is not a *ParseError", err)
		}
		if tr != nil {
			t.Fatalf("error %q with a trace", err)
		}
		return
	}
	if err := tr.Validate(); err != nil {
		t.Fatalf("returned trace does not validate: %v", err)
	}
	if !tr.Loop || tr.Records <= 0 {
		t.Fatalf("trace loop %v, records %d", tr.Loop, tr.Records)
	}
	for i := 1; i < len(tr.Segments); i++ {
		if tr.Segments[i].Rate == tr.Segments[i-1].Rate {
			t.Fatalf("segments %d and %d have the same rate %v: not merged", i-1, i, tr.Segments[i].Rate)
		}
	}
	p := bwe.Time(tr.Length / time.Microsecond)
	ats := []bwe.Time{0, -1, 1, p - 1, p, p + 1, 7*p - 1, bwe.MaxTime - 1, bwe.MaxTime, bwe.MinTime, bwe.MinTime + 1}
	for b := data; len(b) >= 8 && len(ats) < 64; b = b[8:] {
		ats = append(ats, bwe.Time(binary.LittleEndian.Uint64(b)))
	}
	for _, at := range ats {
		r := tr.At(at)
		if r < 0 || r > MaxLinkRate {
			t.Fatalf("At(%d) = %d bps, outside [0, %v]", at, r, MaxLinkRate)
		}
		next := tr.NextChange(at)
		if at < bwe.MaxTime && next <= at {
			t.Fatalf("NextChange(%d) = %d, not after it", at, next)
		}
		if next-1 >= at && tr.At(next-1) != r {
			t.Fatalf("At(%d) = %v but At(%d) = %v before NextChange = %d", at, r, next-1, tr.At(next-1), next)
		}
	}
	if m := tr.Mean(); m < tr.Min() || m > tr.Max() || tr.Volume() < 0 || tr.Outage() > tr.Length {
		t.Fatalf("statistics: mean %v min %v max %v volume %d outage %v", m, tr.Min(), tr.Max(), tr.Volume(), tr.Outage())
	}
}

// trFuzzSeeds adds to f the inputs given and the first 2 KiB of every
// embedded corpus file of format fm.
func trFuzzSeeds(f *testing.F, fm Format, inputs ...string) {
	for _, in := range inputs {
		f.Add([]byte(in))
	}
	for _, e := range trCorpus {
		if e.Format != fm {
			continue
		}
		data, _ := fs.ReadFile(trCorpusFS, "corpus/"+e.File)
		f.Add(data[:min(len(data), 2048)])
	}
}

func trFuzzReader(f *testing.F, read func(io.Reader, string) (*Trace, error)) {
	f.Fuzz(func(t *testing.T, data []byte) {
		tr, err := read(bytes.NewReader(data), "fuzz")
		trFuzzCheck(t, tr, err, data)
	})
}

func FuzzReadMahimahi(f *testing.F) {
	trFuzzSeeds(f, FormatMahimahi, "1\n2\n3\n", "0\n0\n5\n", "3\n3\n4\n10\n", "7", "1\nx\n", "5\n3\n", "0\n",
		"31536000000\n", strings.Repeat("1\n", 1000)+"2\n", "\xef\xbb\xbf1\r\n\r\n2\r\n")
	trFuzzReader(f, ReadMahimahi)
}

func FuzzReadPensieve(f *testing.F) {
	trFuzzSeeds(f, FormatPensieve, "0.0\t1.5\n1.0\t0\n2.5 3\n", "10 1\n11 2\n12 3\n15 4\n", "0 2\n", "0 1e6\n1 1\n",
		"0 1\n0.0000014 2\n", "1 1\n1 2\n", "0 NaN\n", "0 1\n31536000 2\n")
	trFuzzReader(f, ReadPensieve)
}

func FuzzReadNYU(f *testing.F) {
	trFuzzSeeds(f, FormatNYU, "1,1000\r\n2,0\r\n3,125000\r\n", "5,1000\n6,2000\n9,3000\n", "1,125000000000\n", "2,1\n2,1\n",
		"1,5471526\r\n2,6403158\r\n3,6037344\r\n")
	trFuzzReader(f, ReadNYU)
}

func FuzzReadUCC(f *testing.F) {
	trFuzzSeeds(f, FormatUCC, trUCCHeader+"2020.01.01_00.00.00,0,1000,5,D\n2020.01.01_00.00.00,0,-,5,D\n2020.01.01_00.00.02,0,2500.5,5,I\n",
		trUCCHeader, trUCCHeader+"2020.01.01_00.00.05,0,1,1,D\n2020.01.01_00.00.04,0,1,1,D\n",
		"Timestamp,Longitude,Latitude,Speed,Operatorname,CellID,NetworkMode,RSRP,RSRQ,SNR,CQI,RSSI,DL_bitrate,UL_bitrate,State,PINGAVG,PINGMIN,PINGMAX,PINGSTDEV,PINGLOSS,CELLHEX,NODEHEX,LACHEX,RAWCELLID,NRxRSRP,NRxRSRQ\n"+
			"2020.02.14_13.21.26,-8.394571000000001,51.886244,0,B,11,5G,-103,-15,5.0,12,-107,63,20,D,-,-,-,-,-,B,A4DF,9CBA,10805003,-105,-10\n")
	trFuzzReader(f, ReadUCC)
}

func FuzzReadFiveGophers(f *testing.F) {
	trFuzzSeeds(f, FormatFiveGophers, trGophersHeader+"TCP,8,0,1.5,2\nTCP,8,1,0,3\nTCP,8,4,2,\n", trGophersHeader, "seq_num,x_throughput_mbps\n1,-\n3,5\n")
	trFuzzReader(f, ReadFiveGophers)
}

func FuzzReadOpenNetLab(f *testing.F) {
	trFuzzSeeds(f, FormatOpenNetLab,
		`{"uplink":{"trace_pattern":[{"duration":200,"capacity":1000},{"duration":100.5,"capacity":0},{"duration":50,"capacity":"300"}]}}`,
		`{"uplink":{"trace_pattern":[{"duration":10,"capacity":2000000},{"duration":10,"capacity":500}]}}`,
		`{"type":"video","downlink":{},"uplink":{"trace_pattern":[{"duration":5,"loss":0.1,"capacity":1,"jitter":0}]}}`,
		`{"uplink":{"trace_pattern":[{"duration":3e10,"capacity":1},{"duration":3e10,"capacity":1}]}}`,
		`{"uplink":{"trace_pattern":[{"duration":1,`, `[]`, `{"uplink":{}}`)
	f.Fuzz(func(t *testing.T, data []byte) {
		tr, err := ReadOpenNetLab(bytes.NewReader(data), "fuzz")
		trFuzzCheck(t, tr, err, data)
		if err == nil && tr.Max() >= DefaultSpikeThreshold {
			// Only a trace made of spikes alone keeps them.
			for _, s := range tr.Segments {
				if s.Rate < DefaultSpikeThreshold {
					t.Fatalf("spike of %v kept beside a rate of %v", tr.Max(), s.Rate)
				}
			}
		}
		raw, err := ReadWith(bytes.NewReader(data), "fuzz", FormatOpenNetLab, ReadOptions{KeepSpikes: true})
		trFuzzCheck(t, raw, err, data)
	})
}

// FuzzRead: detection and every option on arbitrary input and path.
func FuzzRead(f *testing.F) {
	f.Add([]byte("1\n2\n"), "a/mahimahi-cellular/x", byte(0))
	f.Add([]byte("0 1\n5 2\n"), "", byte(1))
	f.Add([]byte(trGophersHeader+"TCP,8,0,1.5,2\n"), "5gophers/c.csv", byte(2))
	f.Add([]byte(`{"uplink":{"trace_pattern":[{"duration":1,"capacity":1}]}}`), "x.json", byte(3))
	f.Add([]byte(""), "ucc-5g/a.csv", byte(0))
	f.Fuzz(func(t *testing.T, data []byte, path string, opt byte) {
		o := ReadOptions{Gaps: GapPolicy(opt & 1), KeepSpikes: opt&2 != 0}
		if opt&4 != 0 {
			o.Column = "B_throughput_mbps"
		}
		if opt&8 != 0 {
			o.SpikeThreshold = bwe.Bitrate(opt) * bwe.Kbps
		}
		if Detect(data, path) == FormatUnknown {
			_, err := ReadWith(bytes.NewReader(data), path, FormatUnknown, o)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("undetectable input: error %v, want a *ParseError", err)
			}
			return
		}
		tr, err := ReadWith(bytes.NewReader(data), path, FormatUnknown, o)
		trFuzzCheck(t, tr, err, data)
	})
}
