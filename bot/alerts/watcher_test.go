package alerts

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/day2bot/day2bot/blueprints"
	"github.com/day2bot/day2bot/bot"
	"github.com/day2bot/day2bot/internal/clocktest"
	"github.com/day2bot/day2bot/policies/store"
	"github.com/day2bot/day2bot/policies/store/sqlite"
	"github.com/day2bot/day2bot/tasks/emulator"
)

var emu *emulator.Server

func TestMain(m *testing.M) {
	emu = emulator.New()
	code := m.Run()
	emu.Close()
	os.Exit(code)
}

func cw() *cloudwatch.Client {
	return cloudwatch.NewFromConfig(emu.ClientConfig("us-east-1", "AKIDALERTS"))
}

var uniqSeq atomic.Int64

func uniq(prefix string) string { return fmt.Sprintf("%s%d", prefix, uniqSeq.Add(1)) }

// recPlatform records posts and updates; posted receives each post.
type recPlatform struct {
	name    string
	mu      sync.Mutex
	seq     int
	posts   []bot.Message
	updates map[string][]bot.Message
	posted  chan bot.Message
}

func newRec(name string) *recPlatform {
	return &recPlatform{name: name, updates: map[string][]bot.Message{}, posted: make(chan bot.Message, 1000)}
}

func (p *recPlatform) Name() string { return p.name }

func (p *recPlatform) Post(_ context.Context, ch string, m bot.Message) (bot.MessageRef, error) {
	p.mu.Lock()
	p.seq++
	p.posts = append(p.posts, m)
	id := p.name + "-" + strconv.Itoa(p.seq)
	p.mu.Unlock()
	p.posted <- m
	return bot.MessageRef{Platform: p.name, Channel: ch, ID: id}, nil
}

func (p *recPlatform) Update(_ context.Context, ref bot.MessageRef, m bot.Message) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.updates[ref.ID] = append(p.updates[ref.ID], m)
	return nil
}

func (p *recPlatform) counts() (posts, updates int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, u := range p.updates {
		updates += len(u)
	}
	return len(p.posts), updates
}

func openStore(t *testing.T, path string) *store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func testApp() *blueprints.ResolvedApp {
	name := uniq("al")
	return &blueprints.ResolvedApp{
		Name: name, Region: "eu-west-1", Channels: []string{"test:ops"},
		AlarmPrefixes: []string{name + "-web-"},
		Remediations: []blueprints.ResolvedRemediation{
			{Remediation: blueprints.Remediation{Alarm: "*-cpu-high", Tasks: []string{"restart-web"}}},
			{Remediation: blueprints.Remediation{Alarm: name + "-*", Tasks: []string{"mute-alarm"}, Params: map[string]string{"alarm": "{alarm}", "duration": "1h"}}},
		},
	}
}

