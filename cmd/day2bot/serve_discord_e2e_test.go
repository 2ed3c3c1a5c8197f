package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/day2bot/day2bot/internal/enginetest"
	"github.com/day2bot/day2bot/tasks/emulator"
)

// discordServePolicy is servePolicy's story with Discord users: alice
// (ops) approves, bob (developers) needs an approval, carol is denied.
const discordServePolicy = `
users:
  alice: ["discord:111"]
  bob: ["discord:222"]
  carol: ["discord:333"]
groups:
  ops: [alice]
  developers: [bob]
rules:
  - id: ops-everything
    effect: allow
    subjects: ["group:ops"]
  - id: developers-changes
    effect: approve
    subjects: ["group:developers"]
    mutating: true
    approvers: ["group:ops"]
    quorum: 1
`

// miniDiscord is the part of Discord's REST API serve uses, keeping
// messages as their raw JSON: the interaction responses the test applies,
// webhook edits and follow-ups, channel messages.
type miniDiscord struct {
	srv *httptest.Server

	mu       sync.Mutex
	next     int
	messages map[string]string // id → last JSON body
	original map[string]string // interaction token → message id
	changed  chan struct{}
}

func newMiniDiscord(t *testing.T) *miniDiscord {
	d := &miniDiscord{messages: map[string]string{}, original: map[string]string{}, changed: make(chan struct{})}
	d.srv = httptest.NewServer(http.HandlerFunc(d.serve))
	t.Cleanup(d.srv.Close)
	return d
}

func (d *miniDiscord) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	parts := strings.Split(strings.Trim(strings.TrimPrefix(r.URL.Path, "/api/v10"), "/"), "/")
	d.mu.Lock()
	defer d.mu.Unlock()
	defer func() { close(d.changed); d.changed = make(chan struct{}) }()
	id := ""
	switch {
	case r.Method == http.MethodPut && parts[0] == "applications":
		io.WriteString(w, "[]")
		return
	case parts[0] == "webhooks" && len(parts) == 5 && parts[4] == "@original":
		id = d.original[parts[2]]
	case parts[0] == "webhooks" && len(parts) == 5:
		id = parts[4]
	case parts[0] == "webhooks" && len(parts) == 3 && r.Method == http.MethodPost:
		id = d.create(string(body))
	case parts[0] == "channels" && len(parts) == 3 && r.Method == http.MethodPost:
		id = d.create(string(body))
	case parts[0] == "channels" && len(parts) == 4:
		id = parts[3]
	}
	if _, ok := d.messages[id]; !ok {
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"message":"Unknown Message","code":10008}`)
		return
	}
	if r.Method == http.MethodPatch {
		d.messages[id] = string(body)
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"id":%q,"channel_id":"c1"}`, id)
}

// create must be called with mu held.
func (d *miniDiscord) create(body string) string {
	d.next++
	id := "m" + strconv.Itoa(d.next)
	d.messages[id] = body
	return id
}

// applied records an interaction response the way Discord applies it.
func (d *miniDiscord) applied(token, clicked string, resp map[string]any) {
	d.mu.Lock()
	defer d.mu.Unlock()
	defer func() { close(d.changed); d.changed = make(chan struct{}) }()
	data, _ := json.Marshal(resp["data"])
	switch resp["type"] {
	case 4.0, 5.0:
		d.original[token] = d.create(string(data))
	case 7.0:
		d.messages[clicked] = string(data)
		d.original[token] = clicked
	case 6.0:
		d.original[token] = clicked
	}
}

func (d *miniDiscord) message(id string) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.messages[id]
}

func (d *miniDiscord) wait(t *testing.T, what string, cond func() bool) {
	// A hang guard, not a timing assertion: generous for -race on loaded CI cores.
	t.Helper()
	deadline := time.NewTimer(60 * time.Second)
	defer deadline.Stop()
	for {
		d.mu.Lock()
		ch := d.changed
		d.mu.Unlock()
		if cond() {
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s; messages %v", what, d.messages)
		}
	}
}

// discordServe is serve running with Discord only, over HTTP interactions.
type discordServe struct {
	api  *miniDiscord
	priv ed25519.PrivateKey
	url  string // the interactions endpoint
	app  string
	seq  int
	stop func() error
	logs *enginetest.Transcript
}

