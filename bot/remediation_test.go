package bot_test

import (
	"strings"
	"testing"

	"github.com/day2bot/day2bot/bot"
	"github.com/day2bot/day2bot/policies/store"
)

// TestAlertActionButton: "ra:ID:INDEX" runs the stored task with its stored
// values as the presser's typed command would; stored values are validated
// like typed ones and a button whose actions are unknown says so.
func TestAlertActionButton(t *testing.T) {
	h := newHarness(t)
	id, err := h.Store.SaveAlertActions(h.Ctx, "shop", "shop-web-cpu-high", []store.AlertAction{
		{Task: "list-web"},
		{Task: "restart-web", Params: map[string]string{"batch": "3"}},
		{Task: "restart-web", Params: map[string]string{"batch": "9"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	press := func(user, button string) *recorder {
		r := &recorder{}
		h.Engine.HandleAction(h.Ctx, bot.Action{Platform: "shell", User: user, Channel: "ops", ButtonID: button, Reply: r})
		h.Drain()
		return r
	}

	press("alice", "ra:"+id+":1")
	rs := h.Runs("shop")
	if len(rs) != 1 || rs[0].Task != "restart-web" || rs[0].Params["batch"] != "3" || rs[0].Principal != "shell:alice" || rs[0].State != store.Succeeded {
		t.Fatalf("runs after alice's press = %+v", rs)
	}

	bad := press("alice", "ra:"+id+":2")
	if len(bad.ephemeral) != 1 || !strings.Contains(bad.ephemeral[0].Text, "batch must be between 1 and 4, got 9") {
		t.Errorf("out-of-range stored value: %+v", bad.ephemeral)
	}
	denied := press("carol", "ra:"+id+":1")
	if len(denied.ephemeral) != 1 || len(denied.public) != 0 || !strings.Contains(denied.ephemeral[0].Title+denied.ephemeral[0].Text, "Denied") {
		t.Errorf("carol (no rule): ephemeral %+v public %+v", denied.ephemeral, denied.public)
	}
	for _, b := range []string{"ra:" + id + ":3", "ra:xnope2345:0", "ra:" + id, "ra:" + id + ":-1", "ra::0"} {
		r := press("alice", b)
		if len(r.ephemeral) != 1 || !strings.Contains(r.ephemeral[0].Text, "type the command instead") {
			t.Errorf("%s: %+v", b, r.ephemeral)
		}
	}
	if rs := h.Runs("shop"); len(rs) != 1 {
		t.Errorf("runs = %d, want only alice's one", len(rs))
	}
}

// TestOldRemediationButton: alerts posted before actions were saved carry
// "rm:APP:TASK"; a press is still the typed `APP TASK` of the presser.
func TestOldRemediationButton(t *testing.T) {
	h := newHarness(t)
	r := &recorder{}
	h.Engine.HandleAction(h.Ctx, bot.Action{Platform: "shell", User: "bob", Channel: "ops", ButtonID: "rm:shop:restart-web", Reply: r})
	h.Drain()
	pend, err := h.Store.PendingApprovals(h.Ctx, "shop")
	if err != nil || len(pend) != 1 || pend[0].Task != "restart-web" || pend[0].Requester != "shell:bob" {
		t.Fatalf("pending = %+v, %v; replies %+v", pend, err, r.ephemeral)
	}
	h.Engine.HandleAction(h.Ctx, bot.Action{Platform: "shell", User: "alice", Channel: "ops", ButtonID: "rm:shop:list-web", Reply: &recorder{}})
	h.Drain()
	if rs := h.Runs("shop"); len(rs) != 1 || rs[0].Task != "list-web" || rs[0].State != store.Succeeded {
		t.Fatalf("runs = %+v", rs)
	}
}
