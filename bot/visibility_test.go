package bot_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/day2bot/day2bot/bot"
	"github.com/day2bot/day2bot/internal/enginetest"
	"github.com/day2bot/day2bot/policies"
)

// visibilityHarness has three apps: shop (owned by alice), lab (owned by
// group research) and vault (only mutating tasks, no owner), and people
// whom the policy lets see different parts of them.
func visibilityHarness(t *testing.T, digest func(ctx context.Context, app string) (bot.Message, error)) *harness {
	t.Helper()
	h := newHarness(t, func(o *bot.Options) {
		shop := testApps()[0]
		lab := shop
		lab.Name, lab.Owners = "lab", []string{"group:research"}
		vault := shop
		vault.Name, vault.Owners, vault.Tasks = "vault", nil, shop.Tasks[:1] // restart-web: mutating
		o.Apps = []bot.App{shop, lab, vault}
		o.Digest = digest
	})
	p := testPolicy()
	for _, u := range []string{"erin", "frank", "grace", "heidi"} {
		p.Users[u] = []string{"shell:" + u}
	}
	p.Groups["research"] = []string{"grace"}
	p.Rules = append(p.Rules,
		// erin approves bob's lab requests and may run nothing herself.
		policies.Rule{ID: "lab-approve", Effect: policies.Approve, Subjects: []string{"user:bob"}, Apps: []string{"lab"},
			Mutating: boolp(true), Approvers: []string{"user:erin"}, Quorum: 1},
		// frank may restart vault, but only elsewhere, on Sunday night.
		policies.Rule{ID: "frank-vault-sunday", Effect: policies.Allow, Subjects: []string{"user:frank"}, Apps: []string{"vault"},
			Channels: []string{"shell:elsewhere"}, Window: "Sun 03:00-04:00 UTC"},
		// heidi is denied vault outright; a deny shows nothing.
		policies.Rule{ID: "heidi-never-vault", Effect: policies.Deny, Subjects: []string{"user:heidi"}, Apps: []string{"vault"}},
		// A read-only rule for everyone on a task vault does not have.
		policies.Rule{ID: "all-list-shop", Effect: policies.Allow, Subjects: []string{"*"}, Apps: []string{"shop"}, Tasks: []string{"no-such-task"}},
	)
	if err := h.Store.ImportFile(h.Ctx, "test", p); err != nil {
		t.Fatal(err)
	}
	return h
}

func TestMaySee(t *testing.T) {
	h := visibilityHarness(t, nil)
	for _, c := range []struct {
		who  string
		want string // the apps seen, sorted
	}{
		{"alice", "lab shop vault"},       // admin
		{"shell:alice", "lab shop vault"}, // by principal too
		{"dave", "lab shop vault"},        // ops: allowed everything
		{"bob", "lab shop"},               // dev-read (read-only tasks: vault has none) and approve on shop, lab
		{"erin", "lab"},                   // an approver of a lab rule
		{"frank", "vault"},                // an allow whose channel and window do not hold now
		{"grace", "lab"},                  // owner through group research
		{"heidi", ""},                     // denied by a rule: sees nothing
		{"carol", ""},                     // no rule at all
		{"slack:UFOREIGN", ""},            // nobody the store knows
	} {
		got, err := h.Engine.VisibleApps(h.Ctx, c.who)
		if err != nil {
			t.Fatalf("VisibleApps(%s): %v", c.who, err)
		}
		if strings.Join(got, " ") != c.want {
			t.Errorf("VisibleApps(%s) = %q, want %q", c.who, got, c.want)
		}
		for _, app := range []string{"shop", "lab", "vault", "nope"} {
			ok, err := h.Engine.MaySee(h.Ctx, c.who, app)
			if err != nil {
				t.Fatalf("MaySee(%s, %s): %v", c.who, app, err)
			}
			if want := strings.Contains(" "+c.want+" ", " "+app+" "); ok != want {
				t.Errorf("MaySee(%s, %s) = %v, want %v", c.who, app, ok, want)
			}
		}
	}
}