func startDiscordServe(t *testing.T) *discordServe {
	t.Helper()
	api := newMiniDiscord(t)
	pub, priv, _ := ed25519.GenerateKey(nil)
	emu := emulator.New()
	t.Cleanup(emu.Close)
	app := fmt.Sprintf("dsc%d", time.Now().UnixNano()%1_000_000_000)
	ctx := context.Background()
	if _, err := emu.SeedInstances(ctx, 2, emulator.InstanceSpec{Tags: map[string]string{"app": app, "tier": "web"}}); err != nil {
		t.Fatal(err)
	}
	cfgPath, _ := serveConfig(t, discordServePolicy,
		fmt.Sprintf("discord:\n  guild_id: \"g1\"\napps:\n  %s:\n    blueprints: [ec2-web]\n    region: us-east-1\n    owners: [alice]\n    channels: [\"discord:c1\"]\n", app))
	vars := map[string]string{
		"DISCORD_APP_ID": "app1", "DISCORD_BOT_TOKEN": "bot-token",
		"DISCORD_PUBLIC_KEY": hex.EncodeToString(pub), "DISCORD_API_URL": api.srv.URL + "/api/v10",
	}
	addr, logs, stop := launchServe(t, cfgPath, vars, emu)
	return &discordServe{api: api, priv: priv, url: "http://" + addr + discordInteractionsPath, app: app, stop: stop, logs: logs}
}

// interact signs an interaction, posts it to serve, applies the response
// to the API stand-in and returns it with the interaction's token.
func (s *discordServe) interact(t *testing.T, user, text, clicked, button string) (map[string]any, string) {
	t.Helper()
	s.seq++
	token := fmt.Sprintf("tok%d", s.seq)
	ix := map[string]any{
		"id": fmt.Sprint(1000 + s.seq), "application_id": "app1", "token": token, "version": 1,
		"guild_id": "g1", "channel_id": "c1", "member": map[string]any{"user": map[string]any{"id": user, "username": "u" + user}},
	}
	if button == "" {
		ix["type"] = 2
		ix["data"] = map[string]any{"name": "day2", "type": 1, "options": []any{map[string]any{"name": "command", "type": 3, "value": text}}}
	} else {
		ix["type"] = 3
		ix["data"] = map[string]any{"custom_id": button, "component_type": 2}
		ix["message"] = map[string]any{"id": clicked, "channel_id": "c1"}
	}
	resp := s.send(t, ix)
	s.api.applied(token, clicked, resp)
	return resp, token
}

// send signs an interaction, posts it to serve and returns the response.
func (s *discordServe) send(t *testing.T, ix map[string]any) map[string]any {
	t.Helper()
	body, _ := json.Marshal(ix)
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req, _ := http.NewRequest(http.MethodPost, s.url, bytes.NewReader(body))
	req.Header.Set("X-Signature-Timestamp", ts)
	req.Header.Set("X-Signature-Ed25519", hex.EncodeToString(ed25519.Sign(s.priv, append([]byte(ts), body...))))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var resp map[string]any
	if res.StatusCode != http.StatusOK || json.Unmarshal(raw, &resp) != nil {
		t.Fatalf("interaction: %d %s", res.StatusCode, raw)
	}
	return resp
}

func flags(resp map[string]any) float64 {
	d, _ := resp["data"].(map[string]any)
	f, _ := d["flags"].(float64)
	return f
}

// TestServeDiscordHTTPEndToEnd: serve with Discord only; a denial, an
// approval request the requester may not approve, approved by alice, run
// against the emulator, and the message updated in place with the result.
func TestServeDiscordHTTPEndToEnd(t *testing.T) {
	s := startDiscordServe(t)

	resp, _ := s.interact(t, "333", s.app+" restart-web batch=1", "", "")
	if resp["type"] != 4.0 || flags(resp) != 64 || !strings.Contains(strings.ToLower(fmt.Sprint(resp["data"])), "denied") {
		t.Fatalf("denial: %v", resp)
	}

	resp, token := s.interact(t, "222", s.app+" restart-web batch=1", "", "")
	if resp["type"] != 4.0 || flags(resp) != 0 {
		t.Fatalf("approval request: %v", resp)
	}
	data, _ := json.Marshal(resp["data"])
	if strings.Contains(string(data), `"custom_id"`) {
		t.Fatalf("the request has buttons before its plan: %s", data)
	}
	s.api.mu.Lock()
	msg := s.api.original[token]
	s.api.mu.Unlock()
	if msg == "" {
		t.Fatalf("no message: %s", data)
	}

	// Approvers act on the plan, which the engine adds, with the buttons,
	// once computed.
	s.api.wait(t, "the plan", func() bool { return !strings.Contains(s.api.message(msg), "computing") })
	var approve string
	for _, id := range strings.Split(s.api.message(msg), `"custom_id":"`)[1:] {
		if id, _, _ = strings.Cut(id, `"`); approve == "" {
			approve = id
		}
	}
	if approve == "" {
		t.Fatalf("no Approve button with the plan: %s", s.api.message(msg))
	}

	resp, _ = s.interact(t, "222", "", msg, approve)
	if resp["type"] != 4.0 || flags(resp) != 64 || !strings.Contains(fmt.Sprint(resp["data"]), "own request") {
		t.Fatalf("self-approval: %v", resp)
	}

	resp, _ = s.interact(t, "111", "", msg, approve)
	if resp["type"] != 7.0 || !strings.Contains(fmt.Sprint(resp["data"]), "approved by") {
		t.Fatalf("approval: %v", resp)
	}
	s.api.wait(t, "the result in the approval message", func() bool {
		return strings.Contains(s.api.message(msg), "succeeded")
	})
	if err := s.stop(); err != nil {
		t.Fatalf("serve: %v\n%s", err, s.logs.String())
	}
	if !strings.Contains(s.logs.String(), `"discord":true`) {
		t.Errorf("serve did not report Discord on: %s", s.logs.String())
	}
}

