package digest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/day2bot/day2bot/blueprints"
	"github.com/day2bot/day2bot/internal/clocktest"
	"github.com/day2bot/day2bot/policies/store"
	"github.com/day2bot/day2bot/policies/store/sqlite"
	"github.com/day2bot/day2bot/tasks"
	awsactions "github.com/day2bot/day2bot/tasks/aws"
	"github.com/day2bot/day2bot/tasks/emulator"
)

var emu *emulator.Server

func TestMain(m *testing.M) {
	emu = emulator.New()
	code := m.Run()
	emu.Close()
	os.Exit(code)
}

func testConfig() aws.Config {
	return emu.ClientConfig("us-east-1", "AKIDDIGEST")
}

var uniqSeq atomic.Int64

// uniq returns a name unique in this process (kumo's state is global).
func uniq(prefix string) string { return fmt.Sprintf("%s%d", prefix, uniqSeq.Add(1)) }

// testClients are the production clients on the emulator, selecting with
// the tasks' code as cmd/day2bot wires them.
func testClients() Clients {
	c := SDKClients(testConfig())
	c.Count = func(ctx context.Context, sel tasks.Selector) ([]tasks.Member, bool, error) {
		return awsactions.Count(ctx, testConfig(), sel)
	}
	c.Members = func(ctx context.Context, sel tasks.Selector) ([]string, bool, error) {
		return awsactions.Members(ctx, testConfig(), sel)
	}
	return c
}

