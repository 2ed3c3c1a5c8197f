package aws

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/tasks"
	"github.com/day2bot/day2bot/tasks/emulator"
)

func sfnAction(t *testing.T, name string) tasks.Action {
	t.Helper()
	emu.SetStepFunctionsClock(func() time.Time { return testNow })
	return findAction(t, SFNActions(SDKSFN), name)
}

func seedMachine(t *testing.T, m emulator.SFNStateMachine) {
	t.Helper()
	if err := emu.SeedStateMachine(context.Background(), m); err != nil {
		t.Fatal(err)
	}
}

func machineSel(app string) tasks.Selector {
	return tasks.Selector{Type: "sfn:state-machine", Tags: map[string]string{"app": app}}
}

// ended is an execution that started a minute before it ended ago before
// testNow.
func ended(name, status string, ago time.Duration, errCode string) emulator.SFNExecution {
	stop := testNow.Add(-ago)
	return emulator.SFNExecution{Name: name, Status: status, Started: stop.Add(-time.Minute), Stopped: stop, Input: `{"order":"` + name + `"}`,
		Error: errCode, Cause: map[string]string{"": "", "States.TaskFailed": "payment API answered 503"}[errCode]}
}

func TestSFNFailedExecutionsInWindow(t *testing.T) {
	ctx := context.Background()
	app := uniq(t, "orders")
	seedMachine(t, emulator.SFNStateMachine{Name: app + "-checkout", Tags: map[string]string{"app": app}, Executions: []emulator.SFNExecution{
		ended("o-1", "SUCCEEDED", 5*time.Hour, ""),
		ended("o-2", "FAILED", 3*time.Hour, "States.TaskFailed"),
		ended("o-3", "TIMED_OUT", 2*time.Hour, "States.Timeout"),
		ended("o-4", "FAILED", 30*time.Minute, "States.TaskFailed"),
		ended("o-old", "FAILED", 30*time.Hour, "States.TaskFailed"),
	}})
	seedMachine(t, emulator.SFNStateMachine{Name: app + "-foreign", Tags: map[string]string{"app": "other"},
		Executions: []emulator.SFNExecution{ended("x", "FAILED", time.Hour, "")}})
	seedMachine(t, emulator.SFNStateMachine{Name: app + "-fast", Express: true, Tags: map[string]string{"app": app}})

	_, r := planAndRun(ctx, t, sfnAction(t, "sfn.failed-executions"), invocation(t, machineSel(app), tasks.Values{"window": 24 * time.Hour, "show": int64(2)}))
	want := `2 failed, 1 timed out, 0 aborted in the last 24h; o-4 FAILED at 11-25 21:30 UTC: States.TaskFailed ("payment API answered 503"); o-3 TIMED_OUT at 11-25 20:00 UTC: States.Timeout`
	if len(r.Resources) != 2 || r.Resources[0].Detail != want ||
		r.Resources[1].Detail != "express workflow: Step Functions keeps no list of its executions; they are in its CloudWatch Logs" {
		t.Fatalf("got %+v\nwant %s", r.Resources, want)
	}
}

