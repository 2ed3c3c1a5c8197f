package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/day2bot/day2bot/blueprints"
	"github.com/day2bot/day2bot/bot"
	"github.com/day2bot/day2bot/bot/shell"
	"github.com/day2bot/day2bot/internal/clocktest"
	"github.com/day2bot/day2bot/internal/enginetest"
	"github.com/day2bot/day2bot/policies"
	"github.com/day2bot/day2bot/policies/store"
	"github.com/day2bot/day2bot/tasks"
	awsactions "github.com/day2bot/day2bot/tasks/aws"
	"github.com/day2bot/day2bot/tasks/emulator"
)

// testClock only moves when the test says; After is never used because
// the tests tick the scheduler themselves.
type testClock struct{ *clocktest.Clock }

func (testClock) After(time.Duration) <-chan time.Time { return nil }

var schedSeq atomic.Int64

// routineRig is serve's routine wiring on the emulator with an injected
// clock: the store, the engine and the routines, restartable.
type routineRig struct {
	t     *testing.T
	ctx   context.Context
	app   string
	apps  map[string]blueprints.App
	db    string
	clk   testClock
	emu   *emulator.Server
	out   *enginetest.Transcript
	st    *store.Store
	e     *bot.Engine
	r     *routines
	shell *shell.Platform
}

func newRoutineRig(t *testing.T, emu *emulator.Server) *routineRig {
	t.Helper()
	ctx := context.Background()
	app := fmt.Sprintf("sched%d", schedSeq.Add(1))
	if _, err := emu.SeedInstances(ctx, 2, emulator.InstanceSpec{Tags: map[string]string{"app": app, "tier": "web"}}); err != nil {
		t.Fatal(err)
	}
	g := &routineRig{t: t, ctx: ctx, app: app, db: filepath.Join(t.TempDir(), "d.db"), emu: emu, out: &enginetest.Transcript{},
		clk: testClock{clocktest.New(time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC))}, // a Wednesday
		apps: map[string]blueprints.App{app: {
			Blueprints: []string{"ec2-web"}, Region: "us-east-1", Channels: []string{"shell:ops"},
			Schedules: blueprints.AppSchedules{
				Add: []blueprints.Schedule{
					{Name: "hourly-describe", Cron: "0 * * * *", Task: "describe-web", CatchUp: true},
					{Name: "nightly-stop", Cron: "CRON_TZ=Europe/Berlin 0 3 * * *", Task: "stop-web"},
				},
				Disabled: []string{"target-health-check"},
			},
		}},
	}
	g.open()
	if err := g.st.ImportFile(ctx, "test", policies.File{Rules: []policies.Rule{{ID: "sched-read", Effect: policies.Allow,
		Subjects: []string{"user:scheduler:" + app}, Apps: []string{app}, Tasks: []string{"describe-web"}}}}); err != nil {
		t.Fatal(err)
	}
	g.start()
	t.Cleanup(g.stop)
	return g
}

func (g *routineRig) open() {
	st, err := openStore(g.ctx, g.db, store.WithClock(g.clk.Now))
	if err != nil {
		g.t.Fatal(err)
	}
	g.st = st
}

func (g *routineRig) start() {
	g.t.Helper()
	cat, err := blueprints.Library()
	if err != nil {
		g.t.Fatal(err)
	}
	reg, err := tasks.NewRegistry(awsactions.All()...)
	if err != nil {
		g.t.Fatal(err)
	}
	awsp := staticAWS{cfg: g.emu.ClientConfig("us-east-1", "AKIDSCHED")}
	g.shell = shell.New(g.out)
	g.r, err = newRoutines(routineDeps{Store: g.st, Catalog: cat, Apps: g.apps, AWS: awsp,
		Platforms: []bot.Platform{g.shell}, Clock: g.clk})
	if err != nil {
		g.t.Fatal(err)
	}
	g.e, err = newEngine(engineDeps{Store: g.st, Catalog: cat, Apps: g.apps, Registry: reg, AWS: awsp,
		Platforms: []bot.Platform{g.shell}, Clock: g.clk, Digest: g.r.Digest})
	if err != nil {
		g.t.Fatal(err)
	}
	if err := g.e.Start(g.ctx); err != nil {
		g.t.Fatal(err)
	}
	// What routines.start does, minus the loops: the test ticks.
	g.r.engine = g.e
	if err := g.r.sched.Recover(g.ctx); err != nil {
		g.t.Fatal(err)
	}
}

