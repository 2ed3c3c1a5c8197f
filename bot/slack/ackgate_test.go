package slack

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/day2bot/day2bot/bot"
	"github.com/day2bot/day2bot/bot/slack/slackfake"
)

// headerWatch closes wrote when the handler writes its status: the moment
// the acknowledgement leaves for Slack.
type headerWatch struct {
	*httptest.ResponseRecorder
	once  sync.Once
	wrote chan struct{}
}

func (w *headerWatch) WriteHeader(code int) {
	w.once.Do(func() { close(w.wrote) })
	w.ResponseRecorder.WriteHeader(code)
}

// TestClickIsAckedOnlyOnceRecorded: a click's 200 is written after the
// engine has recorded it (opened the ack gate), never before, so a crash
// between the ack and the vote cannot lose a vote Slack showed as sent.
func TestClickIsAckedOnlyOnceRecorded(t *testing.T) {
	e := newEnv(t)
	var ackedEarly bool
	recorded := make(chan struct{})
	w := &headerWatch{ResponseRecorder: httptest.NewRecorder(), wrote: make(chan struct{})}
	e.rec.onAction = func(ctx context.Context, a bot.Action) {
		select {
		case <-w.wrote:
			ackedEarly = true
		default:
		}
		close(recorded)
		bot.OpenAckGate(ctx)
	}
	payload, _ := json.Marshal(slackfake.BlockActions("UBOB", "bob", "C1", "1700000000.000001", "approve:a-1", e.fake.ResponseURL()))
	body := []byte(url.Values{"payload": {string(payload)}}.Encode())
	req := httptest.NewRequest(http.MethodPost, "/slack/interactions", strings.NewReader(string(body)))
	req.Header = slackfake.Sign(testSecret, time.Now(), body)
	e.adapter.InteractionsHandler(e.rec).ServeHTTP(w, req)
	<-recorded
	if ackedEarly {
		t.Fatal("the click was acknowledged before the engine recorded it")
	}
	if w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
}
