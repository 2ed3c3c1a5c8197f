package aws

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/day2bot/day2bot/internal/clocktest"
	"github.com/day2bot/day2bot/tasks"
	"github.com/day2bot/day2bot/tasks/emulator"
)

// seedRevisions creates services of app in cluster, service i running the
// last of revisions[i] revisions of its own family (named as the service).
func seedRevisions(t *testing.T, cluster, app string, revisions ...int) []string {
	t.Helper()
	var names []string
	for i, n := range revisions {
		name := fmt.Sprintf("%s-svc%d", app, i)
		if err := emu.SeedECSService(context.Background(), emulator.ECSService{Cluster: cluster, Name: name, Desired: 2, Revisions: n, Tags: map[string]string{"app": app}}); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	return names
}

func rollbackAction(t *testing.T, clk *clocktest.Clock) tasks.Action {
	return findAction(t, ECSActionsWith(SDKECS, fakePace(clk)), "ecs.rollback")
}

const tdARN = "arn:aws:ecs:us-east-1:000000000000:task-definition/"

// The plan names each service's from and to revision and writes nothing;
// the run deploys the previous revision and waits until the deployment has
// settled (two reads in progress, then completed); a service with no older
// revision is skipped, and another app's service is never touched.
func TestECSRollbackPlansRevisionsAndWaitsForTheDeployment(t *testing.T) {
	ctx := context.Background()
	clk := clocktest.New(testNow)
	app, cluster := uniq(t, "shop"), uniq(t, "prod")
	svcs := seedRevisions(t, cluster, app, 3, 1)
	other := uniq(t, "other")
	foreign := seedRevisions(t, cluster, other, 3)
	emu.SetECSRollout(cluster, svcs[0], 2, false)
	inv := invocation(t, tasks.Selector{Type: "ecs:service", Tags: map[string]string{"app": app}}, nil)
	act := rollbackAction(t, clk)

	p, err := act.Plan(ctx, inv)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprint([]tasks.Change{
		{Resource: cluster + "/" + svcs[0], Action: fmt.Sprintf("roll back %s:3 -> %s:2", svcs[0], svcs[0]), Detail: "desired 2, running 2, pending 0"},
		{Resource: cluster + "/" + svcs[1], Action: "skip", Detail: "no ACTIVE revision of " + svcs[1] + " older than 1"},
	})
	if fmt.Sprint(p.Changes) != want || p.Summary != "roll back 1 of 2 services" || callsMentioning("ecs:UpdateService", svcs[0]) != 0 {
		t.Fatalf("plan %q %v", p.Summary, p.Changes)
	}
	r, err := act.Run(ctx, inv, nil)
	if err != nil {
		t.Fatal(err)
	}
	assertPlanMatchesRun(t, p, r)
	if got := emu.ECSTaskDefinition(cluster, svcs[0]); got != tdARN+svcs[0]+":2" {
		t.Fatalf("service runs %s", got)
	}
	if !strings.HasPrefix(r.Resources[0].Detail, fmt.Sprintf("%s:3 -> %s:2, deployment ecs-svc/", svcs[0], svcs[0])) || !strings.HasSuffix(r.Resources[0].Detail, " completed") {
		t.Fatalf("result %+v", r.Resources)
	}
	// Settle 10s, then reads at 10s (in progress), 20s (in progress), 30s (completed).
	if got := clk.Now().Sub(testNow); got != 30*time.Second {
		t.Fatalf("waited %s, want 30s", got)
	}
	if got := emu.ECSTaskDefinition(cluster, foreign[0]); got != tdARN+foreign[0]+":3" {
		t.Fatalf("another app's service was rolled back: %s", got)
	}

	// Binding: the other app's service named by ARN, with the app's tag
	// also required, selects nothing.
	sel := tasks.Selector{Type: "ecs:service", IDs: []string{"arn:aws:ecs:us-east-1:000000000000:service/" + cluster + "/" + foreign[0]}, Tags: map[string]string{"app": app}}
	p, err = act.Plan(ctx, invocation(t, sel, nil))
	if err != nil || p.Summary != "no services match the target" {
		t.Fatalf("foreign service planned: %v %q", err, p.Summary)
	}
}

// One service's update is refused, another's deployment FAILED, a third's
// never settles within the bound: each fails on its own, with the reason.
func TestECSRollbackPartialFailure(t *testing.T) {
	ctx := context.Background()
	clk := clocktest.New(testNow)
	app, cluster := uniq(t, "shop"), uniq(t, "prod")
	svcs := seedRevisions(t, cluster, app, 2, 2, 2, 2)
	emu.SetECSRollout(cluster, svcs[2], 0, true)
	emu.SetECSRollout(cluster, svcs[3], 1000, false)
	emu.InjectFault("ecs:UpdateService", emulator.Fault{Status: 400, Code: "InvalidParameterException", Message: "service is draining"})
	inv := invocation(t, tasks.Selector{Type: "ecs:service", Tags: map[string]string{"app": app}}, tasks.Values{"wait": time.Minute})
	_, r := planAndRun(ctx, t, rollbackAction(t, clk), inv)
	if r.Summary != "rolled back 1 of 4 services, 3 failed" {
		t.Fatalf("summary %q %+v", r.Summary, r.Resources)
	}
	for i, want := range []string{
		"InvalidParameterException: service is draining",
		"completed",
		"FAILED: no reason given",
		"did not settle within 1m: " + cluster + "/" + svcs[3] + ": deployment ecs-svc/",
	} {
		if !strings.Contains(r.Resources[i].Detail, want) {
			t.Errorf("service %d: %q lacks %q", i, r.Resources[i].Detail, want)
		}
	}
	if got := emu.ECSTaskDefinition(cluster, svcs[0]); got != tdARN+svcs[0]+":2" {
		t.Fatalf("refused service changed: %s", got)
	}
}
