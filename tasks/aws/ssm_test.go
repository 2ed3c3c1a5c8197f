package aws

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/day2bot/day2bot/internal/clocktest"
	"github.com/day2bot/day2bot/tasks"
	"github.com/day2bot/day2bot/tasks/emulator"
)

func ssmAction(t *testing.T, name string, clk *clocktest.Clock) tasks.Action {
	t.Helper()
	return findAction(t, SSMActions(SDKSSM, fakePace(clk)), name)
}

// patchFleet seeds n running instances of a new app, all managed by SSM
// with two missing patches (one critical) and one installed; failing
// lists the indexes whose commands fail.
func patchFleet(t *testing.T, n int, failing ...int) (string, []string) {
	t.Helper()
	app := uniq(t, "fleet")
	ids, err := emu.SeedInstances(context.Background(), n, emulator.InstanceSpec{Tags: map[string]string{"app": app}})
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		emu.SeedManagedInstance(emulator.ManagedInstance{ID: id, Fails: slices.Contains(failing, i), Patches: []emulator.Patch{
			{Title: "kernel", Severity: "Critical", State: "Missing"}, {Title: "openssl", Severity: "Important", State: "Missing"},
			{Title: "bash", Severity: "Low", State: "Installed"}}})
	}
	return app, ids
}

func ec2Sel(app string) tasks.Selector {
	return tasks.Selector{Type: "ec2:instance", Tags: map[string]string{"app": app}}
}

func TestSSMPatchComplianceBySeverity(t *testing.T) {
	ctx := context.Background()
	app, ids := patchFleet(t, 1)
	unmanaged, err := emu.SeedInstances(ctx, 1, emulator.InstanceSpec{Tags: map[string]string{"app": app}})
	if err != nil {
		t.Fatal(err)
	}
	_, r := planAndRun(ctx, t, ssmAction(t, "ssm.patch-compliance", clocktest.New(testNow)), invocation(t, ec2Sel(app), nil))
	got := map[string]tasks.ResourceResult{}
	for _, rr := range r.Resources {
		got[rr.Resource] = rr
	}
	if d := got[ids[0]].Detail; !strings.HasPrefix(d, "missing 2 (Critical 1, Important 1); installed 1 (Low 1); failed 0; last Scan ") {
		t.Fatalf("compliance %q", d)
	}
	if rr := got[unmanaged[0]]; rr.Status != tasks.StatusSkipped || !strings.HasPrefix(rr.Detail, "not managed by SSM") {
		t.Fatalf("unmanaged %+v", rr)
	}
}

// Install on five instances, two at a time, the second instance failing:
// with max_errors=0 SSM stops after the first wave and the other three
// are reported as not run; with max_errors=1 the rest are patched.
func TestSSMRunPatchBaselineBatchesAndErrorThreshold(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		maxErrors int64
		summary   string
	}{
		{0, "ran AWS-RunPatchBaseline on 1 of 5 instances, 4 failed"},
		{1, "ran AWS-RunPatchBaseline on 4 of 5 instances, 1 failed"},
	} {
		app, ids := patchFleet(t, 5, 1)
		act := ssmAction(t, "ssm.run-patch-baseline", clocktest.New(testNow))
		inv := invocation(t, ec2Sel(app), tasks.Values{"operation": "Install", "concurrency": int64(2), "max_errors": tc.maxErrors})
		p, err := planOnlyReads(ctx, t, act, inv)
		if err != nil {
			t.Fatal(err)
		}
		if p.Summary != "run AWS-RunPatchBaseline (Install, rebootifneeded) 5 of 5 instances" || len(emu.SSMCommands(ids[0])) != 0 {
			t.Fatalf("plan %q (or it sent a command)", p.Summary)
		}
		var progress []string
		r, err := act.Run(ctx, inv, func(pr tasks.Progress) { progress = append(progress, pr.Message) })
		if err != nil {
			t.Fatal(err)
		}
		assertPlanMatchesRun(t, p, r)
		if r.Summary != tc.summary {
			t.Fatalf("max_errors=%d: %s\n%+v", tc.maxErrors, r.Summary, r.Resources)
		}
		sent := emu.SSMCommands(ids[0])
		if len(sent) != 1 || sent[0].MaxConcurrency != 2 || sent[0].MaxErrors != int(tc.maxErrors) ||
			!slices.Equal(sent[0].Parameters["Operation"], []string{"Install"}) || len(sent[0].Instances) != 5 {
			t.Fatalf("commands %+v", sent)
		}
		if !strings.Contains(progress[0], "2 of 5 instances done, 1 failed") {
			t.Fatalf("progress %q", progress)
		}
		if r.Resources[0].Status != tasks.StatusOK || emu.MissingPatches(ids[0]) != 0 || emu.MissingPatches(ids[1]) != 2 ||
			!strings.HasPrefix(r.Resources[1].Detail, "Failed (command ") {
			t.Fatalf("outcomes %+v", r.Resources)
		}
		if tc.maxErrors == 0 && !strings.HasPrefix(r.Resources[4].Detail, "not run: SSM stopped the command after more than 0 failed") {
			t.Fatalf("threshold %+v", r.Resources[4])
		}
		if tc.maxErrors == 1 && emu.MissingPatches(ids[4]) != 0 {
			t.Fatal("last wave not patched")
		}
	}
}

