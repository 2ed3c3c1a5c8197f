package aws

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/day2bot/day2bot/internal/clocktest"
	"github.com/day2bot/day2bot/tasks"
	"github.com/day2bot/day2bot/tasks/emulator"
)

func kinesisAction(t *testing.T, clk *clocktest.Clock, name string) tasks.Action {
	t.Helper()
	return findAction(t, KinesisActionsWith(SDKKinesis, fakePace(clk)), name)
}

func seedStream(t *testing.T, k emulator.KinesisStream) {
	t.Helper()
	if err := emu.SeedKinesisStream(context.Background(), k); err != nil {
		t.Fatal(err)
	}
}

func streamSel(app string) tasks.Selector {
	return tasks.Selector{Type: "kinesis:stream", Tags: map[string]string{"app": app}}
}

func TestKinesisDescribeShowsShardsConsumersAndIteratorAge(t *testing.T) {
	ctx := context.Background()
	app := uniq(t, "clicks")
	seedStream(t, emulator.KinesisStream{Name: app + "-events", Shards: 4, Retention: 48, Consumers: []string{"billing", "search"}, Tags: map[string]string{"app": app}})
	seedStream(t, emulator.KinesisStream{Name: app + "-audit", OnDemand: true, Tags: map[string]string{"app": app}})
	seedStream(t, emulator.KinesisStream{Name: app + "-foreign", Shards: 1, Tags: map[string]string{"app": "other"}})
	if err := emu.SetMetric(ctx, "AWS/Kinesis", "GetRecords.IteratorAgeMilliseconds", map[string]string{"StreamName": app + "-events"}, 1500); err != nil {
		t.Fatal(err)
	}
	_, r := planAndRun(ctx, t, kinesisAction(t, clocktest.New(testNow), "kinesis.describe"), invocation(t, streamSel(app), nil))
	if len(r.Resources) != 2 || r.Resources[0].Resource != app+"-audit" ||
		!strings.HasPrefix(r.Resources[0].Detail, "ACTIVE, on-demand, 4 open shards, retention 24h; no enhanced fan-out consumers; iterator age (max, 15m) ") {
		t.Fatalf("describe %+v", r.Resources)
	}
	if want := "ACTIVE, provisioned, 4 open shards, retention 2d; consumers billing, search; iterator age (max, 15m) 1.5s"; r.Resources[1].Detail != want {
		t.Fatalf("events: %s\nwant    %s", r.Resources[1].Detail, want)
	}
}

// The plan applies AWS's one-step limits and skips on-demand streams; the
// run reshards and waits (settle, then reads) until the stream is ACTIVE
// with the new count; another app's stream is never touched.
func TestKinesisReshardWaitsUntilActive(t *testing.T) {
	ctx := context.Background()
	clk := clocktest.New(testNow)
	app := uniq(t, "clicks")
	events, small, demand := app+"-events", app+"-small", app+"-ondemand"
	seedStream(t, emulator.KinesisStream{Name: events, Shards: 4, Tags: map[string]string{"app": app}})
	seedStream(t, emulator.KinesisStream{Name: small, Shards: 2, Tags: map[string]string{"app": app}})
	seedStream(t, emulator.KinesisStream{Name: demand, OnDemand: true, Tags: map[string]string{"app": app}})
	foreign := uniq(t, "other")
	seedStream(t, emulator.KinesisStream{Name: foreign, Shards: 4, Tags: map[string]string{"app": foreign}})
	emu.SetKinesisUpdateReads(2)
	t.Cleanup(func() { emu.SetKinesisUpdateReads(1) })

	act := kinesisAction(t, clk, "kinesis.set-shards")
	inv := invocation(t, streamSel(app), tasks.Values{"shards": int64(8)})
	p, err := planOnlyReads(ctx, t, act, inv)
	if err != nil {
		t.Fatal(err)
	}
	want := []tasks.Change{
		{Resource: events, Action: "reshard 4 -> 8 open shards", Detail: "ACTIVE, provisioned, 4 open shards, retention 24h"},
		{Resource: demand, Action: "skip", Detail: "on-demand: AWS sets its shards"},
		{Resource: small, Action: "skip", Detail: "AWS changes 2 shards to between 1 and 4 in one step"},
	}
	if len(p.Changes) != 3 || p.Changes[0] != want[0] || p.Changes[1] != want[1] || p.Changes[2] != want[2] {
		t.Fatalf("plan %+v", p.Changes)
	}
	if st, n, _ := emu.KinesisStreamState(events); st != "ACTIVE" || n != 4 {
		t.Fatalf("plan changed the stream: %s %d", st, n)
	}
	var shown []string
	r, err := act.Run(ctx, inv, func(pr tasks.Progress) { shown = append(shown, pr.Message) })
	if err != nil {
		t.Fatal(err)
	}
	assertPlanMatchesRun(t, p, r)
	if want := events + ": UPDATING, 4 open shards (resharding to 8)"; len(shown) < 2 || shown[0] != want || shown[1] != want {
		t.Fatalf("progress %q", shown)
	}
	if r.Resources[0].Detail != "4 -> 8 open shards, ACTIVE" || r.Summary != "resharded 1 of 3 streams, 2 skipped" {
		t.Fatalf("run %q %+v", r.Summary, r.Resources)
	}
	// Settle 10s, then reads at 10s and 20s (UPDATING), 30s (ACTIVE).
	if got := clk.Now().Sub(testNow); got != 30*time.Second {
		t.Fatalf("waited %s", got)
	}
	if st, n, _ := emu.KinesisStreamState(foreign); st != "ACTIVE" || n != 4 {
		t.Fatalf("foreign stream touched: %s %d", st, n)
	}
	// Binding: the foreign stream named by id while the binding requires
	// the app's tag selects nothing.
	sel := tasks.Selector{Type: "kinesis:stream", IDs: []string{foreign}, Tags: map[string]string{"app": app}}
	if p, err := act.Plan(ctx, invocation(t, sel, tasks.Values{"shards": int64(8)})); err != nil || p.Summary != "no streams match the target" {
		t.Fatalf("foreign by id: %v %q", err, p.Summary)
	}
}

