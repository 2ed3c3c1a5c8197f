package shell_test

// End-to-end: commands typed into a shell Session, through the engine and
// the policies in a real SQLite file, to the real AWS actions over HTTP
// against the emulator. Each test runs its own emulator, so reboot counts
// are its own.

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/day2bot/day2bot/blueprints"
	"github.com/day2bot/day2bot/bot"
	"github.com/day2bot/day2bot/bot/shell"
	"github.com/day2bot/day2bot/internal/clocktest"
	"github.com/day2bot/day2bot/policies"
	"github.com/day2bot/day2bot/policies/store"
	"github.com/day2bot/day2bot/policies/store/sqlite"
	"github.com/day2bot/day2bot/tasks"
	awsactions "github.com/day2bot/day2bot/tasks/aws"
	"github.com/day2bot/day2bot/tasks/emulator"
)

type transcript struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (t *transcript) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.b.Write(p)
}

func (t *transcript) Len() int { t.mu.Lock(); defer t.mu.Unlock(); return t.b.Len() }
func (t *transcript) Since(n int) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.b.String()[n:]
}

type emuAWS struct{ url string }

func (a emuAWS) Config(_ context.Context, _, region, _ string) (aws.Config, error) {
	return aws.Config{Region: region, BaseEndpoint: aws.String(a.url), HTTPClient: emulator.SDKHTTPClient(),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDE2E", "e2e", "")}, nil
}

func boolp(b bool) *bool { return &b }

var e2ePolicy = policies.File{
	Users:  map[string][]string{"alice": {"shell:alice"}, "bob": {"shell:bob"}, "carol": {"shell:carol"}, "dave": {"shell:dave"}},
	Groups: map[string][]string{"ops": {"alice", "dave"}, "developers": {"bob"}, "researchers": {"carol"}},
	Rules: []policies.Rule{
		{ID: "ops-everything", Effect: policies.Allow, Subjects: []string{"group:ops"}},
		{ID: "developers-read", Effect: policies.Allow, Subjects: []string{"group:developers"}, Mutating: boolp(false)},
		{ID: "developers-shop-changes", Effect: policies.Approve, Subjects: []string{"group:developers"}, Apps: []string{"shop"},
			Mutating: boolp(true), Approvers: []string{"group:ops"}, Quorum: 1},
	},
}

type e2e struct {
	t     *testing.T
	ctx   context.Context
	emu   *emulator.Server
	ids   []string
	path  string
	clk   *clocktest.Clock
	out   *transcript
	st    *store.Store
	e     *bot.Engine
	plat  *shell.Platform
	users map[string]*shell.Session
	opts  []func(*bot.Options)
	// apps beyond shop, for the library's end-to-end tests
	// (e2e_library_test.go).
	apps []bot.App
}

// withLogger gives the engine a logger the test reads.
func withLogger(l *slog.Logger) func(*bot.Options) {
	return func(o *bot.Options) { o.Logger = l }
}

func newE2E(t *testing.T, opts ...func(*bot.Options)) *e2e {
	t.Helper()
	return newE2EWith(t, nil, opts...)
}

// newE2EWith calls setup (apps, seeds) before the engine starts.
func newE2EWith(t *testing.T, setup func(x *e2e), opts ...func(*bot.Options)) *e2e {
	t.Helper()
	x := &e2e{t: t, ctx: context.Background(), emu: emulator.New(), path: filepath.Join(t.TempDir(), "day2bot.db"),
		clk: clocktest.New(time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)), out: &transcript{}, opts: opts}
	// The chat outlives the bot's restarts, as Slack's messages do.
	x.plat = shell.New(x.out)
	t.Cleanup(x.emu.Close)
	ids, err := x.emu.SeedInstances(x.ctx, 4, emulator.InstanceSpec{Tags: map[string]string{"app": "shop", "tier": "web"}})
	if err != nil {
		t.Fatal(err)
	}
	x.ids = ids
	x.open()
	if err := x.st.ImportFile(x.ctx, "test", e2ePolicy); err != nil {
		t.Fatal(err)
	}
	if setup != nil {
		setup(x)
	}
	x.start()
	t.Cleanup(x.stop)
	return x
}

func (x *e2e) open() {
	st, err := sqlite.Open(x.ctx, x.path, store.WithClock(x.clk.Now))
	if err != nil {
		x.t.Fatal(err)
	}
	x.st = st
}

// shopApp is the ec2-web blueprint resolved for shop, as serve and sandbox
// resolve it.
func shopApp(t *testing.T) bot.App {
	t.Helper()
	return libraryApp(t, "shop", blueprints.App{Blueprints: []string{"ec2-web"}, Region: "us-east-1", Owners: []string{"alice"}})
}

