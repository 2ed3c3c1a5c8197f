package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/day2bot/day2bot/policies"
	"github.com/day2bot/day2bot/policies/store"
)

// TestShellSIGTERMEndsAHungAWSCall: with an AWS endpoint that accepts and
// never answers, SIGTERM (the cancelled context main gets from
// signal.NotifyContext) ends `shell` at once: the run's call is cancelled
// and the run is recorded as cancelled, instead of the process waiting for
// the run's 15-minute timeout.
func TestShellSIGTERMEndsAHungAWSCall(t *testing.T) {
	arrived := make(chan struct{}, 64)
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // then r's context ends when the client hangs up
		arrived <- struct{}{}
		<-r.Context().Done()
	}))
	defer hung.Close()
	t.Setenv("AWS_ENDPOINT_URL", hung.URL)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDHUNG")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "hung")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))

	dir := t.TempDir()
	db := filepath.Join(dir, "day2bot.db")
	ctx := context.Background()
	st, err := openStore(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	err = st.ImportFile(ctx, "test", policies.File{
		Users: map[string][]string{"alice": {"shell:alice"}},
		Rules: []policies.Rule{{ID: "alice-all", Effect: policies.Allow, Subjects: []string{"user:alice"}}},
	})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "day2bot.yaml")
	if err := os.WriteFile(cfg, []byte("database: "+db+"\napps:\n  hung1:\n    blueprints: [ec2-web]\n    region: us-east-1\n    channels: [\"shell:ops\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	sigCtx, sigterm := context.WithCancel(ctx)
	var out, errb bytes.Buffer
	g := &globals{Stdout: &out, Stderr: &errb, Stdin: strings.NewReader("hung1 restart-web\n"), Getenv: os.Getenv}
	done := make(chan error, 1)
	go func() {
		done <- runShell(sigCtx, g, shellOptions{ConfigPath: cfg, As: "alice", Channel: "ops", Attachments: t.TempDir()})
	}()
	<-arrived // the run's first AWS call is in flight and will never be answered
	sigterm()
	<-done

	st, err = openStore(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	runs, err := st.Runs(ctx, store.RunFilter{App: "hung1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || runs[0].State != store.Cancelled || !strings.Contains(runs[0].Summary, "shutting down") {
		t.Fatalf("runs after SIGTERM: %+v\n%s", runs, out.String())
	}
}
