package backpropgen

import (
	"fmt"

	"github.com/backpropgen/backpropgen/codegen"
)

// GenerateTest returns a Go test file, in package pkg (or the package
// Generate would choose if pkg is empty), that checks what Generate writes
// for the .bp source src with package gradcheck: each model and fn at
// random points, against finite differences and its other methods, and
// without allocating (codegen.GenerateTest). backpropgen -test writes it
// beside the generated file.
func GenerateTest(name string, src []byte, pkg string) (out []byte, err error) {
	defer guard(name, &err)
	file, prog, err := Check(name, src)
	if err != nil {
		return nil, err
	}
	switch {
	case pkg == "":
		pkg = DefaultPackage(prog)
		if err := PackageError(file, pkg); err != nil {
			return nil, err
		}
	case !ValidPackageName(pkg):
		return nil, fmt.Errorf("invalid package name %q: a package name is a Go identifier, not a keyword or _", pkg)
	}
	return codegen.GenerateTest(prog, codegen.Options{Package: pkg})
}
