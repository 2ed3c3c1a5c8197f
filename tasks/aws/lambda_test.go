package aws

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/day2bot/day2bot/tasks"
	"github.com/day2bot/day2bot/tasks/emulator"
)

func lambdaAction(t *testing.T, name string) tasks.Action {
	t.Helper()
	return findAction(t, LambdaActions(SDKLambda), name)
}

// seedFunction creates a function tagged app=<app> with versions 1..n and
// the alias live on version live.
func seedFunction(t *testing.T, app, name string, versions int, live string) {
	t.Helper()
	f := emulator.LambdaFunction{Name: name, Versions: versions, Tags: map[string]string{"app": app}}
	if live != "" {
		f.Aliases = map[string]string{"live": live}
	}
	if err := emu.SeedLambdaFunction(context.Background(), f); err != nil {
		t.Fatal(err)
	}
}

func fnSel(app string) tasks.Selector {
	return tasks.Selector{Type: "lambda:function", Tags: map[string]string{"app": app}}
}

func TestLambdaDescribeAndMetricsReadCloudWatch(t *testing.T) {
	ctx := context.Background()
	app := uniq(t, "api")
	fn := app + "-handler"
	seedFunction(t, app, fn, 3, "2")
	seedFunction(t, uniq(t, "other"), app+"-not-ours", 1, "") // matches no tag: not the app's
	dims := map[string]string{"FunctionName": fn}
	for metric, v := range map[string]float64{"Errors": 0.5, "Throttles": 0, "Invocations": 40, "Duration": 180} {
		if err := emu.SetMetric(ctx, "AWS/Lambda", metric, dims, v); err != nil {
			t.Fatal(err)
		}
	}
	_, r := planAndRun(ctx, t, lambdaAction(t, "lambda.describe"), invocation(t, fnSel(app), nil))
	want := "3 versions (latest 3); aliases live -> 2; no reserved concurrency; last hour: 30 errors, 0 throttles, 2400 invocations, duration p95 180 ms"
	if len(r.Resources) != 1 || r.Resources[0].Resource != fn || r.Resources[0].Detail != want {
		t.Fatalf("describe %+v\nwant %s", r.Resources, want)
	}
	_, r = planAndRun(ctx, t, lambdaAction(t, "lambda.metrics"), invocation(t, fnSel(app), tasks.Values{"window": 30 * time.Minute}))
	if r.Resources[0].Detail != "last 30m0s: 15 errors, 0 throttles, 1200 invocations, duration p95 180 ms" {
		t.Fatalf("metrics %+v", r.Resources)
	}
}

func TestLambdaShiftAndRollBackAlias(t *testing.T) {
	ctx := context.Background()
	app := uniq(t, "api")
	fn := app + "-handler"
	seedFunction(t, app, fn, 3, "2")
	shift := lambdaAction(t, "lambda.shift-alias")

	// A 10% canary of version 3.
	inv := invocation(t, fnSel(app), tasks.Values{"alias": "live", "version": int64(3), "weight": int64(10)})
	p, err := shift.Plan(ctx, inv)
	if err != nil {
		t.Fatal(err)
	}
	if v, w := emu.LambdaAlias(fn, "live"); v != "2" || len(w) != 0 {
		t.Fatalf("plan changed the alias: %s %v", v, w)
	}
	if p.Summary != "send 10% of live to version 3 1 of 1 aliases" || p.Changes[0].Detail != "now live -> 2" {
		t.Fatalf("plan %q %+v", p.Summary, p.Changes)
	}
	r, err := shift.Run(ctx, inv, nil)
	if err != nil {
		t.Fatal(err)
	}
	assertPlanMatchesRun(t, p, r)
	if v, w := emu.LambdaAlias(fn, "live"); v != "2" || w["3"] != 0.1 || r.Resources[0].Detail != "now live -> 2 (10% to 3)" {
		t.Fatalf("alias %s %v; %+v", v, w, r.Resources)
	}

	// Rolling back first cancels the canary...
	back := lambdaAction(t, "lambda.rollback-alias")
	p, r = planAndRun(ctx, t, back, invocation(t, fnSel(app), tasks.Values{"alias": "live"}))
	if v, w := emu.LambdaAlias(fn, "live"); v != "2" || len(w) != 0 || p.Changes[0].Action != "cancel the weighted shift: all traffic to 2" {
		t.Fatalf("cancel: %s %v %+v", v, w, p.Changes)
	}
	// ...then a full shift, and its rollback to the version before.
	planAndRun(ctx, t, shift, invocation(t, fnSel(app), tasks.Values{"alias": "live", "version": int64(3)}))
	if v, _ := emu.LambdaAlias(fn, "live"); v != "3" {
		t.Fatalf("full shift: live -> %s", v)
	}
	p, _ = planAndRun(ctx, t, back, invocation(t, fnSel(app), tasks.Values{"alias": "live"}))
	if v, _ := emu.LambdaAlias(fn, "live"); v != "2" || p.Changes[0].Action != "point live back at version 2" {
		t.Fatalf("rollback: live -> %s %+v", v, p.Changes)
	}
	// A version that was never published, or a missing alias, is skipped.
	p, err = shift.Plan(ctx, invocation(t, fnSel(app), tasks.Values{"alias": "live", "version": int64(9)}))
	if err != nil || p.Changes[0].Detail != "has no published version 9" {
		t.Fatalf("unknown version: %v %+v", err, p.Changes)
	}
	p, err = back.Plan(ctx, invocation(t, fnSel(app), tasks.Values{"alias": "beta"}))
	if err != nil || p.Changes[0].Detail != "has no alias beta" {
		t.Fatalf("unknown alias: %v %+v", err, p.Changes)
	}
}

