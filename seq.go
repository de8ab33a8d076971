package bwe

// SeqUnwrapper extends 16-bit transport-wide sequence numbers (which wrap
// every 65536 packets) to a monotone 64-bit space. Each number is placed at
// the position closest to the previous one, so reordering by fewer than
// 32768 packets is unwrapped correctly in both directions; a jump of exactly
// 32768 counts as forward. The zero value is ready to use; the first number
// maps to itself.
type SeqUnwrapper struct {
	last  int64
	valid bool
}

// Unwrap returns the 64-bit position of seq.
func (u *SeqUnwrapper) Unwrap(seq uint16) int64 {
	if !u.valid {
		u.valid = true
		u.last = int64(seq)
		return u.last
	}
	d := int64(int16(seq - uint16(u.last)))
	if d == -32768 {
		d = 32768
	}
	u.last += d
	return u.last
}

// Reset forgets the history: the next number maps to itself.
func (u *SeqUnwrapper) Reset() { *u = SeqUnwrapper{} }
