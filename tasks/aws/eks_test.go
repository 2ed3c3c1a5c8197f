package aws

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/day2bot/day2bot/internal/clocktest"
	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/tasks"
	"github.com/day2bot/day2bot/tasks/emulator"
)

func eksAction(t *testing.T, clk *clocktest.Clock, name string) tasks.Action {
	t.Helper()
	return findAction(t, EKSActions(SDKEKS, fakePace(clk)), name)
}

// seedEKS creates a Kubernetes 1.30 cluster tagged app with node groups
// ng-a (1.29, 1/4/2) and ng-b (1.30, 2/6/3) of the app and ng-x of
// another app, and the add-ons coredns and vpc-cni.
func seedEKS(t *testing.T, app string) string {
	t.Helper()
	cluster := uniq(t, "k8s")
	tags := map[string]string{"app": app}
	err := emu.SeedEKSCluster(context.Background(), emulator.EKSCluster{Name: cluster, Version: "1.30", Tags: tags,
		Nodegroups: []emulator.EKSNodegroup{
			{Name: "ng-a", Version: "1.29", Min: 1, Max: 4, Desired: 2, Tags: tags},
			{Name: "ng-b", Min: 2, Max: 6, Desired: 3, Tags: tags},
			{Name: "ng-x", Version: "1.29", Min: 1, Max: 2, Desired: 1, Tags: map[string]string{"app": "someone-else"}},
		},
		Addons: map[string]string{"coredns": "v1.11.1-eksbuild.9", "vpc-cni": "v1.18.3-eksbuild.1"}})
	if err != nil {
		t.Fatal(err)
	}
	return cluster
}

func ngSel(app string) tasks.Selector {
	return tasks.Selector{Type: "eks:nodegroup", Tags: map[string]string{"app": app}}
}

func TestEKSDescribeClusterNodegroupsAndAddons(t *testing.T) {
	ctx := context.Background()
	clk := clocktest.New(testNow)
	app := uniq(t, "kube")
	cluster := seedEKS(t, app)
	seedEKS(t, uniq(t, "other"))
	emu.SetNodegroupIssues(cluster, "ng-a", emulator.EKSIssue{Code: "Ec2LaunchTemplateVersionMismatch", Message: "launch template version differs", ResourceIDs: []string{"lt-1"}})
	emu.SetAddonIssues(cluster, "vpc-cni", emulator.EKSIssue{Code: "InsufficientNumberOfReplicas", Message: "not enough replicas"})

	_, r := planAndRun(ctx, t, eksAction(t, clk, "eks.describe-cluster"), invocation(t, tasks.Selector{Type: "eks:cluster", Tags: map[string]string{"app": app}}, nil))
	want := "ACTIVE, Kubernetes 1.30 (platform eks.8); node groups (version min/max/desired): ng-a 1.29 1/4/2 ACTIVE (1 health issues), ng-b 1.30 2/6/3 ACTIVE, ng-x 1.29 1/2/1 ACTIVE; health: no issues"
	if len(r.Resources) != 1 || r.Resources[0].Resource != cluster || r.Resources[0].Detail != want {
		t.Fatalf("describe-cluster %+v\nwant %s", r.Resources, want)
	}
	_, r = planAndRun(ctx, t, eksAction(t, clk, "eks.list-addons"), invocation(t, tasks.Selector{Type: "eks:cluster", Names: []string{cluster}, Tags: map[string]string{"app": app}}, nil))
	if r.Resources[0].Detail != "coredns v1.11.1-eksbuild.9 ACTIVE, vpc-cni v1.18.3-eksbuild.1 DEGRADED (InsufficientNumberOfReplicas: not enough replicas)" {
		t.Fatalf("add-ons %+v", r.Resources)
	}
	_, r = planAndRun(ctx, t, eksAction(t, clk, "eks.describe-nodegroups"), invocation(t, ngSel(app), nil))
	if len(r.Resources) != 2 || r.Resources[0].Resource != cluster+"/ng-a" ||
		r.Resources[0].Detail != "ACTIVE; Kubernetes 1.29 (cluster 1.30: update-nodegroup-version brings it level); release 1.29.0-emulator; min/max/desired 1/4/2; t3.medium ON_DEMAND; health: Ec2LaunchTemplateVersionMismatch: launch template version differs (lt-1)" ||
		!strings.HasSuffix(r.Resources[1].Detail, "health: no issues") {
		t.Fatalf("node groups %+v", r.Resources)
	}
}

