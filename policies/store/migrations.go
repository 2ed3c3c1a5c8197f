package store

import (
	"fmt"
	"io/fs"
	"slices"
)

// Migrations reads a backend's schema files, schema/*.sql in fsys, in
// name order: migration i (1-based) brings a database from version i-1
// to i. Both backends number their files alike, so one reader serves.
func Migrations(fsys fs.FS) ([]string, error) {
	names, err := fs.Glob(fsys, "schema/*.sql")
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	slices.Sort(names)
	out := make([]string, 0, len(names))
	for _, n := range names {
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", n, err)
		}
		out = append(out, string(b))
	}
	return out, nil
}
