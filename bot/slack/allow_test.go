package slack

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/day2bot/day2bot/bot/slack/slackfake"
	"github.com/day2bot/day2bot/policies/store"
	"github.com/day2bot/day2bot/policies/store/sqlite"
)

func TestAllowed(t *testing.T) {
	cases := []struct {
		name        string
		teams, orgs []string
		o           origin
		want        bool
	}{
		{"no lists: anyone", nil, nil, origin{team: "T9"}, true},
		{"listed team", []string{"T1"}, nil, origin{team: "T1"}, true},
		{"other team", []string{"T1"}, nil, origin{team: "T2"}, false},
		{"no team at all", []string{"T1"}, nil, origin{}, false},
		{"workspace of a listed org", nil, []string{"E1"}, origin{team: "T7", enterprise: "E1"}, true},
		{"workspace of another org", nil, []string{"E1"}, origin{team: "T7", enterprise: "E2"}, false},
		{"org id not a team id", []string{"E1"}, nil, origin{team: "T7", enterprise: "E1"}, true},
		{"home user in own channel", []string{"T1"}, nil, origin{team: "T1", userTeam: "T1"}, true},
		{"Slack Connect: foreign user in our channel", []string{"T1"}, nil, origin{team: "T1", userTeam: "T9"}, false},
		{"Slack Connect: both teams listed", []string{"T1", "T9"}, nil, origin{team: "T1", userTeam: "T9"}, true},
		{"Grid user reported by org id", []string{"T1"}, []string{"E1"}, origin{team: "T1", enterprise: "E1", userTeam: "E1"}, true},
		{"Grid user of another org", []string{"T1"}, []string{"E1"}, origin{team: "T1", enterprise: "E1", userTeam: "E2"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := &Adapter{opts: Options{Teams: c.teams, Enterprises: c.orgs}}
			if got := a.allowed(c.o); got != c.want {
				t.Errorf("allowed(%+v) = %v, want %v", c.o, got, c.want)
			}
		})
	}
}

// allowEnv is an adapter that allows workspace T1 only and audits to a
// real store.
func allowEnv(t *testing.T) (*env, *store.Store) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "day2bot.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := newEnv(t, func(o *Options) {
		o.Teams = []string{"T1"}
		o.Enterprises = []string{"E1"}
		o.Auditor = st
		o.Replay = st
	})
	return e, st
}

func refusals(t *testing.T, st *store.Store) []store.Entry {
	t.Helper()
	es, err := st.AuditLog(context.Background(), store.AuditFilter{Kind: store.KindRefused})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func TestCommandFromForeignWorkspaceIsRefused(t *testing.T) {
	e, st := allowEnv(t)
	form := e.commandForm("UALICE", "C1", "shop restart-web")
	form.Set("team_id", "T2")
	body := []byte(form.Encode())
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/slack/commands", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = slackfake.Sign(testSecret, time.Now(), body)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var msg struct {
		ResponseType string `json:"response_type"`
		Text         string `json:"text"`
	}
	if err := json.Unmarshal(raw, &msg); resp.StatusCode != http.StatusOK || err != nil {
		t.Fatalf("status %d, body %s (%v)", resp.StatusCode, raw, err)
	}
	if msg.ResponseType != "ephemeral" || msg.Text != notAllowedText {
		t.Errorf("answer %+v, want the ephemeral refusal", msg)
	}
	e.adapter.inflight.Wait()
	if n := len(e.rec.Commands()); n != 0 {
		t.Errorf("engine got %d commands from a foreign workspace", n)
	}
	if n := len(e.fake.Calls()) + len(e.fake.Ephemerals()); n != 0 {
		t.Errorf("%d calls to Slack for a refusal answered in the ack", n)
	}
	got := refusals(t, st)
	if len(got) != 1 || got[0].Actor != "slack:UALICE" || !strings.Contains(got[0].Detail, `team "T2"`) {
		t.Errorf("audit = %+v, want one refusal naming team T2", got)
	}

	// A workspace of the listed org is served.
	form.Set("team_id", "T7")
	form.Set("enterprise_id", "E1")
	if code := e.post(t, "/slack/commands", []byte(form.Encode()), time.Now()); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	waitFor(t, e.fake, e.rec, "the org's command", func() bool { return len(e.rec.Commands()) == 1 })
}

// In a Slack Connect channel of an allowed workspace, a person of the
// other organisation clicks a button: team.id is ours, user.team_id is
// theirs.
func TestClickFromSlackConnectUserIsRefused(t *testing.T) {
	e, st := allowEnv(t)
	p := slackfake.BlockActions("UEXT", "ext", "C1", "1700000000.000001", "approve:a-1", e.fake.ResponseURL())
	p["user"].(map[string]any)["team_id"] = "T9"
	payload, _ := json.Marshal(p)
	if code := e.post(t, "/slack/interactions", []byte(url.Values{"payload": {string(payload)}}.Encode()), time.Now()); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	waitFor(t, e.fake, e.rec, "the refusal", func() bool { return len(e.fake.Ephemerals()) == 1 })
	e.adapter.inflight.Wait()
	if eph := e.fake.Ephemerals()[0]; eph.Via != "response_url" || eph.Text != notAllowedText {
		t.Errorf("refusal %+v", eph)
	}
	if n := len(e.rec.Actions()); n != 0 {
		t.Errorf("engine got %d clicks from a foreign user", n)
	}
	if got := refusals(t, st); len(got) != 1 || got[0].Actor != "slack:UEXT" || !strings.Contains(got[0].Detail, `user's team "T9"`) {
		t.Errorf("audit = %+v", got)
	}

	// The same click by a person of the workspace goes through.
	p = slackfake.BlockActions("UBOB", "bob", "C1", "1700000000.000001", "approve:a-1", e.fake.ResponseURL())
	p["user"].(map[string]any)["team_id"] = "T1"
	payload, _ = json.Marshal(p)
	if code := e.post(t, "/slack/interactions", []byte(url.Values{"payload": {string(payload)}}.Encode()), time.Now()); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	waitFor(t, e.fake, e.rec, "the click", func() bool { return len(e.rec.Actions()) == 1 })
}
