// Package scratch makes throwaway Go modules that depend on this checkout
// of backpropgen, for tests that do what a user of it does: generate code,
// build it, run go test in it.
package scratch

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Root is the directory of this checkout's go.mod.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Module makes dir a module named path that replaces
// github.com/backpropgen/backpropgen with this checkout, as a user trying
// an unpublished change would, and starts its go.sum with the checkout's,
// so that backpropgen's dependencies are verified without the checksum
// database. It skips the test with -short or if the go command is missing.
func Module(t testing.TB, dir, path string) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds a scratch module (-short)")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command on PATH")
	}
	Go(t, dir, "mod", "init", path)
	root, err := filepath.Abs(Root())
	if err != nil {
		t.Fatal(err)
	}
	Go(t, dir, "mod", "edit", "-replace", "github.com/backpropgen/backpropgen="+root)
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Go runs the go command in dir and returns its combined output, failing
// the test if it fails. It runs with the inherited environment, plus
// GOFLAGS=-mod=mod (go.mod and go.sum are updated as needed), GOWORK=off
// and GOPROXY=off: backpropgen's dependencies are in the module cache
// already, since this test was built with them, and go get, looking up
// which module provides github.com/backpropgen/backpropgen/cmd/backpropgen,
// asks the proxy about .../cmd/backpropgen and .../cmd as module paths
// too; proxy.golang.org answers 404 (not a module), which go get skips, but
// a mirror may answer 403, which it does not. Off, go get skips them too.
func Go(t testing.TB, dir string, args ...string) string {
	t.Helper()
	out, err := Command(dir, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Command is the go command Go runs, to run it differently.
func Command(dir string, args ...string) *exec.Cmd {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS="+strings.TrimSpace(os.Getenv("GOFLAGS")+" -mod=mod"), "GOWORK=off", "GOPROXY=off")
	return cmd
}
