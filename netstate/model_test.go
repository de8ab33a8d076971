package netstate

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
)

func encode(t testing.TB, p Predictor) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteModel(&buf, p); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestModelRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(71, 72))
	ws := pulseWindows(rng, 20, 15, "g")
	th, _ := NewThreshold(ThresholdConfig{Lookback: 4, Loss: 0.05, Trend: math.Inf(1)})
	for _, p := range append(testPredictors(t), th) {
		data := encode(t, p)
		q, err := ReadModel(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%T: ReadModel: %v", p, err)
		}
		if again := encode(t, q); !bytes.Equal(data, again) {
			t.Errorf("%T: write(read(write(m))) differs from write(m)", p)
		}
		a, b := Score(p, ws), Score(q, ws)
		for i := range a {
			if a[i] != b[i] {
				t.Errorf("%T window %d: read model predicts %v, original %v", p, i, b[i], a[i])
			}
		}
	}
}

func TestModelLayout(t *testing.T) {
	m, _ := NewLSTM(LSTMConfig{Hidden: 3, Steps: 5})
	data := encode(t, m)
	n := lstmParams(3) // 4·3·10 + 12 + 3 + 1 = 136
	if n != 136 || len(data) != headerSize+8*n+4 {
		t.Fatalf("LSTM hidden 3: %d parameters, %d bytes; want 136, %d", n, len(data), headerSize+8*136+4)
	}
	wantHdr := []byte{'B', 'W', 'E', 'N', 'S', 1, 3, 1, 7, 0, 5, 0, 3, 0, 136, 0, 0, 0}
	if !bytes.Equal(data[:headerSize], wantHdr) {
		t.Errorf("header % x, want % x", data[:headerSize], wantHdr)
	}
	// The forget-gate bias of unit 0 is parameter G·K + H = 123.
	if v := math.Float64frombits(binary.LittleEndian.Uint64(data[headerSize+8*123:])); v != 1 {
		t.Errorf("parameter 123 (forget bias 0) = %v, want 1", v)
	}
	if got, want := binary.LittleEndian.Uint32(data[len(data)-4:]), crc32.ChecksumIEEE(data[:len(data)-4]); got != want {
		t.Errorf("checksum %#x, want %#x", got, want)
	}
	lg, _ := NewLogistic(2)
	if got := encode(t, lg); len(got) != headerSize+8*15+4 || got[6] != 2 || got[12] != 0 {
		t.Errorf("logistic over 2 steps: %d bytes, kind %d", len(got), got[6])
	}
}

// reseal recomputes the checksum of a model after a change.
func reseal(b []byte) []byte {
	binary.LittleEndian.PutUint32(b[len(b)-4:], crc32.ChecksumIEEE(b[:len(b)-4]))
	return b
}

