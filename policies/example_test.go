package policies

import (
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/day2bot/day2bot/blueprints"
	"github.com/day2bot/day2bot/tasks"
)

// TestExampleFile keeps docs/policies.example.yaml valid and checks that its
// headline rules decide what its comments promise.
func TestExampleFile(t *testing.T) {
	data, err := os.ReadFile("../docs/policies.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var f File
	if err := yaml.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	if err := ValidateFile(f); err != nil {
		t.Fatal(err)
	}
	rs, err := Compile(f.Rules)
	if err != nil {
		t.Fatal(err)
	}
	// Every field of Rule is used somewhere in the example.
	used := map[string]bool{}
	for _, r := range f.Rules {
		used["description"] = used["description"] || r.Description != ""
		used["apps"] = used["apps"] || len(r.Apps) > 0
		used["tasks"] = used["tasks"] || len(r.Tasks) > 0
		used["mutating"] = used["mutating"] || r.Mutating != nil
		used["params"] = used["params"] || len(r.Params) > 0
		used["channels"] = used["channels"] || len(r.Channels) > 0
		used["window"] = used["window"] || r.Window != ""
		used["rate"] = used["rate"] || r.Rate != ""
		used["approvers"] = used["approvers"] || len(r.Approvers) > 0
		used["expiry"] = used["expiry"] || r.Expiry != ""
		used[string(r.Effect)] = true
		for _, s := range r.Subjects {
			used[strings.SplitN(s, ":", 2)[0]] = true
		}
	}
	for _, k := range []string{"description", "apps", "tasks", "mutating", "params", "channels", "window", "rate",
		"approvers", "expiry", "allow", "deny", "approve", "user", "group", "owner", "*"} {
		if !used[k] {
			t.Errorf("example does not use %s", k)
		}
	}

	tue := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC) // 11:00 in Berlin
	sat := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	carol := Request{Principal: "slack:U01CAROL", Handle: "carol", Groups: []string{"researchers"}, App: "research",
		Task: "grant-read", Mutating: true, Time: tue}
	grace := Request{Principal: "slack:U05GRACE", Handle: "grace", Groups: []string{"shop-ops", "sre"}, App: "shop", Mutating: true, Time: tue}
	dave := Request{Principal: "slack:U02DAVE", Handle: "dave", Groups: []string{"dev"}, App: "shop", Task: "restart-web",
		Mutating: true, Channel: "slack:C0123456789", Time: tue}
	frank := Request{Principal: "slack:U04FRANK", Handle: "frank", Groups: []string{"sre", "research-admins"}, Mutating: true, Time: tue}
	scheduler := Request{Principal: "scheduler:shop", App: "shop", Task: "snapshot-db", Mutating: true,
		Params: map[string]string{"label": "nightly"}, Time: time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC)}
	params := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name   string
		req    Request
		effect Effect
		rule   string
	}{
		{"researcher own bucket", with(carol, func(r *Request) { r.Params = params("bucket", "research-carol-genomics") }),
			Allow, "researcher-own-bucket"},
		{"researcher revokes on own bucket", with(carol, func(r *Request) {
			r.Task, r.Params = "revoke-access", params("bucket", "research-carol-genomics", "principal", "arn:aws:iam::123456789012:role/x")
		}), Allow, "researcher-own-bucket"},
		{"researcher other bucket", with(carol, func(r *Request) { r.Params = params("bucket", "research-erin-genomics") }),
			Deny, ""},
		{"ops may not delete the trail", with(grace, func(r *Request) { r.Task = "delete-trail" }), Deny, "no-cloudtrail-delete"},
		{"trail on any app", with(grace, func(r *Request) { r.App, r.Task = "audit", "cloudtrail-delete-trail" }), Deny, "no-cloudtrail-delete"},
		{"shop ops run any shop task", with(grace, func(r *Request) { r.Task = "stop-db" }), Allow, "shop-ops-run-shop"},
		{"interns only read shop", Request{Principal: "slack:U09INTERN", Groups: []string{"interns"}, App: "shop", Task: "restart-web",
			Mutating: true, Time: tue}, Deny, "interns-no-shop-writes"},
		{"owner restarts", Request{Principal: "slack:U00ALICE", Handle: "alice", App: "shop", Owners: []string{"alice", "group:shop-ops"},
			Task: "restart-web", Mutating: true, Params: params("batch", "4"), Time: tue}, Allow, "owners-routine-tasks"},
		{"dev reads", with(dave, func(r *Request) { r.Task, r.Mutating = "describe-db", false }), Allow, "dev-read-only"},
		{"dev restarts two in office hours", with(dave, func(r *Request) { r.Params = params("batch", "2") }),
			Allow, "dev-restart-business-hours"},
		{"dev restart from another channel", with(dave, func(r *Request) { r.Params, r.Channel = params("batch", "2"), "slack:C0RANDOM" }),
			Deny, ""},
		{"dev restart after hours", with(dave, func(r *Request) {
			r.Params, r.Time = params("batch", "2"), time.Date(2026, 11, 24, 17, 0, 0, 0, time.UTC)
		}), Deny, ""},
		{"dev restarting many needs two SREs", with(dave, func(r *Request) { r.Params = params("batch", "3") }), Approve, "dev-restart-big"},
		{"dev snapshot labelled", with(dave, func(r *Request) { r.Task, r.Params = "snapshot-db", params("label", "pre-deploy") }),
			Allow, "dev-snapshot-labels"},
		{"dev snapshot other label", with(dave, func(r *Request) { r.Task, r.Params = "snapshot-db", params("label", "nightly") }),
			Deny, ""},
		{"no db changes on weekends", with(dave, func(r *Request) { r.Task, r.Params, r.Time = "snapshot-db", params("label", "manual"), sat }),
			Deny, "no-db-changes-on-weekends"},
		{"on-call principal restarts", with(frank, func(r *Request) { r.App, r.Task, r.Params = "shop", "restart-web", params("batch", "2") }),
			Allow, "oncall-restarts"},
		{"SRE grant needs a research admin", with(frank, func(r *Request) {
			r.App, r.Task, r.Params = "research", "grant-read", params("bucket", "research-carol-genomics")
		}), Approve, "sre-research-access"},
		{"nightly snapshot at night", scheduler, Allow, "scheduler-nightly-snapshots"},
		{"scheduler snapshot at noon", with(scheduler, func(r *Request) { r.Time = tue }), Deny, ""},
		{"weekend maintenance on Friday night", with(grace, func(r *Request) {
			r.Groups, r.Task, r.Time = nil, "stop-web", time.Date(2026, 11, 27, 23, 0, 0, 0, time.UTC)
		}), Allow, "weekend-maintenance"},
		{"no maintenance on Saturday night", with(grace, func(r *Request) {
			r.Groups, r.Task, r.Time = nil, "stop-web", time.Date(2026, 11, 28, 23, 0, 0, 0, time.UTC)
		}), Deny, ""},
	}
	for _, tt := range tests {
		d := rs.Evaluate(tt.req, nil)
		if d.Effect != tt.effect || d.Rule != tt.rule {
			t.Errorf("%s: got %s by %q (%s; %s)", tt.name, d.Effect, d.Rule, d.Reason, d.NearMiss)
		}
	}
}

