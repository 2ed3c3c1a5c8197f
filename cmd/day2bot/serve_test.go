package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/day2bot/day2bot/bot/slack/slackfake"
	"github.com/day2bot/day2bot/internal/enginetest"
	"github.com/day2bot/day2bot/policies"
	awsactions "github.com/day2bot/day2bot/tasks/aws"
	"github.com/day2bot/day2bot/tasks/emulator"
)

const (
	serveToken  = "xoxb-serve-test"
	serveSecret = "serve-test-signing-secret"
)

// servePolicy: alice (ops) may do everything and approves; bob
// (developers) changes the app only with one approval from ops; carol is
// in no group, so the default deny applies to her.
const servePolicy = `
users:
  alice: ["slack:UALICE"]
  bob: ["slack:UBOB"]
  carol: ["slack:UCAROL"]
groups:
  ops: [alice]
  developers: [bob]
rules:
  - id: ops-everything
    effect: allow
    subjects: ["group:ops"]
  - id: developers-read
    effect: allow
    subjects: ["group:developers"]
    mutating: false
  - id: developers-changes
    effect: approve
    subjects: ["group:developers"]
    mutating: true
    approvers: ["group:ops"]
    quorum: 1
`

type serveEnv struct {
	fake *slackfake.Server
	base string // http://addr
	app  string
	emu  *emulator.Server
	// web are the app's instances, seeded in the emulator.
	web  []string
	logs *enginetest.Transcript
	stop func() error
	db   string
}

// startServe runs the real serve command in-process: real engine, SQLite
// store in a temp dir, AWS emulator, Slack fake on SLACK_API_URL.
func startServe(t *testing.T, env map[string]string) *serveEnv {
	t.Helper()
	return startServeWith(t, env, "")
}

// startServeWith is startServe with more top-level config appended.
func startServeWith(t *testing.T, env map[string]string, extraConfig string) *serveEnv {
	t.Helper()
	fake := slackfake.New(serveToken)
	t.Cleanup(fake.Close)
	for id, name := range map[string]string{"UALICE": "alice", "UBOB": "bob", "UCAROL": "carol"} {
		fake.AddUser(id, name)
	}
	emu := emulator.New()
	t.Cleanup(emu.Close)
	// kumo's state is process-global: a name of our own.
	app := fmt.Sprintf("slk%d", time.Now().UnixNano()%1_000_000_000)
	ctx := context.Background()
	web, err := emu.SeedInstances(ctx, 2, emulator.InstanceSpec{Tags: map[string]string{"app": app, "tier": "web"}})
	if err != nil {
		t.Fatal(err)
	}
	cfgPath, db := serveConfig(t, servePolicy,
		fmt.Sprintf("apps:\n  %s:\n    blueprints: [ec2-web]\n    region: us-east-1\n    owners: [alice]\n    channels: [\"slack:C1\"]\n", app)+extraConfig)
	vars := map[string]string{"SLACK_BOT_TOKEN": serveToken, "SLACK_API_URL": fake.APIURL()}
	for k, v := range env {
		vars[k] = v
	}
	if v, ok := vars["SLACK_APP_TOKEN"]; ok && v == "" {
		delete(vars, "SLACK_APP_TOKEN")
	} else if ok {
		fake.AppToken = v
	}
	addr, logs, stop := launchServe(t, cfgPath, vars, emu)
	return &serveEnv{fake: fake, base: "http://" + addr, app: app, emu: emu, web: web, logs: logs, stop: stop, db: db}
}

// launchServe runs serve in the background with vars as its environment
// and the emulator as AWS, waits until it listens and returns its address,
// its JSON logs and a stop function (also run at cleanup).
func launchServe(t *testing.T, cfgPath string, vars map[string]string, emu *emulator.Server) (string, *enginetest.Transcript, func() error) {
	t.Helper()
	logs := &enginetest.Transcript{}
	g := &globals{Stdout: io.Discard, Stderr: logs, Stdin: strings.NewReader(""), Getenv: func(k string) string { return vars[k] }}
	runCtx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- runServe(runCtx, g, serveOptions{
			ConfigPath: cfgPath, Listen: "127.0.0.1:0", AWS: staticAWS{cfg: emu.ClientConfig("us-east-1", "AKIDSERVE")},
			Ready: func(addr string) { ready <- addr }, ShutdownGrace: 10 * time.Second, SlackPace: time.Millisecond,
			Pace: awsactions.Pace{Settle: time.Millisecond},
		})
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("serve stopped before listening: %v\n%s", err, logs.String())
	}
	var once sync.Once
	var stopErr error
	stop := func() error {
		once.Do(func() { cancel(); stopErr = <-done })
		return stopErr
	}
	t.Cleanup(func() { _ = stop() })
	return addr, logs, stop
}

