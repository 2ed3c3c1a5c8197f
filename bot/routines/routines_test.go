package routines

import (
	"context"
	"fmt"
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
	"github.com/day2bot/day2bot/policies/store/sqlite"
	"github.com/day2bot/day2bot/tasks"
	"github.com/day2bot/day2bot/tasks/emulator"
)

var schedSeq atomic.Int64

// rig is serve's routine wiring on the emulator with a clocktest clock:
// the store, the engine and the routines, restartable.
type rig struct {
	t     *testing.T
	ctx   context.Context
	app   string
	cfg   blueprints.App // the app's config
	apps  map[string]*blueprints.ResolvedApp
	db    string
	clk   *clocktest.Clock
	emu   *emulator.Server
	out   *enginetest.Transcript
	st    *store.Store
	e     *bot.Engine
	r     *Routines
	shell *shell.Platform
}

func newRig(t *testing.T, emu *emulator.Server) *rig {
	t.Helper()
	ctx := context.Background()
	app := fmt.Sprintf("sched%d", schedSeq.Add(1))
	if _, err := emu.SeedInstances(ctx, 2, emulator.InstanceSpec{Tags: map[string]string{"app": app, "tier": "web"}}); err != nil {
		t.Fatal(err)
	}
	g := &rig{t: t, ctx: ctx, app: app, db: filepath.Join(t.TempDir(), "d.db"), emu: emu, out: &enginetest.Transcript{},
		clk: clocktest.New(time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC)), // a Wednesday
		cfg: blueprints.App{
			Blueprints: []string{"ec2-web"}, Region: "us-east-1", Channels: []string{"shell:ops"},
			Schedules: blueprints.AppSchedules{
				Add: []blueprints.Schedule{
					{Name: "hourly-describe", Cron: "0 * * * *", Task: "describe-web", CatchUp: true},
					{Name: "nightly-stop", Cron: "CRON_TZ=Europe/Berlin 0 3 * * *", Task: "stop-web"},
				},
				Disabled: []string{"target-health-check"},
			},
		},
	}
	cat, err := blueprints.Library()
	if err != nil {
		t.Fatal(err)
	}
	ra, err := blueprints.ResolveApp(cat, app, g.cfg)
	if err != nil {
		t.Fatal(err)
	}
	g.apps = map[string]*blueprints.ResolvedApp{app: ra}
	g.open()
	if err := g.st.ImportFile(ctx, "test", policies.File{Rules: []policies.Rule{{ID: "sched-read", Effect: policies.Allow,
		Subjects: []string{"user:scheduler:" + app}, Apps: []string{app}, Tasks: []string{"describe-web"}}}}); err != nil {
		t.Fatal(err)
	}
	g.start()
	t.Cleanup(g.stop)
	return g
}

func (g *rig) open() {
	st, err := sqlite.Open(g.ctx, g.db, store.WithClock(g.clk.Now))
	if err != nil {
		g.t.Fatal(err)
	}
	g.st = st
}

func (g *rig) start() {
	g.t.Helper()
	reg, err := tasks.NewRegistry(enginetest.LibraryActions()...)
	if err != nil {
		g.t.Fatal(err)
	}
	awsp := enginetest.EmulatorAWS{Emu: g.emu}
	g.shell = shell.New(g.out)
	g.r, err = New(Options{Store: g.st, Apps: g.apps, AWS: awsp, Platforms: []bot.Platform{g.shell}, Clock: g.clk})
	if err != nil {
		g.t.Fatal(err)
	}
	// The engine's view of the app, with the channel its schedules
	// report denials in.
	a := enginetest.LibraryApp(g.t, g.app, g.cfg)
	a.Channels = g.cfg.Channels
	g.e, err = bot.New(bot.Options{Store: g.st, Apps: []bot.App{a}, Registry: reg, AWS: awsp,
		Platforms: map[string]bot.Platform{"shell": g.shell}, Clock: g.clk, Digest: g.r.Digest,
		// The test ticks the schedules and moves the clock by hours: the
		// engine's own sweeps would race it.
		SweepEvery: 365 * 24 * time.Hour})
	if err != nil {
		g.t.Fatal(err)
	}
	if err := g.e.Start(g.ctx); err != nil {
		g.t.Fatal(err)
	}
	// What Start does, minus the loops: the test ticks.
	g.r.engine = g.e
	if err := g.r.sched.Recover(g.ctx); err != nil {
		g.t.Fatal(err)
	}
}

func (g *rig) stop() {
	if g.e != nil {
		g.r.sched.Wait()
		g.e.Close()
		g.st.Close()
		g.e = nil
	}
}

// tick fires what is due at t and waits for it and its runs to finish.
func (g *rig) tick(t time.Time) {
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

func (g *rig) schedulerRuns(task string) []store.Run {
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
	g := newRig(t, emu)

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
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "d.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// Resolving the config already refuses it; New checks again, since
	// a spec it cannot run must not wait for its first fire to fail.
	_, err = New(Options{Store: st, AWS: enginetest.EmulatorAWS{}, Apps: map[string]*blueprints.ResolvedApp{"x": {Name: "x",
		Schedules: []blueprints.ResolvedSchedule{{Key: "x/bad", Schedule: blueprints.Schedule{Name: "bad", Cron: "61 * * * *", Task: "describe-web"}}},
	}}})
	if err == nil || !strings.Contains(err.Error(), `"61 * * * *"`) || !strings.Contains(err.Error(), "cron") {
		t.Errorf("err = %v, want a config error naming the cron spec", err)
	}
}

func TestConfig(t *testing.T) {
	for _, tc := range []struct {
		every string
		want  time.Duration
		ok    bool
	}{{"", 0, true}, {"1m", time.Minute, true}, {"10s", 10 * time.Second, true}, {"5s", 0, false}, {"soon", 0, false}} {
		got, err := Config{AlertEvery: tc.every}.AlertInterval()
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("alert_every %q = %v, %v; want %v ok=%v", tc.every, got, err, tc.want, tc.ok)
		}
		got, err = Config{DigestEvery: tc.every}.DigestInterval()
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("digest_every %q = %v, %v; want %v ok=%v", tc.every, got, err, tc.want, tc.ok)
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
}