func openStore(t testing.TB, now func() time.Time) *store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "d.db"), store.WithClock(now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newBuilder(t testing.TB, j Journal, now func() time.Time, mod func(*Options)) *Builder {
	t.Helper()
	o := Options{
		Clients: func(context.Context, *blueprints.ResolvedApp) (Clients, error) { return testClients(), nil },
		Journal: j, Clock: now,
	}
	if mod != nil {
		mod(&o)
	}
	b, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func f64(v float64) *float64 { return &v }

// webApp is an app with n tagged instances and the given number of
// instance metrics (distinct CloudWatch metric names).
func webApp(t testing.TB, n, metrics int) *blueprints.ResolvedApp {
	t.Helper()
	name := uniq("dg")
	if n > 0 {
		if _, err := emu.SeedInstances(context.Background(), n, emulator.InstanceSpec{Tags: map[string]string{"app": name, "tier": "web"}}); err != nil {
			t.Fatal(err)
		}
	}
	sel := tasks.Selector{Type: "ec2:instance", Tags: map[string]string{"app": name, "tier": "web"}}
	app := &blueprints.ResolvedApp{
		Name: name, Region: "us-east-1",
		Resources:     map[string]blueprints.ResolvedResource{"instances": {Name: "instances", Select: sel}},
		AlarmPrefixes: []string{name + "-web-"},
	}
	for i := range metrics {
		m := blueprints.Metric{Name: fmt.Sprintf("metric-%d", i), Namespace: "AWS/EC2", Metric: fmt.Sprintf("Metric%d", i),
			Resource: "instances", Stat: "Average", Period: 5 * time.Minute, Unit: "Percent", Warn: f64(70), Critical: f64(90)}
		if i == 0 {
			m.Name, m.Metric = "cpu", "CPUUtilization"
		}
		app.Metrics = append(app.Metrics, blueprints.ResolvedMetric{Metric: m, Select: sel})
	}
	return app
}

// TestDigestCallBudget is the budget: 1,000 instances and 10
// metrics take one DescribeInstances and at most 20 GetMetricData calls,
// as counted by the emulator.
func TestDigestCallBudget(t *testing.T) {
	ctx := context.Background()
	app := webApp(t, 1000, 10)
	// 60 firing alarms: more than CloudWatch's default page of 50.
	for i := range 60 {
		if err := emu.SeedAlarm(ctx, emulator.Alarm{Name: fmt.Sprintf("%s%02d", app.AlarmPrefixes[0], i), Namespace: "AWS/EC2",
			Metric: "CPUUtilization", Threshold: 90, State: "ALARM"}); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	b := newBuilder(t, openStore(t, func() time.Time { return now }), func() time.Time { return now }, nil)

	di, gm := emu.Count("ec2:DescribeInstances"), emu.Count("monitoring:GetMetricData")
	r, err := b.Build(ctx, app)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Problems) > 0 {
		t.Fatalf("problems: %v", r.Problems)
	}
	if got := emu.Count("ec2:DescribeInstances") - di; got != 1 {
		t.Errorf("DescribeInstances calls = %d, want 1", got)
	}
	if got := emu.Count("monitoring:GetMetricData") - gm; got > 20 || got == 0 {
		t.Errorf("GetMetricData calls = %d, want 1..20", got)
	}
	if len(r.Alarms) != 60 {
		t.Errorf("alarms in ALARM = %d, want 60 (past one default page)", len(r.Alarms))
	}
	if len(r.Resources) != 1 || r.Resources[0].Expected != 1000 || r.Resources[0].Up != 1000 {
		t.Errorf("resources = %+v, want 1000/1000 up", r.Resources)
	}
	if len(r.Metrics) != 10 {
		t.Fatalf("metrics = %d, want 10", len(r.Metrics))
	}
	for _, m := range r.Metrics {
		if m.Resources != 1000 || m.Level == "" || len(m.Series) == 0 {
			t.Errorf("metric %s: %d resources, level %q, %d points", m.Name, m.Resources, m.Level, len(m.Series))
		}
		if n := len(m.Series); n > maxPointsPerQuery {
			t.Errorf("metric %s: %d points, want <= %d", m.Name, n, maxPointsPerQuery)
		}
	}
	// Every call stayed within AWS's per-call limits (the emulator enforces
	// them too; this says how the budget was spent).
	for _, req := range emu.Requests("monitoring:GetMetricData")[gm:] {
		if len(req.Body) == 0 {
			t.Errorf("empty GetMetricData request")
		}
	}
}

func TestDigestLevelsFromPinnedMetrics(t *testing.T) {
	ctx := context.Background()
	app := webApp(t, 3, 1)
	ids := instanceIDs(t, app)
	for i, v := range []float64{20, 75, 95} {
		if err := emu.SetMetric(ctx, "AWS/EC2", "CPUUtilization", map[string]string{"InstanceId": ids[i]}, v); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	b := newBuilder(t, openStore(t, func() time.Time { return now }), func() time.Time { return now }, nil)
	r, err := b.Build(ctx, app)
	if err != nil {
		t.Fatal(err)
	}
	m := r.Metrics[0]
	if m.Level != "critical" || m.Worst != 95 || m.WorstID != ids[2] || m.Warn != 1 || m.Crit != 1 {
		t.Errorf("cpu summary = level %s worst %v (%s) warn %d crit %d; want critical 95 (%s) 1 1", m.Level, m.Worst, m.WorstID, m.Warn, m.Crit, ids[2])
	}
	if want := (20.0 + 75 + 95) / 3; m.Mean != want {
		t.Errorf("mean = %v, want %v", m.Mean, want)
	}
	if m.Period != 15*time.Minute {
		t.Errorf("period for 24h = %v, want 15m", m.Period)
	}
}

func instanceIDs(t *testing.T, app *blueprints.ResolvedApp) []string {
	t.Helper()
	_, ids, err := collectResources(context.Background(), testClients(), app)
	if err != nil {
		t.Fatal(err)
	}
	return ids.ids["instances"]
}

// TestFiringAlarmsPaginate seeds more alarms in ALARM than one page holds
// (CloudWatch's default page is 50, ours 100) and expects them all.
func TestFiringAlarmsPaginate(t *testing.T) {
	ctx := context.Background()
	prefix := uniq("al") + "-web-"
	for i := range 130 {
		state := "ALARM"
		if i%10 == 9 {
			state = "OK"
		}
		if err := emu.SeedAlarm(ctx, emulator.Alarm{Name: fmt.Sprintf("%s%03d", prefix, i), Namespace: "AWS/EC2", Metric: "CPUUtilization", Threshold: 90, State: state}); err != nil {
			t.Fatal(err)
		}
	}
	// An alarm of another app with a longer name must not leak in.
	if err := emu.SeedAlarm(ctx, emulator.Alarm{Name: "x" + prefix + "000", Namespace: "AWS/EC2", Metric: "CPUUtilization", Threshold: 90, State: "ALARM"}); err != nil {
		t.Fatal(err)
	}
	before := emu.Count("monitoring:DescribeAlarms")
	as, err := firingAlarms(ctx, SDKClients(testConfig()).CloudWatch, []string{prefix})
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 117 {
		t.Errorf("firing = %d, want 117", len(as))
	}
	if got := emu.Count("monitoring:DescribeAlarms") - before; got != 2 {
		t.Errorf("DescribeAlarms calls = %d, want 2 pages of up to 100", got)
	}
	for _, a := range as {
		if !strings.HasPrefix(a.Name, prefix) || a.Reason == "" {
			t.Errorf("alarm %+v", a)
		}
	}
}

func TestDigestJournal(t *testing.T) {
	ctx := context.Background()
	clk := clocktest.New(time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC))
	st := openStore(t, clk.Now)
	app := webApp(t, 0, 0)
	for i, state := range []store.State{store.Succeeded, store.Failed, store.Interrupted} {
		r, err := st.CreateRun(ctx, store.Run{App: app.Name, Task: fmt.Sprintf("task-%d", i), Principal: "scheduler:" + app.Name, State: store.Queued})
		if err != nil {
			t.Fatal(err)
		}
		if err := st.TransitionRun(ctx, r.ID, store.Queued, store.Running, ""); err != nil {
			t.Fatal(err)
		}
		if err := st.FinishRun(ctx, r.ID, state, "done", ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.CreateApproval(ctx, store.ApprovalRequest{App: app.Name, Task: "restart-web", Requester: "slack:U1", RequesterHandle: "bob",
		Approvers: []string{"group:ops"}, Quorum: 1, ExpiresAt: clk.Now().Add(time.Hour), Platform: "slack", Channel: "C1"}); err != nil {
		t.Fatal(err)
	}
	clk.Set(clk.Now().Add(2 * time.Hour))
	r, err := newBuilder(t, st, clk.Now, nil).Build(ctx, app)
	if err != nil {
		t.Fatal(err)
	}
	if r.Failures != 2 || len(r.Runs) != 3 || len(r.Pending) != 1 {
		t.Errorf("failures %d runs %d pending %d; want 2 3 1", r.Failures, len(r.Runs), len(r.Pending))
	}
}
