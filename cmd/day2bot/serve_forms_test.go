package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/day2bot/day2bot/bot/slack/slackfake"
	"github.com/day2bot/day2bot/tasks/emulator"
)

var updateForms = flag.Bool("update-forms", false, "rewrite testdata/slack-form-*.golden")

// startChoicesSlack is serve with Slack over HTTP and the choices apps.
func startChoicesSlack(t *testing.T) (*serveEnv, string) {
	t.Helper()
	fake := slackfake.New(serveToken)
	t.Cleanup(fake.Close)
	fake.AddUser("UALICE", "alice")
	fake.AddUser("UCAROL", "carol")
	emu := emulator.New()
	t.Cleanup(emu.Close)
	apps, app := choicesApp(t, emu)
	cfgPath, db := serveConfig(t, choicesPolicy, apps)
	vars := map[string]string{"SLACK_BOT_TOKEN": serveToken, "SLACK_API_URL": fake.APIURL(), "SLACK_SIGNING_SECRET": serveSecret}
	addr, logs, stop := launchServe(t, cfgPath, vars, emu)
	return &serveEnv{fake: fake, base: "http://" + addr, app: app, emu: emu, logs: logs, stop: stop, db: db}, app
}

// signedPayload posts an interaction payload, signed, and returns the
// status and body of the answer.
func (e *serveEnv) signedPayload(t *testing.T, path string, payload any) (int, string) {
	t.Helper()
	raw, _ := json.Marshal(payload)
	body := []byte(url.Values{"payload": {string(raw)}}.Encode())
	req, _ := http.NewRequest(http.MethodPost, e.base+path, bytes.NewReader(body))
	req.Header = slackfake.Sign(serveSecret, time.Now(), body)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// formGolden compares got, its random app name replaced by APP, with
// testdata/slack-form-NAME.golden.
func formGolden(t *testing.T, name, app, got string) {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(got), &v); err != nil {
		t.Fatalf("%s is not JSON: %v\n%s", name, err, got)
	}
	pretty, _ := json.MarshalIndent(v, "", "  ")
	out := strings.ReplaceAll(string(pretty), app, "APP") + "\n"
	path := filepath.Join("testdata", "slack-form-"+name+".golden")
	if *updateForms {
		if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update-forms writes it)", err)
	}
	if out != string(want) {
		t.Errorf("%s differs from %s (go test -update-forms rewrites it):\n%s", name, path, out)
	}
}

func optionValues(t *testing.T, body string) []string {
	t.Helper()
	var resp struct {
		Options []struct {
			Value string `json:"value"`
		} `json:"options"`
	}
	if err := json.Unmarshal([]byte(body), &resp); err != nil {
		t.Fatalf("options answer %q: %v", body, err)
	}
	var out []string
	for _, o := range resp.Options {
		out = append(out, o.Value)
	}
	return out
}