// TestExampleNamesRealTasks keeps the example in step with
// day2bot.example.yaml and the embedded blueprints: every app and task it
// names literally exists, and every constrained parameter is a parameter of
// the tasks the rule covers.
func TestExampleNamesRealTasks(t *testing.T) {
	var f File
	readYAML(t, "../docs/policies.example.yaml", &f)
	var cfg struct {
		Apps map[string]struct {
			Blueprints []string `yaml:"blueprints"`
		} `yaml:"apps"`
	}
	readYAML(t, "../day2bot.example.yaml", &cfg)
	lib, err := blueprints.Library()
	if err != nil {
		t.Fatal(err)
	}
	appTasks := map[string]map[string]blueprints.Task{} // app -> task -> task
	for app, a := range cfg.Apps {
		appTasks[app] = map[string]blueprints.Task{}
		for _, name := range a.Blueprints {
			bp, err := lib.Lookup(name)
			if err != nil {
				t.Fatalf("day2bot.example.yaml app %s: %v", app, err)
			}
			maps.Copy(appTasks[app], bp.Tasks)
		}
	}
	matchesAny := func(pats []string, v string) bool {
		if len(pats) == 0 {
			return true
		}
		for _, p := range pats {
			if g, err := parseGlob(p, false); err == nil && g.match(v, "") {
				return true
			}
		}
		return false
	}
	for _, r := range f.Rules {
		for _, a := range r.Apps {
			if _, ok := appTasks[a]; !ok && !strings.ContainsAny(a, "*?") {
				t.Errorf("rule %s: no app %s in day2bot.example.yaml", r.ID, a)
			}
		}
		covered := 0
		for app, ts := range appTasks {
			if !matchesAny(r.Apps, app) {
				continue
			}
			for name, task := range ts {
				if !matchesAny(r.Tasks, name) {
					continue
				}
				covered++
				for p := range r.Params {
					if !slices.ContainsFunc(task.Params, func(tp tasks.Param) bool { return tp.Name == p }) {
						t.Errorf("rule %s: task %s of %s has no parameter %s", r.ID, name, app, p)
					}
				}
			}
		}
		for _, task := range r.Tasks {
			if strings.ContainsAny(task, "*?") {
				continue
			}
			found := false
			for app, ts := range appTasks {
				_, ok := ts[task]
				found = found || ok && matchesAny(r.Apps, app)
			}
			if !found {
				t.Errorf("rule %s: no app it covers has task %s", r.ID, task)
			}
		}
		if covered == 0 && r.ID != "no-cloudtrail-delete" {
			t.Errorf("rule %s covers no task of the example apps", r.ID)
		}
	}
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func with(r Request, f func(*Request)) Request {
	f(&r)
	return r
}
