package netstate

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"math"
)

// Model-file constants; the package documentation describes the format.
const (
	modelMagic   = "BWENS"
	modelVersion = 1
	headerSize   = 18
)

// Kind codes of the model file.
const (
	kindThreshold = 1
	kindLogistic  = 2
	kindLSTM      = 3
)

// WriteModel writes p in the model-file format. p must be a [*Threshold],
// [*Logistic] or [*LSTM]; the observed history is not saved.
func WriteModel(w io.Writer, p Predictor) error {
	var (
		kind          byte
		steps, hidden int
		params        []float64
	)
	switch m := p.(type) {
	case *Threshold:
		kind, steps = kindThreshold, m.cfg.Lookback
		params = []float64{m.cfg.Loss, m.cfg.Trend, m.cfg.Jitter}
	case *Logistic:
		kind, steps, params = kindLogistic, m.steps, m.p
	case *LSTM:
		kind, steps, hidden, params = kindLSTM, m.steps, m.hidden, m.p
	default:
		return fmt.Errorf("netstate: WriteModel: unsupported predictor %T", p)
	}
	var hdr [headerSize]byte
	copy(hdr[:], modelMagic)
	hdr[5] = modelVersion
	hdr[6] = kind
	hdr[7] = NormVersion
	hdr[8] = NumFeatures
	binary.LittleEndian.PutUint16(hdr[10:], uint16(steps))
	binary.LittleEndian.PutUint16(hdr[12:], uint16(hidden))
	binary.LittleEndian.PutUint32(hdr[14:], uint32(len(params)))
	crc := crc32.NewIEEE()
	put := func(b []byte) error {
		crc.Write(b)
		_, err := w.Write(b)
		return err
	}
	if err := put(hdr[:]); err != nil {
		return fmt.Errorf("netstate: WriteModel: %w", err)
	}
	buf := make([]byte, 0, 8*min(len(params), chunkFloats))
	for len(params) > 0 {
		n := min(len(params), chunkFloats)
		buf = buf[:0]
		for _, v := range params[:n] {
			buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(v))
		}
		if err := put(buf); err != nil {
			return fmt.Errorf("netstate: WriteModel: %w", err)
		}
		params = params[n:]
	}
	var sum [4]byte
	binary.LittleEndian.PutUint32(sum[:], crc.Sum32())
	if _, err := w.Write(sum[:]); err != nil {
		return fmt.Errorf("netstate: WriteModel: %w", err)
	}
	return nil
}

// chunkFloats is how many parameters are encoded or decoded at a time.
const chunkFloats = 4096

// ReadModel reads a predictor written by [WriteModel]. It reads exactly one
// model and nothing after it. Errors name the byte offset and the field
// that is wrong; sizes are checked against the limits (hidden ≤ 1024,
// steps ≤ 256) before anything is allocated, and parameter memory grows
// only as the data arrives.
func ReadModel(r io.Reader) (Predictor, error) {
	crc := crc32.NewIEEE()
	var hdr [headerSize]byte
	if err := readFull(r, crc, hdr[:], 0, "header"); err != nil {
		return nil, err
	}
	if string(hdr[:5]) != modelMagic {
		return nil, fmt.Errorf("netstate: model offset 0: magic %q, want %q", hdr[:5], modelMagic)
	}
	if hdr[5] != modelVersion {
		return nil, fmt.Errorf("netstate: model offset 5: format version %d, want %d", hdr[5], modelVersion)
	}
	kind := hdr[6]
	if hdr[7] != NormVersion {
		return nil, fmt.Errorf("netstate: model offset 7: normalisation version %d, want %d", hdr[7], NormVersion)
	}
	if hdr[8] != NumFeatures {
		return nil, fmt.Errorf("netstate: model offset 8: %d features, want %d", hdr[8], NumFeatures)
	}
	if hdr[9] != 0 {
		return nil, fmt.Errorf("netstate: model offset 9: reserved byte %d, want 0", hdr[9])
	}
	steps := int(binary.LittleEndian.Uint16(hdr[10:]))
	hidden := int(binary.LittleEndian.Uint16(hdr[12:]))
	count := int64(binary.LittleEndian.Uint32(hdr[14:]))
	if steps < 1 || steps > maxSteps {
		return nil, fmt.Errorf("netstate: model offset 10: steps %d not in [1, %d]", steps, maxSteps)
	}
	var want int
	switch kind {
	case kindThreshold, kindLogistic:
		if hidden != 0 {
			return nil, fmt.Errorf("netstate: model offset 12: hidden %d, want 0 for kind %d", hidden, kind)
		}
		want = 3
		if kind == kindLogistic {
			want = logisticParams(steps)
		}
	case kindLSTM:
		if hidden < 1 || hidden > maxHidden {
			return nil, fmt.Errorf("netstate: model offset 12: hidden %d not in [1, %d]", hidden, maxHidden)
		}
		want = lstmParams(hidden)
	default:
		return nil, fmt.Errorf("netstate: model offset 6: unknown kind %d", kind)
	}
	if count != int64(want) {
		return nil, fmt.Errorf("netstate: model offset 14: parameter count %d, want %d", count, want)
	}
	params, err := readParams(r, crc, want, kind != kindThreshold)
	if err != nil {
		return nil, err
	}
	end := int64(headerSize) + 8*int64(want)
	var sum [4]byte
	if _, err := io.ReadFull(r, sum[:]); err != nil {
		return nil, fmt.Errorf("netstate: model offset %d: checksum: %w", end, noEOF(err))
	}
	if got, computed := binary.LittleEndian.Uint32(sum[:]), crc.Sum32(); got != computed {
		return nil, fmt.Errorf("netstate: model offset %d: checksum %#08x, computed %#08x", end, got, computed)
	}
	switch kind {
	case kindThreshold:
		cfg := ThresholdConfig{Lookback: steps, Loss: params[0], Trend: params[1], Jitter: params[2]}
		if err := cfg.validate(); err != nil {
			return nil, fmt.Errorf("netstate: model offset %d: threshold parameters: %w", headerSize, err)
		}
		return NewThreshold(cfg)
	case kindLogistic:
		return newLogistic(steps, params), nil
	}
	return newLSTM(hidden, steps, params), nil
}

// readFull reads len(b) bytes at offset off into b and the checksum.
func readFull(r io.Reader, crc hash.Hash32, b []byte, off int64, field string) error {
	if n, err := io.ReadFull(r, b); err != nil {
		return fmt.Errorf("netstate: model offset %d: %s: %w", off+int64(n), field, noEOF(err))
	}
	crc.Write(b)
	return nil
}

// readParams reads n little-endian float64 parameters after the header.
// With finite set, a NaN or infinite parameter is an error.
func readParams(r io.Reader, crc hash.Hash32, n int, finite bool) ([]float64, error) {
	params := make([]float64, 0, min(n, chunkFloats))
	buf := make([]byte, 8*min(n, chunkFloats))
	for len(params) < n {
		k := min(n-len(params), chunkFloats)
		off := int64(headerSize) + 8*int64(len(params))
		if err := readFull(r, crc, buf[:8*k], off, "parameters"); err != nil {
			return nil, err
		}
		for i := range k {
			v := math.Float64frombits(binary.LittleEndian.Uint64(buf[8*i:]))
			if finite && !isFinite(v) || v != v {
				return nil, fmt.Errorf("netstate: model offset %d: parameter %d is %v", off+8*int64(i), len(params), v)
			}
			params = append(params, v)
		}
	}
	return params, nil
}

// noEOF turns a clean end of input inside the model into an unexpected
// one.
func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
