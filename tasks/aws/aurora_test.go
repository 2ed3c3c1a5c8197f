package aws

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/tasks"
	"github.com/day2bot/day2bot/tasks/emulator"
)

func auroraAction(t *testing.T, name string) tasks.Action {
	t.Helper()
	return findAction(t, AuroraActions(SDKAurora), name)
}

// seedCluster creates an Aurora cluster tagged app=<app> with a writer
// <id>-1 and readers <id>-2...
func seedCluster(t *testing.T, app, id string, readers int) {
	t.Helper()
	if err := emu.SeedDBCluster(context.Background(), emulator.DBCluster{ID: id, Readers: readers, Tags: map[string]string{"app": app}}); err != nil {
		t.Fatal(err)
	}
}

func clusterSel(app string) tasks.Selector {
	return tasks.Selector{Type: "rds:db-cluster", Tags: map[string]string{"app": app}}
}

func TestAuroraDescribeAndFailoverPlanThenRun(t *testing.T) {
	ctx := context.Background()
	app := uniq(t, "api")
	cl := app + "-db"
	seedCluster(t, app, cl, 2)
	seedCluster(t, uniq(t, "other"), app+"-foreign", 1) // same name prefix, not the app's

	_, r := planAndRun(ctx, t, auroraAction(t, "rds.describe-cluster"), invocation(t, clusterSel(app), nil))
	if len(r.Resources) != 1 || !strings.HasPrefix(r.Resources[0].Detail, "writer "+cl+"-1; readers "+cl+"-2, "+cl+"-3; endpoint "+cl+".cluster-") {
		t.Fatalf("describe %+v", r.Resources)
	}

	act := auroraAction(t, "rds.failover-cluster")
	inv := invocation(t, clusterSel(app), tasks.Values{"reader": cl + "-3"})
	p, err := act.Plan(ctx, inv)
	if err != nil {
		t.Fatal(err)
	}
	if w, n := emu.ClusterWriter(cl); w != cl+"-1" || n != 0 {
		t.Fatalf("plan failed over: writer %s after %d", w, n)
	}
	want := fmt.Sprint([]tasks.Change{{Resource: cl, Action: "fail over to " + cl + "-3", Detail: "writer " + cl + "-1 becomes a reader"}})
	if fmt.Sprint(p.Changes) != want || p.Summary != "fail over to "+cl+"-3 1 of 1 DB clusters" {
		t.Fatalf("plan %q %+v", p.Summary, p.Changes)
	}
	r, err = act.Run(ctx, inv, nil)
	if err != nil {
		t.Fatal(err)
	}
	assertPlanMatchesRun(t, p, r)
	if w, n := emu.ClusterWriter(cl); w != cl+"-3" || n != 1 || r.Resources[0].Detail != "status failing-over, "+cl+"-3 is being promoted" {
		t.Fatalf("writer %s after %d failovers; %+v", w, n, r.Resources)
	}
	// The old writer is a reader now; the new writer cannot be promoted again.
	p, err = act.Plan(ctx, inv)
	if err != nil || p.Changes[0].Action != "skip" || p.Changes[0].Detail != cl+"-3 is already the writer" {
		t.Fatalf("second plan %v %+v", err, p.Changes)
	}
	// An instance of another app's cluster is refused, and nothing fails over.
	_, err = act.Plan(ctx, invocation(t, clusterSel(app), tasks.Values{"reader": app + "-foreign-2"}))
	wantErr(t, err, errs.NotFound, `reader "`+app+`-foreign-2" is not a member of the app's clusters`)
	if _, n := emu.ClusterWriter(app + "-foreign"); n != 0 {
		t.Fatal("foreign cluster failed over")
	}
}