// Every read answers a person who may not see the app without showing any
// of it; the same reads work for someone who may.
func TestReadsRespectPolicy(t *testing.T) {
	var builds atomic.Int32
	h := visibilityHarness(t, func(ctx context.Context, app string) (bot.Message, error) {
		builds.Add(1)
		return bot.Message{Title: "Digest of " + app}, nil
	})
	h.Say("alice", "vault restart-web")
	h.Say("bob", "shop list-web")
	for _, c := range []struct {
		who, line string
		want      []string
		not       []string
	}{
		{"carol", "apps", []string{"no app is open to you"}, []string{"shop", "lab", "vault"}},
		{"bob", "apps", []string{"shop", "lab"}, []string{"vault"}},
		{"erin", "apps", []string{"lab"}, []string{"shop", "vault"}},
		{"carol", "status shop", []string{"shop is not open to you"}, []string{"Status of", "Pending"}},
		{"frank", "status vault", []string{"Status of vault"}, nil},
		{"carol", "tasks shop", []string{"shop is not open to you"}, []string{"restart-web"}},
		{"carol", "help shop", []string{"shop is not open to you"}, []string{"restart-web"}},
		{"carol", "schedules shop", []string{"shop is not open to you"}, nil},
		{"carol", "digest shop", []string{"shop is not open to you"}, []string{"Digest of"}},
		{"carol", "history shop", []string{"shop is not open to you"}, []string{"list-web"}},
		{"carol", "history", []string{"no runs yet"}, []string{"r-1", "r-2"}},
		{"bob", "history", []string{"r-2", "list-web"}, []string{"r-1", "vault"}},
		{"frank", "history", []string{"r-1", "vault"}, []string{"r-2", "list-web"}},
		{"alice", "history", []string{"r-1", "r-2"}, nil},
		// Suggestions name only apps the person sees.
		{"carol", "staus shpo", []string{`unknown app "staus"`}, []string{"shop"}},
		{"carol", "status shpo", []string{`unknown app "shpo"`}, []string{"shop"}},
		{"bob", "status shpo", []string{`did you mean "shop"?`}, nil},
		{"carol", "shpo", []string{"unknown command or app"}, []string{"shop"}},
		{"carol", "freeze shop", []string{"shop is not open to you"}, []string{"Freeze:"}},
		// Denials to people who see nothing of the app name no rule.
		{"carol", "shop restart-web", []string{"Denied: shop restart-web", "no rule allows carol"}, []string{`rule "`, "Closest"}},
		{"heidi", "vault restart-web", []string{"Denied: vault restart-web", "heidi may not run vault/restart-web"}, []string{"heidi-never-vault", `rule "`}},
		{"heidi", "why vault restart-web", []string{"denied", "heidi may not run vault/restart-web"}, []string{"heidi-never-vault", "Rule", "Closest"}},
		{"mallory", "vault restart-web", []string{"Denied", "no rule allows shell:mallory"}, []string{"frank-vault-sunday", "Closest", `rule "`}},
		// Someone who sees the app still learns which rule and why.
		{"frank", "vault restart-web", []string{"Denied", "Closest rule"}, nil},
	} {
		t.Run(c.who+"/"+c.line, func(t *testing.T) {
			out := h.Say(c.who, c.line)
			enginetest.MustContain(t, out, c.want...)
			enginetest.MustNotContain(t, out, c.not...)
		})
	}
	if n := builds.Load(); n != 0 {
		t.Errorf("digest built %d times for people who may not see the app", n)
	}
}

func TestCompleteOffersOnlyVisibleApps(t *testing.T) {
	h := visibilityHarness(t, nil)
	for _, c := range []struct{ who, in, want string }{
		{"shell:erin", "status ", "[status lab]"},
		{"shell:erin", "digest ", "[digest lab]"},
		{"shell:erin", "history ", "[history lab]"},
		{"shell:erin", "why ", "[why lab]"},
		{"shell:erin", "why shop ", "[]"},
		{"shell:carol", "schedules ", "[]"},
		{"shell:frank", "status ", "[status vault]"},
		{"shell:alice", "status ", "[status lab status shop status vault]"},
	} {
		if got := fmt.Sprint(h.Engine.Complete(h.Ctx, c.who, c.in)); got != c.want {
			t.Errorf("Complete(%s, %q) = %s, want %s", c.who, c.in, got, c.want)
		}
	}
}

// On-demand digests of one app are built at most once per DigestEvery;
// the requests in between (at once or later) post the last one again.
func TestDigestThrottledPerApp(t *testing.T) {
	var mu sync.Mutex
	builds := map[string]int{}
	h := visibilityHarness(t, func(ctx context.Context, app string) (bot.Message, error) {
		mu.Lock()
		defer mu.Unlock()
		builds[app]++
		return bot.Message{Title: fmt.Sprintf("Digest of %s #%d", app, builds[app])}, nil
	})
	count := func(app string) int {
		mu.Lock()
		defer mu.Unlock()
		return builds[app]
	}
	out := h.Say("alice", "digest shop")
	enginetest.MustContain(t, out, "building the digest of shop", "Digest of shop #1")
	// 50 at once: one build between them.
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() { h.Session("dave").Line(h.Ctx, "digest shop") })
	}
	wg.Wait()
	h.Drain()
	if n := count("shop"); n != 1 {
		t.Fatalf("shop digest built %d times, want 1", n)
	}
	if n := strings.Count(h.Out.String(), "Digest of shop #1"); n != 51 {
		t.Errorf("digest posted %d times, want 51 (one per request)", n)
	}
	h.Clock.Advance(4 * time.Minute)
	out = h.Say("bob", "digest shop")
	enginetest.MustContain(t, out, "Digest of shop #1", "built 4m ago; a fresh digest of shop at most every 5m")
	enginetest.MustNotContain(t, out, "building")
	// Another app has its own allowance.
	enginetest.MustContain(t, h.Say("bob", "digest lab"), "Digest of lab #1")
	h.Clock.Advance(time.Minute)
	enginetest.MustContain(t, h.Say("bob", "digest shop"), "Digest of shop #2")
	if n := count("shop"); n != 2 {
		t.Fatalf("shop digest built %d times after 5m, want 2", n)
	}
}

func TestDigestEveryConfigurable(t *testing.T) {
	var builds atomic.Int32
	h := newHarness(t, func(o *bot.Options) {
		o.DigestEvery = time.Hour
		o.Digest = func(ctx context.Context, app string) (bot.Message, error) {
			builds.Add(1)
			return bot.Message{Title: "Digest"}, nil
		}
	})
	h.Say("alice", "digest shop")
	h.Clock.Advance(59 * time.Minute)
	enginetest.MustContain(t, h.Say("alice", "digest shop"), "at most every 1h")
	h.Clock.Advance(time.Minute)
	h.Say("alice", "digest shop")
	if n := builds.Load(); n != 2 {
		t.Fatalf("built %d times, want 2", n)
	}
}
