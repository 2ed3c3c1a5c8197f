package aws

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/tasks"
	"github.com/day2bot/day2bot/tasks/emulator"
)

func rdsAction(t *testing.T, name string) tasks.Action {
	t.Helper()
	return findAction(t, RDSActions(SDKRDS), name)
}

// seedDBs creates instances tagged app=<app>; stopped ones are listed.
func seedDBs(t *testing.T, app string, ids []string, stopped ...string) {
	t.Helper()
	for _, id := range ids {
		st := ""
		for _, s := range stopped {
			if s == id {
				st = "stopped"
			}
		}
		if err := emu.SeedDBInstance(context.Background(), emulator.DBInstance{ID: id, Status: st, Tags: map[string]string{"app": app}}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRDSRebootPlanThenRun(t *testing.T) {
	ctx := context.Background()
	app := uniq(t, "shop")
	a, b, c := app+"-a", app+"-b", app+"-c"
	seedDBs(t, app, []string{a, b, c}, c)
	inv := invocation(t, tasks.Selector{Type: "rds:db-instance", Tags: map[string]string{"app": app}}, tasks.Values{"failover": false})
	act := rdsAction(t, "rds.reboot")

	p, err := act.Plan(ctx, inv)
	if err != nil {
		t.Fatal(err)
	}
	if n := callsMentioning("rds:RebootDBInstance", app); n != 0 {
		t.Fatalf("plan wrote: %d reboots", n)
	}
	want := []tasks.Change{
		{Resource: a, Action: "reboot", Detail: "available, db.t3.micro postgres 16.3, 20 GiB"},
		{Resource: b, Action: "reboot", Detail: "available, db.t3.micro postgres 16.3, 20 GiB"},
		{Resource: c, Action: "skip", Detail: "status is stopped; only available instances can be rebooted"},
	}
	if fmt.Sprint(p.Changes) != fmt.Sprint(want) || p.Summary != "reboot 2 of 3 DB instances" {
		t.Fatalf("plan = %q %+v", p.Summary, p.Changes)
	}

	var progress []tasks.Progress
	r, err := act.Run(ctx, inv, func(p tasks.Progress) { progress = append(progress, p) })
	if err != nil {
		t.Fatal(err)
	}
	assertPlanMatchesRun(t, p, r)
	if callsMentioning("rds:RebootDBInstance", a) != 1 || callsMentioning("rds:RebootDBInstance", b) != 1 || callsMentioning("rds:RebootDBInstance", c) != 0 {
		t.Fatal("reboot calls do not match the plan")
	}
	if r.Resources[0].Detail != "status rebooting" || r.Summary != "rebooted 2 of 3 DB instances, 1 skipped" || len(progress) != 3 || progress[2].Done != 3 {
		t.Fatalf("result %+v progress %+v", r, progress)
	}
	for _, req := range emu.Requests("rds:RebootDBInstance") {
		if bytes.Contains(req.Body, []byte(a)) && !bytes.Contains(req.Body, []byte("ForceFailover=false")) {
			t.Fatalf("reboot body %s", req.Body)
		}
	}
}

func TestRDSRebootRetriesThrottlingAndReportsPartialFailure(t *testing.T) {
	ctx := context.Background()
	app := uniq(t, "shop")
	ids := []string{app + "-a", app + "-b", app + "-c"}
	seedDBs(t, app, ids)
	inv := invocation(t, tasks.Selector{Type: "rds:db-instance", Tags: map[string]string{"app": app}}, nil)

	// a's reboot fails for good; b's first attempt is throttled and the SDK
	// retries it; c goes straight through.
	emu.InjectFault("rds:RebootDBInstance", emulator.Fault{Status: 400, Code: "InvalidDBInstanceState", Message: "busy modifying"})
	emu.InjectFault("rds:RebootDBInstance", emulator.Fault{Status: 400, Code: "Throttling", Message: "Rate exceeded"})
	r, err := rdsAction(t, "rds.reboot").Run(ctx, inv, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(r.Resources)
	want := fmt.Sprint([]tasks.ResourceResult{
		{Resource: ids[0], Status: tasks.StatusFailed, Detail: "RebootDBInstance on " + ids[0] + ": InvalidDBInstanceState: busy modifying (HTTP 400 Bad Request)"},
		{Resource: ids[1], Status: tasks.StatusOK, Detail: "status rebooting"},
		{Resource: ids[2], Status: tasks.StatusOK, Detail: "status rebooting"},
	})
	if got != want || r.Failed() != 1 || r.Summary != "rebooted 2 of 3 DB instances, 1 failed" {
		t.Fatalf("got %s %q\nwant %s", got, r.Summary, want)
	}
	if n := callsMentioning("rds:RebootDBInstance", ids[1]); n != 2 {
		t.Fatalf("throttled reboot sent %d times, want 2", n)
	}
}

func TestRDSAccessDeniedNamesDeclaredPermission(t *testing.T) {
	app := uniq(t, "shop")
	seedDBs(t, app, []string{app + "-a"})
	inv := invocation(t, tasks.Selector{Type: "rds:db-instance", IDs: []string{app + "-a"}}, nil)
	emu.InjectFault("rds:DescribeDBInstances", emulator.Fault{Status: 403, Code: "AccessDenied", Message: "not authorized"})
	_, err := rdsAction(t, "rds.stop").Plan(context.Background(), inv)
	wantErr(t, err, errs.Permission, `AWS denied DescribeDBInstances: the app's IAM role needs permission "rds:DescribeDBInstances"`)
	if a := errs.IAMActionOf(err); a != "rds:DescribeDBInstances" {
		t.Fatalf("IAM action %q", a)
	}
}

func TestRDSStartStopSnapshotPlanThenRun(t *testing.T) {
	ctx := context.Background()
	app := uniq(t, "shop")
	up, down := app+"-up", app+"-down"
	seedDBs(t, app, []string{up, down}, down)
	sel := tasks.Selector{Type: "rds:db-instance", IDs: []string{up, down}}

	for _, tc := range []struct {
		action     string
		values     tasks.Values
		acted      string
		op, detail string
	}{
		{"rds.stop", nil, up, "rds:StopDBInstance", "status stopping (AWS starts it again after 7 days)"},
		{"rds.start", nil, up, "rds:StartDBInstance", "status starting"}, // up is stopped now
		{"rds.snapshot", tasks.Values{"label": "pre--deploy-"}, "", "rds:CreateDBSnapshot", ""},
	} {
		inv := invocation(t, sel, tc.values)
		act := rdsAction(t, tc.action)
		_, r := planAndRun(ctx, t, act, inv)
		if tc.acted != "" {
			if callsMentioning(tc.op, tc.acted) != 1 || r.Resources[0].Detail != tc.detail && r.Resources[1].Detail != tc.detail {
				t.Fatalf("%s: %+v", tc.action, r.Resources)
			}
		}
	}
	// Both instances are snapshotted (state does not matter), with a valid
	// identifier from the label and the invocation's clock.
	wantID := down + "-pre-deploy-20261125-220000"
	if callsMentioning("rds:CreateDBSnapshot", wantID) != 1 {
		t.Fatalf("no snapshot %s", wantID)
	}
	// The id-only selector went to AWS as a filter.
	reqs := emu.Requests("rds:DescribeDBInstances")
	last := string(reqs[len(reqs)-1].Body)
	if !strings.Contains(last, "Filters.Filter.1.Name=db-instance-id") {
		t.Fatalf("describe body %s", last)
	}
}

func TestRDSListSnapshotsReadsOnlyWhatTheLimitNeeds(t *testing.T) {
	ctx := context.Background()
	app := uniq(t, "shop")
	db := app + "-db"
	seedDBs(t, app, []string{db})
	for i := range 130 {
		if err := emu.SeedDBSnapshot(ctx, db, fmt.Sprintf("%s-s%03d", db, i)); err != nil {
			t.Fatal(err)
		}
	}
	act := rdsAction(t, "rds.list-snapshots")
	sel := tasks.Selector{Type: "rds:db-instance", Names: []string{app + "-*"}}

	before := callsMentioning("rds:DescribeDBSnapshots", db)
	r, err := act.Run(ctx, invocation(t, sel, tasks.Values{"limit": int64(110)}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Resources) != 110 || r.Summary != "110 snapshots of 1 DB instances" {
		t.Fatalf("got %d: %s", len(r.Resources), r.Summary)
	}
	var calls []string
	for _, req := range emu.Requests("rds:DescribeDBSnapshots") {
		if bytes.Contains(req.Body, []byte(db)) {
			calls = append(calls, string(req.Body))
		}
	}
	calls = calls[before:]
	if len(calls) != 2 || !strings.Contains(calls[0], "MaxRecords=100") || !strings.Contains(calls[1], "MaxRecords=20") || !strings.Contains(calls[1], "Marker=") {
		t.Fatalf("pages: %q", calls)
	}

	r, err = act.Run(ctx, invocation(t, sel, tasks.Values{"limit": int64(20)}), nil)
	if err != nil || len(r.Resources) != 20 || callsMentioning("rds:DescribeDBSnapshots", db) != before+3 {
		t.Fatalf("limit 20: %v %d", err, len(r.Resources))
	}
	if _, err := act.Plan(ctx, invocation(t, tasks.Selector{Type: "rds:db-instance"}, nil)); err == nil || !strings.Contains(err.Error(), "selects nothing") {
		t.Fatalf("empty selector: %v", err)
	}
}

func TestRDSAccessDeniedMidRunStopsTheRest(t *testing.T) {
	ctx := context.Background()
	app := uniq(t, "shop")
	ids := []string{app + "-a", app + "-b", app + "-c"}
	seedDBs(t, app, ids)
	emu.InjectFault("rds:RebootDBInstance", emulator.Fault{Status: 403, Code: "AccessDenied", Message: "not authorized"})
	r, err := rdsAction(t, "rds.reboot").Run(ctx, invocation(t, tasks.Selector{Type: "rds:db-instance", Tags: map[string]string{"app": app}}, nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := `AWS denied RebootDBInstance: the app's IAM role needs permission "rds:RebootDBInstance"`
	if r.Failed() != 3 || r.Resources[0].Detail != want || r.Resources[2].Detail != "not attempted: "+want {
		t.Fatalf("%+v", r.Resources)
	}
	if n := callsMentioning("rds:RebootDBInstance", app); n != 1 {
		t.Fatalf("%d reboot calls after a denial, want 1", n)
	}
}

func TestFamiliesDeclareTheirTargetType(t *testing.T) {
	want := map[string]string{"rds.": "rds:db-instance", "ecs.": "ecs:service", "s3.": "s3:bucket", "cloudwatch.": "cloudwatch:alarm"}
	var all []tasks.Action
	all = append(all, RDSActions(SDKRDS)...)
	all = append(all, ECSActions(SDKECS)...)
	all = append(all, S3Actions(SDKS3)...)
	all = append(all, CloudWatchActions(SDKCloudWatch)...)
	for _, a := range all {
		tt, ok := a.(interface{ TargetType() string })
		prefix := a.Name()[:strings.Index(a.Name(), ".")+1]
		if !ok || tt.TargetType() != want[prefix] {
			t.Errorf("%s: target type %v", a.Name(), tt)
		}
		if len(a.IAMActions()) == 0 {
			t.Errorf("%s declares no IAM actions", a.Name())
		}
	}
	if _, err := tasks.NewRegistry(all...); err != nil {
		t.Fatal(err)
	}
}

func TestRDSRebootWithFailoverOnlyMultiAZ(t *testing.T) {
	ctx := context.Background()
	app := uniq(t, "shop")
	multi, single := app+"-multi", app+"-single"
	for _, in := range []emulator.DBInstance{{ID: multi, MultiAZ: true}, {ID: single}} {
		in.Tags = map[string]string{"app": app}
		if err := emu.SeedDBInstance(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	inv := invocation(t, tasks.Selector{Type: "rds:db-instance", Tags: map[string]string{"app": app}}, tasks.Values{"failover": true})
	p, err := rdsAction(t, "rds.reboot").Plan(ctx, inv)
	if err != nil {
		t.Fatal(err)
	}
	if p.Changes[0].Action != "reboot with failover" || p.Changes[0].Detail != "available, db.t3.micro postgres 16.3, 20 GiB, Multi-AZ" ||
		p.Changes[1].Action != "skip" || p.Changes[1].Detail != "not Multi-AZ: there is no standby to fail over to" {
		t.Fatalf("plan %+v", p.Changes)
	}
	r, err := rdsAction(t, "rds.reboot").Run(ctx, inv, nil)
	if err != nil {
		t.Fatal(err)
	}
	assertPlanMatchesRun(t, p, r)
	for _, req := range emu.Requests("rds:RebootDBInstance") {
		if bytes.Contains(req.Body, []byte(multi)) && !bytes.Contains(req.Body, []byte("ForceFailover=true")) {
			t.Fatalf("failover not requested: %s", req.Body)
		}
	}
}
