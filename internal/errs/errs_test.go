package errs_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/day2bot/day2bot/internal/errs"
)

func TestRender(t *testing.T) {
	cause := errors.New("operation error EC2: RebootInstances, https response error StatusCode: 403")
	tests := []struct {
		name   string
		err    error
		want   string
		wantOK bool
	}{
		{"plain error is internal", errors.New("boom"), "", false},
		{"nil", nil, "", false},
		{"invalid", errs.E("parse parameter batch", errs.Invalid, "batch must be between 1 and 8, got %d", 12),
			"batch must be between 1 and 8, got 12", true},
		{"a message is a format", errs.E("op", errs.Invalid, "%d%% is too much", 100), "100% is too much", true},
		{"permission names the action",
			&errs.Error{Op: "reboot instance", Kind: errs.Permission, Msg: "AWS denied RebootInstances", IAMAction: "ec2:RebootInstances", Err: cause},
			`AWS denied RebootInstances: the app's IAM role needs permission "ec2:RebootInstances"`, true},
		{"permission already naming the action is left alone",
			&errs.Error{Kind: errs.Permission, Msg: `needs "ec2:RebootInstances"`, IAMAction: "ec2:RebootInstances"},
			`needs "ec2:RebootInstances"`, true},
		{"transient says try again", errs.Wrap("describe", errs.Transient, cause, "AWS is throttling DescribeInstances"),
			"AWS is throttling DescribeInstances; try again in a minute", true},
		{"transient already saying it", errs.E("op", errs.Transient, "busy, try again later"), "busy, try again later", true},
		{"op-only wrapper shows the inner message",
			fmt.Errorf("run task: %w", errs.Wrap("run task", errs.Internal, errs.E("find app", errs.NotFound, "no app shop"), "")),
			"no app shop", true},
		{"outermost message wins",
			errs.Wrap("approve", errs.Conflict, errs.E("vote", errs.Conflict, "inner"), "approval 7 is already approved"),
			"approval 7 is already approved", true},
		{"kind without message shows the cause", errs.Wrap("load", errs.NotFound, errors.New("no such file"), ""), "no such file", true},
		{"internal with message is shown", errs.E("call", errs.Internal, "the endpoint does not implement GetFoo"),
			"the endpoint does not implement GetFoo", true},
		{"internal wrapper of plain error", errs.Wrap("save run", errs.Internal, errors.New("disk full"), ""), "", false},
		{"joined user errors, one line each",
			fmt.Errorf("load schedules: %w", errors.Join(errs.E("a", errs.Invalid, "schedule a: bad"), errs.E("b", errs.Invalid, "schedule b: bad"))),
			"schedule a: bad\nschedule b: bad", true},
		{"a join hiding an internal error is internal",
			errors.Join(errs.E("a", errs.Invalid, "schedule a: bad"), errors.New("disk full")), "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := errs.Render(tt.err)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("Render = %q, %v; want %q, %v", got, ok, tt.want, tt.wantOK)
			}
			if !ok && errs.Text(tt.err, "see logs") != "see logs" {
				t.Errorf("Text of an internal error is not the fallback")
			}
		})
	}
}

func TestKind(t *testing.T) {
	deny := &errs.Error{Op: "stop instance", Kind: errs.Permission, Msg: "AWS denied StopInstances", IAMAction: "ec2:StopInstances"}
	wrapped := fmt.Errorf("run task restart: %w", errs.Wrap("run", errs.Internal, deny, ""))
	if k := errs.KindOf(wrapped); k != errs.Permission {
		t.Errorf("KindOf = %v, want permission", k)
	}
	if !errs.Is(errs.Permission, wrapped) || errs.Is(errs.NotFound, wrapped) {
		t.Errorf("Is does not look through wrapping")
	}
	if a := errs.IAMActionOf(wrapped); a != "ec2:StopInstances" {
		t.Errorf("IAMActionOf = %q", a)
	}
	if k := errs.KindOf(errors.Join(errors.New("x"), wrapped)); k != errs.Permission {
		t.Errorf("KindOf a join = %v, want permission", k)
	}
	if errs.KindOf(errors.New("x")) != errs.Internal || errs.Is(errs.Internal, nil) {
		t.Errorf("plain errors are Internal; nil is no kind")
	}
	var e *errs.Error
	if !errors.As(wrapped, &e) || e.Op != "run" {
		t.Errorf("errors.As finds the outermost Error, got %+v", e)
	}
	if got := errs.Kind(42).String(); got != "kind(42)" {
		t.Errorf("unknown kind String = %q", got)
	}
}

func TestErrorString(t *testing.T) {
	cause := errors.New("connection refused")
	tests := []struct {
		err  error
		want string
	}{
		{errs.Wrap("open store", errs.Internal, cause, ""), "open store: connection refused"},
		{errs.Wrap("open store", errs.Transient, cause, "the database is unreachable"), "the database is unreachable; try again in a minute: connection refused"},
		{errs.Wrap("x", errs.Invalid, errors.New("bad: label must be short"), "label must be short"), "bad: label must be short"},
		{errs.E("x", errs.NotFound, "no app shop"), "no app shop"},
		{&errs.Error{Op: "only op"}, "only op"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}
