package aws

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/day2bot/day2bot/tasks"
	"github.com/day2bot/day2bot/tasks/emulator"
)

func ddbAction(t *testing.T, name string) tasks.Action {
	t.Helper()
	return findAction(t, DynamoDBActions(SDKDynamoDB), name)
}

func tableSel(app string) tasks.Selector {
	return tasks.Selector{Type: "dynamodb:table", Tags: map[string]string{"app": app}}
}

// ddbApp seeds a provisioned table with PITR on, an on-demand one with
// PITR off, and another app's table.
func ddbApp(t *testing.T) (app, orders, sessions, foreign string) {
	app = uniq(t, "store")
	orders, sessions, foreign = app+"-orders", app+"-sessions", app+"-foreign"
	emu.SeedDynamoTable(emulator.DynamoTable{Name: orders, Items: 12000, PITR: true, Tags: map[string]string{"app": app}})
	emu.SeedDynamoTable(emulator.DynamoTable{Name: sessions, OnDemand: true, Items: 10, Tags: map[string]string{"app": app}})
	emu.SeedDynamoTable(emulator.DynamoTable{Name: foreign, PITR: true, Tags: map[string]string{"app": "other"}})
	return
}

func TestDynamoDBDescribePITRAndBackup(t *testing.T) {
	ctx := context.Background()
	app, orders, sessions, foreign := ddbApp(t)

	act := ddbAction(t, "dynamodb.backup")
	inv := invocation(t, tableSel(app), tasks.Values{"label": "pre-deploy"})
	p, err := planOnlyReads(ctx, t, act, inv)
	if err != nil || p.Summary != "create an on-demand backup of 2 of 2 tables" || p.Changes[0].Detail != "backup "+orders+"-pre-deploy-20261125-2200" {
		t.Fatalf("plan %v %q %+v", err, p.Summary, p.Changes)
	}
	emu.InjectFault("dynamodb:CreateBackup", emulator.Fault{Status: 400, Code: "BackupInUseException", Message: "There is another ongoing conflicting backup control plane operation on the table"})
	r, err := act.Run(ctx, inv, nil)
	if err != nil {
		t.Fatal(err)
	}
	assertPlanMatchesRun(t, p, r)
	if _, n, _ := emu.DynamoTableState(sessions); r.Failed() != 1 || n != 1 || !strings.Contains(r.Resources[0].Detail, "BackupInUseException") {
		t.Fatalf("backup %+v", r.Resources)
	}

	if err := emu.SeedAlarm(ctx, emulator.Alarm{Name: app + "-dynamodb-throttles-high", Namespace: "AWS/DynamoDB", Metric: "ReadThrottleEvents",
		Dimensions: map[string]string{"TableName": orders}, State: "ALARM"}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	_, r = planAndRun(ctx, t, ddbAction(t, "dynamodb.describe"), tasks.Invocation{AWS: testConfig(t), Target: tableSel(app), Now: now})
	if d := r.Resources[0].Detail; !strings.HasPrefix(d, "5 RCU / 5 WCU; 12000 items, 2.3 MiB; PITR on (restorable ") || !strings.HasSuffix(d, "; no on-demand backups; alarms "+app+"-dynamodb-throttles-high (ALARM)") {
		t.Fatalf("describe orders %q", d)
	}
	if d := r.Resources[1].Detail; !strings.HasPrefix(d, "on-demand; 10 items, 2.0 KiB; PITR off; 1 on-demand backups (latest "+sessions+"-pre-deploy-20261125-2200, ") ||
		!strings.HasSuffix(d, "; no alarms") {
		t.Fatalf("describe sessions %q", d)
	}

	_, r = planAndRun(ctx, t, ddbAction(t, "dynamodb.enable-pitr"), invocation(t, tableSel(app), nil))
	if tb, _, _ := emu.DynamoTableState(sessions); !tb.PITR || r.Summary != "enabled point-in-time recovery of 1 of 2 tables, 1 skipped" {
		t.Fatalf("pitr %s", r.Summary)
	}

	// Another app's table named by id, with the binding's tags, is not the app's.
	sel := tableSel(app)
	sel.IDs = []string{foreign}
	p, err = ddbAction(t, "dynamodb.set-capacity").Plan(ctx, invocation(t, sel, tasks.Values{"read": int64(50), "write": int64(50)}))
	if err != nil || len(p.Changes) != 0 {
		t.Fatalf("foreign table planned: %v %+v", err, p.Changes)
	}
}

func TestDynamoDBSetCapacityAndRestore(t *testing.T) {
	ctx := context.Background()
	app, orders, _, foreign := ddbApp(t)
	_, r := planAndRun(ctx, t, ddbAction(t, "dynamodb.set-capacity"), invocation(t, tableSel(app), tasks.Values{"read": int64(10), "write": int64(20)}))
	if tb, _, _ := emu.DynamoTableState(orders); tb.Read != 10 || tb.Write != 20 || r.Resources[0].Detail != "5 RCU / 5 WCU -> 10 RCU / 20 WCU (the table is UPDATING)" ||
		r.Resources[1].Detail != "on-demand (PAY_PER_REQUEST): capacity follows traffic" {
		t.Fatalf("capacity %+v", r.Resources)
	}

	restore := ddbAction(t, "dynamodb.restore-pitr")
	now := time.Now().Truncate(time.Second)
	inv := tasks.Invocation{AWS: testConfig(t), Target: tableSel(app), Now: now, Values: tasks.Values{"table": orders, "new_table": orders + "-restored", "ago": time.Hour}}
	if _, err := planOnlyReads(ctx, t, restore, inv); err != nil {
		t.Fatal(err)
	}
	p, r := planAndRun(ctx, t, restore, inv)
	if _, _, ok := emu.DynamoTableState(orders + "-restored"); !ok || p.Summary != "restore "+orders+" to "+orders+"-restored 1 of 1 tables" {
		t.Fatalf("restore %q %+v", p.Summary, r.Resources)
	}
	if at := emu.DynamoRestoredAt(orders + "-restored"); !at.Equal(now.Add(-time.Hour)) {
		t.Fatalf("restored to %s, want %s", at, now.Add(-time.Hour))
	}
	if tb, _, _ := emu.DynamoTableState(orders + "-restored"); tb.Tags["app"] != app || tb.RestoredFrom != orders {
		t.Fatalf("restored table %+v", tb)
	}
	for _, tc := range []struct {
		vals tasks.Values
		want string
	}{
		{tasks.Values{"table": foreign, "new_table": "x-new"}, "is not one of the app's tables"},
		{tasks.Values{"table": orders, "new_table": orders + "-restored"}, "already exists"},
		{tasks.Values{"table": orders, "new_table": "x-new", "ago": 30 * 24 * time.Hour}, "outside"},
	} {
		inv.Values = tc.vals
		if _, err := restore.Plan(ctx, inv); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v", tc.vals, err)
		}
	}
}
