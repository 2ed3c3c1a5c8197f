package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/day2bot/day2bot/bot/slack/slackfake"
	"github.com/day2bot/day2bot/tasks/emulator"
)

// execServeEnv makes the test binary run day2bot's main instead of the
// tests: the crash test starts real `day2bot serve` processes that way
// and kill -9s them.
const execServeEnv = "DAY2BOT_TEST_EXEC_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(execServeEnv) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// serveProc is one `day2bot serve` OS process.
type serveProc struct {
	cmd  *exec.Cmd
	addr string
	mu   sync.Mutex
	logs strings.Builder
	done chan struct{}
}

func (p *serveProc) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.String()
}

// startServeProc starts serve with cfgPath and env and returns once it
// listens (its "serving" log line names the address).
func startServeProc(t *testing.T, cfgPath string, env []string) *serveProc {
	t.Helper()
	cmd := exec.Command(os.Args[0], "serve", "--config", cfgPath, "--listen", "127.0.0.1:0")
	cmd.Env = append(append(os.Environ(), execServeEnv+"=1"), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serveProc{cmd: cmd, done: make(chan struct{})}
	ready := make(chan string, 1)
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.logs.WriteString(line + "\n")
			p.mu.Unlock()
			var rec struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "serving" {
				ready <- rec.Addr
			}
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	select {
	case p.addr = <-ready:
	case <-p.done:
		t.Fatalf("serve exited before listening:\n%s", p.log())
	case <-time.After(60 * time.Second):
		t.Fatalf("serve did not listen within a minute:\n%s", p.log())
	}
	return p
}

// kill9 kills the process with SIGKILL and waits for it.
func (p *serveProc) kill9(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Wait()
	<-p.done
}

// TestKill9DuringRunAndApproval runs `day2bot serve` as an OS process
// against the emulator and the Slack fake and kill -9s it while a rolling
// restart waits between its batches and while an approval is pending. A
// second process on the same database must announce the interrupted run
// once and not retry it (no instance rebooted twice), and still take the
// approval, whose run then happens once.
func TestKill9DuringRunAndApproval(t *testing.T) {
	emu := emulator.New()
	t.Cleanup(emu.Close)
	fake := slackfake.New(serveToken)
	t.Cleanup(fake.Close)
	for id, name := range map[string]string{"UALICE": "alice", "UBOB": "bob"} {
		fake.AddUser(id, name)
	}
	ctx := context.Background()
	sfx := time.Now().UnixNano() % 1_000_000_000
	rolling, approved := fmt.Sprintf("roll%d", sfx), fmt.Sprintf("appr%d", sfx)
	fleet, err := emu.SeedInstances(ctx, 4, emulator.InstanceSpec{Tags: map[string]string{"app": rolling, "tier": "web"}})
	if err != nil {
		t.Fatal(err)
	}
	pair, err := emu.SeedInstances(ctx, 2, emulator.InstanceSpec{Tags: map[string]string{"app": approved, "tier": "web"}})
	if err != nil {
		t.Fatal(err)
	}
	// A rebooted instance of the fleet stays "initializing": the run
	// waits between its batches until it is killed.
	for _, id := range fleet {
		emu.SetBootReads(id, 1_000_000)
	}

	cfg := "apps:\n"
	for _, app := range []string{rolling, approved} {
		cfg += fmt.Sprintf("  %s:\n    blueprints: [ec2-web]\n    region: us-east-1\n    channels: [\"slack:C1\"]\n", app)
	}
	cfgPath, _ := serveConfig(t, servePolicy, cfg)
	dir := filepath.Dir(cfgPath)
	env := []string{
		"SLACK_BOT_TOKEN=" + serveToken, "SLACK_SIGNING_SECRET=" + serveSecret, "SLACK_API_URL=" + fake.APIURL(),
		"AWS_ENDPOINT_URL=" + emu.URL, "AWS_ACCESS_KEY_ID=AKIDCRASH", "AWS_SECRET_ACCESS_KEY=crash", "AWS_REGION=us-east-1",
		"AWS_CONFIG_FILE=" + filepath.Join(dir, "none"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "none"),
	}
	reboots := func(ids []string) (n int, each []int) {
		for _, id := range ids {
			c := emu.RebootCount(id)
			n += c
			each = append(each, c)
		}
		return n, each
	}

	first := startServeProc(t, cfgPath, env)
	e := &serveEnv{fake: fake, base: "http://" + first.addr}
	if code := e.signedPost(t, "/slack/commands", e.command("UALICE", rolling+" restart-web batch=2")); code != 200 {
		t.Fatalf("alice's command: %d", code)
	}
	if code := e.signedPost(t, "/slack/commands", e.command("UBOB", approved+" restart-web batch=2")); code != 200 {
		t.Fatalf("bob's command: %d", code)
	}
	var approve, approvalTS string
	waitFake(t, fake, "the first batch rebooted and bob's request with its plan", func() bool {
		for _, m := range fake.Messages("C1") {
			if id := buttonID(m.Blocks, "Approve"); id != "" {
				approve, approvalTS = id, m.TS
			}
		}
		n, _ := reboots(fleet)
		return n == 2 && approve != ""
	})
	// The first batch is rebooted and never passes its checks: the run
	// is between its batches (or just receiving the reboot's answer).
	first.kill9(t)

	// The fleet would now pass its checks; nothing may act on it again.
	for _, id := range fleet {
		emu.SetBootReads(id, 0)
		emu.SetInstanceStatus(id, "", 0)
	}
	second := startServeProc(t, cfgPath, env)
	e.base = "http://" + second.addr
	waitFake(t, fake, "the interrupted run announced", func() bool {
		for _, m := range fake.Messages("C1") {
			if strings.Contains(m.Blocks, "interrupted") {
				return true
			}
		}
		return false
	})
	if code := e.signedPost(t, "/slack/interactions", e.click("UALICE", approvalTS, approve)); code != 200 {
		t.Fatalf("alice's click: %d", code)
	}
	waitFake(t, fake, "the approved run's result", func() bool {
		for _, m := range fake.Messages("C1") {
			if m.TS == approvalTS && strings.Contains(m.Blocks, "succeeded") {
				return true
			}
		}
		return false
	})
	// Graceful stop: anything still queued would run now.
	if err := second.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	_ = second.cmd.Wait()
	<-second.done

	if n, each := reboots(fleet); n != 2 {
		t.Errorf("fleet reboots %v; want the first batch once and the rest never (not retried)", each)
	}
	for i, c := range func() []int { _, each := reboots(fleet); return each }() {
		if c > 1 {
			t.Errorf("%s rebooted %d times", fleet[i], c)
		}
	}
	if _, each := reboots(pair); each[0] != 1 || each[1] != 1 {
		t.Errorf("approved app's reboots %v; want each once", each)
	}
	logs := second.log()
	if n := strings.Count(logs, `"msg":"run interrupted by restart"`); n != 1 {
		t.Errorf("%d runs marked interrupted by the second process, want 1\n%s", n, logs)
	}
	if n := strings.Count(logs, `"msg":"run finished"`); n != 1 {
		t.Errorf("%d runs finished in the second process, want 1 (the approved one)\n%s", n, logs)
	}
	interrupted := 0
	for _, m := range fake.Messages("C1") {
		if strings.Contains(m.Blocks, "interrupted") {
			interrupted++
		}
	}
	if interrupted != 1 {
		t.Errorf("%d messages say interrupted, want 1: %+v", interrupted, fake.Messages("C1"))
	}
}
