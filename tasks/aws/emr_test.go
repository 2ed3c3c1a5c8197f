package aws

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/day2bot/day2bot/tasks"
	"github.com/day2bot/day2bot/tasks/emulator"
)

func emrAction(t *testing.T, name string) tasks.Action {
	t.Helper()
	return findAction(t, EMRActions(SDKEMR), name)
}

func emrSel(app string) tasks.Selector {
	return tasks.Selector{Type: "emr:cluster", Tags: map[string]string{"app": app}}
}

var emrGroups = []emulator.EMRGroup{{Type: "MASTER", InstanceType: "m5.xlarge", Count: 1}, {Type: "CORE", InstanceType: "r5.2xlarge", Count: 2},
	{Type: "TASK", InstanceType: "m5.2xlarge", Count: 4}}

// emrApp seeds the app's clusters: etl idle for 6h, adhoc busy with a
// running step, and a protected one idle for a day; and another app's
// idle cluster.
func emrApp(t *testing.T) (app, etl, adhoc, protected, foreign string) {
	app = uniq(t, "emr")
	tags := map[string]string{"app": app}
	etl = emu.SeedEMRCluster(emulator.EMRCluster{Name: app + "-etl", Ready: testNow.Add(-30 * time.Hour), Groups: emrGroups, Tags: tags,
		Steps: []emulator.EMRStep{{Name: "nightly", State: "COMPLETED", Start: testNow.Add(-8 * time.Hour), End: testNow.Add(-6 * time.Hour)}}})
	adhoc = emu.SeedEMRCluster(emulator.EMRCluster{Name: app + "-adhoc", State: "RUNNING", Ready: testNow.Add(-30 * time.Hour), Groups: emrGroups, Tags: tags,
		Steps: []emulator.EMRStep{{Name: "report", State: "RUNNING", Start: testNow.Add(-time.Hour)}}})
	protected = emu.SeedEMRCluster(emulator.EMRCluster{Name: app + "-keep", Ready: testNow.Add(-24 * time.Hour), Groups: emrGroups, Tags: tags, Protected: true})
	foreign = emu.SeedEMRCluster(emulator.EMRCluster{Name: app + "-foreign", Ready: testNow.Add(-48 * time.Hour), Groups: emrGroups, Tags: map[string]string{"app": "other"}})
	return
}

func TestEMRDescribeAndTerminateIdle(t *testing.T) {
	ctx := context.Background()
	app, etl, adhoc, protected, foreign := emrApp(t)
	_, r := planAndRun(ctx, t, emrAction(t, "emr.describe"), invocation(t, emrSel(app), nil))
	if len(r.Resources) != 3 || r.Resources[0].Resource != app+"-etl ("+etl+")" ||
		r.Resources[0].Detail != "WAITING, emr-7.1.0, up 30h, MASTER 1/1 m5.xlarge, CORE 2/2 r5.2xlarge, TASK 4/4 m5.2xlarge; idle for 6h" ||
		!strings.HasSuffix(r.Resources[1].Detail, "; busy: step report is RUNNING") {
		t.Fatalf("describe %+v", r.Resources)
	}

	act := emrAction(t, "emr.terminate-idle")
	inv := invocation(t, emrSel(app), tasks.Values{"idle_hours": int64(4)})
	p, err := planOnlyReads(ctx, t, act, inv)
	if err != nil || p.Summary != "terminate (idle over 4h) 1 of 3 clusters" || p.Changes[1].Detail != "busy: step report is RUNNING" ||
		p.Changes[2].Detail != "idle for 24h, but termination protection is on" {
		t.Fatalf("plan %v %q %+v", err, p.Summary, p.Changes)
	}
	if st, _ := emu.EMRClusterState(etl); st != "WAITING" {
		t.Fatal("the plan terminated a cluster")
	}
	r, err = act.Run(ctx, inv, nil)
	if err != nil {
		t.Fatal(err)
	}
	assertPlanMatchesRun(t, p, r)
	for id, want := range map[string]string{etl: "TERMINATING", adhoc: "RUNNING", protected: "WAITING", foreign: "WAITING"} {
		if st, _ := emu.EMRClusterState(id); st != want {
			t.Errorf("%s is %s, want %s", id, st, want)
		}
	}
	// Idle, but not long enough.
	p, err = act.Plan(ctx, invocation(t, emrSel(app), tasks.Values{"idle_hours": int64(48)}))
	if err != nil || p.Changes[len(p.Changes)-1].Detail != "idle for 24h, not over 2d" {
		t.Fatalf("bound %v %+v", err, p.Changes)
	}
}

func TestEMRResizeGroupPartialFailureAndBinding(t *testing.T) {
	ctx := context.Background()
	app, etl, adhoc, _, foreign := emrApp(t)
	act := emrAction(t, "emr.resize-group")
	emu.InjectFault("elasticmapreduce:ModifyInstanceGroups", emulator.Fault{Status: 400, Code: "ValidationException", Message: "An instance group may only be modified when the cluster is running or waiting."})
	_, r := planAndRun(ctx, t, act, invocation(t, emrSel(app), tasks.Values{"group": "task", "count": int64(8)}))
	if r.Failed() != 1 || r.Summary != "resized 2 of 3 instance groups, 1 failed" || !strings.Contains(r.Resources[0].Detail, "ValidationException") {
		t.Fatalf("resize %s %+v", r.Summary, r.Resources)
	}
	if _, counts := emu.EMRClusterState(adhoc); counts["TASK"] != 8 || counts["CORE"] != 2 {
		t.Fatalf("adhoc %v", counts)
	}
	if _, counts := emu.EMRClusterState(etl); counts["TASK"] != 4 {
		t.Fatalf("etl resized despite the refusal: %v", counts)
	}
	if _, err := act.Plan(ctx, invocation(t, emrSel(app), tasks.Values{"group": "core", "count": int64(0)})); err == nil || !strings.Contains(err.Error(), "core group needs at least 1") {
		t.Fatalf("core to 0: %v", err)
	}
	sel := emrSel(app)
	sel.IDs = []string{foreign}
	p, err := act.Plan(ctx, invocation(t, sel, tasks.Values{"group": "task", "count": int64(1)}))
	if err != nil || len(p.Changes) != 0 {
		t.Fatalf("foreign cluster planned: %v %+v", err, p.Changes)
	}
}