// The update brings ng-a to the cluster's version and follows its update
// id until it succeeds (two reads in progress); ng-b is level already and
// another app's ng-x is never touched.
func TestEKSUpdateNodegroupVersionFollowsTheUpdate(t *testing.T) {
	ctx := context.Background()
	clk := clocktest.New(testNow)
	app := uniq(t, "kube")
	cluster := seedEKS(t, app)
	emu.SetEKSUpdateReads(cluster, "ng-a", 2, false)
	act := eksAction(t, clk, "eks.update-nodegroup-version")
	inv := invocation(t, ngSel(app), nil)
	before := emu.Count("eks:UpdateNodegroupVersion")
	p, err := act.Plan(ctx, inv)
	if err != nil {
		t.Fatal(err)
	}
	if p.Summary != "update to the cluster's version 1 of 2 node groups" || p.Changes[0].Action != "update Kubernetes 1.29 -> 1.30 (rolling, at most 1 nodes unavailable at a time)" ||
		p.Changes[1].Detail != "already at the cluster's version 1.30" || emu.Count("eks:UpdateNodegroupVersion") != before {
		t.Fatalf("plan %q %+v", p.Summary, p.Changes)
	}
	var prog progressLog
	r, err := act.Run(ctx, inv, prog.add)
	if err != nil {
		t.Fatal(err)
	}
	assertPlanMatchesRun(t, p, r)
	if v, _, _, _ := emu.EKSNodegroupState(cluster, "ng-a"); v != "1.30" || !strings.HasPrefix(r.Resources[0].Detail, "Kubernetes 1.29 -> 1.30 (update ") {
		t.Fatalf("version %s, result %+v", v, r.Resources)
	}
	if !strings.Contains(prog.String(), cluster+"/ng-a: update ") || !strings.Contains(prog.String(), " InProgress") {
		t.Fatalf("progress does not follow the update:\n%s", prog.String())
	}
	if got := clk.Now().Sub(testNow); got != 30*time.Second {
		t.Fatalf("waited %s, want 30s", got)
	}
	if v, _, _, _ := emu.EKSNodegroupState(cluster, "ng-x"); v != "1.29" {
		t.Fatalf("another app's node group updated to %s", v)
	}
}

// A refused call, a failed update and one still running after the wait
// each fail their node group only.
func TestEKSUpdateNodegroupVersionPartialFailure(t *testing.T) {
	ctx := context.Background()
	clk := clocktest.New(testNow)
	app := uniq(t, "kube")
	cluster := uniq(t, "k8s")
	tags := map[string]string{"app": app}
	var ngs []emulator.EKSNodegroup
	for _, n := range []string{"ng-1", "ng-2", "ng-3", "ng-4"} {
		ngs = append(ngs, emulator.EKSNodegroup{Name: n, Version: "1.29", Min: 1, Max: 2, Desired: 1, Tags: tags})
	}
	if err := emu.SeedEKSCluster(ctx, emulator.EKSCluster{Name: cluster, Version: "1.30", Tags: tags, Nodegroups: ngs}); err != nil {
		t.Fatal(err)
	}
	emu.SetEKSUpdateReads(cluster, "ng-3", 0, true)
	emu.SetEKSUpdateReads(cluster, "ng-4", 1000, false)
	emu.InjectFault("eks:UpdateNodegroupVersion", emulator.Fault{Status: 400, Code: "InvalidRequestException", Message: "Node group has a pending change"})
	_, r := planAndRun(ctx, t, eksAction(t, clk, "eks.update-nodegroup-version"), invocation(t, ngSel(app), tasks.Values{"wait": time.Minute}))
	if r.Summary != "updated 1 of 4 node groups, 3 failed" {
		t.Fatalf("summary %q %+v", r.Summary, r.Resources)
	}
	for i, want := range []string{"InvalidRequestException: Node group has a pending change", "Successful", "Failed: NodeCreationFailure: Instances failed to join the kubernetes cluster",
		"is still in progress after 1m; AWS carries on with it"} {
		if !strings.Contains(r.Resources[i].Detail, want) {
			t.Errorf("%s: %q lacks %q", r.Resources[i].Resource, r.Resources[i].Detail, want)
		}
	}
}

// Sizes are checked against each other first; the update is followed to
// its end; a node group of another app in the same cluster is not planned.
func TestEKSScaleNodegroup(t *testing.T) {
	ctx := context.Background()
	clk := clocktest.New(testNow)
	app := uniq(t, "kube")
	cluster := seedEKS(t, app)
	act := eksAction(t, clk, "eks.scale-nodegroup")
	_, err := act.Plan(ctx, invocation(t, ngSel(app), tasks.Values{"min": int64(2), "max": int64(3), "desired": int64(5)}))
	wantErr(t, err, errs.Invalid, "desired 5 must be between min 2 and max 3")
	sel := tasks.Selector{Type: "eks:nodegroup", Names: []string{"ng-a", "ng-x"}, Tags: map[string]string{"app": app}}
	p, r := planAndRun(ctx, t, act, invocation(t, sel, tasks.Values{"min": int64(2), "max": int64(6), "desired": int64(3)}))
	if len(p.Changes) != 1 || p.Changes[0].Action != "set min/max/desired 1/4/2 -> 2/6/3" || !strings.HasPrefix(r.Resources[0].Detail, "min/max/desired 1/4/2 -> 2/6/3 (update ") {
		t.Fatalf("plan %+v, run %+v", p.Changes, r.Resources)
	}
	if _, lo, hi, d := emu.EKSNodegroupState(cluster, "ng-a"); lo != 2 || hi != 6 || d != 3 {
		t.Fatalf("ng-a %d/%d/%d", lo, hi, d)
	}
	if _, lo, hi, d := emu.EKSNodegroupState(cluster, "ng-x"); lo != 1 || hi != 2 || d != 1 {
		t.Fatalf("another app's ng-x changed: %d/%d/%d", lo, hi, d)
	}
}
