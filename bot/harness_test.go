package bot_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/day2bot/day2bot/bot"
	"github.com/day2bot/day2bot/bot/shell"
	"github.com/day2bot/day2bot/internal/clocktest"
	"github.com/day2bot/day2bot/policies"
	"github.com/day2bot/day2bot/policies/store"
	"github.com/day2bot/day2bot/policies/store/sqlite"
	"github.com/day2bot/day2bot/tasks"
)

// fakeAction records runs; a test may hold runs at a gate.
type fakeAction struct {
	name     string
	mutating bool
	params   []tasks.Param
	runs     atomic.Int32
	plans    atomic.Int32
	// gate, if set, blocks Run until closed or the context ends; started
	// receives once per run that reached the gate.
	gate    chan struct{}
	started chan string
	// result builds the result; default one ok row per target id.
	result   func(inv tasks.Invocation) (tasks.Result, error)
	progress []tasks.Progress
	// beforeProgress runs before each progress report (tests move the
	// clock there).
	beforeProgress func(i int)
	planErr        error
	planPanic      bool
}

func (a *fakeAction) Name() string          { return a.name }
func (a *fakeAction) Params() []tasks.Param { return a.params }
func (a *fakeAction) Mutating() bool        { return a.mutating }
func (a *fakeAction) IAMActions() []string  { return []string{"ec2:RebootInstances"} }

func (a *fakeAction) Plan(ctx context.Context, inv tasks.Invocation) (tasks.Plan, error) {
	a.plans.Add(1)
	if a.planPanic {
		panic("plan bug")
	}
	if a.planErr != nil {
		return tasks.Plan{}, a.planErr
	}
	p := tasks.Plan{Summary: fmt.Sprintf("would %s %d resources", a.name, len(inv.Target.IDs))}
	for _, id := range inv.Target.IDs {
		p.Changes = append(p.Changes, tasks.Change{Resource: id, Action: a.name})
	}
	return p, nil
}

func (a *fakeAction) Run(ctx context.Context, inv tasks.Invocation, progress func(tasks.Progress)) (tasks.Result, error) {
	a.runs.Add(1)
	for i, p := range a.progress {
		if a.beforeProgress != nil {
			a.beforeProgress(i)
		}
		if progress != nil {
			progress(p)
		}
	}
	if a.gate != nil {
		if a.started != nil {
			a.started <- a.name
		}
		select {
		case <-a.gate:
		case <-ctx.Done():
			return tasks.Result{}, ctx.Err()
		}
	}
	if a.result != nil {
		return a.result(inv)
	}
	res := tasks.Result{Summary: fmt.Sprintf("%s on %d resources", a.name, len(inv.Target.IDs))}
	for _, id := range inv.Target.IDs {
		res.Resources = append(res.Resources, tasks.ResourceResult{Resource: id, Status: tasks.StatusOK, Detail: fmt.Sprint(inv.Values["batch"])})
	}
	return res, nil
}

type fakeAWS struct{}

func (fakeAWS) Config(ctx context.Context, account, region, principal string) (aws.Config, error) {
	return aws.Config{Region: region}, nil
}

// syncBuffer is the transcript; the engine writes from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Since returns what was written after mark.
func (s *syncBuffer) Since(mark int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()[mark:]
}

func (s *syncBuffer) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Len()
}

func intp(v float64) *float64 { return &v }
func boolp(v bool) *bool      { return &v }

// testPolicy: alice is ops (everything, approver), bob a developer
// (read-only allowed, mutating on shop needs one ops approval), carol may
// do nothing on shop.
func testPolicy() policies.File {
	return policies.File{
		Users: map[string][]string{
			"alice": {"shell:alice"},
			"bob":   {"shell:bob"},
			"carol": {"shell:carol"},
			"dave":  {"shell:dave"},
		},
		Groups: map[string][]string{"ops": {"alice", "dave"}, "dev": {"bob"}},
		Rules: []policies.Rule{
			{ID: "ops-all", Effect: policies.Allow, Subjects: []string{"group:ops"}},
			{ID: "dev-read", Effect: policies.Allow, Subjects: []string{"group:dev"}, Mutating: boolp(false)},
			{ID: "dev-shop-approve", Effect: policies.Approve, Subjects: []string{"group:dev"}, Apps: []string{"shop"},
				Mutating: boolp(true), Approvers: []string{"group:ops"}, Quorum: 1},
		},
	}
}

type harness struct {
	t       testing.TB
	ctx     context.Context
	path    string
	clk     *clocktest.Clock
	st      *store.Store
	e       *bot.Engine
	out     *syncBuffer
	plat    *shell.Platform
	restart *fakeAction
	list    *fakeAction
	opts    func(*bot.Options)
}

