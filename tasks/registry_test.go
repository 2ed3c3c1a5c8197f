package tasks_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/day2bot/day2bot/tasks"
)

// stubAction is a named action with no behaviour; the registry only reads
// names.
type stubAction struct{ name string }

func (s stubAction) Name() string          { return s.name }
func (s stubAction) Params() []tasks.Param { return nil }
func (s stubAction) Mutating() bool        { return false }
func (s stubAction) IAMActions() []string  { return nil }
func (s stubAction) Plan(context.Context, tasks.Invocation) (tasks.Plan, error) {
	return tasks.Plan{}, nil
}
func (s stubAction) Run(context.Context, tasks.Invocation, func(tasks.Progress)) (tasks.Result, error) {
	return tasks.Result{}, nil
}

func TestNewRegistry(t *testing.T) {
	tests := []struct {
		name    string
		actions []tasks.Action
		wantErr string
		want    []string
	}{
		{name: "empty", want: nil},
		{name: "sorted", actions: []tasks.Action{stubAction{"ec2.reboot"}, stubAction{"ec2.describe"}}, want: []string{"ec2.describe", "ec2.reboot"}},
		{name: "duplicate", actions: []tasks.Action{stubAction{"ec2.reboot"}, stubAction{"ec2.reboot"}}, wantErr: `"ec2.reboot": duplicate`},
		{name: "empty name", actions: []tasks.Action{stubAction{""}}, wantErr: "empty name"},
		{name: "nil", actions: []tasks.Action{nil}, wantErr: "nil action"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := tasks.NewRegistry(tc.actions...)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Names(); !slices.Equal(got, tc.want) {
				t.Fatalf("Names() = %v, want %v", got, tc.want)
			}
			for _, n := range tc.want {
				a, ok := r.Lookup(n)
				if !ok || a.Name() != n {
					t.Fatalf("Lookup(%q) = %v, %v", n, a, ok)
				}
			}
			if _, ok := r.Lookup("nope"); ok {
				t.Fatal("Lookup(nope) found something")
			}
			if got := len(r.Actions()); got != len(tc.want) {
				t.Fatalf("Actions() len = %d", got)
			}
		})
	}
}