func TestAuroraAddReadersReportsPartialFailure(t *testing.T) {
	ctx := context.Background()
	app := uniq(t, "api")
	cl := app + "-db"
	seedCluster(t, app, cl, 1)
	act := auroraAction(t, "rds.add-reader")
	inv := invocation(t, clusterSel(app), tasks.Values{"count": int64(3)})
	p, err := act.Plan(ctx, inv)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Changes) != 3 || p.Changes[0].Resource != cl+"-r1125220000-1" || p.Changes[0].Detail != "db.r6g.large reader in "+cl || callsMentioning("rds:CreateDBInstance", cl+"-r") != 0 {
		t.Fatalf("plan %+v", p.Changes)
	}
	emu.InjectFault("rds:CreateDBInstance", emulator.Fault{Status: 400, Code: "InsufficientDBInstanceCapacity", Message: "no capacity for db.r6g.large"})
	r, err := act.Run(ctx, inv, nil)
	if err != nil {
		t.Fatal(err)
	}
	assertPlanMatchesRun(t, p, r)
	if r.Failed() != 1 || !strings.Contains(r.Resources[0].Detail, "InsufficientDBInstanceCapacity: no capacity for db.r6g.large") ||
		r.Resources[1].Status != tasks.StatusOK || r.Summary != "created 2 of 3 readers, 1 failed" {
		t.Fatalf("run %q %+v", r.Summary, r.Resources)
	}
	if !emu.DBInstanceExists(cl+"-r1125220000-2") || emu.DBInstanceExists(cl+"-r1125220000-1") {
		t.Fatal("readers in AWS do not match the result")
	}
	// 15 is AWS's limit: 3 readers + 13 is refused per cluster.
	p, err = act.Plan(ctx, invocation(t, clusterSel(app), tasks.Values{"count": int64(13)}))
	if err != nil || p.Changes[0].Action != "skip" || p.Changes[0].Detail != "3 readers + 13 would exceed AWS's limit of 15" {
		t.Fatalf("over the limit: %v %+v", err, p.Changes)
	}
}

func TestAuroraRemoveReaderRefusesTheWriter(t *testing.T) {
	ctx := context.Background()
	app := uniq(t, "api")
	cl := app + "-db"
	seedCluster(t, app, cl, 1)
	act := auroraAction(t, "rds.remove-reader")
	_, err := act.Plan(ctx, invocation(t, clusterSel(app), tasks.Values{"reader": cl + "-1"}))
	wantErr(t, err, errs.Conflict, cl+"-1 is the writer of "+cl+": fail over to a reader first")

	p, r := planAndRun(ctx, t, act, invocation(t, clusterSel(app), tasks.Values{"reader": cl + "-2"}))
	if !strings.Contains(p.Changes[0].Detail, "0 readers remain: a writer failure then means downtime") || r.Resources[0].Detail != "status deleting" {
		t.Fatalf("plan %+v run %+v", p.Changes, r.Resources)
	}
	if emu.DBInstanceExists(cl+"-2") || !emu.DBInstanceExists(cl+"-1") {
		t.Fatal("wrong instance deleted")
	}
}

