package blueprints

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// TestRenderGolden pins `blueprints show` output for every embedded
// blueprint; run with -update after an intended change and review the diff.
func TestRenderGolden(t *testing.T) {
	cat, err := Library()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range cat.Names() {
		t.Run(name, func(t *testing.T) {
			b, _ := cat.Get(name)
			var buf bytes.Buffer
			if err := Render(&buf, b); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "show-"+name+".golden")
			if *update {
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("output differs from %s (run go test -update and review the diff):\n%s", golden, buf.String())
			}
		})
	}
}
