package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/day2bot/day2bot/policies"
)

var updatePolicyTest = flag.Bool("update-policy-test", false, "rewrite testdata/policy-test.golden")

func TestPrintDecisionGolden(t *testing.T) {
	var buf bytes.Buffer
	for _, d := range []policies.Decision{
		{Effect: policies.Allow, Rule: "ops-restart", Reason: `allowed by rule "ops-restart"`},
		{Effect: policies.Approve, Rule: "scale", Reason: "needs 2 approvals", Approvers: []string{"group:sre", "owner"}, Quorum: 2, Expiry: 30 * time.Minute},
		{Effect: policies.Approve, Rule: "grant", Reason: "needs 1 approval", Approvers: []string{"group:data"}, Quorum: 1, Expiry: 24 * time.Hour},
		{Effect: policies.Deny, Reason: "shop is frozen", Frozen: true},
		{Effect: policies.Deny, Reason: "no rule allows carol to run shop/scale", NearMiss: `rule "dev-scale-small" almost matched: desired=9 is not between 1 4`},
	} {
		printDecision(&buf, d)
		buf.WriteString("--\n")
	}
	golden := filepath.Join("testdata", "policy-test.golden")
	if *updatePolicyTest {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update-policy-test)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("differs from %s (go test -update-policy-test rewrites it):\n%s", golden, buf.Bytes())
	}
}

func TestShortDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		30 * time.Minute:                   "30m",
		2 * time.Hour:                      "2h",
		24 * time.Hour:                     "24h",
		90 * time.Minute:                   "1h30m",
		90 * time.Second:                   "1m30s",
		45 * time.Second:                   "45s",
		time.Hour + 30*time.Second:         "1h0m30s",
		10*time.Hour + 5*time.Minute + 1e9: "10h5m1s",
	} {
		if got := shortDuration(d); got != want {
			t.Errorf("shortDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
