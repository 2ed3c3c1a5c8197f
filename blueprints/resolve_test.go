package blueprints

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/tasks"
)

func resolveShop(t *testing.T) *ResolvedApp {
	t.Helper()
	c, cat := loadConfig(t)
	ra, err := ResolveApp(cat, "shop", c.Apps["shop"])
	if err != nil {
		t.Fatal(err)
	}
	return ra
}

func TestResolveAppBindingsAndPlaceholders(t *testing.T) {
	ra := resolveShop(t)
	if !reflect.DeepEqual(ra.Blueprints, []string{"ec2-web", "rds", "cloudwatch-alarms"}) {
		t.Errorf("Blueprints = %v", ra.Blueprints)
	}
	for _, tc := range []struct {
		task string
		want tasks.Selector
	}{
		// Bound by the app.
		{"restart-web", tasks.Selector{Type: "ec2:instance", Tags: map[string]string{"app": "shop", "tier": "web"}}},
		{"snapshot-db", tasks.Selector{Type: "rds:db-instance", IDs: []string{"shop-db"}}},
		// Blueprint defaults with {app} replaced.
		{"target-health", tasks.Selector{Type: "elbv2:target-group", Tags: map[string]string{"app": "shop"}}},
		{"mute-alarm", tasks.Selector{Type: "cloudwatch:alarm", Names: []string{"shop-*"}}},
	} {
		rt, err := ra.Task(tc.task)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(rt.Target, tc.want) {
			t.Errorf("%s target = %+v, want %+v", tc.task, rt.Target, tc.want)
		}
	}
	if got := ra.AlarmPrefixes; !reflect.DeepEqual(got, []string{"shop-web-", "shop-db-", "shop-"}) {
		t.Errorf("AlarmPrefixes = %v", got)
	}
	if !ra.OwnsAlarm("shop-web-cpu-high") || ra.OwnsAlarm("lab-s3-public") {
		t.Error("OwnsAlarm does not follow the prefixes")
	}
	var cpu ResolvedMetric
	for _, m := range ra.Metrics {
		if m.Blueprint == "ec2-web" && m.Name == "cpu" {
			cpu = m
		}
	}
	if cpu.Dimension != "InstanceId" || cpu.Select.Tags["tier"] != "web" {
		t.Errorf("ec2-web cpu metric = %+v, want InstanceId over the bound instances", cpu)
	}
}

func TestResolveSchedules(t *testing.T) {
	ra := resolveShop(t)
	got := map[string]ResolvedSchedule{}
	var keys []string
	for _, s := range ra.Schedules {
		got[s.Name] = s
		keys = append(keys, s.Key)
	}
	// morning-digest is in ec2-web and rds: identical, so one schedule.
	want := []string{"shop/morning-digest", "shop/alarms-firing", "shop/nightly-snapshot", "shop/weekly-reboot"}
	if !reflect.DeepEqual(keys, want) {
		t.Fatalf("schedule keys = %v, want %v", keys, want)
	}
	if s := got["nightly-snapshot"]; s.Blueprint != "" || s.Cron != "30 3 * * *" || s.Params["label"] != "late" {
		t.Errorf("nightly-snapshot not overridden by the app: %+v", s)
	}
	if _, ok := got["target-health-check"]; ok {
		t.Error("disabled schedule target-health-check still scheduled")
	}
}

// Opt-in schedules run only for an app that enables them.
func TestResolveOptInSchedules(t *testing.T) {
	c, cat := loadConfig(t)
	app := c.Apps["shop"]
	app.Schedules.Enabled = []string{"office-hours-stop"}
	ra, err := ResolveApp(cat, "shop", app)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, s := range ra.Schedules {
		keys = append(keys, s.Key)
	}
	if !slices.Contains(keys, "shop/office-hours-stop") || slices.Contains(keys, "shop/office-hours-start") {
		t.Fatalf("schedule keys = %v", keys)
	}
}