// Redrive takes the matching failed executions of the window (express
// workflows keep none), reports AWS's refusal of one execution and never
// touches another app's.
func TestSFNRedrivePartialFailureAndBinding(t *testing.T) {
	ctx := context.Background()
	app := uniq(t, "orders")
	m := app + "-checkout"
	seedMachine(t, emulator.SFNStateMachine{Name: m, Tags: map[string]string{"app": app}, Executions: []emulator.SFNExecution{
		ended("o-1", "FAILED", 3*time.Hour, "States.TaskFailed"),
		ended("o-2", "ABORTED", 2*time.Hour, ""),
		ended("o-3", "FAILED", time.Hour, "States.TaskFailed"),
		ended("other-1", "FAILED", time.Hour, ""),
	}})
	seedMachine(t, emulator.SFNStateMachine{Name: app + "-fast", Express: true, Tags: map[string]string{"app": app}, Executions: []emulator.SFNExecution{
		ended("o-9", "FAILED", time.Hour, "States.TaskFailed"),
	}})
	foreign := uniq(t, "other")
	seedMachine(t, emulator.SFNStateMachine{Name: foreign, Tags: map[string]string{"app": foreign}, Executions: []emulator.SFNExecution{
		ended("o-1", "FAILED", time.Hour, ""),
	}})

	act := sfnAction(t, "sfn.redrive")
	// AWS's clock is 14 days on, less 150 minutes: o-1 ended 3h before
	// testNow, so past AWS's 14-day limit, and is skipped as AWS says.
	emu.SetStepFunctionsClock(func() time.Time { return testNow.Add(14*24*time.Hour - 150*time.Minute) })
	inv := invocation(t, machineSel(app), tasks.Values{"execution": "o-*", "window": 6 * time.Hour, "max": int64(10)})
	p, err := planOnlyReads(ctx, t, act, inv)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ch := range p.Changes {
		got = append(got, ch.Resource+" "+ch.Action+" "+ch.Detail)
	}
	want := []string{
		m + "/o-3 redrive FAILED at 11-25 21:00 UTC: States.TaskFailed",
		m + "/o-2 redrive ABORTED at 11-25 20:00 UTC",
		m + "/o-1 skip AWS will not redrive it: Execution stopped more than 14 days ago",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("plan\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	emu.InjectFault("states:RedriveExecution", emulator.Fault{Status: 400, Code: "ExecutionLimitExceeded", Message: "too many running executions"})
	r, err := act.Run(ctx, inv, nil)
	if err != nil {
		t.Fatal(err)
	}
	assertPlanMatchesRun(t, p, r)
	if r.Failed() != 1 || !strings.Contains(r.Resources[0].Detail, "ExecutionLimitExceeded") || r.Summary != "redrove 1 of 3 executions, 1 failed, 1 skipped" ||
		r.Resources[1].Detail != "redriven from the failed state (redrive 1); failed-executions shows how it ends" {
		t.Fatalf("run %q %+v", r.Summary, r.Resources)
	}
	for name, want := range map[string]string{"o-3": "FAILED", "o-2": "RUNNING", "o-1": "FAILED", "other-1": "FAILED"} {
		if st, _ := emu.SFNExecutionState(m, name); st != want {
			t.Errorf("%s is %s, want %s", name, st, want)
		}
	}
	if st, _ := emu.SFNExecutionState(foreign, "o-1"); st != "FAILED" {
		t.Fatalf("another app's execution was redriven: %s", st)
	}
	// More matches than max is refused before anything runs.
	_, err = act.Plan(ctx, invocation(t, machineSel(app), tasks.Values{"execution": "*", "window": 6 * time.Hour, "max": int64(1)}))
	wantErr(t, err, errs.Invalid, `more than 1 executions match "*" in the last 6h: narrow execution= or raise max (up to 100)`)
}

func TestSFNRestartWithTheSameInput(t *testing.T) {
	ctx := context.Background()
	app := uniq(t, "orders")
	m := app + "-checkout"
	seedMachine(t, emulator.SFNStateMachine{Name: m, Tags: map[string]string{"app": app}, Executions: []emulator.SFNExecution{
		ended("o-7", "FAILED", time.Hour, "States.TaskFailed"),
		{Name: "o-8", Status: "RUNNING", Started: testNow.Add(-time.Minute)},
	}})
	foreign := uniq(t, "other")
	seedMachine(t, emulator.SFNStateMachine{Name: foreign, Tags: map[string]string{"app": foreign}, Executions: []emulator.SFNExecution{ended("f-1", "FAILED", time.Hour, "")}})

	act := sfnAction(t, "sfn.restart")
	p, r := planAndRun(ctx, t, act, invocation(t, machineSel(app), tasks.Values{"execution": "o-7"}))
	if p.Changes[0].Detail != `FAILED; the new execution o-7-r1125220000 gets the same input (15 bytes)` || r.Resources[0].Detail != "started o-7-r1125220000 with the same input" {
		t.Fatalf("plan %+v run %+v", p.Changes, r.Resources)
	}
	if st, _ := emu.SFNExecutionState(m, "o-7-r1125220000"); st != "RUNNING" || emu.SFNExecutionInput(m, "o-7-r1125220000") != `{"order":"o-7"}` {
		t.Fatalf("new execution %s", st)
	}
	p, err := act.Plan(ctx, invocation(t, machineSel(app), tasks.Values{"execution": "o-8"}))
	if err != nil || p.Changes[0].Detail != "is still running" {
		t.Fatalf("running: %v %+v", err, p.Changes)
	}
	// Binding: another app's execution is not found among the app's machines.
	_, err = act.Plan(ctx, invocation(t, machineSel(app), tasks.Values{"execution": "f-1"}))
	wantErr(t, err, errs.NotFound, `no state machine of this app has an execution "f-1" (sfn:state-machine tag app=`+app+`)`)
}
