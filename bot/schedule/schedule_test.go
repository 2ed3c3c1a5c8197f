package schedule

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/day2bot/day2bot/internal/clocktest"
	"github.com/day2bot/day2bot/internal/errs"
)

// memState is an in-memory State; the SQLite implementation is tested in
// policies/store against the same contract.
type memState struct {
	mu   sync.Mutex
	last map[string]time.Time
}

func newMemState() *memState { return &memState{last: map[string]time.Time{}} }

func (m *memState) ScheduleLastRun(_ context.Context, key string) (time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.last[key], nil
}

func (m *memState) SetScheduleLastRun(_ context.Context, key string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.last[key] = at
	return nil
}

func (m *memState) ClaimScheduleRun(_ context.Context, key string, at time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.last[key].Before(at) {
		return false, nil
	}
	m.last[key] = at
	return true, nil
}

// recorder collects events and lets a test wait for one without sleeping.
type recorder struct {
	mu     sync.Mutex
	events []Event
	ch     chan Event
}

func newRecorder() *recorder { return &recorder{ch: make(chan Event, 100)} }

func (r *recorder) notify(e Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
	r.ch <- e
}

func (r *recorder) waitFor(t *testing.T, kind EventKind) Event {
	t.Helper()
	timeout := time.After(10 * time.Second) // a hang guard, not a timing assertion
	for {
		select {
		case e := <-r.ch:
			if e.Kind == kind {
				return e
			}
		case <-timeout:
			t.Fatalf("no %s event; got %v", kind, r.all())
		}
	}
}

func (r *recorder) all() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}

func (r *recorder) count(kind EventKind) int {
	n := 0
	for _, e := range r.all() {
		if e.Kind == kind {
			n++
		}
	}
	return n
}

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func TestFiresAtScheduledTime(t *testing.T) {
	ctx := context.Background()
	start := mustTime(t, "2026-03-02T08:59:30Z")
	clock := clocktest.New(start)
	state := newMemState()
	rec := newRecorder()
	fired := make(chan time.Time, 10)
	s, err := New([]Job{{Key: "shop/hourly", Spec: "0 * * * *", Run: func(_ context.Context, at time.Time) error {
		fired <- at
		return nil
	}}}, state, clock, discard, rec.notify)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	s.Tick(ctx, start) // not due yet
	s.Tick(ctx, mustTime(t, "2026-03-02T09:00:00Z"))
	rec.waitFor(t, Finished)
	if got := <-fired; !got.Equal(mustTime(t, "2026-03-02T09:00:00Z")) {
		t.Fatalf("fired at %v, want 09:00", got)
	}
	if last, _ := state.ScheduleLastRun(ctx, "shop/hourly"); !last.Equal(mustTime(t, "2026-03-02T09:00:00Z")) {
		t.Fatalf("persisted last run %v", last)
	}
	if n := len(fired); n != 0 {
		t.Fatalf("fired %d extra times", n)
	}
}

func TestOverlapIsSkipped(t *testing.T) {
	ctx := context.Background()
	clock := clocktest.New(mustTime(t, "2026-03-02T08:59:00Z"))
	rec := newRecorder()
	release := make(chan struct{})
	var runs int
	var mu sync.Mutex
	s, err := New([]Job{{Key: "slow", Spec: "* * * * *", Run: func(ctx context.Context, _ time.Time) error {
		mu.Lock()
		runs++
		mu.Unlock()
		<-release
		return nil
	}}}, newMemState(), clock, discard, rec.notify)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	s.Tick(ctx, mustTime(t, "2026-03-02T09:00:00Z"))
	rec.waitFor(t, Started)
	s.Tick(ctx, mustTime(t, "2026-03-02T09:01:00Z")) // first run still going
	if e := rec.waitFor(t, Skipped); !e.At.Equal(mustTime(t, "2026-03-02T09:01:00Z")) {
		t.Fatalf("skipped %v", e.At)
	}
	close(release)
	rec.waitFor(t, Finished)
	s.Wait()
	if runs != 1 {
		t.Fatalf("runs = %d, want 1", runs)
	}
}

