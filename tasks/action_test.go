package tasks_test

import (
	"testing"

	"github.com/day2bot/day2bot/tasks"
)

func TestFailedTransiently(t *testing.T) {
	throttled := tasks.ResourceResult{Resource: "i-1", Status: tasks.StatusFailed, Transient: true}
	denied := tasks.ResourceResult{Resource: "i-2", Status: tasks.StatusFailed}
	rebooted := tasks.ResourceResult{Resource: "i-3", Status: tasks.StatusOK}
	for _, tc := range []struct {
		name string
		rs   []tasks.ResourceResult
		want bool
	}{
		{"every resource throttled", []tasks.ResourceResult{throttled, throttled}, true},
		{"one refused for good", []tasks.ResourceResult{throttled, denied}, false},
		{"one changed: a retry would change it again", []tasks.ResourceResult{throttled, rebooted}, false},
		{"no resources", nil, false},
	} {
		if got := (tasks.Result{Resources: tc.rs}).FailedTransiently(); got != tc.want {
			t.Errorf("%s: FailedTransiently = %v, want %v", tc.name, got, tc.want)
		}
	}
}
