package bot_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/day2bot/day2bot/bot"
	"github.com/day2bot/day2bot/policies/store"
)

// slowResponder posts publicly like Discord over HTTP: the message is
// visible (posted is signalled with it) before its ref is known, which
// takes until release is closed.
type slowResponder struct {
	ref     bot.MessageRef
	posted  chan bot.Message
	release chan struct{}
	recorder
}

func (r *slowResponder) Public(ctx context.Context, m bot.Message) (bot.MessageRef, error) {
	r.posted <- m
	<-r.release
	return r.ref, nil
}

// updates records the messages the engine updated, by message id.
type updates struct {
	mu   sync.Mutex
	byID map[string][]bot.Message
}

func (u *updates) Name() string { return "shell" }

func (u *updates) Post(context.Context, string, bot.Message) (bot.MessageRef, error) {
	return bot.MessageRef{Platform: "shell", Channel: "ops", ID: "posted"}, nil
}

func (u *updates) Update(_ context.Context, ref bot.MessageRef, m bot.Message) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.byID[ref.ID] = append(u.byID[ref.ID], m)
	return nil
}

func (u *updates) of(id string) []bot.Message {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.byID[id]
}

// startSlowApproval has bob request an approval whose post has not
// returned its ref yet; it returns the approve button's id and a func that
// lets the post return and waits for the command to finish.
func startSlowApproval(t *testing.T, h *harness, msg bot.MessageRef) (approve string, finish func()) {
	t.Helper()
	req := &slowResponder{ref: msg, posted: make(chan bot.Message, 1), release: make(chan struct{})}
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.e.HandleCommand(h.ctx, bot.Command{Platform: "shell", User: "bob", Channel: "ops", Text: "shop restart-web batch=2", Reply: req})
	}()
	posted := <-req.posted
	for _, b := range posted.Buttons {
		if strings.HasPrefix(b.ID, "ap:") {
			approve = b.ID
		}
	}
	if approve == "" {
		close(req.release)
		<-done
		t.Fatalf("approval request has no approve button: %+v", posted)
	}
	return approve, func() {
		close(req.release)
		<-done
		h.drain()
	}
}

// An approver may click Approve on the request's message before the post
// that created it has returned its ref. The click names its message, so the
// engine updates that message (not a private reply to the approver) and the
// run reports there too.
func TestVoteBeforeApprovalMessageIsKnown(t *testing.T) {
	ups := &updates{byID: map[string][]bot.Message{}}
	h := newHarness(t, func(o *bot.Options) { o.Platforms = map[string]bot.Platform{"shell": ups} })
	msg := bot.MessageRef{Platform: "shell", Channel: "ops", ID: "m-1"}
	approve, finish := startSlowApproval(t, h, msg)
	id := strings.TrimPrefix(approve, "ap:")
	if a, err := h.st.Approval(h.ctx, id); err != nil || a.MessageRef != "" {
		t.Fatalf("approval %s before the post returned: message %q, err %v; want no message yet", id, a.MessageRef, err)
	}

	click := &recorder{}
	h.e.HandleAction(h.ctx, bot.Action{Platform: "shell", User: "alice", Channel: "ops", ButtonID: approve, Message: msg, Reply: click})
	finish()

	if len(click.ephemeral) != 0 {
		t.Errorf("the approver was answered privately: %+v", click.ephemeral)
	}
	got := ups.of("m-1")
	if len(got) == 0 || !strings.Contains(got[0].Title+got[0].Text+strings.Join(got[0].Context, " "), "alice") {
		t.Fatalf("the request's message was not updated with alice's approval: %+v", got)
	}
	a, err := h.st.Approval(h.ctx, id)
	if err != nil || a.State != store.Approved || !strings.Contains(a.MessageRef, `"id":"m-1"`) {
		t.Fatalf("approval after the click: %+v, %v", a, err)
	}
	runs := h.runs("shop")
	if len(runs) != 1 || runs[0].State != store.Succeeded || !strings.Contains(runs[0].MessageRef, `"id":"m-1"`) {
		t.Fatalf("run: %+v; want one succeeded run reporting on m-1", runs)
	}
	last := got[len(got)-1]
	if !strings.Contains(last.Title, "succeeded") {
		t.Errorf("last update of m-1 is %q, want the finished run", last.Title)
	}
}

// The same early click on a request the rules no longer allow cancels it on
// the clicked message, which then shows it cancelled without buttons.
func TestEarlyVoteOnRequestNoLongerAllowed(t *testing.T) {
	ups := &updates{byID: map[string][]bot.Message{}}
	h := newHarness(t, func(o *bot.Options) { o.Platforms = map[string]bot.Platform{"shell": ups} })
	msg := bot.MessageRef{Platform: "shell", Channel: "ops", ID: "m-2"}
	approve, finish := startSlowApproval(t, h, msg)
	if err := h.st.RemoveRule(h.ctx, "admin", "dev-shop-approve"); err != nil {
		t.Fatal(err)
	}
	click := &recorder{}
	h.e.HandleAction(h.ctx, bot.Action{Platform: "shell", User: "alice", Channel: "ops", ButtonID: approve, Message: msg, Reply: click})
	finish()

	got := ups.of("m-2")
	if len(got) == 0 || !strings.Contains(got[0].Text+strings.Join(got[0].Context, " "), "cancelled") || len(got[0].Buttons) != 0 {
		t.Fatalf("m-2 was not updated to a cancelled request without buttons: %+v", got)
	}
	if len(click.ephemeral) != 1 || !strings.Contains(click.ephemeral[0].Text, "cancelled") {
		t.Errorf("the approver was not told: %+v", click.ephemeral)
	}
	if runs := h.runs("shop"); len(runs) != 0 {
		t.Errorf("runs: %+v, want none", runs)
	}
}
