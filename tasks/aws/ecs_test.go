package aws

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/day2bot/day2bot/tasks"
	"github.com/day2bot/day2bot/tasks/emulator"
)

func ecsAction(t *testing.T, name string) tasks.Action {
	t.Helper()
	return findAction(t, ECSActions(SDKECS), name)
}

func seedServices(t *testing.T, cluster, app string, desired ...int32) []string {
	t.Helper()
	var names []string
	for i, d := range desired {
		name := fmt.Sprintf("%s-svc%d", app, i)
		if err := emu.SeedECSService(context.Background(), emulator.ECSService{Cluster: cluster, Name: name, Desired: d, Tags: map[string]string{"app": app}}); err != nil {
			t.Fatal(err)
		}
		names = append(names, cluster+"/"+name)
	}
	return names
}

func TestECSScalePlanThenRun(t *testing.T) {
	ctx := context.Background()
	app := uniq(t, "shop")
	cluster := uniq(t, "prod")
	names := seedServices(t, cluster, app, 2, 4, 3)
	seedServices(t, cluster, uniq(t, "other"), 2) // same cluster, other app
	inv := invocation(t, tasks.Selector{Type: "ecs:service", Tags: map[string]string{"app": app}}, tasks.Values{"desired": int64(4)})
	act := ecsAction(t, "ecs.scale")

	p, err := act.Plan(ctx, inv)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprint([]tasks.Change{
		{Resource: names[0], Action: "set desired 2 -> 4", Detail: "desired 2, running 2, pending 0"},
		{Resource: names[1], Action: "skip", Detail: "desired is already 4"},
		{Resource: names[2], Action: "set desired 3 -> 4", Detail: "desired 3, running 3, pending 0"},
	})
	if fmt.Sprint(p.Changes) != want || callsMentioning("ecs:UpdateService", app) != 0 {
		t.Fatalf("plan %v", p.Changes)
	}

	// The first update is throttled and retried; the second fails for good.
	emu.InjectFault("ecs:UpdateService", emulator.Fault{Status: 400, Code: "ThrottlingException", Message: "Rate exceeded"})
	r, err := act.Run(ctx, inv, nil)
	if err != nil {
		t.Fatal(err)
	}
	assertPlanMatchesRun(t, p, r)
	if r.Resources[0].Detail != "desired 4, running 2" || callsMentioning("ecs:UpdateService", names[0][len(cluster)+1:]) != 2 {
		t.Fatalf("throttled update: %+v", r.Resources[0])
	}
	if callsMentioning("ecs:UpdateService", names[1][len(cluster)+1:]) != 0 {
		t.Fatal("skipped service was updated")
	}
}

func TestECSPartialFailureAndForceDeployment(t *testing.T) {
	ctx := context.Background()
	app := uniq(t, "shop")
	cluster := uniq(t, "prod")
	names := seedServices(t, cluster, app, 1, 1)
	inv := invocation(t, tasks.Selector{Type: "ecs:service", Names: []string{app + "-*"}}, nil)
	act := ecsAction(t, "ecs.force-deployment")

	emu.InjectFault("ecs:UpdateService", emulator.Fault{Status: 400, Code: "InvalidParameterException", Message: "deployment in progress"})
	_, r := planAndRun(ctx, t, act, inv)
	if r.Resources[0].Status != tasks.StatusFailed || r.Resources[0].Detail != "UpdateService on "+r.Resources[0].Resource+": InvalidParameterException: deployment in progress (HTTP 400 Bad Request)" ||
		r.Resources[1].Status != tasks.StatusOK || !strings.Contains(r.Resources[1].Detail, "IN_PROGRESS") || r.Summary != "redeployed 1 of 2 services, 1 failed" {
		t.Fatalf("result %+v", r)
	}
	found := false
	for _, req := range emu.Requests("ecs:UpdateService") {
		if strings.Contains(string(req.Body), names[1][len(cluster)+1:]) && strings.Contains(string(req.Body), `"forceNewDeployment":true`) {
			found = true
		}
	}
	if !found {
		t.Fatal("no forceNewDeployment request")
	}

	d, err := ecsAction(t, "ecs.describe").Run(ctx, inv, nil)
	if err != nil || len(d.Resources) != 2 || !strings.Contains(d.Resources[1].Detail, "PRIMARY ecs-svc/") || !strings.Contains(d.Resources[1].Detail, "COMPLETED 1/1") {
		t.Fatalf("describe %v %+v", err, d.Resources)
	}
}

func TestECSSelectsByServiceARNWithoutListing(t *testing.T) {
	ctx := context.Background()
	app := uniq(t, "shop")
	cluster := uniq(t, "prod")
	seedServices(t, cluster, app, 1, 1)
	arn := "arn:aws:ecs:us-east-1:000000000000:service/" + cluster + "/" + app + "-svc1"
	before := len(emu.Requests("ecs:ListClusters"))
	r, err := ecsAction(t, "ecs.describe").Run(ctx, invocation(t, tasks.Selector{Type: "ecs:service", IDs: []string{arn}}, nil), nil)
	if err != nil || len(r.Resources) != 1 || r.Resources[0].Resource != cluster+"/"+app+"-svc1" {
		t.Fatalf("%v %+v", err, r)
	}
	if len(emu.Requests("ecs:ListClusters")) != before {
		t.Fatal("an ARN selector must not list clusters")
	}
}
