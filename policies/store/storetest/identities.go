package storetest

import (
	"context"
	"slices"
	"testing"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/policies"
)

func testIdentify(t *testing.T, db Database) {
	s, _ := openTemp(t, db)
	ctx := context.Background()
	f := policies.File{
		Users: map[string][]string{"carol": {"slack:U100", "discord:200"}, "erin": {"slack:U102"}},
		Groups: map[string][]string{
			"ops": {"carol"}, "night": {"discord:200"}, "data": {"slack:U900"}, "guests": {"frank"},
		},
	}
	if err := s.ImportFile(ctx, "admin", f); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		user, principal, handle string
		groups                  []string
	}{
		{"carol", "slack:U100", "carol", []string{"ops"}}, // first principal; night lists discord:200
		{"discord:200", "discord:200", "carol", []string{"night", "ops"}},
		{"slack:U100", "slack:U100", "carol", []string{"ops"}},
		{"erin", "slack:U102", "erin", nil},
		{"slack:U900", "slack:U900", "", []string{"data"}}, // nobody claimed it
		{"frank", "handle:frank", "frank", []string{"guests"}},
		{"nobody", "handle:nobody", "nobody", nil},
	}
	for _, tt := range tests {
		t.Run(tt.user, func(t *testing.T) {
			p, h, gs, err := s.Identify(ctx, tt.user)
			if err != nil {
				t.Fatal(err)
			}
			if p != tt.principal || h != tt.handle || !slices.Equal(gs, tt.groups) {
				t.Errorf("Identify(%q) = %q, %q, %q; want %q, %q, %q", tt.user, p, h, gs, tt.principal, tt.handle, tt.groups)
			}
		})
	}
	_, _, _, err := s.Identify(ctx, "Bad Handle!")
	if d := errDiff(err, errs.Invalid, `user "Bad Handle!" is neither a principal such as slack:U123 nor a handle such as carol`); d != "" {
		t.Errorf("Identify of a bad handle: %s", d)
	}
}
