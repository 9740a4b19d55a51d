package casefold

import (
	"math/rand"
	"reflect"
	"testing"
	"unicode"

	"github.com/backpropgen/backpropgen/gradcheck"
)

func sample(seed int64) (*CasefoldParams, *CasefoldInputs) {
	r := rand.New(rand.NewSource(seed))
	p, in := new(CasefoldParams), new(CasefoldInputs)
	gradcheck.Fill(r, p.Flat(), 0.5)
	gradcheck.Fill(r, in.Flat(), 1)
	return p, in
}

// TestModel checks a model with params w and W: both get fields, and the
// gradient passes every check, finite differences included.
func TestModel(t *testing.T) {
	for seed := int64(1); seed <= 3; seed++ {
		p, in := sample(seed)
		gradcheck.CheckModel[CasefoldParams, CasefoldWorkspace, CasefoldInputs, CasefoldOutputs](t, p, in, gradcheck.Options{Seed: uint64(seed)})
	}
}

func TestInit(t *testing.T) { gradcheck.CheckInit[CasefoldParams](t) }

// w and W are two parameters with two fields, which Layout tells apart.
func TestNamesDifferingInCase(t *testing.T) {
	names, fields, _ := new(CasefoldParams).Layout()
	want := map[string]string{"w": "W", "W": "W_", "B": "B"}
	for i, n := range names {
		if want[n] != fields[i] {
			t.Errorf("Layout: %s is field %s, want %s", n, fields[i], want[n])
		}
	}
	if len(names) != len(want) {
		t.Errorf("Layout lists %v, want w, W and B", names)
	}
}

// The workspace keeps H, a capitalised binding, in an unexported field.
func TestWorkspaceIsUnexported(t *testing.T) {
	typ := reflect.TypeOf(CasefoldWorkspace{})
	if typ.NumField() == 0 {
		t.Fatal("the workspace has no fields")
	}
	for i := range typ.NumField() {
		if name := typ.Field(i).Name; unicode.IsUpper([]rune(name)[0]) {
			t.Errorf("workspace field %s is exported", name)
		}
	}
}