// A stream that stays UPDATING past the wait fails with what it was
// doing; AWS's refusal of one stream fails that stream only.
func TestKinesisReshardTimeoutAndPartialFailure(t *testing.T) {
	ctx := context.Background()
	clk := clocktest.New(testNow)
	app := uniq(t, "clicks")
	a, b := app+"-a", app+"-b"
	seedStream(t, emulator.KinesisStream{Name: a, Shards: 2, Tags: map[string]string{"app": app}})
	seedStream(t, emulator.KinesisStream{Name: b, Shards: 2, Tags: map[string]string{"app": app}})
	emu.SetKinesisUpdateReads(1000)
	t.Cleanup(func() { emu.SetKinesisUpdateReads(1) })
	emu.InjectFault("kinesis:UpdateShardCount", emulator.Fault{Status: 400, Code: "ResourceInUseException", Message: "Stream is being updated by another request"})

	act := kinesisAction(t, clk, "kinesis.set-shards")
	inv := invocation(t, streamSel(app), tasks.Values{"shards": int64(3), "wait": 2 * time.Minute})
	_, r := planAndRun(ctx, t, act, inv)
	if r.Failed() != 2 || !strings.Contains(r.Resources[0].Detail, "ResourceInUseException") ||
		r.Resources[1].Detail != "resharding to 3 was accepted, but the stream was not ACTIVE with it within 2m ("+b+": UPDATING, 2 open shards); AWS goes on with it" {
		t.Fatalf("run %+v", r.Resources)
	}
	if st, _, _ := emu.KinesisStreamState(a); st != "ACTIVE" {
		t.Fatalf("refused stream is %s", st)
	}
}

func TestKinesisSetRetention(t *testing.T) {
	ctx := context.Background()
	app := uniq(t, "clicks")
	seedStream(t, emulator.KinesisStream{Name: app + "-a", Shards: 1, Tags: map[string]string{"app": app}})
	seedStream(t, emulator.KinesisStream{Name: app + "-b", Shards: 1, Retention: 168, Tags: map[string]string{"app": app}})
	act := kinesisAction(t, clocktest.New(testNow), "kinesis.set-retention")
	p, r := planAndRun(ctx, t, act, invocation(t, streamSel(app), tasks.Values{"retention": 72 * time.Hour}))
	if p.Changes[1].Detail != "now 7d; records older than 3d become unreadable" || r.Resources[0].Detail != "24h -> 3d" || r.Resources[1].Detail != "7d -> 3d" {
		t.Fatalf("plan %+v run %+v", p.Changes, r.Resources)
	}
	for _, n := range []string{app + "-a", app + "-b"} {
		if _, _, h := emu.KinesisStreamState(n); h != 72 {
			t.Fatalf("%s keeps %dh", n, h)
		}
	}
	if _, err := act.Plan(ctx, invocation(t, streamSel(app), tasks.Values{"retention": 36*time.Hour + 30*time.Minute})); err == nil || !strings.Contains(err.Error(), "whole number of hours") {
		t.Fatalf("half hour: %v", err)
	}
}
