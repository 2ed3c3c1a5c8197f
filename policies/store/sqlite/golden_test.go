package sqlite

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// TestExportGolden pins the exported YAML: operators keep it in git, so its
// layout must not drift between releases.
func TestExportGolden(t *testing.T) {
	s, _, _ := openTemp(t)
	if err := s.ImportFile(context.Background(), "admin", loadFile(t, "policy.yaml")); err != nil {
		t.Fatal(err)
	}
	got := exportYAML(t, s)
	golden := filepath.Join("testdata", "export.golden")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("export differs from %s (go test -update to accept):\n%s", golden, got)
	}
}
