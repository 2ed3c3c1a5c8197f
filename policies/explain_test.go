package policies

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// TestExplanationsGolden pins the wording people see from `why`: every
// decision kind, and near misses for each condition.
func TestExplanationsGolden(t *testing.T) {
	rs, err := Compile(fixture())
	if err != nil {
		t.Fatal(err)
	}
	mon := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	sat := time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC)
	cases := []struct {
		name string
		req  Request
		use  Usage
	}{
		{"allow", Request{Principal: "slack:U2", Handle: "bob", Groups: []string{"ops"}, App: "shop", Task: "restart-web", Mutating: true, Time: mon}, nil},
		{"approve", Request{Principal: "slack:U2", Handle: "bob", Groups: []string{"dev"}, App: "shop", Task: "scale", Mutating: true,
			Params: map[string]string{"desired": "8"}, Time: mon}, nil},
		{"deny rule", Request{Principal: "slack:U2", Handle: "bob", Groups: []string{"ops"}, App: "audit", Task: "delete-trail", Mutating: true, Time: mon}, nil},
		{"rate limit", Request{Principal: "slack:U3", Handle: "carol", Groups: []string{"researchers"}, App: "datalake", Task: "reset-bucket-access",
			Mutating: true, Params: map[string]string{"bucket": "research-carol-1"}, Time: mon}, usageMap{"researcher-reset": 7}},
		{"rate limit, another rule allows", Request{Principal: "slack:U2", Handle: "bob", Groups: []string{"dev"}, App: "ci", Task: "restart",
			Mutating: true, Time: mon}, usageMap{"ci-restart-limited": 5}},
		{"rate limit, next limited rule allows", Request{Principal: "slack:U2", Handle: "bob", Groups: []string{"dev"}, App: "ci", Task: "purge",
			Mutating: true, Time: mon}, usageMap{"ci-purge-first": 1}},
		{"freeze", Request{Principal: "slack:U2", Handle: "bob", Groups: []string{"ops"}, App: "shop", Task: "restart-web", Mutating: true, Time: mon,
			Freeze: &Freeze{Reason: "release 4.2", By: "dave", Until: mon.Add(3 * time.Hour)}}, nil},
		{"near miss mutating", Request{Principal: "slack:U2", Handle: "bob", Groups: []string{"dev"}, App: "shop", Task: "restart-web", Mutating: true, Time: mon}, nil},
		{"near miss subject", Request{Principal: "slack:U2", Handle: "bob", App: "shop", Task: "restart-web", Mutating: true, Time: mon}, nil},
		{"near miss param", Request{Principal: "slack:U2", Handle: "bob", Groups: []string{"dev"}, App: "shop", Task: "resize-db", Mutating: true,
			Params: map[string]string{"size": "xlarge"}, Time: mon}, nil},
		{"near miss placeholder", Request{Principal: "slack:U3", Handle: "carol", Groups: []string{"researchers"}, App: "datalake",
			Task: "reset-bucket-access", Mutating: true, Params: map[string]string{"bucket": "research-dave-1"}, Time: mon}, nil},
		{"near miss window", Request{Principal: "slack:U3", Handle: "carol", App: "billing", Task: "restart-api", Mutating: true, Time: sat}, nil},
		{"near miss channel", Request{Principal: "slack:U1", App: "web-shop", Task: "flush-cache", Channel: "slack:CRANDOM", Time: mon}, nil},
		{"near miss two conditions", Request{Principal: "slack:U1", Handle: "erin", App: "billing", Task: "run-batch", Time: mon}, nil},
		{"no rule for app", Request{Principal: "shell:alice", App: "nothing", Task: "status", Time: mon}, nil},
	}
	var b strings.Builder
	for _, c := range cases {
		d := rs.Evaluate(c.req, c.use)
		fmt.Fprintf(&b, "## %s\neffect: %s\nrule: %s\nreason: %s\n", c.name, d.Effect, d.Rule, d.Reason)
		if d.NearMiss != "" {
			fmt.Fprintf(&b, "near miss: %s\n", d.NearMiss)
		}
		if d.Effect == Approve {
			fmt.Fprintf(&b, "approvers: %s quorum: %d expiry: %s\n", strings.Join(d.Approvers, ","), d.Quorum, d.Expiry)
		}
		if d.RateRule != "" {
			fmt.Fprintf(&b, "record use of: %s\n", d.RateRule)
		}
		b.WriteByte('\n')
	}
	golden(t, "explain.golden", b.String())
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run go test -update): %v", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (run go test -update and review):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}
