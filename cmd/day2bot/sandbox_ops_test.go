package main

import (
	"strings"
	"testing"
)

// TestSandboxDigestAndAlarm: the sandbox shows a digest on demand and an
// alarm that posts an alert whose remediation button goes through the
// policies (bob asks, alice approves), then clears.
func TestSandboxDigestAndAlarm(t *testing.T) {
	script := strings.Join([]string{
		"digest shop",
		"schedules shop",
		"alarm shop-cpu-high",
		"alarm shop-cpu-high", // unchanged: no second alert
		"as bob",
		"press last restart-web",
		"as alice",
		"press last approve",
		"alarm shop-cpu-high ok",
		"alarm nosuch-alarm",
		"alarm",
	}, "\n") + "\n"
	code, out, errs := runCLI(t, script, "sandbox")
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, errs, out)
	}
	for _, want := range []string{
		"Health digest — shop",
		"Schedules of shop",
		"nightly-snapshot",
		"task snapshot-db",
		"Resources up: db 1/1 · instances 4/4 · target-groups 4/4",
		"⚠ warn",
		"month to date vs",
		"📎 shop-cpu.png",
		"✘ ALARM — shop-cpu-high",
		"[restart-web]",
		"console: https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#alarmsV2:alarm/shop-cpu-high",
		"Approval needed: shop restart-web",
		"Requested by: bob",
		"✔ shop restart-web — succeeded",
		"✔ OK — shop-cpu-high",
		"alarm nosuch-alarm: set state:",
		"usage: alarm NAME [ok]",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("transcript lacks %q", want)
		}
	}
	if n := strings.Count(out, "ALARM — shop-cpu-high"); n != 1 {
		t.Errorf("alert posted %d times, want once:\n%s", n, out)
	}
	if t.Failed() {
		t.Logf("transcript:\n%s", out)
	}
}
