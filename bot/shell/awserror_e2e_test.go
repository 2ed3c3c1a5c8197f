package shell_test

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/day2bot/day2bot/tasks/emulator"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// An AWS error answer is not an internal error: the chat and the log show
// operation, resource, code, message and HTTP status, never "see logs".
func TestE2EAWSErrorIsShownNotSeeLogs(t *testing.T) {
	var logs syncBuffer
	x := newE2E(t, withLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
	x.emu.InjectFault("ec2:DescribeInstances", emulator.Fault{Status: 501, Code: "NotImplemented", Message: "DescribeInstances is not implemented here"})
	out := x.say("alice", "shop restart-web")
	want := "DescribeInstances on ec2:instance tag app=shop; tag tier=web: NotImplemented: DescribeInstances is not implemented here (HTTP 501 Not Implemented)"
	has(t, out, "shop restart-web — failed", want)
	if strings.Contains(out, "see logs") {
		t.Fatalf("chat says see logs:\n%s", out)
	}
	if !strings.Contains(logs.String(), want) {
		t.Fatalf("log lacks %q:\n%s", want, logs.String())
	}
	x.wantReboots(0)
}
