package policies

import (
	"os"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
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

	tue := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	carol := Request{Principal: "slack:U01CAROL", Handle: "carol", Groups: []string{"researchers"}, App: "datalake",
		Task: "reset-bucket-access", Mutating: true, Time: tue}
	grace := Request{Principal: "slack:U05GRACE", Handle: "grace", Groups: []string{"ops", "sre"}, App: "shop", Mutating: true, Time: tue}
	tests := []struct {
		name   string
		req    Request
		effect Effect
		rule   string
	}{
		{"researcher own bucket", with(carol, func(r *Request) { r.Params = map[string]string{"bucket": "research-carol-genomics"} }),
			Allow, "researcher-reset-own-bucket"},
		{"researcher other bucket", with(carol, func(r *Request) { r.Params = map[string]string{"bucket": "research-erin-genomics"} }),
			Deny, ""},
		{"ops may not delete the trail", with(grace, func(r *Request) { r.Task = "delete-trail" }), Deny, "no-cloudtrail-delete"},
		{"trail on any app", with(grace, func(r *Request) { r.App, r.Task = "audit", "cloudtrail-delete-trail" }), Deny, "no-cloudtrail-delete"},
		{"operators tune alarms", Request{Principal: "slack:U04FRANK", Handle: "frank", App: "billing", Task: "set-alarm-threshold",
			Mutating: true, Params: map[string]string{"threshold": "90", "periods": "3", "statistic": "p99"}, Time: tue},
			Allow, "operators-tune-alarms"},
		{"alarm threshold out of bounds", Request{Principal: "slack:U04FRANK", Handle: "frank", App: "billing", Task: "set-alarm-threshold",
			Mutating: true, Params: map[string]string{"threshold": "100", "periods": "3", "statistic": "p99"}, Time: tue},
			Deny, ""},
		{"big scale needs approval", Request{Principal: "slack:U02DAVE", Handle: "dave", Groups: []string{"dev"}, App: "shop",
			Task: "scale", Mutating: true, Params: map[string]string{"desired": "6"}, Time: tue}, Approve, "dev-scale-big"},
	}
	for _, tt := range tests {
		d := rs.Evaluate(tt.req, nil)
		if d.Effect != tt.effect || d.Rule != tt.rule {
			t.Errorf("%s: got %s by %q (%s; %s)", tt.name, d.Effect, d.Rule, d.Reason, d.NearMiss)
		}
	}
}

func with(r Request, f func(*Request)) Request {
	f(&r)
	return r
}
