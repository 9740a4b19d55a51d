package gradcheck

import (
	"fmt"
	"testing"
	"unsafe"
)

// twoInts has integer inputs in 0..36 and 0..0.
type twoInts struct {
	X    [1]float64
	A, B int
}

func (in *twoInts) Flat() []float64 { return in.X[:] }
func (in *twoInts) Ints() []int     { return unsafe.Slice(&in.A, 2) }
func (*twoInts) Layout() (names, fields []string, sizes []int) {
	return []string{"x", "a", "b"}, []string{"X", "A", "B"}, []int{1, 1, 1}
}

func (in *twoInts) Validate() error {
	if in.A < 0 || in.A >= 37 || in.B != 0 {
		return fmt.Errorf("out of range")
	}
	return nil
}

// noValidate is twoInts without Validate.
type noValidate struct {
	X    [1]float64
	A, B int
}

func (in *noValidate) Flat() []float64 { return in.X[:] }
func (in *noValidate) Ints() []int     { return unsafe.Slice(&in.A, 2) }
func (*noValidate) Layout() (names, fields []string, sizes []int) {
	return (*twoInts)(nil).Layout()
}

func TestIntBounds(t *testing.T) {
	in := &twoInts{A: 5, B: 0}
	if got := intBounds(in); fmt.Sprint(got) != "[37 1]" {
		t.Errorf("intBounds = %v, want [37 1]", got)
	}
	if in.A != 0 || in.B != 0 {
		t.Errorf("intBounds left the inputs at %d, %d, want 0, 0", in.A, in.B)
	}
	if got := intBounds(&noValidate{}); fmt.Sprint(got) != "[1 1]" {
		t.Errorf("intBounds without Validate = %v, want [1 1]", got)
	}
}
