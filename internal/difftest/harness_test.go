package difftest

import "testing"

func TestNormalize(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"m.go:37:11: cannot use t2i (variable of type int) as float64 value in assignment", "cannot use _ (variable of type int) as float64 value in assignment"},
		{"m.go:37:10: cannot use ti (variable of type int) as float64 value in assignment", "cannot use _ (variable of type int) as float64 value in assignment"},
		{"m.go:29:6: declared and not used: h9", "declared and not used: _"},
		{"m.go:51:6: declared and not used: dloss", "declared and not used: dloss"},
	} {
		if got := normalize(c.in); got != c.want {
			t.Errorf("normalize(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
