package suggest

import "testing"

func TestDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"a", "", 1},
		{"", "abc", 3},
		{"kitten", "sitting", 3},
		{"restart-web", "restart-web", 0},
		{"restrat-web", "restart-web", 1},
		{"ca", "abc", 3},
		{"alram", "alarm", 1},
		{"héllo", "hello", 1},
	} {
		if got := Distance(tc.a, tc.b); got != tc.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := Distance(tc.b, tc.a); got != tc.want {
			t.Errorf("Distance(%q, %q) = %d, want %d (symmetry)", tc.b, tc.a, got, tc.want)
		}
	}
}

func TestClosest(t *testing.T) {
	cands := []string{"describe", "restart-web", "scale", "snapshot-db", "start-web", "stop-web"}
	for _, tc := range []struct {
		word, want string
	}{
		{"restrat-web", "restart-web"},
		{"restart", "restart-web"},
		{"scal", "scale"},
		{"SCALE", "scale"},
		{"snapshot", "snapshot-db"},
		{"stop-wbe", "stop-web"},
		{"delete-everything", ""},
		{"x", ""},
		{"", ""},
	} {
		if got := Closest(tc.word, cands); got != tc.want {
			t.Errorf("Closest(%q) = %q, want %q", tc.word, got, tc.want)
		}
	}
	if got := Closest("abc", nil); got != "" {
		t.Errorf("Closest with no candidates = %q", got)
	}
}

func TestDidYouMean(t *testing.T) {
	if got, want := DidYouMean("desird", []string{"desired", "batch"}), `; did you mean "desired"?`; got != want {
		t.Errorf("DidYouMean = %q, want %q", got, want)
	}
	if got := DidYouMean("zzzzzz", []string{"desired"}); got != "" {
		t.Errorf("DidYouMean far = %q, want empty", got)
	}
}