// serveConfig writes a config file whose database (in a temp dir, with
// policy imported) comes before the rest of the config, cfg; it returns the
// paths of both.
func serveConfig(t *testing.T, policy, cfg string) (cfgPath, db string) {
	t.Helper()
	dir := t.TempDir()
	db = filepath.Join(dir, "day2bot.db")
	importPolicy(t, db, policy)
	cfgPath = filepath.Join(dir, "day2bot.yaml")
	if err := os.WriteFile(cfgPath, []byte("database: "+db+"\n"+cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfgPath, db
}

func importPolicy(t *testing.T, db, doc string) {
	t.Helper()
	var f policies.File
	dec := yaml.NewDecoder(strings.NewReader(doc))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		t.Fatal(err)
	}
	st, err := openStore(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.ImportFile(context.Background(), "test", f); err != nil {
		t.Fatal(err)
	}
}

func (e *serveEnv) signedPost(t *testing.T, path string, form url.Values) int {
	t.Helper()
	body := []byte(form.Encode())
	req, err := http.NewRequest(http.MethodPost, e.base+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = slackfake.Sign(serveSecret, time.Now(), body)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

func (e *serveEnv) command(user, text string) url.Values {
	return url.Values{
		"team_id": {"T1"}, "channel_id": {"C1"}, "user_id": {user}, "user_name": {strings.ToLower(user)},
		"command": {"/day2"}, "text": {text}, "response_url": {e.fake.ResponseURL()},
		"trigger_id": {fmt.Sprint(time.Now().UnixNano())},
	}
}

func (e *serveEnv) click(user, ts, actionID string) url.Values {
	payload, _ := json.Marshal(e.blockActions(user, ts, actionID))
	return url.Values{"payload": {string(payload)}}
}

// blockActions is user's click on button actionID of message ts in C1,
// as a Socket Mode envelope carries it (click form-encodes it for HTTP).
func (e *serveEnv) blockActions(user, ts, actionID string) map[string]any {
	return slackfake.BlockActions(user, strings.ToLower(user), "C1", ts, actionID, e.fake.ResponseURL())
}

// waitFake waits until cond holds, waking on each change of the fake.
func waitFake(t *testing.T, fake *slackfake.Server, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(20 * time.Second)
	defer deadline.Stop()
	for {
		ch := fake.Changed()
		if cond() {
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s\nmessages: %+v\nephemerals: %+v", what, fake.Messages(""), fake.Ephemerals())
		}
	}
}

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestServeSlackHTTPEndToEnd drives the real engine through serve over
// signed HTTP: a denial, then an approval request whose requester may not
// approve it, approved by an approver, run against the emulator, and the
// message updated in place with the result.
func TestServeSlackHTTPEndToEnd(t *testing.T) {
	e := startServe(t, map[string]string{"SLACK_SIGNING_SECRET": serveSecret})
	if code, body := get(t, e.base+"/healthz"); code != http.StatusOK || !strings.Contains(body, "ok") {
		t.Fatalf("healthz: %d %q", code, body)
	}

	// A bad signature is refused before anything else.
	body := []byte(e.command("UCAROL", "help").Encode())
	req, _ := http.NewRequest(http.MethodPost, e.base+"/slack/commands", bytes.NewReader(body))
	req.Header = slackfake.Sign("wrong-secret", time.Now(), body)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("bad signature: status %d", resp.StatusCode)
	}

	// carol is in no group: denied, ephemerally, through the response_url.
	denial := e.command("UCAROL", e.app+" restart-web batch=1")
	if code := e.signedPost(t, "/slack/commands", denial); code != http.StatusOK {
		t.Fatalf("command: status %d", code)
	}
	waitFake(t, e.fake, "the denial", func() bool { return len(e.fake.Ephemerals()) >= 1 })
	eph := e.fake.Ephemerals()[0]
	if eph.Via != "response_url" || eph.URL != denial.Get("response_url") || !strings.Contains(strings.ToLower(eph.Blocks+eph.Text), "denied") {
		t.Fatalf("denial = %+v", eph)
	}
	if n := len(e.fake.Messages("C1")); n != 0 {
		t.Fatalf("a denial posted %d public messages", n)
	}

	// bob's change needs approval: a public message with buttons.
	if code := e.signedPost(t, "/slack/commands", e.command("UBOB", e.app+" restart-web batch=1")); code != http.StatusOK {
		t.Fatalf("command: status %d", code)
	}
	var approve string
	waitFake(t, e.fake, "the approval request", func() bool {
		for _, m := range e.fake.Messages("C1") {
			if id := buttonID(m.Blocks, "Approve"); id != "" {
				approve = id
				return true
			}
		}
		return false
	})
	req0 := e.fake.Messages("C1")[0]

	// bob may not approve his own request.
	before := len(e.fake.Ephemerals())
	if code := e.signedPost(t, "/slack/interactions", e.click("UBOB", req0.TS, approve)); code != http.StatusOK {
		t.Fatalf("click: status %d", code)
	}
	waitFake(t, e.fake, "the refusal", func() bool { return len(e.fake.Ephemerals()) > before })
	if r := e.fake.Ephemerals()[before]; !strings.Contains(r.Blocks+r.Text, "your own request") {
		t.Fatalf("refusal = %+v", r)
	}

	// alice approves: the message is updated in place, the run happens
	// and its result is posted.
	if code := e.signedPost(t, "/slack/interactions", e.click("UALICE", req0.TS, approve)); code != http.StatusOK {
		t.Fatalf("click: status %d", code)
	}
	waitFake(t, e.fake, "the approved message and the result", func() bool {
		var approved, succeeded bool
		for _, m := range e.fake.Messages("C1") {
			if m.TS == req0.TS && m.Updates > 0 && strings.Contains(m.Blocks, "approved by") && buttonID(m.Blocks, "Approve") == "" {
				approved = true
			}
			if strings.Contains(m.Blocks, "succeeded") {
				succeeded = true
			}
		}
		return approved && succeeded
	})

	// Metrics: the engine's counters and the adapter's ack histogram.
	_, metrics := get(t, e.base+"/metrics")
	for _, want := range []string{"day2bot_commands_total 2", "day2bot_slack_ack_seconds_bucket", `day2bot_decisions_total{effect="deny"} 1`, "go_goroutines"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if err := e.stop(); err != nil {
		t.Fatalf("serve: %v\n%s", err, e.logs.String())
	}
	for _, want := range []string{`"msg":"slack request refused"`, `"msg":"command"`, `"msg":"shutting down"`} {
		if !strings.Contains(e.logs.String(), want) {
			t.Errorf("logs lack %s", want)
		}
	}
}

// TestServeSlackSocketMode runs serve with an app token: no HTTP routes
// for Slack, commands arrive over the fake's Socket Mode websocket.
func TestServeSlackSocketMode(t *testing.T) {
	e := startServe(t, map[string]string{"SLACK_APP_TOKEN": "xapp-serve-test"})
	waitFake(t, e.fake, "the socket mode connection", func() bool { return e.fake.Sockets() == 1 })
	form := e.command("UALICE", "tasks "+e.app)
	env, err := e.fake.SendSlashCommand(form)
	if err != nil {
		t.Fatal(err)
	}
	waitFake(t, e.fake, "the ack and the answer", func() bool { return e.fake.Acked(env) && len(e.fake.Ephemerals()) == 1 })
	if eph := e.fake.Ephemerals()[0]; eph.URL != form.Get("response_url") || !strings.Contains(eph.Blocks, "restart-web") {
		t.Errorf("answer = %+v", eph)
	}
	if code, _ := get(t, e.base+"/slack/commands"); code != http.StatusNotFound && code != http.StatusMethodNotAllowed {
		t.Errorf("HTTP route mounted in socket mode: %d", code)
	}
	if err := e.stop(); err != nil {
		t.Fatalf("serve: %v", err)
	}
}

// TestServeSlackSocketModeApproval is the approval story of the HTTP test
// over Socket Mode, with the real engine: bob's command arrives in a
// slash_commands envelope, the approval request is posted with
// chat.postMessage, bob's own click (a block_actions envelope) is refused
// privately, alice's click updates the request with chat.update and runs
// the task exactly once on the emulator.
func TestServeSlackSocketModeApproval(t *testing.T) {
	e := startServe(t, map[string]string{"SLACK_APP_TOKEN": "xapp-serve-approval"})
	waitFake(t, e.fake, "the socket mode connection", func() bool { return e.fake.Sockets() == 1 })

	cmd, err := e.fake.SendSlashCommand(e.command("UBOB", e.app+" restart-web batch=1"))
	if err != nil {
		t.Fatal(err)
	}
	var approve string
	// The buttons come with the plan, one chat.update after the post.
	waitFake(t, e.fake, "the ack and the approval request with its plan", func() bool {
		for _, m := range e.fake.Messages("C1") {
			if id := buttonID(m.Blocks, "Approve"); id != "" {
				approve = id
			}
		}
		return e.fake.Acked(cmd) && approve != ""
	})
	req := e.fake.Messages("C1")[0]
	if n := e.fake.CallCount("chat.postMessage"); n != 1 {
		t.Fatalf("chat.postMessage called %d times for the request, want 1", n)
	}
	updates := e.fake.CallCount("chat.update")

	// bob clicks Approve on his own request: refused, only to him,
	// through the click's response_url; nothing runs.
	before := len(e.fake.Ephemerals())
	ownClick, err := e.fake.SendInteraction(e.blockActions("UBOB", req.TS, approve))
	if err != nil {
		t.Fatal(err)
	}
	waitFake(t, e.fake, "the refusal", func() bool { return e.fake.Acked(ownClick) && len(e.fake.Ephemerals()) > before })
	refusal := e.fake.Ephemerals()[before]
	if !strings.Contains(refusal.Blocks+refusal.Text, "your own request") || refusal.Type != "ephemeral" {
		t.Fatalf("refusal = %+v", refusal)
	}
	if m := e.fake.Messages("C1")[0]; m.Updates != updates || e.fake.CallCount("chat.update") != updates {
		t.Fatalf("bob's click changed the request: %+v", m)
	}
	for _, id := range e.web {
		if n := e.emu.RebootCount(id); n != 0 {
			t.Fatalf("%s rebooted %d times before approval", id, n)
		}
	}

	// alice approves: chat.update shows who approved and the result.
	aliceClick, err := e.fake.SendInteraction(e.blockActions("UALICE", req.TS, approve))
	if err != nil {
		t.Fatal(err)
	}
	waitFake(t, e.fake, "the updated request with the result", func() bool {
		m := e.fake.Messages("C1")[0]
		return e.fake.Acked(aliceClick) && strings.Contains(m.Blocks, "approved by") &&
			strings.Contains(m.Blocks, "succeeded") && buttonID(m.Blocks, "Approve") == ""
	})
	if e.fake.CallCount("chat.update") == 0 {
		t.Error("the request was not updated with chat.update")
	}

	// Stopping drains the engine, so a second run would have happened.
	if err := e.stop(); err != nil {
		t.Fatalf("serve: %v\n%s", err, e.logs.String())
	}
	for _, id := range e.web {
		if n := e.emu.RebootCount(id); n != 1 {
			t.Errorf("%s rebooted %d times, want 1 (one run)", id, n)
		}
	}
	if n := strings.Count(e.logs.String(), `"msg":"run finished"`); n != 1 {
		t.Errorf("%d runs finished, want 1", n)
	}
}

func TestServeConfigErrors(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "day2bot.yaml")
	if err := os.WriteFile(cfg, []byte("apps:\n  shop:\n    blueprints: [ec2-web]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"no platform", nil, "no chat platform"},
		{"no bot token", map[string]string{"SLACK_SIGNING_SECRET": "s"}, "SLACK_BOT_TOKEN"},
		{"bot token only", map[string]string{"SLACK_BOT_TOKEN": "xoxb"}, "SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			g := &globals{Stdout: &out, Stderr: &errb, Stdin: strings.NewReader(""), Getenv: func(k string) string { return c.env[k] }}
			code := run(context.Background(), []string{"serve", "--config", cfg, "--db", filepath.Join(dir, "x.db")}, g)
			if code != exitUsage || !strings.Contains(errb.String(), c.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errb.String(), exitUsage, c.want)
			}
		})
	}
}

// buttonID finds the action_id of the button labelled label in a blocks
// JSON document.
func buttonID(blocks, label string) string {
	var bs []struct {
		Type     string            `json:"type"`
		Elements []json.RawMessage `json:"elements"`
	}
	if json.Unmarshal([]byte(blocks), &bs) != nil {
		return ""
	}
	for _, b := range bs {
		if b.Type != "actions" {
			continue
		}
		for _, raw := range b.Elements {
			var el struct {
				Type     string `json:"type"`
				ActionID string `json:"action_id"`
				Text     struct {
					Text string `json:"text"`
				} `json:"text"`
			}
			if json.Unmarshal(raw, &el) == nil && el.Type == "button" && el.Text.Text == label {
				return el.ActionID
			}
		}
	}
	return ""
}
