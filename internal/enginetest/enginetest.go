// Package enginetest is the harness of the engine's tests: an engine on a
// SQLite file in t.TempDir(), a settable clock, and a shell chat whose
// transcript the test reads — started, stopped and restarted on the same
// file as a process would be. The engine's own tests (fake actions), the
// shell's end-to-end tests (the library's actions against the emulator)
// and the command's tests share it instead of each keeping a copy.
//
// Only _test.go files may import it: cmd/day2bot's TestTestPackagesNotLinked
// keeps it out of the binary.
package enginetest

import (
	"context"
	"path/filepath"
	"sync"
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

// Config is what a harness builds its engine from. Each Start reads it
// again, so a test may change it between a Stop and a Start.
type Config struct {
	// Start is the clock's first reading; zero means 2026-11-25 10:00 UTC.
	Start time.Time
	// Policy is imported (as "test") when the harness opens its store.
	Policy policies.File
	Apps   []bot.App
	// Actions make the engine's registry.
	Actions []tasks.Action
	// AWS hands out SDK configs; nil gives a config naming the region
	// only, enough for actions that never call AWS.
	AWS bot.AWSProvider
	// Workers defaults to 2.
	Workers int
	// Options change the engine's options last, in order.
	Options []func(*bot.Options)
}

// Harness is one engine on one database file. The store and the engine
// change on every restart; the clock, the transcript and the chat do not,
// as Slack's messages outlive the bot's restarts.
type Harness struct {
	T    testing.TB
	Ctx  context.Context
	Path string // the SQLite file

	Clock    *clocktest.Clock
	Out      *Transcript
	Platform *shell.Platform

	Store  *store.Store
	Engine *bot.Engine

	Config Config
}

// New opens the store, imports the policy and starts the engine; the test's
// cleanup stops it.
func New(t testing.TB, c Config) *Harness {
	t.Helper()
	h := Open(t, c)
	h.Start()
	return h
}

// Open is New without starting the engine, for tests that seed the store
// or the emulator (or add apps to h.Config) first.
func Open(t testing.TB, c Config) *Harness {
	t.Helper()
	start := c.Start
	if start.IsZero() {
		start = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	}
	out := &Transcript{}
	h := &Harness{
		T: t, Ctx: context.Background(), Path: filepath.Join(t.TempDir(), "day2bot.db"),
		Clock: clocktest.New(start), Out: out, Platform: shell.New(out), Config: c,
	}
	t.Cleanup(h.Stop)
	h.Open()
	if err := h.Store.ImportFile(h.Ctx, "test", c.Policy); err != nil {
		t.Fatalf("import policy: %v", err)
	}
	return h
}

// Another is a second process on the same database file: its own store
// and engine, sharing the clock and the chat. Its cleanup stops it.
func (h *Harness) Another() *Harness {
	h.T.Helper()
	o := &Harness{T: h.T, Ctx: h.Ctx, Path: h.Path, Clock: h.Clock, Out: h.Out, Platform: h.Platform, Config: h.Config}
	h.T.Cleanup(o.Stop)
	o.Open()
	o.Start()
	return o
}

// Open opens the store on the harness's file.
func (h *Harness) Open() {
	h.T.Helper()
	st, err := sqlite.Open(h.Ctx, h.Path, store.WithClock(h.Clock.Now))
	if err != nil {
		h.T.Fatalf("open store: %v", err)
	}
	h.Store = st
}

// Start builds the engine from h.Config on the open store and starts it.
func (h *Harness) Start() {
	h.T.Helper()
	reg, err := tasks.NewRegistry(h.Config.Actions...)
	if err != nil {
		h.T.Fatalf("new registry: %v", err)
	}
	var awsp bot.AWSProvider = regionOnly{}
	if h.Config.AWS != nil {
		awsp = h.Config.AWS
	}
	workers := h.Config.Workers
	if workers == 0 {
		workers = 2
	}
	o := bot.Options{
		Store: h.Store, Apps: h.Config.Apps, Registry: reg, AWS: awsp,
		Platforms: map[string]bot.Platform{shell.Name: h.Platform}, Clock: h.Clock, Workers: workers,
		RunTimeout: time.Minute, Admins: []string{"alice"},
		// Tests sweep themselves (Engine.Sweep) after moving the clock,
		// days at a time: the engine's own loop must not race them.
		SweepEvery: 365 * 24 * time.Hour,
	}
	for _, f := range h.Config.Options {
		f(&o)
	}
	e, err := bot.New(o)
	if err != nil {
		h.T.Fatalf("new engine: %v", err)
	}
	if err := e.Start(h.Ctx); err != nil {
		h.T.Fatalf("start engine: %v", err)
	}
	h.Engine = e
}

// Stop closes the engine and the store, if open.
func (h *Harness) Stop() {
	if h.Engine != nil {
		h.Engine.Close()
		h.Engine = nil
	}
	if h.Store != nil {
		h.Store.Close()
		h.Store = nil
	}
}

// Restart closes engine and store and opens new ones on the same file,
// like a process restart.
func (h *Harness) Restart() {
	h.T.Helper()
	h.Stop()
	h.Open()
	h.Start()
}

// Session is user typing in the ops channel.
func (h *Harness) Session(user string) *shell.Session {
	return &shell.Session{Engine: h.Engine, Platform: h.Platform, Channel: "ops", User: user, Drain: h.Engine.Drain}
}

// Say types line as user and returns what the chat showed once the engine
// is idle again.
func (h *Harness) Say(user, line string) string {
	h.T.Helper()
	mark := h.Out.Len()
	h.Session(user).Line(h.Ctx, line)
	h.Drain()
	return h.Out.Since(mark)
}

// Drain waits until the engine has no work left.
func (h *Harness) Drain() {
	h.T.Helper()
	ctx, cancel := context.WithTimeout(h.Ctx, 30*time.Second)
	defer cancel()
	if err := h.Engine.Drain(ctx); err != nil {
		h.T.Fatalf("drain: %v", err)
	}
}

// Concurrently types line n times at once, the i-th time on hs[i%len(hs)]
// as users[(i/len(hs))%len(users)], and waits until every engine is idle:
// concurrent clicks, on one process or several.
func Concurrently(n int, line string, users []string, hs ...*Harness) {
	var wg sync.WaitGroup
	for i := range n {
		h, user := hs[i%len(hs)], users[(i/len(hs))%len(users)]
		wg.Go(func() { h.Session(user).Line(h.Ctx, line) })
	}
	wg.Wait()
	for _, h := range hs {
		h.Drain()
	}
}

// Runs are app's journaled runs.
func (h *Harness) Runs(app string) []store.Run {
	h.T.Helper()
	rs, err := h.Store.Runs(h.Ctx, store.RunFilter{App: app})
	if err != nil {
		h.T.Fatalf("runs of %s: %v", app, err)
	}
	return rs
}

// regionOnly is the AWS of engines whose actions never call AWS.
type regionOnly struct{}

func (regionOnly) Config(_ context.Context, _, region, _ string) (aws.Config, error) {
	return aws.Config{Region: region}, nil
}