func TestLambdaSetConcurrencyPartialFailureAndBinding(t *testing.T) {
	ctx := context.Background()
	app := uniq(t, "api")
	a, b := app+"-a", app+"-b"
	seedFunction(t, app, a, 1, "")
	seedFunction(t, app, b, 1, "")
	foreign := uniq(t, "other")
	seedFunction(t, foreign, foreign+"-fn", 1, "")

	act := lambdaAction(t, "lambda.set-concurrency")
	inv := invocation(t, fnSel(app), tasks.Values{"reserved": int64(0)})
	p, err := act.Plan(ctx, inv)
	if err != nil {
		t.Fatal(err)
	}
	if p.Summary != "throttle (reserve 0) 2 of 2 functions" || emu.LambdaReserved(a) != -1 {
		t.Fatalf("plan %q", p.Summary)
	}
	emu.InjectFault("lambda:PutFunctionConcurrency", emulator.Fault{Status: 429, Code: "TooManyRequestsException", Message: "Rate exceeded"})
	emu.InjectFault("lambda:PutFunctionConcurrency", emulator.Fault{Status: 429, Code: "TooManyRequestsException", Message: "Rate exceeded"})
	emu.InjectFault("lambda:PutFunctionConcurrency", emulator.Fault{Status: 429, Code: "TooManyRequestsException", Message: "Rate exceeded"})
	r, err := act.Run(ctx, inv, nil)
	if err != nil {
		t.Fatal(err)
	}
	assertPlanMatchesRun(t, p, r)
	if r.Failed() != 1 || !strings.Contains(r.Resources[0].Detail, "TooManyRequestsException") || emu.LambdaReserved(a) != -1 ||
		emu.LambdaReserved(b) != 0 || r.Resources[1].Detail != "no reserved concurrency -> reserved 0 (throttled): every invocation is throttled until clear-concurrency or a new value" {
		t.Fatalf("run %+v", r.Resources)
	}
	_, r = planAndRun(ctx, t, lambdaAction(t, "lambda.clear-concurrency"), invocation(t, fnSel(app), nil))
	if emu.LambdaReserved(b) != -1 || r.Resources[0].Status != tasks.StatusSkipped || r.Resources[1].Detail != "reserved 0 (throttled) -> the account's unreserved pool" {
		t.Fatalf("clear %+v", r.Resources)
	}

	// Binding: naming another app's function by id while the binding also
	// requires the app's tag selects nothing; AWS's tags decide.
	sel := tasks.Selector{Type: "lambda:function", IDs: []string{foreign + "-fn"}, Tags: map[string]string{"app": app}}
	p, err = act.Plan(ctx, invocation(t, sel, tasks.Values{"reserved": int64(5)}))
	if err != nil || len(p.Changes) != 0 || p.Summary != "no functions match the target" {
		t.Fatalf("foreign function planned: %v %q", err, p.Summary)
	}
	if emu.LambdaReserved(foreign+"-fn") != -1 {
		t.Fatal("foreign function changed")
	}
}