func newWatcher(t *testing.T, app *blueprints.ResolvedApp, st State, p bot.Platform) *Watcher {
	t.Helper()
	w, err := New(Options{
		Apps:      []*blueprints.ResolvedApp{app},
		Clients:   func(context.Context, *blueprints.ResolvedApp) (CloudWatchAPI, error) { return cw(), nil },
		State:     st,
		Platforms: map[string]bot.Platform{p.Name(): p},
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func seedAlarm(t *testing.T, name, state string) {
	t.Helper()
	if err := emu.SeedAlarm(context.Background(), emulator.Alarm{Name: name, Namespace: "AWS/EC2", Metric: "CPUUtilization",
		Threshold: 90, Period: 300, State: state}); err != nil {
		t.Fatal(err)
	}
}

func setState(t *testing.T, name, state, reason string) {
	t.Helper()
	if _, err := cw().SetAlarmState(context.Background(), &cloudwatch.SetAlarmStateInput{AlarmName: aws.String(name),
		StateValue: cwtypes.StateValue(state), StateReason: aws.String(reason)}); err != nil {
		t.Fatal(err)
	}
}

func poll(t *testing.T, w *Watcher) {
	t.Helper()
	if err := w.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestAlertLifecycle(t *testing.T) {
	app := testApp()
	alarm := app.Name + "-web-cpu-high"
	seedAlarm(t, alarm, "OK")
	p := newRec("test")
	w := newWatcher(t, app, openStore(t, filepath.Join(t.TempDir(), "a.db")), p)

	poll(t, w)
	if posts, _ := p.counts(); posts != 0 {
		t.Fatalf("an OK alarm was posted")
	}
	setState(t, alarm, "ALARM", "Threshold Crossed: 1 datapoint [97.5] was greater than the threshold (90.0).")
	poll(t, w)
	poll(t, w) // unchanged: nothing more
	posts, updates := p.counts()
	if posts != 1 || updates != 0 {
		t.Fatalf("posts %d updates %d, want 1 0", posts, updates)
	}
	m := p.posts[0]
	if m.Tone != bot.ToneDanger || !strings.Contains(m.Title, alarm) || !strings.Contains(m.Text, "97.5") {
		t.Errorf("alert = %+v", m)
	}
	if len(m.Buttons) != 2 || m.Buttons[0].Label != "restart-web" || m.Buttons[1].Label != "mute-alarm" ||
		!strings.HasPrefix(m.Buttons[0].ID, "ra:") || !strings.HasSuffix(m.Buttons[0].ID, ":0") ||
		m.Buttons[1].ID != strings.TrimSuffix(m.Buttons[0].ID, "0")+"1" {
		t.Errorf("buttons = %+v, want restart-web ra:ID:0 and mute-alarm ra:ID:1", m.Buttons)
	}
	ctx := strings.Join(m.Context, "\n")
	for _, want := range []string{
		"mute-alarm runs `" + app.Name + " mute-alarm alarm=" + alarm + " duration=1h`",
		"https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#alarmsV2:alarm/" + alarm,
	} {
		if !strings.Contains(ctx, want) {
			t.Errorf("context %q lacks %q", ctx, want)
		}
	}

	setState(t, alarm, "OK", "Threshold Crossed: back below")
	poll(t, w)
	posts, updates = p.counts()
	if posts != 1 || updates != 1 {
		t.Fatalf("after OK: posts %d updates %d, want 1 1", posts, updates)
	}
	u := p.updates["test-1"]
	if len(u) != 1 || !strings.HasPrefix(u[0].Title, "OK — ") || len(u[0].Buttons) != 0 || u[0].Tone != bot.ToneSuccess {
		t.Errorf("resolved update = %+v", u)
	}
	// ALARM again is a new alert.
	setState(t, alarm, "ALARM", "again")
	poll(t, w)
	if posts, _ := p.counts(); posts != 2 {
		t.Errorf("second ALARM: posts %d, want 2", posts)
	}
}

// TestAlertDedupeAcrossRestart: a new watcher on the same database (a
// restarted process) neither reposts an alarm still in ALARM nor forgets
// which message to update when it clears.
func TestAlertDedupeAcrossRestart(t *testing.T) {
	app := testApp()
	alarm := app.Name + "-web-cpu-high"
	seedAlarm(t, alarm, "ALARM")
	path := filepath.Join(t.TempDir(), "a.db")

	st1, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	p1 := newRec("test")
	poll(t, newWatcher(t, app, st1, p1))
	if posts, _ := p1.counts(); posts != 1 {
		t.Fatalf("first process posted %d, want 1", posts)
	}
	if err := st1.Close(); err != nil {
		t.Fatal(err)
	}

	p2 := newRec("test")
	w2 := newWatcher(t, app, openStore(t, path), p2)
	poll(t, w2)
	if posts, _ := p2.counts(); posts != 0 {
		t.Fatalf("restarted process reposted %d alerts", posts)
	}
	setState(t, alarm, "OK", "recovered")
	poll(t, w2)
	if len(p2.updates["test-1"]) != 1 {
		t.Errorf("restarted process did not update the first process's message: %+v", p2.updates)
	}
}

// TestAlertsPaginatePast50: DescribeAlarms pages (the emulator, like AWS,
// holds back alarms past the page) are all read.
func TestAlertsPaginatePast50(t *testing.T) {
	app := testApp()
	for i := range 130 {
		state := "OK"
		if i%2 == 0 {
			state = "ALARM"
		}
		seedAlarm(t, fmt.Sprintf("%s-web-%03d", app.Name, i), state)
	}
	p := newRec("test")
	w := newWatcher(t, app, openStore(t, filepath.Join(t.TempDir(), "a.db")), p)
	before := emu.Count("monitoring:DescribeAlarms")
	poll(t, w)
	if posts, _ := p.counts(); posts != 65 {
		t.Errorf("posted %d alerts, want 65", posts)
	}
	if got := emu.Count("monitoring:DescribeAlarms") - before; got != 2 {
		t.Errorf("DescribeAlarms calls = %d, want 2", got)
	}
}

// TestWatcherLoop: the loop polls at start and on every tick of the
// injected clock, and stops with its context.
func TestWatcherLoop(t *testing.T) {
	app := testApp()
	alarm := app.Name + "-web-cpu-high"
	seedAlarm(t, alarm, "ALARM")
	p := newRec("test")
	clk := clocktest.New(time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC))
	parked := clk.Parked()
	w, err := New(Options{
		Apps:      []*blueprints.ResolvedApp{app},
		Clients:   func(context.Context, *blueprints.ResolvedApp) (CloudWatchAPI, error) { return cw(), nil },
		State:     openStore(t, filepath.Join(t.TempDir(), "a.db")),
		Platforms: map[string]bot.Platform{"test": p},
		Clock:     clk, Every: 30 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w.Start(ctx)
	<-p.posted // first poll at start
	<-parked   // waiting for the next tick
	second := app.Name + "-web-disk-full"
	seedAlarm(t, second, "ALARM")
	clk.Advance(30 * time.Second)
	if m := <-p.posted; !strings.Contains(m.Title, second) {
		t.Errorf("second poll posted %q", m.Title)
	}
	<-parked // waiting again
	cancel()
	w.Wait()
	if posts, _ := p.counts(); posts != 2 {
		t.Errorf("posts = %d, want 2", posts)
	}
}

// unsavedState cannot save alert actions.
type unsavedState struct{ *store.Store }

func (unsavedState) SaveAlertActions(context.Context, string, string, []store.AlertAction) (string, error) {
	return "", errors.New("disk full")
}

// TestAlertWhenActionsCannotBeSaved: the alert is still posted, with an
// "rm:" button for what needs no values and the rest as commands to type.
func TestAlertWhenActionsCannotBeSaved(t *testing.T) {
	app := testApp()
	alarm := app.Name + "-web-cpu-high"
	seedAlarm(t, alarm, "ALARM")
	p := newRec("test")
	poll(t, newWatcher(t, app, unsavedState{openStore(t, filepath.Join(t.TempDir(), "a.db"))}, p))
	if len(p.posts) != 1 {
		t.Fatalf("posts = %+v", p.posts)
	}
	m := p.posts[0]
	if len(m.Buttons) != 1 || m.Buttons[0].ID != "rm:"+app.Name+":restart-web" {
		t.Errorf("buttons = %+v, want one rm:%s:restart-web", m.Buttons, app.Name)
	}
	if ctx := strings.Join(m.Context, "\n"); !strings.Contains(ctx, "also: `"+app.Name+" mute-alarm alarm="+alarm+" duration=1h`") {
		t.Errorf("context %q lacks the command to type", ctx)
	}
}
