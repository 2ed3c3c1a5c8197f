package main

import (
	"bufio"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestNoReflectMethod keeps the binary small. Once anything reachable calls
// reflect.Value.MethodByName with a name known only at run time (executing
// a text/template or html/template does), the linker keeps every exported
// method of every type that is put in an interface: every operation of
// every AWS client, twice the binary and its resident pages
// (docs/performance.md). The linker's dependency dump marks such callers.
func TestNoReflectMethod(t *testing.T) {
	cmd := exec.Command("go", "build", "-ldflags=-dumpdep", "-o", os.DevNull, ".")
	out, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var marked, tail []string
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if caller, _, ok := strings.Cut(line, " <ReflectMethod>"); ok && !slices.Contains(marked, caller) {
			marked = append(marked, caller)
		}
		if !strings.Contains(line, " -> ") {
			tail = append(tail, line) // the build's own errors
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("go build -ldflags=-dumpdep: %v\n%s", err, strings.Join(tail, "\n"))
	}
	if len(marked) > 0 {
		t.Errorf("reachable calls of reflect.Value.Method/MethodByName keep every exported method in the binary: %s\n"+
			"(go build -ldflags=-dumpdep ./cmd/day2bot 2>&1 | grep -B3 ReflectMethod shows the path)", strings.Join(marked, ", "))
	}
}

// TestTestPackagesNotLinked keeps the packages written for tests out of the
// binary: they are not _test.go files (the tests of several packages share
// them), so nothing but this stops an import from production code.
func TestTestPackagesNotLinked(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasSuffix(pkg, "/internal/enginetest") || strings.HasSuffix(pkg, "/internal/clocktest") {
			t.Errorf("the binary links %s, a package for tests only", pkg)
		}
	}
}