func (g *routineRig) stop() {
	if g.e != nil {
		g.r.sched.Wait()
		g.e.Close()
		g.st.Close()
		g.e = nil
	}
}

// tick fires what is due at t and waits for it and its runs to finish.
func (g *routineRig) tick(t time.Time) {
	g.t.Helper()
	g.clk.Set(t)
	g.r.sched.Tick(g.ctx, t)
	g.r.sched.Wait()
	ctx, cancel := context.WithTimeout(g.ctx, 30*time.Second)
	defer cancel()
	if err := g.e.Drain(ctx); err != nil {
		g.t.Fatal(err)
	}
}

func (g *routineRig) schedulerRuns(task string) []store.Run {
	g.t.Helper()
	rs, err := g.st.Runs(g.ctx, store.RunFilter{App: g.app})
	if err != nil {
		g.t.Fatal(err)
	}
	var out []store.Run
	for _, r := range rs {
		if r.Task == task && r.Principal == "scheduler:"+g.app {
			out = append(out, r)
		}
	}
	return out
}

// TestSchedulesThroughEngine: an app's schedules fire on the injected
// clock as scheduler:<app>, through the policies: an allowed task runs, a
// denied one is reported in the app's channel and not run, a digest
// schedule posts the digest; a run missed while down is caught up once.
func TestSchedulesThroughEngine(t *testing.T) {
	emu := emulator.New()
	defer emu.Close()
	g := newRoutineRig(t, emu)

	g.tick(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))
	runs := g.schedulerRuns("describe-web")
	if len(runs) != 1 || runs[0].State != store.Succeeded {
		t.Fatalf("hourly-describe runs = %+v\n%s", runs, g.out.String())
	}

	// 03:00 in Berlin is 02:00 UTC in November.
	g.tick(time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC))
	out := g.out.String()
	if !strings.Contains(out, "schedule nightly-stop of "+g.app+" was denied: ") {
		t.Errorf("denied schedule not reported:\n%s", out)
	}
	if n := len(g.schedulerRuns("stop-web")); n != 0 {
		t.Errorf("denied schedule ran %d times", n)
	}
	if n := emu.Count("ec2:StopInstances"); n != 0 {
		t.Errorf("StopInstances called %d times", n)
	}

	m, err := g.r.Schedules(g.ctx, g.app)
	if err != nil {
		t.Fatal(err)
	}
	listed := shell.Render(m)
	for _, want := range []string{"hourly-describe (catch-up)", "task describe-web", "nightly-stop", "CRON_TZ=Europe/Berlin 0 3 * * *",
		"morning-digest", "digest", "Nov 26 03:00 UTC", "Nov 27 02:00 UTC", "never", "scheduler:" + g.app} {
		if !strings.Contains(listed, want) {
			t.Errorf("schedules listing lacks %q:\n%s", want, listed)
		}
	}
	if strings.Contains(listed, "target-health-check") {
		t.Errorf("a disabled schedule is listed:\n%s", listed)
	}

	mark := len(g.out.String())
	g.tick(time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)) // Thursday 08:00: morning-digest
	if digest := g.out.String()[mark:]; !strings.Contains(digest, "Health digest — "+g.app) || !strings.Contains(digest, "instances 2/2") {
		t.Errorf("morning digest not posted:\n%s", digest)
	}

	// Down from 08:30 to 12:30: hourly-describe missed 09:00..12:00 and
	// catches up once at start, not four times.
	before := len(g.schedulerRuns("describe-web"))
	lastBefore, err := g.st.ScheduleLastRun(g.ctx, g.app+"/hourly-describe")
	if err != nil {
		t.Fatal(err)
	}
	g.stop()
	g.clk.Set(time.Date(2026, 11, 26, 12, 30, 0, 0, time.UTC))
	g.open()
	g.start()
	g.tick(g.clk.Now())
	if n := len(g.schedulerRuns("describe-web")) - before; n != 1 {
		t.Errorf("caught-up runs = %d, want 1", n)
	}
	// The catch-up is recorded at the first missed time, so a second
	// restart does not catch up again.
	last, err := g.st.ScheduleLastRun(g.ctx, g.app+"/hourly-describe")
	if err != nil {
		t.Fatal(err)
	}
	if !last.After(lastBefore) || last.After(g.clk.Now()) {
		t.Errorf("last run = %v, want after %v and not after now", last, lastBefore)
	}
}

