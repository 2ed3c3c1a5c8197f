package bot_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/day2bot/day2bot/bot"
	"github.com/day2bot/day2bot/internal/enginetest"
	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/tasks"
)

// A run that failed for a passing reason (AWS throttled, a 5xx) offers
// Retry: the press is the presser's own command with the same parameters,
// decided again by the policy. Other failures offer nothing to press.
func TestTransientFailureOffersRetry(t *testing.T) {
	h := newHarness(t)
	h.restart.result = func(tasks.Invocation) (tasks.Result, error) {
		return tasks.Result{}, errs.E("call RebootInstances", errs.Transient, "AWS is throttling RebootInstances (RequestLimitExceeded) and retries did not get through")
	}
	out := h.Say("alice", "shop restart-web batch=2")
	enginetest.MustContain(t, out, "shop restart-web — failed", "AWS is throttling RebootInstances", "try again in a minute", "[Retry]")

	h.restart.result = nil // AWS is back
	press := func(user string) *recorder {
		r := &recorder{}
		h.Engine.HandleAction(h.Ctx, bot.Action{Platform: "shell", User: user, Channel: "ops", ButtonID: "rt:r-1", Reply: r})
		h.Drain()
		return r
	}
	press("alice")
	runs := h.Runs("shop")
	if len(runs) != 2 || runs[0].ID != "r-2" || runs[0].Params["batch"] != "2" || runs[0].Principal != "shell:alice" {
		t.Fatalf("runs after retry = %+v; want r-2 with batch=2 as alice", runs)
	}
	if runs[0].State != "succeeded" || runs[1].State != "failed" {
		t.Errorf("r-2 %s, r-1 %s; want the retry succeeded and the failure kept", runs[0].State, runs[1].State)
	}

	// bob's press is bob's request: the policy asks ops to approve it.
	press("bob")
	if pend, err := h.Store.PendingApprovals(h.Ctx, "shop"); err != nil || len(pend) != 1 || pend[0].Requester != "shell:bob" {
		t.Errorf("bob's retry: pending %+v, %v; want his approval request", pend, err)
	}
	if r := press("alice"); len(h.Runs("shop")) != 3 {
		t.Errorf("a second retry of r-1 did not run: %+v", r.ephemeral)
	}

	// An unknown run is refused kindly.
	r := &recorder{}
	h.Engine.HandleAction(h.Ctx, bot.Action{Platform: "shell", User: "alice", Channel: "ops", ButtonID: "rt:r-999", Reply: r})
	if len(r.ephemeral) != 1 || !strings.Contains(r.ephemeral[0].Text, "run r-999 is no longer known") {
		t.Errorf("retry of r-999: %+v", r.ephemeral)
	}

	// A failure that will not pass by itself has no Retry.
	h.restart.result = func(tasks.Invocation) (tasks.Result, error) {
		return tasks.Result{}, &errs.Error{Kind: errs.Permission, Msg: "AWS denied RebootInstances", IAMAction: "ec2:RebootInstances", Err: errors.New("403")}
	}
	out = h.Say("alice", "shop restart-web")
	enginetest.MustContain(t, out, "shop restart-web — failed", `needs permission "ec2:RebootInstances"`)
	enginetest.MustNotContain(t, out, "[Retry]")
}