func TestPanicIsRecoveredAndJobKeepsRunning(t *testing.T) {
	ctx := context.Background()
	clock := clocktest.New(mustTime(t, "2026-03-02T08:59:00Z"))
	rec := newRecorder()
	calls := 0
	s, err := New([]Job{{Key: "boom", Spec: "* * * * *", Run: func(context.Context, time.Time) error {
		calls++
		if calls == 1 {
			panic("kaboom")
		}
		return nil
	}}}, newMemState(), clock, discard, rec.notify)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	s.Tick(ctx, mustTime(t, "2026-03-02T09:00:00Z"))
	if e := rec.waitFor(t, Failed); e.Err == nil || !strings.Contains(e.Err.Error(), "kaboom") {
		t.Fatalf("failed event %+v", e)
	}
	s.Wait()
	s.Tick(ctx, mustTime(t, "2026-03-02T09:01:00Z"))
	rec.waitFor(t, Finished)
	s.Wait()
	if calls != 2 {
		t.Fatalf("calls = %d, want 2 (a panic must not disable the job)", calls)
	}
}

func TestMissedRunCaughtUpOnceOrSkipped(t *testing.T) {
	for _, catchUp := range []bool{true, false} {
		name := map[bool]string{true: "catch-up", false: "skip"}[catchUp]
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			state := newMemState()
			// Last ran at 02:00 on Monday; the process was down until Wednesday 10:30,
			// so the 02:00 runs of Tuesday and Wednesday were missed.
			state.last["nightly"] = mustTime(t, "2026-03-02T02:00:00Z")
			now := mustTime(t, "2026-03-04T10:30:00Z")
			clock := clocktest.New(now)
			rec := newRecorder()
			var fired []time.Time
			var mu sync.Mutex
			s, err := New([]Job{{Key: "nightly", Spec: "0 2 * * *", CatchUp: catchUp, Run: func(_ context.Context, at time.Time) error {
				mu.Lock()
				fired = append(fired, at)
				mu.Unlock()
				return nil
			}}}, state, clock, discard, rec.notify)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Recover(ctx); err != nil {
				t.Fatal(err)
			}
			s.Tick(ctx, now)
			s.Tick(ctx, now.Add(time.Minute))
			s.Wait()
			if catchUp {
				if len(fired) != 1 || !fired[0].Equal(mustTime(t, "2026-03-03T02:00:00Z")) {
					t.Fatalf("fired %v, want exactly the first missed run", fired)
				}
				if rec.count(CaughtUp) != 1 {
					t.Fatalf("events %v", rec.all())
				}
			} else {
				if len(fired) != 0 {
					t.Fatalf("fired %v, want none", fired)
				}
				if rec.count(Missed) != 1 {
					t.Fatalf("events %v", rec.all())
				}
			}
			// Either way the next run is Thursday 02:00.
			s.Tick(ctx, mustTime(t, "2026-03-05T02:00:00Z"))
			s.Wait()
			if got := fired[len(fired)-1]; !got.Equal(mustTime(t, "2026-03-05T02:00:00Z")) {
				t.Fatalf("next run %v", got)
			}
		})
	}
}

func TestSpecErrors(t *testing.T) {
	tests := []struct {
		spec string
		ok   bool
	}{
		{"0 2 * * *", true},
		{"CRON_TZ=Europe/Berlin 0 8 * * 1-5", true},
		{"@daily", true},
		{"@every 90m", true},
		{"", false},
		{"0 2 * *", false},
		{"61 * * * *", false},
		{"CRON_TZ=Mars/Olympus 0 8 * * *", false},
		{"* * * * * * *", false},
		{"@sometimes", false},
		{"0 2 * * MON-", false},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			_, err := New([]Job{{Key: "j", Spec: tt.spec, Run: func(context.Context, time.Time) error { return nil }}}, newMemState(), clocktest.New(time.Time{}), discard, nil)
			if tt.ok && err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if !tt.ok {
				msg, _ := errs.Render(err)
				if !errs.Is(errs.Invalid, err) || !strings.HasPrefix(msg, "schedule j: bad cron spec") {
					t.Fatalf("want an Invalid error naming the job, got %v", err)
				}
			}
		})
	}
	_, err := New([]Job{{Key: "a", Spec: "@daily"}, {Key: "a", Spec: "@daily"}}, newMemState(), clocktest.New(time.Time{}), discard, nil)
	if msg, _ := errs.Render(err); !errs.Is(errs.Invalid, err) || msg != "schedule a: defined twice" {
		t.Fatalf("duplicate keys: %v", err)
	}
}

