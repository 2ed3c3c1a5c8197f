package blueprints

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/day2bot/day2bot/internal/errs"
)

func TestLoadDir(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("b.yaml", strings.Replace(baseBlueprint, "name: web", "name: web-b", 1))
	write("a.yml", strings.Replace(baseBlueprint, "name: web", "name: web-a", 1))
	write("notes.txt", "not a blueprint")
	if err := os.Mkdir(filepath.Join(dir, "sub.yaml"), 0o700); err != nil {
		t.Fatal(err)
	}
	bps, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(bps) != 2 || bps[0].Name != "web-a" || bps[1].Name != "web-b" {
		t.Fatalf("LoadDir = %d blueprints (%v)", len(bps), bps)
	}
	if want := filepath.Join(dir, "a.yml"); bps[0].File != want {
		t.Errorf("File = %q, want %q", bps[0].File, want)
	}
	lib, err := Library()
	if err != nil {
		t.Fatal(err)
	}
	cat, err := lib.With(bps...)
	if err != nil {
		t.Fatal(err)
	}
	if err := cat.Validate(contractActions()); err != nil {
		t.Fatalf("library + user blueprints: %v", err)
	}
	if _, err := cat.Lookup("web-c"); err == nil || !strings.Contains(err.Error(), `did you mean "web-a"?`) {
		t.Errorf("Lookup(web-c) = %v", err)
	}

	write("broken.yaml", "name: [")
	_, err = LoadDir(dir)
	var ve ValidationErrors
	if !errors.As(err, &ve) || ve[0].File != filepath.Join(dir, "broken.yaml") {
		t.Fatalf("LoadDir with a broken file = %v", err)
	}
	if _, err := LoadDir(filepath.Join(dir, "missing")); err == nil {
		t.Fatal("LoadDir(missing) succeeded")
	}
}

// FuzzParseValidate feeds arbitrary YAML through the whole user-file path:
// it must never panic, and every problem must come back as
// ValidationErrors naming the file.
func FuzzParseValidate(f *testing.F) {
	f.Add([]byte(baseBlueprint))
	f.Add([]byte("name: x\ntasks:\n  t:\n    params:\n      - {name: d, type: duration, min: 1h, max: 1m, default: 2d}\n"))
	f.Add([]byte("schedules:\n  - {cron: \"CRON_TZ=Nowhere/X * * * * *\"}\n"))
	f.Add([]byte("health:\n  metrics:\n    - {period: 1ns, warn: .nan}\n"))
	f.Add([]byte("remediations:\n  - {alarm: \"[\", tasks: [x]}\n"))
	lookup := contractActions()
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := Parse("f.yaml", data)
		if err != nil {
			var ve ValidationErrors
			if !errors.As(err, &ve) || len(ve) == 0 || ve[0].File != "f.yaml" || !errs.Is(errs.Invalid, err) {
				t.Fatalf("Parse error %v is not Invalid ValidationErrors for f.yaml", err)
			}
			return
		}
		if err := b.Validate(lookup); err != nil {
			var ve ValidationErrors
			if msg, _ := errs.Render(err); !errors.As(err, &ve) || len(ve) == 0 || ve[0].File != "f.yaml" || msg != ve.Error() {
				t.Fatalf("Validate error %v is not ValidationErrors for f.yaml shown whole", err)
			}
			return
		}
		var sb strings.Builder
		if err := Render(&sb, b); err != nil {
			t.Fatal(err)
		}
	})
}
