package main

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/day2bot/day2bot/policies/store"
	"github.com/day2bot/day2bot/policies/store/sqlite"
)

// slack.teams reaches the adapter: a command from another workspace is
// refused with an audit entry in serve's database and never reaches the
// engine; without the list serve warns at start.
func TestServeSlackAllowList(t *testing.T) {
	open := startServe(t, map[string]string{"SLACK_SIGNING_SECRET": serveSecret})
	if err := open.stop(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(open.logs.String(), "slack.teams and slack.enterprises are empty") {
		t.Errorf("no warning about the missing allow-list in:\n%s", open.logs.String())
	}

	e := startServeWith(t, map[string]string{"SLACK_SIGNING_SECRET": serveSecret}, "slack:\n  teams: [T1]\n")
	foreign := e.command("UALICE", "apps")
	foreign.Set("team_id", "T2")
	if code := e.signedPost(t, "/slack/commands", foreign); code != http.StatusOK {
		t.Fatalf("foreign command: status %d", code)
	}
	if code := e.signedPost(t, "/slack/commands", e.command("UALICE", "apps")); code != http.StatusOK {
		t.Fatalf("command: status %d", code)
	}
	waitFake(t, e.fake, "the answer to T1", func() bool { return len(e.fake.Ephemerals()) == 1 })
	if err := e.stop(); err != nil {
		t.Fatal(err)
	}
	if n := len(e.fake.Ephemerals()); n != 1 {
		t.Errorf("%d answers, want only T1's (the refusal rides on the ack)", n)
	}
	if strings.Contains(e.logs.String(), "slack.teams and slack.enterprises are empty") {
		t.Error("warned although slack.teams is set")
	}
	st, err := sqlite.Open(context.Background(), e.db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	refused, err := st.AuditLog(context.Background(), store.AuditFilter{Kind: store.KindRefused})
	if err != nil {
		t.Fatal(err)
	}
	if len(refused) != 1 || refused[0].Actor != "slack:UALICE" || !strings.Contains(refused[0].Detail, `"T2"`) {
		t.Errorf("refusals in the audit log: %+v", refused)
	}
	if n := strings.Count(e.logs.String(), `"msg":"command"`); n != 1 {
		t.Errorf("engine logged %d commands, want only T1's", n)
	}
}