func TestAuroraSnapshotListAndRestoreLeaveTheOriginal(t *testing.T) {
	ctx := context.Background()
	app := uniq(t, "api")
	cl := app + "-db"
	seedCluster(t, app, cl, 1)
	_, r := planAndRun(ctx, t, auroraAction(t, "rds.snapshot-cluster"), invocation(t, clusterSel(app), tasks.Values{"label": "pre-deploy"}))
	snap := cl + "-pre-deploy-20261125-220000"
	if r.Resources[0].Detail != "snapshot "+snap+" creating" {
		t.Fatalf("snapshot %+v", r.Resources)
	}
	_, r = planAndRun(ctx, t, auroraAction(t, "rds.list-cluster-snapshots"), invocation(t, clusterSel(app), nil))
	if !strings.HasPrefix(r.Resources[0].Detail, "1 snapshots, newest first: "+snap+" (manual available, ") {
		t.Fatalf("list %+v", r.Resources)
	}

	act := auroraAction(t, "rds.restore-cluster")
	restored := app + "-restored"
	inv := invocation(t, clusterSel(app), tasks.Values{"snapshot": snap, "new_id": restored})
	p, err := act.Plan(ctx, inv)
	if err != nil {
		t.Fatal(err)
	}
	if p.Changes[0].Resource != restored || p.Changes[0].Action != "restore from "+snap ||
		p.Changes[0].Detail != "new cluster from "+snap+" (aurora-postgresql 16.4) with a db.r6g.large writer; "+cl+" is left untouched" ||
		emu.Count("rds:RestoreDBClusterFromSnapshot") > 0 && callsMentioning("rds:RestoreDBClusterFromSnapshot", restored) != 0 {
		t.Fatalf("plan %+v", p.Changes)
	}
	r, err = act.Run(ctx, inv, nil)
	if err != nil {
		t.Fatal(err)
	}
	assertPlanMatchesRun(t, p, r)
	if w, _ := emu.ClusterWriter(restored); w != restored+"-1" {
		t.Fatalf("restored cluster writer %q; %+v", w, r.Resources)
	}
	if w, _ := emu.ClusterWriter(cl); w != cl+"-1" || !emu.DBInstanceExists(cl+"-2") {
		t.Fatal("the original cluster changed")
	}
	// The restored cluster is not the app's: a tag-bound task does not see it.
	_, r = planAndRun(ctx, t, auroraAction(t, "rds.describe-cluster"), invocation(t, clusterSel(app), nil))
	if len(r.Resources) != 1 {
		t.Fatalf("restored cluster joined the binding: %+v", r.Resources)
	}
	// Restoring again to the same name, or from another app's snapshot, is
	// refused before anything is written.
	_, err = act.Plan(ctx, inv)
	wantErr(t, err, errs.Conflict, "a cluster named "+restored+" already exists: choose another new_id")
	other := uniq(t, "other")
	seedCluster(t, other, other+"-db", 0)
	if err := emu.SeedDBClusterSnapshot(ctx, other+"-db", other+"-snap"); err != nil {
		t.Fatal(err)
	}
	_, err = act.Plan(ctx, invocation(t, clusterSel(app), tasks.Values{"snapshot": other + "-snap", "new_id": app + "-x"}))
	wantErr(t, err, errs.Permission, "snapshot "+other+"-snap is of cluster \""+other+"-db\", which is not one of the app's clusters")
	_, err = act.Plan(ctx, invocation(t, clusterSel(app), tasks.Values{"snapshot": app + "-nope", "new_id": app + "-x"}))
	wantErr(t, err, errs.NotFound, `there is no cluster snapshot "`+app+`-nope"`)
}

func TestRDSRestoreDBToANewInstance(t *testing.T) {
	ctx := context.Background()
	app := uniq(t, "shop")
	db := app + "-db"
	seedDBs(t, app, []string{db})
	if err := emu.SeedDBSnapshot(ctx, db, db+"-nightly"); err != nil {
		t.Fatal(err)
	}
	act := rdsAction(t, "rds.restore-db")
	sel := tasks.Selector{Type: "rds:db-instance", Tags: map[string]string{"app": app}}
	inv := invocation(t, sel, tasks.Values{"snapshot": db + "-nightly", "new_id": db + "-copy"})
	p, r := planAndRun(ctx, t, act, inv)
	if p.Changes[0].Detail != "new db.t3.micro instance from "+db+"-nightly; "+db+" is left untouched" ||
		r.Resources[0].Detail != "status creating; not bound to the app (tagged day2bot:restored-from)" {
		t.Fatalf("plan %+v run %+v", p.Changes, r.Resources)
	}
	if !emu.DBInstanceExists(db+"-copy") || !emu.DBInstanceExists(db) {
		t.Fatal("restore did not create the copy next to the original")
	}
	_, err := act.Plan(ctx, inv)
	wantErr(t, err, errs.Conflict, "a DB instance named "+db+"-copy already exists: choose another new_id")

	// A snapshot of a database outside the binding is refused.
	other := uniq(t, "other")
	seedDBs(t, other, []string{other + "-db"})
	if err := emu.SeedDBSnapshot(ctx, other+"-db", other+"-snap"); err != nil {
		t.Fatal(err)
	}
	before := emu.Count("rds:RestoreDBInstanceFromDBSnapshot")
	_, err = act.Run(ctx, invocation(t, sel, tasks.Values{"snapshot": other + "-snap", "new_id": app + "-x"}), nil)
	wantErr(t, err, errs.Permission, "snapshot "+other+"-snap is of instance \""+other+"-db\", which is not one of the app's databases")
	if emu.Count("rds:RestoreDBInstanceFromDBSnapshot") != before {
		t.Fatal("a refused restore reached AWS")
	}
}