func TestTimeZoneSpec(t *testing.T) {
	ctx := context.Background()
	// 08:00 in Berlin is 07:00 UTC in winter.
	clock := clocktest.New(mustTime(t, "2026-01-05T06:00:00Z"))
	rec := newRecorder()
	s, err := New([]Job{{Key: "tz", Spec: "CRON_TZ=Europe/Berlin 0 8 * * 1-5", Run: func(context.Context, time.Time) error { return nil }}}, newMemState(), clock, discard, rec.notify)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	infos, err := s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := mustTime(t, "2026-01-05T07:00:00Z"); !infos[0].Next.Equal(want) {
		t.Fatalf("next = %v, want %v", infos[0].Next, want)
	}
}

func TestStartLoopFollowsTheClock(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	clock := clocktest.New(mustTime(t, "2026-03-02T08:59:00Z"))
	parked := clock.Parked()
	rec := newRecorder()
	s, err := New([]Job{{Key: "loop", Spec: "0 9 * * *", Run: func(context.Context, time.Time) error { return nil }}}, newMemState(), clock, discard, rec.notify)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	s.Start(ctx)
	<-parked // the loop is waiting on the clock; now move time past 09:00
	clock.Advance(time.Minute)
	if e := rec.waitFor(t, Finished); !e.At.Equal(mustTime(t, "2026-03-02T09:00:00Z")) {
		t.Fatalf("fired at %v", e.At)
	}
	cancel()
	clock.Advance(24 * time.Hour)
	s.Wait()
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"0 2 * * *", "CRON_TZ=UTC @daily", "@every 1h", "*/5 * * * MON-FRI", "TZ=", "0-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		sc, err := Parse(spec)
		if err == nil && sc == nil {
			t.Fatal("nil schedule without error")
		}
	})
}

// Two schedulers on one state (two replicas while a lease changes hands)
// run a fire time once; the other reports it taken.
func TestFireTimeRunsOnceAcrossSchedulers(t *testing.T) {
	ctx := context.Background()
	state := newMemState()
	clock := clocktest.New(mustTime(t, "2026-03-02T08:59:30Z"))
	var mu sync.Mutex
	var fired []time.Time
	job := Job{Key: "shop/minutely", Spec: "* * * * *", Run: func(_ context.Context, at time.Time) error {
		mu.Lock()
		fired = append(fired, at)
		mu.Unlock()
		return nil
	}}
	recs := []*recorder{newRecorder(), newRecorder()}
	var scheds []*Scheduler
	for _, rec := range recs {
		s, err := New([]Job{job}, state, clock, discard, rec.notify)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Recover(ctx); err != nil {
			t.Fatal(err)
		}
		scheds = append(scheds, s)
	}
	at := mustTime(t, "2026-03-02T09:00:00Z")
	for _, s := range scheds {
		s.Tick(ctx, at)
		s.Wait()
	}
	if len(fired) != 1 || !fired[0].Equal(at) {
		t.Fatalf("fired %v, want once at 09:00", fired)
	}
	if recs[1].count(Taken) != 1 {
		t.Fatalf("second scheduler's events %v", recs[1].all())
	}
}

// A fire time missed by less than the takeover grace runs late, once,
// even without CatchUp; one missed longer ago is skipped.
func TestCatchUpWithinGrace(t *testing.T) {
	for _, late := range []time.Duration{10 * time.Second, 2 * time.Minute} {
		t.Run(late.String(), func(t *testing.T) {
			ctx := context.Background()
			state := newMemState()
			state.last["shop/minutely"] = mustTime(t, "2026-03-02T08:59:00Z")
			now := mustTime(t, "2026-03-02T09:00:00Z").Add(late)
			var fired []time.Time
			s, err := New([]Job{{Key: "shop/minutely", Spec: "0 * * * *", Run: func(_ context.Context, at time.Time) error {
				fired = append(fired, at)
				return nil
			}}}, state, clocktest.New(now), discard, nil)
			if err != nil {
				t.Fatal(err)
			}
			s.CatchUpWithin(30 * time.Second)
			if err := s.Recover(ctx); err != nil {
				t.Fatal(err)
			}
			s.Tick(ctx, now)
			s.Wait()
			want := late < 30*time.Second
			if got := len(fired) == 1 && fired[0].Equal(mustTime(t, "2026-03-02T09:00:00Z")); got != want || len(fired) > 1 {
				t.Fatalf("missed %s ago: fired %v", late, fired)
			}
		})
	}
}