// libraryApp resolves an app of the embedded library's blueprints.
func libraryApp(t *testing.T, name string, app blueprints.App) bot.App {
	t.Helper()
	cat, err := blueprints.Library()
	if err != nil {
		t.Fatal(err)
	}
	ra, err := blueprints.ResolveApp(cat, name, app)
	if err != nil {
		t.Fatal(err)
	}
	a := bot.App{Name: name, Blueprints: ra.Blueprints, Region: ra.Region, Owners: ra.Owners}
	for name, rt := range ra.Tasks {
		a.Tasks = append(a.Tasks, bot.Task{Name: name, Description: rt.Task.Description, Action: rt.Task.Action, Target: rt.Target, Params: rt.Params()})
	}
	return a
}

func (x *e2e) start() {
	x.t.Helper()
	// The emulator's status checks are current at once: no settle time.
	reg, err := tasks.NewRegistry(awsactions.AllWith(awsactions.Options{Pace: awsactions.Pace{Settle: -1}})...)
	if err != nil {
		x.t.Fatal(err)
	}
	o := bot.Options{Store: x.st, Apps: append([]bot.App{shopApp(x.t)}, x.apps...), Registry: reg, AWS: emuAWS{x.emu.URL},
		Platforms: map[string]bot.Platform{"shell": x.plat}, Clock: x.clk.Now, Workers: 4, RunTimeout: time.Minute, Admins: []string{"alice"}}
	for _, f := range x.opts {
		f(&o)
	}
	e, err := bot.New(o)
	if err != nil {
		x.t.Fatal(err)
	}
	if err := e.Start(x.ctx); err != nil {
		x.t.Fatal(err)
	}
	x.e = e
}

func (x *e2e) stop() {
	if x.e != nil {
		x.e.Close()
		x.e = nil
	}
	if x.st != nil {
		x.st.Close()
		x.st = nil
	}
}

func (x *e2e) session(user string) *shell.Session {
	return &shell.Session{Engine: x.e, Platform: x.plat, Channel: "ops", User: user, Drain: x.e.Drain}
}

// say types line as user and returns what the chat showed once the engine
// is idle again.
func (x *e2e) say(user, line string) string {
	x.t.Helper()
	mark := x.out.Len()
	x.session(user).Line(x.ctx, line)
	x.drain()
	return x.out.Since(mark)
}

func (x *e2e) drain() {
	x.t.Helper()
	ctx, cancel := context.WithTimeout(x.ctx, 30*time.Second)
	defer cancel()
	if err := x.e.Drain(ctx); err != nil {
		x.t.Fatalf("drain: %v", err)
	}
}

// reboots is how many times each seeded instance was rebooted.
func (x *e2e) reboots() []int {
	n := make([]int, len(x.ids))
	for i, id := range x.ids {
		n[i] = x.emu.RebootCount(id)
	}
	return n
}

func (x *e2e) wantReboots(want int) {
	x.t.Helper()
	for i, n := range x.reboots() {
		if n != want {
			x.t.Fatalf("instance %s rebooted %d times, want %d (all: %v)", x.ids[i], n, want, x.reboots())
		}
	}
}

func approvalIn(t *testing.T, out string) string {
	t.Helper()
	i := strings.LastIndex(out, "(press a-")
	if i < 0 {
		t.Fatalf("no approval request in:\n%s", out)
	}
	return strings.Fields(out[i+len("(press "):])[0]
}

func has(t *testing.T, out string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("chat lacks %q:\n%s", w, out)
		}
	}
}

func TestE2EAllowedRunRebootsEveryInstanceOnce(t *testing.T) {
	x := newE2E(t)
	out := x.say("alice", "shop restart-web batch=2")
	has(t, out, "shop restart-web — queued", "shop restart-web — succeeded", "rebooted 4 of 4 instances", x.ids[0], x.ids[3])
	x.wantReboots(1)
	if n := x.emu.Count("ec2:RebootInstances"); n != 2 {
		t.Fatalf("RebootInstances called %d times, want 2 (two batches of 2)", n)
	}
}

func TestE2EDeniedRunTouchesNoAWS(t *testing.T) {
	x := newE2E(t)
	x.emu.ResetRequests()
	out := x.say("carol", "shop restart-web")
	has(t, out, "[only carol]", "Denied: shop restart-web", "no rule allows carol to run shop/restart-web")
	if reqs := x.emu.Requests(""); len(reqs) != 0 {
		t.Fatalf("a denied request reached AWS: %d calls, first %s:%s", len(reqs), reqs[0].Service, reqs[0].Operation)
	}
}

func TestE2EApprovalByApproverRunsOnce(t *testing.T) {
	x := newE2E(t)
	out := x.say("bob", "shop restart-web batch=2")
	has(t, out, "Approval needed: shop restart-web", "Plan: reboot 4 instances in 2 batches of up to 2", "[Approve] [Deny]")
	x.wantReboots(0)
	id := approvalIn(t, out)
	out = x.say("alice", "press "+id+" approve")
	has(t, out, "Approved: shop restart-web", "approved by alice", "rebooted 4 of 4 instances")
	x.wantReboots(1)
}