func TestSchedulesBadSpecIsConfigError(t *testing.T) {
	cat, err := blueprints.Library()
	if err != nil {
		t.Fatal(err)
	}
	st, err := openStore(context.Background(), filepath.Join(t.TempDir(), "d.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	_, err = newRoutines(routineDeps{Store: st, Catalog: cat, AWS: staticAWS{}, Apps: map[string]blueprints.App{"x": {
		Blueprints: []string{"ec2-web"}, Schedules: blueprints.AppSchedules{Add: []blueprints.Schedule{{Name: "bad", Cron: "61 * * * *", Task: "describe-web"}}},
	}}})
	if err == nil || !strings.Contains(err.Error(), `"61 * * * *"`) || !strings.Contains(err.Error(), "cron") {
		t.Errorf("err = %v, want a config error naming the cron spec", err)
	}
}

func TestSchedulesListCommand(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "d.db")
	st, err := openStore(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetScheduleLastRun(context.Background(), "shop/nightly-snapshot", time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	st.Close()
	cfg := filepath.Join(dir, "day2bot.yaml")
	if err := os.WriteFile(cfg, []byte("apps:\n  shop:\n    blueprints: [ec2-web, rds]\n    channels: [\"shell:ops\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, "", "schedules", "list", "--config", cfg, "--db", db)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"SCHEDULE", "shop/morning-digest", "digest", "shop/nightly-snapshot", "task snapshot-db", "2026-11-25 02:00 UTC", "never"} {
		if !strings.Contains(out, want) {
			t.Errorf("list lacks %q:\n%s", want, out)
		}
	}
}

func TestRoutinesConfig(t *testing.T) {
	for _, tc := range []struct {
		every string
		want  time.Duration
		ok    bool
	}{{"", 0, true}, {"1m", time.Minute, true}, {"10s", 10 * time.Second, true}, {"5s", 0, false}, {"soon", 0, false}} {
		got, err := RoutinesConfig{AlertEvery: tc.every}.alertEvery()
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("alert_every %q = %v, %v; want %v ok=%v", tc.every, got, err, tc.want, tc.ok)
		}
	}
	for url, want := range map[string]string{
		"https://sqs.eu-central-1.amazonaws.com/123456789012/alarms": "eu-central-1",
		"http://localhost:4566/000000000000/alarms":                  "",
		"::bad": "",
	} {
		if got := queueRegion(url); got != want {
			t.Errorf("queueRegion(%q) = %q, want %q", url, got, want)
		}
	}
	cfg, err := parseConfig("x.yaml", []byte("routines:\n  cost_tag: app\n  alert_every: 2m\n  alert_queue: https://sqs.us-east-1.amazonaws.com/1/q\n"), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Routines.CostTag != "app" || cfg.Routines.AlertEvery != "2m" || cfg.Routines.AlertQueue == "" {
		t.Errorf("routines = %+v", cfg.Routines)
	}
}
