package bot_test

import (
	"maps"
	"testing"
)

// CheckForm answers field by field with the messages a typed command
// would get, so a form can show each under its field; an empty field
// keeps the default, and names it does not know are not its to judge.
func TestCheckForm(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		name      string
		app, task string
		values    map[string]string
		want      map[string]string
	}{
		{"valid", "shop", "restart-web", map[string]string{"batch": "2"}, map[string]string{}},
		{"empty keeps the default", "shop", "restart-web", map[string]string{"batch": "  "}, map[string]string{}},
		{"out of range", "shop", "restart-web", map[string]string{"batch": "9"},
			map[string]string{"batch": "batch must be between 1 and 4, got 9"}},
		{"not a number", "shop", "restart-web", map[string]string{"batch": "two"},
			map[string]string{"batch": `batch must be a whole number between 1 and 4, got "two"`}},
		{"unknown app", "nope", "restart-web", map[string]string{"batch": "9"}, nil},
		{"unknown task", "shop", "nope", map[string]string{"batch": "9"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := h.Engine.CheckForm(tt.app, tt.task, tt.values)
			if !maps.Equal(got, tt.want) || (got == nil) != (tt.want == nil) {
				t.Errorf("CheckForm = %q, want %q", got, tt.want)
			}
		})
	}
}
