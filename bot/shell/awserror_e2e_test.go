package shell_test

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/day2bot/day2bot/internal/enginetest"
	"github.com/day2bot/day2bot/tasks/emulator"
)

// An AWS error answer is not an internal error: the chat and the log show
// operation, resource, code, message and HTTP status, never "see logs".
func TestE2EAWSErrorIsShownNotSeeLogs(t *testing.T) {
	var logs enginetest.Transcript
	x := newE2E(t, withLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
	x.emu.InjectFault("ec2:DescribeInstances", emulator.Fault{Status: 501, Code: "NotImplemented", Message: "DescribeInstances is not implemented here"})
	out := x.Say("alice", "shop restart-web")
	want := "DescribeInstances on ec2:instance tag app=shop; tag tier=web: NotImplemented: DescribeInstances is not implemented here (HTTP 501 Not Implemented)"
	enginetest.MustContain(t, out, "shop restart-web — failed", want)
	if strings.Contains(out, "see logs") {
		t.Fatalf("chat says see logs:\n%s", out)
	}
	if !strings.Contains(logs.String(), want) {
		t.Fatalf("log lacks %q:\n%s", want, logs.String())
	}
	x.wantReboots(0)
}