// TestServeDiscordForm: on Discord a task's Run… button opens a modal
// (its parameters as text inputs), and the signed submission runs the
// task as the typed command would, against the emulator.
func TestServeDiscordForm(t *testing.T) {
	s := startDiscordServe(t)
	resp, _ := s.interact(t, "111", "tasks "+s.app, "", "")
	data, _ := json.Marshal(resp["data"])
	button := "fm:" + s.app + ":restart-web"
	if resp["type"] != 4.0 || !strings.Contains(string(data), `"custom_id":"`+button+`"`) {
		t.Fatalf("tasks: no Run restart-web… button: %s", data)
	}

	resp, _ = s.interact(t, "111", "", "m-tasks", button)
	data, _ = json.Marshal(resp["data"])
	if resp["type"] != 9.0 || !strings.Contains(string(data), `"custom_id":"day2-form:`+s.app+`:restart-web"`) ||
		!strings.Contains(string(data), `"custom_id":"batch"`) {
		t.Fatalf("Run…: want a modal with a batch input, got %v", resp)
	}

	// A value the task refuses: all of the form's problems come back at
	// once, only to the person, and nothing runs.
	submit := func(batch string) (map[string]any, string) {
		s.seq++
		token := fmt.Sprintf("tok%d", s.seq)
		resp := s.send(t, map[string]any{
			"id": fmt.Sprint(1000 + s.seq), "application_id": "app1", "token": token, "version": 1, "type": 5,
			"guild_id": "g1", "channel_id": "c1", "member": map[string]any{"user": map[string]any{"id": "111", "username": "u111"}},
			"data": map[string]any{"custom_id": "day2-form:" + s.app + ":restart-web", "components": []any{
				map[string]any{"type": 1, "components": []any{map[string]any{"type": 4, "custom_id": "batch", "value": batch}}},
			}},
		})
		return resp, token
	}
	resp, _ = submit("9")
	if resp["type"] != 4.0 || flags(resp) != 64 || !strings.Contains(fmt.Sprint(resp["data"]), "batch must be between 1 and 4, got 9") ||
		!strings.Contains(fmt.Sprint(resp["data"]), "Nothing ran") {
		t.Fatalf("refused form: %v", resp)
	}

	s.seq++
	token := fmt.Sprintf("tok%d", s.seq)
	resp = s.send(t, map[string]any{
		"id": fmt.Sprint(1000 + s.seq), "application_id": "app1", "token": token, "version": 1, "type": 5,
		"guild_id": "g1", "channel_id": "c1", "member": map[string]any{"user": map[string]any{"id": "111", "username": "u111"}},
		"data": map[string]any{"custom_id": "day2-form:" + s.app + ":restart-web", "components": []any{
			map[string]any{"type": 1, "components": []any{map[string]any{"type": 4, "custom_id": "batch", "value": "2"}}},
			map[string]any{"type": 1, "components": []any{map[string]any{"type": 4, "custom_id": "wait", "value": ""}}},
		}},
	})
	s.api.applied(token, "", resp)
	if resp["type"] != 4.0 {
		t.Fatalf("submission: %v", resp)
	}
	s.api.mu.Lock()
	msg := s.api.original[token]
	s.api.mu.Unlock()
	s.api.wait(t, "the form's run", func() bool { return msg != "" && strings.Contains(s.api.message(msg), "succeeded") })
	if m := s.api.message(msg); !strings.Contains(m, "batch=2") {
		t.Errorf("the run did not take the form's batch: %s", m)
	}
	if err := s.stop(); err != nil {
		t.Fatalf("serve: %v\n%s", err, s.logs.String())
	}
}