// The command goes only to the app's instances, as EC2 tags them; an
// offline agent is skipped, and naming another app's instance by id
// while the binding requires the app's tag plans nothing.
func TestSSMRunCommandBindingAndAllowList(t *testing.T) {
	ctx := context.Background()
	app, ids := patchFleet(t, 2)
	offline, err := emu.SeedInstances(ctx, 1, emulator.InstanceSpec{Tags: map[string]string{"app": app}})
	if err != nil {
		t.Fatal(err)
	}
	emu.SeedManagedInstance(emulator.ManagedInstance{ID: offline[0], Offline: true})
	_, foreign := patchFleet(t, 1)
	act := ssmAction(t, "ssm.run-document", clocktest.New(testNow))
	_, r := planAndRun(ctx, t, act, invocation(t, ec2Sel(app), tasks.Values{"document": "AWS-UpdateSSMAgent"}))
	if r.Summary != "ran AWS-UpdateSSMAgent on 2 of 3 instances, 1 skipped" || r.Resources[2].Detail != "SSM agent is ConnectionLost" {
		t.Fatalf("run %s %+v", r.Summary, r.Resources)
	}
	if len(emu.SSMCommands(ids[1])) != 1 || len(emu.SSMCommands(foreign[0])) != 0 {
		t.Fatal("command sent to the wrong instances")
	}
	sel := ec2Sel(app)
	sel.IDs = foreign
	p, err := act.Plan(ctx, invocation(t, sel, tasks.Values{"document": "AWS-UpdateSSMAgent"}))
	if err != nil || len(p.Changes) != 0 {
		t.Fatalf("foreign instance planned: %v %+v", err, p.Changes)
	}
	_, err = act.Run(ctx, invocation(t, ec2Sel(app), tasks.Values{"document": "AWS-RunShellScript"}), nil)
	if err == nil || !strings.Contains(err.Error(), "not one of AWS-UpdateSSMAgent") {
		t.Fatalf("shell document: %v", err)
	}
	// A command still running when the wait is over is reported as such.
	app, _ = patchFleet(t, 3)
	_, r = planAndRun(ctx, t, ssmAction(t, "ssm.run-patch-baseline", clocktest.New(testNow)),
		invocation(t, ec2Sel(app), tasks.Values{"concurrency": int64(1), "wait": 10 * time.Second}))
	if !strings.HasPrefix(r.Resources[2].Detail, "still Pending after 10s; the command goes on in AWS") || r.Resources[1].Status != tasks.StatusOK {
		t.Fatalf("timeout %+v", r.Resources)
	}
}
