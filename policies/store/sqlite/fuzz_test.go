package sqlite

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/policies"
	"github.com/day2bot/day2bot/policies/store"
)

// FuzzImportFile: whatever policy file arrives, ImportFile never panics and
// either imports it completely — then export → import → export is
// byte-identical — or rejects it with a user error and changes nothing.
func FuzzImportFile(f *testing.F) {
	seed, err := os.ReadFile(filepath.Join("testdata", "policy.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte("rules: []"))
	f.Add([]byte("users: {a: [slack:U1]}\ngroups: {g: [a, a]}\nrules: []"))
	f.Add([]byte("groups: {ops: []}\nrules:\n- id: r\n  effect: approve\n  subjects: ['*']\n  approvers: [group:ops]\n  quorum: 0"))
	f.Add([]byte("rules:\n- id: r\n  effect: allow\n  subjects: ['user:slack:U1']\n  params: {n: '<= 3'}\n  rate: 1/1s"))
	f.Add([]byte("users: {a: [slack:U1], b: [slack:U1]}"))

	ctx := context.Background()
	clk := newClock()
	s, err := Open(ctx, filepath.Join(f.TempDir(), "fuzz.db"), store.WithClock(clk.Now))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	base := loadFileBytes(f, seed)
	f.Fuzz(func(t *testing.T, data []byte) {
		var pf policies.File
		if yaml.Unmarshal(data, &pf) != nil {
			return
		}
		if err := s.ImportFile(ctx, "fuzz", base); err != nil {
			t.Fatalf("reset: %v", err)
		}
		before := export(t, s)
		err := s.ImportFile(ctx, "fuzz", pf)
		if err != nil {
			if !errs.Is(errs.Invalid, err) {
				t.Fatalf("ImportFile: not an invalid error: %v", err)
			}
			if after := export(t, s); !bytes.Equal(before, after) {
				t.Fatalf("rejected import changed the policy: %v", err)
			}
			return
		}
		first := export(t, s)
		var again policies.File
		if err := yaml.Unmarshal(first, &again); err != nil {
			t.Fatalf("export does not parse: %v\n%s", err, first)
		}
		if err := s.ImportFile(ctx, "fuzz", again); err != nil {
			t.Fatalf("export does not import: %v\n%s", err, first)
		}
		if second := export(t, s); !bytes.Equal(first, second) {
			t.Fatalf("export → import → export changed:\n%s\n---\n%s", first, second)
		}
	})
}

func loadFileBytes(tb testing.TB, b []byte) policies.File {
	var f policies.File
	if err := yaml.Unmarshal(b, &f); err != nil {
		tb.Fatal(err)
	}
	return f
}

func export(tb testing.TB, s *store.Store) []byte {
	f, err := s.ExportFile(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	b, err := yaml.Marshal(f)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