func TestResolvedTaskAndValues(t *testing.T) {
	ra := resolveShop(t)
	_, err := ra.Task("restrat-web")
	if msg, _ := errs.Render(err); !errs.Is(errs.NotFound, err) || !strings.HasPrefix(msg, `app shop has no task "restrat-web"; did you mean "restart-web"?; tasks: change-type, create-ami, describe-db, describe-web,`) {
		t.Fatalf("Task(typo) = %v", err)
	}
	rt, err := ra.Task("restart-web")
	if err != nil {
		t.Fatal(err)
	}
	vals, err := rt.Values(map[string]string{"batch": "3"})
	if err != nil || vals["batch"] != int64(3) {
		t.Fatalf("Values = %v, %v", vals, err)
	}
	_, err = rt.Values(map[string]string{"batch": "12"})
	if msg, _ := errs.Render(err); !errs.Is(errs.Invalid, err) || msg != "batch must be between 1 and 4, got 12" {
		t.Fatalf("Values(out of bounds) = %v", err)
	}
}

func TestRemediationsFor(t *testing.T) {
	ra := resolveShop(t)
	got := ra.RemediationsFor("shop-web-cpu-high")
	want := []Suggestion{
		{Task: "restart-web"},
		{Task: "mute-alarm", Params: map[string]string{"alarm": "shop-web-cpu-high", "duration": "1h"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("RemediationsFor = %+v, want %+v", got, want)
	}
	if got := ra.RemediationsFor("other-app/cpu"); len(got) != 0 {
		t.Errorf("unrelated alarm got %+v", got)
	}
}

func TestResolveAppErrors(t *testing.T) {
	cat, err := Library()
	if err != nil {
		t.Fatal(err)
	}
	_, err = ResolveApp(cat, "x", App{Blueprints: []string{"rdss"}})
	if err == nil || !strings.Contains(err.Error(), `apps.x.blueprints[0]: unknown blueprint "rdss"`) {
		t.Fatalf("ResolveApp unknown blueprint = %v", err)
	}
	_, err = ResolveApp(cat, "x", App{Blueprints: []string{"rds"}, Bindings: map[string]Binding{"dbs": {Selector: tasks.Selector{IDs: []string{"a"}}}}})
	if err == nil || !strings.Contains(err.Error(), `apps.x.bindings.dbs: unknown resource "dbs"; blueprint rds has: db; did you mean "db"?`) {
		t.Fatalf("ResolveApp unknown binding = %v", err)
	}
}

func TestGlobMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, s string
		want       bool
	}{
		{"*-cpu-high", "shop-web-cpu-high", true},
		{"*-cpu-high", "shop/web-cpu-high", true},
		{"shop-*", "shop-", true},
		{"shop-?", "shop-ab", false},
		{"a.b", "axb", false},
		{"*-s3-public*", "lab-s3-public-read", true},
	} {
		if got := globMatch(tc.pattern, tc.s); got != tc.want {
			t.Errorf("globMatch(%q, %q) = %v", tc.pattern, tc.s, got)
		}
	}
}

func TestMetricLevel(t *testing.T) {
	above := Metric{Warn: fp(70), Critical: fp(90)}
	below := Metric{Comparison: "below", Warn: fp(10), Critical: fp(2)}
	for _, tc := range []struct {
		m    Metric
		v    float64
		want string
	}{
		{above, 50, "ok"}, {above, 70, "warn"}, {above, 95, "critical"},
		{below, 50, "ok"}, {below, 5, "warn"}, {below, 1, "critical"},
		{Metric{Critical: fp(1)}, 0, "ok"}, {Metric{Critical: fp(1)}, 1, "critical"},
	} {
		if got := tc.m.Level(tc.v); got != tc.want {
			t.Errorf("Level(%v) = %s, want %s", tc.v, got, tc.want)
		}
	}
}

func TestAppAlarmPrefixesAddToBlueprints(t *testing.T) {
	c, cat := loadConfig(t)
	app := c.Apps["shop"]
	app.AlarmPrefixes = []string{"legacy-shop-", "shop-web-"} // the second is the blueprint's own: not repeated
	ra, err := ResolveApp(cat, "shop", app)
	if err != nil {
		t.Fatal(err)
	}
	if !ra.OwnsAlarm("legacy-shop-cpu-high") || !ra.OwnsAlarm("shop-web-cpu-high") || ra.OwnsAlarm("other-cpu-high") {
		t.Fatalf("prefixes %v", ra.AlarmPrefixes)
	}
	n := 0
	for _, p := range ra.AlarmPrefixes {
		if p == "shop-web-" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("shop-web- listed %d times in %v", n, ra.AlarmPrefixes)
	}
}