func TestServeSlackFormRunsTheTaskAsTyped(t *testing.T) {
	e, app := startChoicesSlack(t)
	const visitor = sandboxVisitor

	// A required parameter missing: the task's form opens, nothing runs.
	if code := e.signedPost(t, "/slack/commands", e.command("UCAROL", app+" revoke-access")); code != http.StatusOK {
		t.Fatalf("command: status %d", code)
	}
	waitFake(t, e.fake, "the form", func() bool { return len(e.fake.Views()) == 1 })
	view := e.fake.Views()[0]
	formGolden(t, "revoke-access", app, view.JSON)

	// Its bucket select loads carol's own buckets only, signed like
	// every Slack request; what she types narrows them.
	code, body := e.signedPayload(t, "/slack/options", slackfake.BlockSuggestion("UCAROL", view, "p:bucket", "bucket", ""))
	if code != http.StatusOK {
		t.Fatalf("options: status %d %s", code, body)
	}
	formGolden(t, "revoke-access-bucket-options", app, body)
	if got, want := optionValues(t, body), []string{app + "-carol-imaging", app + "-carol-trials"}; !slices.Equal(got, want) {
		t.Errorf("carol's options %q, want %q", got, want)
	}
	_, body = e.signedPayload(t, "/slack/options", slackfake.BlockSuggestion("UCAROL", view, "p:bucket", "bucket", "TRI"))
	if got := optionValues(t, body); !slices.Equal(got, []string{app + "-carol-trials"}) {
		t.Errorf("options for TRI %q", got)
	}
	// ops sees every bucket of the app, and only the app's.
	_, body = e.signedPayload(t, "/slack/options", slackfake.BlockSuggestion("UALICE", view, "p:bucket", "bucket", ""))
	if got := optionValues(t, body); len(got) != 3 || slices.Contains(got, app+"-carol-private") {
		t.Errorf("alice's options %q, want the app's three buckets", got)
	}
	// An unsigned request is refused.
	raw, _ := json.Marshal(slackfake.BlockSuggestion("UCAROL", view, "p:bucket", "bucket", ""))
	resp, err := http.PostForm(e.base+"/slack/options", url.Values{"payload": {string(raw)}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("unsigned options: status %d", resp.StatusCode)
	}

	// A value the task's parameter refuses keeps the form open with the
	// message under its field (Slack's response_action "errors" on the
	// ack, keyed by block id); nothing runs, nothing is posted.
	posted := len(e.fake.Messages("C1")) + len(e.fake.Ephemerals())
	code, body = e.signedPayload(t, "/slack/interactions", slackfake.ViewSubmission("UCAROL", view, map[string]map[string]any{
		"p:bucket":    {"bucket": map[string]any{"type": "external_select", "selected_option": map[string]any{"value": app + "-carol-imaging"}}},
		"p:principal": {"principal": map[string]any{"type": "plain_text_input", "value": "bob"}},
	}))
	var inline struct {
		Action string            `json:"response_action"`
		Errors map[string]string `json:"errors"`
	}
	if code != http.StatusOK || json.Unmarshal([]byte(body), &inline) != nil || inline.Action != "errors" ||
		len(inline.Errors) != 1 || !strings.HasPrefix(inline.Errors["p:principal"], "principal must be") {
		t.Fatalf("bad value: status %d, ack %s; want the principal's error inline", code, body)
	}
	// Nothing was handed to the engine, so nothing can arrive later.
	if n := len(e.fake.Messages("C1")) + len(e.fake.Ephemerals()); n != posted {
		t.Errorf("a refused form posted %d messages", n-posted)
	}

	// Submitting runs the task as the typed command would.
	code, _ = e.signedPayload(t, "/slack/interactions", slackfake.ViewSubmission("UCAROL", view, map[string]map[string]any{
		"p:bucket":    {"bucket": map[string]any{"type": "external_select", "selected_option": map[string]any{"value": app + "-carol-imaging"}}},
		"p:principal": {"principal": map[string]any{"type": "plain_text_input", "value": visitor}},
	}))
	if code != http.StatusOK {
		t.Fatalf("view_submission: status %d", code)
	}
	// The typed command, on her other bucket: the same message but for
	// the bucket and the run id.
	if code := e.signedPost(t, "/slack/commands", e.command("UCAROL", app+" revoke-access bucket="+app+"-carol-trials principal="+visitor)); code != http.StatusOK {
		t.Fatalf("command: status %d", code)
	}
	done := func() []slackfake.Message {
		var out []slackfake.Message
		for _, m := range e.fake.Messages("C1") {
			if strings.Contains(m.Blocks, "revoked access on 1 of 1 buckets") {
				out = append(out, m)
			}
		}
		return out
	}
	waitFake(t, e.fake, "both runs", func() bool { return len(done()) == 2 })
	norm := func(m slackfake.Message) string {
		s := strings.NewReplacer(app+"-carol-imaging", "BUCKET", app+"-carol-trials", "BUCKET").Replace(m.Blocks)
		s = regexp.MustCompile(`r-[0-9]+`).ReplaceAllString(s, "r-N")
		return regexp.MustCompile(`[ -]+`).ReplaceAllString(s, " ") // the table's widths follow the names
	}
	if runs := done(); norm(runs[0]) != norm(runs[1]) {
		t.Errorf("the form's run and the typed one differ:\n%s\n%s", runs[0].Blocks, runs[1].Blocks)
	}
	if len(e.fake.Views()) != 1 {
		t.Errorf("the complete command opened a form")
	}

	// A bucket outside carol's rule, submitted anyway, is refused like
	// the typed command.
	e.signedPayload(t, "/slack/interactions", slackfake.ViewSubmission("UCAROL", view, map[string]map[string]any{
		"p:bucket":    {"bucket": map[string]any{"type": "external_select", "selected_option": map[string]any{"value": app + "-alice-genomes"}}},
		"p:principal": {"principal": map[string]any{"type": "plain_text_input", "value": visitor}},
	}))
	waitFake(t, e.fake, "the denial", func() bool {
		for _, m := range e.fake.Ephemerals() {
			if m.User == "UCAROL" && strings.Contains(strings.ToLower(m.Text+m.Blocks), "denied") {
				return true
			}
		}
		return false
	})
}

func TestServeSlackTasksRunButtonOpensTheForm(t *testing.T) {
	e, app := startChoicesSlack(t)
	if code := e.signedPost(t, "/slack/commands", e.command("UCAROL", "tasks "+app)); code != http.StatusOK {
		t.Fatalf("command: status %d", code)
	}
	var button string
	waitFake(t, e.fake, "the task list", func() bool {
		for _, m := range e.fake.Ephemerals() {
			if id := buttonID(m.Blocks, "Run revoke-access…"); id != "" {
				button = id
				return true
			}
		}
		return false
	})
	for _, m := range e.fake.Ephemerals() {
		if buttonID(m.Blocks, "Run teardown-bucket…") != "" {
			t.Errorf("a Run button for a task carol may not run")
		}
	}
	if code := e.signedPost(t, "/slack/interactions", e.click("UCAROL", "", button)); code != http.StatusOK {
		t.Fatalf("click: status %d", code)
	}
	waitFake(t, e.fake, "the form", func() bool { return len(e.fake.Views()) == 1 })
	if v := e.fake.Views()[0].JSON; !strings.Contains(v, `"callback_id":"day2-task"`) || !strings.Contains(v, `"external_select"`) {
		t.Errorf("form %s", v)
	}
}
