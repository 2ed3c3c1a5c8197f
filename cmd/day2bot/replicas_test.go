package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/day2bot/day2bot/bot/slack/slackfake"
	"github.com/day2bot/day2bot/policies/store"
	"github.com/day2bot/day2bot/policies/store/postgres/pgtest"
	"github.com/day2bot/day2bot/tasks/emulator"
)

// schedulePeriod is the replicas test's schedule: @every is the shortest
// period the schedule syntax allows (cron's own is a minute).
const schedulePeriod = 3 * time.Second

// TestReplicasOnPostgres runs three `day2bot serve` OS processes on one
// Postgres schema against the emulator and the Slack fake: 200 signed
// commands spread over them are each answered once; an approval asked for
// on replica 1 and clicked on replica 3 runs once; 50 concurrent clicks
// across the replicas start one run; and when the lease holder is kill
// -9ed in the middle of a run, the schedule keeps firing on another
// replica, each fire time once, and the run is announced interrupted once.
func TestReplicasOnPostgres(t *testing.T) {
	dsn := pgtest.Schema(t)
	emu := emulator.New()
	t.Cleanup(emu.Close)
	fake := slackfake.New(serveToken)
	t.Cleanup(fake.Close)
	for id, name := range map[string]string{"UALICE": "alice", "UBOB": "bob"} {
		fake.AddUser(id, name)
	}
	ctx := context.Background()
	app := fmt.Sprintf("rep%d", time.Now().UnixNano()%1_000_000_000)
	web, err := emu.SeedInstances(ctx, 2, emulator.InstanceSpec{Tags: map[string]string{"app": app, "tier": "web"}})
	if err != nil {
		t.Fatal(err)
	}
	// A second app whose rolling restart waits between its batches (a
	// rebooted instance stays "initializing"): the run the lease holder is
	// executing when it is killed.
	rolling := app + "roll"
	fleet, err := emu.SeedInstances(ctx, 4, emulator.InstanceSpec{Tags: map[string]string{"app": rolling, "tier": "web"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range fleet {
		emu.SetBootReads(id, 1_000_000)
	}
	importPolicy(t, dsn, servePolicy)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "day2bot.yaml")
	cfg := fmt.Sprintf(`database: %q
apps:
  %s:
    blueprints: [ec2-web]
    region: us-east-1
    channels: ["slack:C1"]
    schedules:
      add:
        - {name: tick, cron: "@every %s", digest: true}
  %s:
    blueprints: [ec2-web]
    region: us-east-1
    channels: ["slack:C1"]
`, dsn, app, schedulePeriod, rolling)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{
		"SLACK_BOT_TOKEN=" + serveToken, "SLACK_SIGNING_SECRET=" + serveSecret, "SLACK_API_URL=" + fake.APIURL(),
		"AWS_ENDPOINT_URL=" + emu.URL, "AWS_ACCESS_KEY_ID=AKIDREPL", "AWS_SECRET_ACCESS_KEY=repl", "AWS_REGION=us-east-1",
		"AWS_CONFIG_FILE=" + filepath.Join(dir, "none"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "none"),
	}
	var procs []*serveProc
	for range 3 {
		procs = append(procs, startServeProc(t, cfgPath, env))
	}
	on := func(i int) *serveEnv { return &serveEnv{fake: fake, base: "http://" + procs[i].addr} }

	// 200 commands, spread over the replicas, each answered once.
	urls := make([]string, 200)
	var wg sync.WaitGroup
	for i := range urls {
		form := on(i%3).command("UALICE", "apps")
		urls[i] = form.Get("response_url")
		wg.Add(1)
		go func() {
			defer wg.Done()
			if code := on(i%3).signedPost(t, "/slack/commands", form); code != 200 {
				t.Errorf("command %d on replica %d: %d", i, i%3+1, code)
			}
		}()
	}
	wg.Wait()
	waitFake(t, fake, "an answer to every command", func() bool {
		for _, u := range urls {
			if fake.ResponseURLPosts(u) == 0 {
				return false
			}
		}
		return true
	})

	reboots := func() []int {
		var each []int
		for _, id := range web {
			each = append(each, emu.RebootCount(id))
		}
		return each
	}
	// An approval asked for on replica 1 and clicked on replica 3.
	approve := func(asked int, clickers []int) {
		t.Helper()
		before := len(fake.Messages("C1"))
		if code := on(asked).signedPost(t, "/slack/commands", on(asked).command("UBOB", app+" restart-web batch=1")); code != 200 {
			t.Fatalf("bob's command: %d", code)
		}
		var button, ts string
		waitFake(t, fake, "bob's approval request", func() bool {
			for _, m := range fake.Messages("C1")[before:] {
				if id := buttonID(m.Blocks, "Approve"); id != "" {
					button, ts = id, m.TS
				}
			}
			return button != ""
		})
		var wg sync.WaitGroup
		for i, c := range clickers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if code := on(c).signedPost(t, "/slack/interactions", on(c).click("UALICE", ts, button)); code != 200 {
					t.Errorf("click %d on replica %d: %d", i, c+1, code)
				}
			}()
		}
		wg.Wait()
		waitFake(t, fake, "the approved run's result", func() bool {
			for _, m := range fake.Messages("C1") {
				if m.TS == ts && strings.Contains(m.Blocks, "succeeded") {
					return true
				}
			}
			return false
		})
	}
	approve(0, []int{2})
	if got := reboots(); !slices.Equal(got, []int{1, 1}) {
		t.Fatalf("reboots after one approval %v, want each instance once", got)
	}
	clicks := make([]int, 50)
	for i := range clicks {
		clicks[i] = i % 3
	}
	approve(1, clicks)

	// The lease holder is killed while it runs a rolling restart; another
	// replica takes the schedule over and announces the run interrupted.
	holder := leaseHolder(t, procs)
	// /metrics says which replica holds the lease (set just after the log
	// line, so looked at until it does).
	waitLogs(t, "day2bot_lease_held 1 on the holder only", func() bool {
		for i, p := range procs {
			_, metrics := get(t, "http://"+p.addr+"/metrics")
			want := map[bool]string{true: "day2bot_lease_held 1\n", false: "day2bot_lease_held 0\n"}[i == holder]
			if !strings.Contains(metrics, want) {
				return false
			}
		}
		return true
	})
	fired := func() []scheduleFire { return scheduleFires(t, procs) }
	waitLogs(t, "the schedule firing on the lease holder", func() bool { return len(fired()) >= 2 })
	if code := on(holder).signedPost(t, "/slack/commands", on(holder).command("UALICE", rolling+" restart-web batch=2")); code != 200 {
		t.Fatalf("alice's rolling restart: %d", code)
	}
	fleetReboots := func() (n int) {
		for _, id := range fleet {
			n += emu.RebootCount(id)
		}
		return n
	}
	waitFake(t, fake, "the first batch of the rolling restart", func() bool { return fleetReboots() == 2 })
	procs[holder].kill9(t)
	for _, id := range fleet { // the fleet would pass its checks now; nothing may act on it again
		emu.SetBootReads(id, 0)
	}
	killed, killedAt := time.Now(), len(fired())
	waitLogs(t, "another replica holding the lease", func() bool {
		for i, p := range procs {
			if i != holder && strings.Contains(p.log(), `"msg":"lease held"`) {
				return true
			}
		}
		return false
	})
	t.Logf("lease taken over %s after the kill", time.Since(killed).Round(10*time.Millisecond))
	waitLogs(t, "two fires on another replica after the kill", func() bool {
		n := 0
		for _, f := range fired()[killedAt:] {
			if f.replica != holder {
				n++
			}
		}
		return n >= 2
	})

	// The killed replica's run: interrupted once its heart has been
	// silent for 15 s, announced once, never resumed.
	interrupted := func() (n int) {
		for _, m := range fake.Messages("C1") {
			if strings.Contains(m.Blocks, "interrupted") {
				n++
			}
		}
		return n
	}
	waitLogs(t, "the rolling restart announced interrupted", func() bool { return interrupted() > 0 })
	t.Logf("run of the killed replica announced interrupted %s after the kill", time.Since(killed).Round(100*time.Millisecond))

	// Each fire time fired once, a period or more after the one before.
	fs := fired()
	slices.SortFunc(fs, func(a, b scheduleFire) int { return a.at.Compare(b.at) })
	for _, f := range fs {
		t.Logf("schedule fired for %s on replica %d", f.at.Format(time.TimeOnly), f.replica+1)
	}
	for i := 1; i < len(fs); i++ {
		if d := fs[i].at.Sub(fs[i-1].at); d < schedulePeriod {
			t.Errorf("fires at %v (replica %d) and %v (replica %d): %s apart, want at least %s",
				fs[i-1].at, fs[i-1].replica+1, fs[i].at, fs[i].replica+1, d, schedulePeriod)
		}
	}
	// Two approvals, one run each, whatever the clicks.
	st, err := openStore(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	runs, err := st.Runs(ctx, store.RunFilter{App: app})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range runs {
		if r.Task == "restart-web" {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d restart-web runs, want 2: %+v", n, runs)
	}
	if got := reboots(); !slices.Equal(got, []int{2, 2}) {
		t.Errorf("reboots %v, want each instance twice (two approvals)", got)
	}
	if n := fleetReboots(); n != 2 {
		t.Errorf("rolling restart rebooted %d instances, want the first batch only (not resumed)", n)
	}
	if n := interrupted(); n != 1 {
		t.Errorf("%d messages say interrupted, want 1", n)
	}
	for _, u := range urls {
		if n := fake.ResponseURLPosts(u); n != 1 {
			t.Errorf("command with %s answered %d times", u, n)
		}
	}
}

// scheduleFire is one "schedule fired" log line of a replica.
type scheduleFire struct {
	at      time.Time
	replica int
}

func scheduleFires(t *testing.T, procs []*serveProc) []scheduleFire {
	t.Helper()
	var out []scheduleFire
	for i, p := range procs {
		for _, line := range strings.Split(p.log(), "\n") {
			var rec struct {
				Msg string
				At  time.Time
			}
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "schedule fired" {
				out = append(out, scheduleFire{at: rec.At, replica: i})
			}
		}
	}
	return out
}

// leaseHolder is the replica whose log says it holds the lease.
func leaseHolder(t *testing.T, procs []*serveProc) int {
	t.Helper()
	holder := -1
	waitLogs(t, "a replica holding the lease", func() bool {
		for i, p := range procs {
			if strings.Contains(p.log(), `"msg":"lease held"`) {
				holder = i
				return true
			}
		}
		return false
	})
	return holder
}

// waitLogs waits until cond holds, looking again at the processes' logs
// every 50ms; the minute is a hang guard, not a timing assertion.
func waitLogs(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