func TestReadModelErrors(t *testing.T) {
	lg, _ := NewLogistic(1)
	good := encode(t, lg) // 18 + 64 + 4 bytes
	mod := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	put16 := func(off int, v uint16) func([]byte) []byte {
		return func(b []byte) []byte { binary.LittleEndian.PutUint16(b[off:], v); return reseal(b) }
	}
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "netstate: model offset 0: header: unexpected EOF"},
		{"short header", good[:7], "netstate: model offset 7: header: unexpected EOF"},
		{"magic", mod(func(b []byte) []byte { b[0] = 'X'; return b }), `netstate: model offset 0: magic "XWENS", want "BWENS"`},
		{"version", mod(func(b []byte) []byte { b[5] = 2; return b }), "netstate: model offset 5: format version 2, want 1"},
		{"kind", mod(func(b []byte) []byte { b[6] = 9; return b }), "netstate: model offset 6: unknown kind 9"},
		{"normalisation", mod(func(b []byte) []byte { b[7] = 0; return b }), "netstate: model offset 7: normalisation version 0, want 1"},
		{"features", mod(func(b []byte) []byte { b[8] = 6; return b }), "netstate: model offset 8: 6 features, want 7"},
		{"reserved", mod(func(b []byte) []byte { b[9] = 1; return b }), "netstate: model offset 9: reserved byte 1, want 0"},
		{"steps 0", mod(put16(10, 0)), "netstate: model offset 10: steps 0 not in [1, 256]"},
		{"steps 257", mod(put16(10, 257)), "netstate: model offset 10: steps 257 not in [1, 256]"},
		{"hidden for logistic", mod(put16(12, 4)), "netstate: model offset 12: hidden 4, want 0 for kind 2"},
		{"hidden 1025", mod(func(b []byte) []byte { b[6] = 3; binary.LittleEndian.PutUint16(b[12:], 1025); return b }), "netstate: model offset 12: hidden 1025 not in [1, 1024]"},
		{"count", mod(func(b []byte) []byte { b[14] = 9; return b }), "netstate: model offset 14: parameter count 9, want 8"},
		{"huge count", mod(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[14:], math.MaxUint32); return b }), "netstate: model offset 14: parameter count 4294967295, want 8"},
		{"truncated parameters", good[:headerSize+20], "netstate: model offset 38: parameters: unexpected EOF"},
		{"NaN parameter", mod(func(b []byte) []byte {
			binary.LittleEndian.PutUint64(b[headerSize+16:], math.Float64bits(math.NaN()))
			return reseal(b)
		}), "netstate: model offset 34: parameter 2 is NaN"},
		{"infinite parameter", mod(func(b []byte) []byte {
			binary.LittleEndian.PutUint64(b[headerSize+56:], math.Float64bits(math.Inf(-1)))
			return reseal(b)
		}), "netstate: model offset 74: parameter 7 is -Inf"},
		{"no checksum", good[:len(good)-4], "netstate: model offset 82: checksum: unexpected EOF"},
		{"checksum", mod(func(b []byte) []byte { b[headerSize] ^= 1; return b }), "netstate: model offset 82: checksum"},
	}
	for _, tt := range tests {
		_, err := ReadModel(bytes.NewReader(tt.data))
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%s: ReadModel error = %v, want %q", tt.name, err, tt.want)
		}
	}
	// A large model claimed by a short input fails without allocating
	// for the claim.
	lstmHdr := []byte{'B', 'W', 'E', 'N', 'S', 1, 3, 1, 7, 0, 15, 0, 0, 4, 0, 0, 0, 0}
	binary.LittleEndian.PutUint32(lstmHdr[14:], uint32(lstmParams(1024)))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if _, err := ReadModel(bytes.NewReader(lstmHdr)); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("hidden-1024 header alone: error %v, want unexpected EOF", err)
	}
	runtime.ReadMemStats(&after)
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Errorf("hidden-1024 header alone: ReadModel allocated %d bytes, want at most 1 MiB (the claim is %d)", n, 8*lstmParams(1024))
	}
	// Threshold parameters are validated like a config.
	th, _ := NewThreshold(ThresholdConfig{})
	b := encode(t, th)
	binary.LittleEndian.PutUint64(b[headerSize:], math.Float64bits(-1))
	if _, err := ReadModel(bytes.NewReader(reseal(b))); err == nil || !strings.Contains(err.Error(), "ThresholdConfig.Loss -1") {
		t.Errorf("threshold with loss −1: error %v", err)
	}
}

type unknownPredictor struct{}

func (unknownPredictor) Observe(Features) Prediction { return Prediction{} }
func (unknownPredictor) Reset()                      {}

func TestWriteModelErrors(t *testing.T) {
	if err := WriteModel(io.Discard, unknownPredictor{}); err == nil {
		t.Errorf("WriteModel(unknown predictor) succeeded")
	}
	m, _ := NewLSTM(LSTMConfig{Hidden: 4})
	if err := WriteModel(failWriter{}, m); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("WriteModel to a failing writer: %v", err)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }
