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
// returned its ref yet; it returns the approval's id, the message as first
// posted, and a func that lets the post return and waits for the command
// (and the plan) to finish.
func startSlowApproval(t *testing.T, h *harness, msg bot.MessageRef) (id string, posted bot.Message, finish func()) {
	t.Helper()
	req := &slowResponder{ref: msg, posted: make(chan bot.Message, 1), release: make(chan struct{})}
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.Engine.HandleCommand(h.Ctx, bot.Command{Platform: "shell", User: "bob", Channel: "ops", Text: "shop restart-web batch=2", Reply: req})
	}()
	posted = <-req.posted
	as, err := h.Store.PendingApprovals(h.Ctx, "shop")
	if err != nil || len(as) != 1 {
		close(req.release)
		<-done
		t.Fatalf("pending approvals %+v, %v; want one", as, err)
	}
	return as[0].ID, posted, func() {
		close(req.release)
		<-done
		h.Drain()
	}
}

// The request is posted before its plan is known, without buttons: nobody
// approves what they have not seen, and a vote sent anyway (a forged
// click, a typed approve) is refused until the plan is there. The plan's
// update brings the buttons, and a click on them approves and runs.
func TestButtonsComeWithThePlan(t *testing.T) {
	ups := &updates{byID: map[string][]bot.Message{}}
	h := newHarness(t, func(o *bot.Options) { o.Platforms = map[string]bot.Platform{"shell": ups} })
	msg := bot.MessageRef{Platform: "shell", Channel: "ops", ID: "m-1"}
	id, posted, finish := startSlowApproval(t, h, msg)
	if len(posted.Buttons) != 0 || posted.Text != "Plan: computing…" || !strings.Contains(strings.Join(posted.Context, " "), "appear with the plan") {
		t.Fatalf("first post %+v; want no buttons while the plan is computed", posted)
	}
	early := &recorder{}
	h.Engine.HandleAction(h.Ctx, bot.Action{Platform: "shell", User: "alice", Channel: "ops", ButtonID: "ap:" + id, Message: msg, Reply: early})
	if len(early.ephemeral) != 1 || !strings.Contains(early.ephemeral[0].Text, "still being computed") {
		t.Fatalf("early vote answered %+v; want a refusal", early.ephemeral)
	}
	finish()

	got := ups.of("m-1")
	if len(got) != 1 || len(got[0].Buttons) != 2 || !strings.HasPrefix(got[0].Text, "Plan: ") {
		t.Fatalf("updates of m-1: %+v; want the plan with Approve and Deny", got)
	}
	click := &recorder{}
	h.Engine.HandleAction(h.Ctx, bot.Action{Platform: "shell", User: "alice", Channel: "ops", ButtonID: got[0].Buttons[0].ID, Message: msg, Reply: click})
	h.Drain()
	a, err := h.Store.Approval(h.Ctx, id)
	if err != nil || a.State != store.Approved || !strings.Contains(a.MessageRef, `"id":"m-1"`) {
		t.Fatalf("approval after the click: %+v, %v", a, err)
	}
	runs := h.Runs("shop")
	if len(runs) != 1 || runs[0].State != store.Succeeded || !strings.Contains(runs[0].MessageRef, `"id":"m-1"`) {
		t.Fatalf("run: %+v; want one succeeded run reporting on m-1", runs)
	}
}
