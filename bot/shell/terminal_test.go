package shell

import (
	"slices"
	"testing"
)

func TestCompleteWord(t *testing.T) {
	tests := []struct {
		prefix string
		cands  []string
		want   string
		list   []string
	}{
		{"sho", []string{"shop"}, "shop ", nil},
		{"", nil, "", nil},
		{"nope", nil, "nope", nil},
		{"shop re", []string{"shop reboot-db", "shop restart-web", "shop restore-db"}, "shop re", []string{"reboot-db", "restart-web", "restore-db"}},
		{"shop res", []string{"shop restart-web", "shop restore-db"}, "shop rest", nil},
		{"shop restart-web ba", []string{"shop restart-web batch="}, "shop restart-web batch=", nil},
		// The user's spacing and a leading /day2 stay as typed; only the
		// last word changes.
		{"/day2  shop  restart-w", []string{"shop restart-web"}, "/day2  shop  restart-web ", nil},
		{"why SHOP rest", []string{"why shop restart-web"}, "why SHOP restart-web ", nil},
		{"shop ", []string{"shop describe-db", "shop restart-web"}, "shop ", []string{"describe-db", "restart-web"}},
	}
	for _, tt := range tests {
		got, list := completeWord(tt.prefix, tt.cands)
		if got != tt.want || !slices.Equal(list, tt.list) {
			t.Errorf("completeWord(%q, %q) = %q, %q; want %q, %q", tt.prefix, tt.cands, got, list, tt.want, tt.list)
		}
	}
}
