package main

import (
	"strings"
	"testing"
)

// TestSandboxDigestAndAlarm: the sandbox shows a digest on demand and an
// alarm that posts an alert whose remediation buttons go through the
// policies (bob asks, alice approves; alice runs at once), the
// parameterised mute-alarm with the alarm's name filled in, then clears.
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
		"press last mute-alarm", // alice may: runs at once
		"shop unmute-alarm alarm=shop-cpu-high",
		"as bob",
		"press last mute-alarm", // bob asks
		"as alice",
		"press last approve",
		"shop list-alarms",
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
		"Resources up: db 1/1 · instances 4/4 · load-balancer 1/1 · office-hours 0/0 · target-groups 4/4",
		"⚠ warn",
		"month to date vs",
		"📎 shop-cpu.png",
		"✘ ALARM — shop-cpu-high",
		"[restart-web] [mute-alarm]",
		"mute-alarm runs `shop mute-alarm alarm=shop-cpu-high duration=1h`",
		"Approval needed: shop mute-alarm",
		"unmuted 1 of 1 alarms",
		"shop-cpu-high ok     ALARM, CPUUtilization > 90 (Average 300s x2), actions DISABLED",
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
	// Each mute (alice's press, then bob's approved one) ran once, with
	// the alarm's name from the button.
	if n := strings.Count(out, "✔ shop mute-alarm — succeeded\n  muted 1 of 1 alarms\n  Parameters: alarm=shop-cpu-high duration=1h"); n != 2 {
		t.Errorf("mute-alarm succeeded %d times, want 2 (alice, then bob approved by alice)", n)
	}
	if n := strings.Count(out, "✔ Approved: shop mute-alarm"); n != 1 {
		t.Errorf("bob's mute approved %d times, want 1", n)
	}
	if t.Failed() {
		t.Logf("transcript:\n%s", out)
	}
}