func TestE2ESelfApprovalRefused(t *testing.T) {
	x := newE2E(t)
	id := approvalIn(t, x.say("bob", "shop restart-web"))
	has(t, x.say("bob", "press "+id+" approve"), "[only bob]", "you cannot approve or deny your own request")
	has(t, x.say("bob", "approve "+id), "you cannot approve or deny your own request")
	x.wantReboots(0)
}

func TestE2ENonApproverRefused(t *testing.T) {
	x := newE2E(t)
	id := approvalIn(t, x.say("bob", "shop restart-web"))
	has(t, x.say("carol", "press "+id+" approve"), "[only carol]", "only group:ops may approve or deny "+id)
	x.wantReboots(0)
}

func TestE2EApprovalExpires(t *testing.T) {
	x := newE2E(t)
	id := approvalIn(t, x.say("bob", "shop restart-web"))
	x.clk.Advance(61 * time.Minute)
	mark := x.out.Len()
	x.e.Sweep(x.ctx)
	has(t, x.out.Since(mark), "Expired: shop restart-web")
	has(t, x.say("alice", "press "+id+" approve"), `no "approve" button`)
	has(t, x.say("alice", "approve "+id), "approval "+id+" is already expired")
	x.wantReboots(0)
}

func TestE2EFiftyConcurrentApprovalsRebootOnce(t *testing.T) {
	x := newE2E(t)
	id := approvalIn(t, x.say("bob", "shop restart-web batch=4"))
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			x.session([]string{"alice", "dave"}[i%2]).Line(x.ctx, "approve "+id)
		}()
	}
	wg.Wait()
	x.drain()
	x.wantReboots(1)
	if n := x.emu.Count("ec2:RebootInstances"); n != 1 {
		t.Fatalf("RebootInstances called %d times, want 1", n)
	}
}

func TestE2ERestartWithPendingApproval(t *testing.T) {
	x := newE2E(t)
	id := approvalIn(t, x.say("bob", "shop restart-web"))
	x.stop()
	x.open()
	x.start()
	out := x.say("alice", "press "+id+" approve") // a button of the old process's message
	has(t, out, "Approved: shop restart-web", "rebooted 4 of 4 instances")
	x.wantReboots(1)
}

func TestE2ERestartWithRunLeftRunning(t *testing.T) {
	x := newE2E(t)
	started, release := make(chan struct{}, 1), make(chan struct{})
	x.emu.Handle("ec2:RebootInstances", func(w http.ResponseWriter, r *http.Request, _ []byte) {
		started <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
		}
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprint(w, `<RebootInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>e2e</requestId><return>true</return></RebootInstancesResponse>`)
	})
	x.session("alice").Line(x.ctx, "shop restart-web batch=4")
	<-started
	// The process dies mid-run: its engine is abandoned, a new one opens
	// the same file.
	old, oldStore := x.e, x.st
	x.e, x.st = nil, nil
	x.open()
	mark := x.out.Len()
	x.start()
	x.drain() // the announcement goes out in the background
	has(t, x.out.Since(mark), "shop restart-web — interrupted", "It was not retried")
	runs, err := x.st.Runs(x.ctx, store.RunFilter{App: "shop"})
	if err != nil || len(runs) != 1 || runs[0].State != store.Interrupted {
		t.Fatalf("runs after restart = %+v, %v", runs, err)
	}
	has(t, x.say("alice", "history shop"), "interrupted")
	close(release)
	old.Close()
	oldStore.Close()
	if n := x.emu.Count("ec2:RebootInstances"); n != 1 {
		t.Fatalf("RebootInstances called %d times, want 1: an interrupted run is never retried", n)
	}
}

// Two day2bot processes on one host share the database file: approvals
// clicked on both still reboot once.
func TestE2ETwoProcessesOneDatabase(t *testing.T) {
	x := newE2E(t)
	id := approvalIn(t, x.say("bob", "shop restart-web batch=4"))
	y := &e2e{t: t, ctx: x.ctx, emu: x.emu, ids: x.ids, path: x.path, clk: x.clk, out: x.out, plat: x.plat}
	y.open()
	y.start()
	t.Cleanup(y.stop)
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := []*e2e{x, y}[i%2]
			p.session([]string{"alice", "dave"}[(i/2)%2]).Line(x.ctx, "press "+id+" approve")
		}()
	}
	wg.Wait()
	x.drain()
	y.drain()
	x.wantReboots(1)
	if n := x.emu.Count("ec2:RebootInstances"); n != 1 {
		t.Fatalf("RebootInstances called %d times by two processes, want 1", n)
	}
}