func testApps() []bot.App {
	return []bot.App{{
		Name: "shop", Blueprints: []string{"ec2-web"}, Region: "us-east-1", Owners: []string{"alice"},
		Tasks: []bot.Task{
			{Name: "restart-web", Description: "reboot web instances", Action: "test.restart",
				Target: tasks.Selector{Type: "ec2:instance", IDs: []string{"i-1", "i-2"}},
				Params: []tasks.Param{{Name: "batch", Type: tasks.TypeInt, Default: "1", Min: intp(1), Max: intp(4)}}},
			{Name: "list-web", Description: "list web instances", Action: "test.list",
				Target: tasks.Selector{Type: "ec2:instance", IDs: []string{"i-1", "i-2"}}},
		},
	}}
}

func newHarness(t testing.TB, opts ...func(*bot.Options)) *harness {
	t.Helper()
	h := &harness{
		t: t, ctx: context.Background(), path: filepath.Join(t.TempDir(), "day2bot.db"),
		clk:     clocktest.New(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)),
		out:     &syncBuffer{},
		restart: &fakeAction{name: "test.restart", mutating: true, params: []tasks.Param{{Name: "batch", Type: tasks.TypeInt, Default: "1", Min: intp(1), Max: intp(4)}}},
		list:    &fakeAction{name: "test.list"},
	}
	if len(opts) > 0 {
		h.opts = opts[0]
	}
	h.open()
	if err := h.st.ImportFile(h.ctx, "test", testPolicy()); err != nil {
		t.Fatal(err)
	}
	h.start()
	t.Cleanup(h.stop)
	return h
}

func (h *harness) open() {
	st, err := sqlite.Open(h.ctx, h.path, store.WithClock(h.clk.Now))
	if err != nil {
		h.t.Fatal(err)
	}
	h.st = st
}

func (h *harness) start() {
	h.t.Helper()
	reg, err := tasks.NewRegistry(h.restart, h.list)
	if err != nil {
		h.t.Fatal(err)
	}
	h.plat = shell.New(h.out)
	o := bot.Options{
		Store: h.st, Apps: testApps(), Registry: reg, AWS: fakeAWS{},
		Platforms: map[string]bot.Platform{"shell": h.plat}, Clock: h.clk.Now, Workers: 2,
		RunTimeout: time.Minute, Admins: []string{"alice"},
	}
	if h.opts != nil {
		h.opts(&o)
	}
	e, err := bot.New(o)
	if err != nil {
		h.t.Fatal(err)
	}
	if err := e.Start(h.ctx); err != nil {
		h.t.Fatal(err)
	}
	h.e = e
}

func (h *harness) stop() {
	if h.e != nil {
		h.e.Close()
		h.e = nil
	}
	if h.st != nil {
		h.st.Close()
		h.st = nil
	}
}

// restartEngine closes engine and store and opens new ones on the same file,
// like a process restart.
func (h *harness) restartEngine() {
	h.stop()
	h.open()
	h.start()
}

func (h *harness) session(user string) *shell.Session {
	return &shell.Session{Engine: h.e, Platform: h.plat, Channel: "ops", User: user, Drain: h.e.Drain}
}

// say runs one line as user, waits for the engine and returns the output
// it produced.
func (h *harness) say(user, line string) string {
	h.t.Helper()
	mark := h.out.Len()
	h.session(user).Line(h.ctx, line)
	h.drain()
	return h.out.Since(mark)
}

func (h *harness) drain() {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(h.ctx, 30*time.Second)
	defer cancel()
	if err := h.e.Drain(ctx); err != nil {
		h.t.Fatalf("drain: %v", err)
	}
}

func (h *harness) runs(app string) []store.Run {
	h.t.Helper()
	rs, err := h.st.Runs(h.ctx, store.RunFilter{App: app})
	if err != nil {
		h.t.Fatal(err)
	}
	return rs
}

// approvalID finds the id of the newest approval in out.
func approvalID(t testing.TB, out string) string {
	t.Helper()
	i := strings.LastIndex(out, "(press a-")
	if i < 0 {
		t.Fatalf("no approval buttons in:\n%s", out)
	}
	f := strings.Fields(out[i+len("(press "):])
	return f[0]
}

func mustContain(t *testing.T, out string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

func mustNotContain(t *testing.T, out string, nots ...string) {
	t.Helper()
	for _, w := range nots {
		if strings.Contains(out, w) {
			t.Errorf("output has %q:\n%s", w, out)
		}
	}
}
