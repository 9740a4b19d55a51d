package main

import "strings"

// -test writes a test beside the generated file, for go test to check the
// model at once; like -o's file, it is replaced only when generation
// succeeds, and it needs -o, since a test cannot go to standard output
// with the code (go test reads files, and two files cannot share a
// stream).

// testFile is the test -test writes beside the Go file out, named as go
// test expects: model_grad.go gives model_grad_test.go.
func testFile(out string) string { return strings.TrimSuffix(out, ".go") + "_test.go" }

// checkTest says why the test of -test cannot be written, before anything
// is generated, or returns "".
func checkTest(o *options, in string) string {
	switch {
	case !o.test:
		return ""
	case o.check:
		return "check writes nothing: -test cannot be used with it"
	case o.out == "":
		return "-test writes a test beside the generated file, which it needs: give the file with -o (-o model_grad.go -test writes model_grad_test.go too)"
	}
	return checkOutput(testFile(o.out), in)
}
