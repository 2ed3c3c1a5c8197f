package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/day2bot/day2bot/policies/store"
	"github.com/day2bot/day2bot/tasks/emulator"
)

// TestServeListensWhileChatHangs: the last process left a run running;
// the Slack API accepts connections and never answers. serve still
// listens and answers /healthz, with the interrupted run's announcement
// stuck in the background, and marks the run interrupted in the store.
func TestServeListensWhileChatHangs(t *testing.T) {
	calls := make(chan string, 64)
	release := make(chan struct{})
	var pending atomic.Int32 // chat API calls not answered yet
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pending.Add(1)
		defer pending.Add(-1)
		_, _ = io.Copy(io.Discard, r.Body) // then r's context ends when the client hangs up
		calls <- r.URL.Path
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	// Handlers end before the server closes (Close waits for them).
	defer hung.Close()
	var once sync.Once
	unhang := func() { once.Do(func() { close(release) }) }
	defer unhang()

	emu := emulator.New()
	t.Cleanup(emu.Close)
	app := fmt.Sprintf("hang%d", time.Now().UnixNano()%1_000_000_000)
	cfgPath, db := serveConfig(t, servePolicy,
		fmt.Sprintf("apps:\n  %s:\n    blueprints: [ec2-web]\n    region: us-east-1\n    channels: [\"slack:C1\"]\n", app))
	ctx := context.Background()
	st, err := openStore(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	r, err := st.CreateRun(ctx, store.Run{App: app, Task: "restart-web", Principal: "slack:UALICE", State: store.Queued, Platform: "slack", Channel: "C1"})
	if err == nil {
		err = st.TransitionRun(ctx, r.ID, store.Queued, store.Running, "")
	}
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"SLACK_BOT_TOKEN": serveToken, "SLACK_SIGNING_SECRET": serveSecret, "SLACK_API_URL": hung.URL + "/api/"}
	addr, logs, stop := launchServe(t, cfgPath, vars, emu)
	if code, body := get(t, "http://"+addr+"/healthz"); code != http.StatusOK {
		t.Fatalf("healthz %d %q", code, body)
	}
	// The announcement is what hangs: it reached the chat API.
	if path := <-calls; !strings.Contains(path, "chat.") {
		t.Fatalf("first chat API call %s, want the interrupted run's announcement", path)
	}
	// serve listened while that call was (and still is) unanswered, not
	// after it gave up.
	if pending.Load() != 1 {
		t.Fatal("serve listened only after the announcement gave up")
	}
	st2, err := openStore(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	got, err := st2.Run(ctx, r.ID)
	if err != nil || got.State != store.Interrupted {
		t.Fatalf("run %+v err %v, want interrupted\n%s", got, err, logs.String())
	}
	// Let the chat API answer (badly) so shutdown need not wait out its
	// grace period for the stuck announcement.
	unhang()
	_ = stop()
}
