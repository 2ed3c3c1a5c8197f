package web

import (
	"context"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/day2bot/day2bot/bot"
	"github.com/day2bot/day2bot/internal/clocktest"
	"github.com/day2bot/day2bot/internal/errs"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

var testKey = []byte("0123456789abcdef0123456789abcdef")

// board is an engine with one app, "shop", that alice (slack:UALICE) and
// bob may see; alice may vote on bob's pending request. It keeps the
// approval's state, so a test sees what a vote did. The real engine behind
// this interface is tested end to end in cmd/day2bot (a browser against the
// sandbox); here the page's own rules are.
type board struct {
	mu    sync.Mutex
	state string // "pending", "approved", "denied"
	votes []string
}

func (b *board) Dashboard(_ context.Context, platform, user, app string) (bot.Dashboard, error) {
	switch app {
	case "busy":
		return bot.Dashboard{}, errs.E("list runs", errs.Transient, "the database is busy")
	case "broken":
		return bot.Dashboard{}, errors.New("list runs: disk I/O error at /var/lib/day2bot.db")
	}
	if app != "shop" || (user != "UALICE" && user != "UBOB") {
		return bot.Dashboard{}, errs.E("dashboard", errs.NotFound, "there is no app %q that you may see", app)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	d := bot.Dashboard{App: "shop", Description: "the web shop",
		Status: bot.Message{Title: "Status", Fields: []bot.Field{{Name: "Region", Value: "us-east-1"}, {Name: "Frozen", Value: "no"}}},
		Runs:   &bot.Table{Columns: []string{"Run", "State", "Task"}, Rows: [][]string{{"r-1", "succeeded", "describe-web"}}},
		Audit:  &bot.Table{Columns: []string{"When", "Who", "What"}, Rows: [][]string{{"2026-12-05 08:00", "bob", "decision"}}},
	}
	if b.state == "pending" {
		d.Pending = []bot.PendingApproval{{ID: "a-1", CanVote: user == "UALICE",
			Message: bot.Message{Title: "Approval needed: shop restart-web", Text: "Plan: restart 4 instances <b>now</b>", Tone: bot.ToneWarning}}}
	}
	return d, nil
}

func (b *board) Vote(ctx context.Context, platform, user, id string, approve bool, reply bot.Responder) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.votes = append(b.votes, user+":"+id)
	if user != "UALICE" {
		_ = reply.Ephemeral(ctx, bot.Message{Text: "only group:ops may approve or deny " + id})
		return
	}
	b.state = map[bool]string{true: "approved", false: "denied"}[approve]
	_ = reply.Ephemeral(ctx, bot.Message{Text: b.state + " " + id})
}

type fixture struct {
	srv   *httptest.Server
	links *Links
	clock *clocktest.Clock
	eng   *board
	built atomic.Int32
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{clock: clocktest.New(time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)), eng: &board{state: "pending"}}
	f.srv = httptest.NewUnstartedServer(nil)
	links, err := NewLinks(testKey, "http://"+f.srv.Listener.Addr().String(), 15*time.Minute, f.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	f.links = links
	s, err := New(Options{Engine: f.eng, Links: links, DigestWait: time.Minute,
		Digest: func(context.Context, string) (bot.Message, error) {
			f.built.Add(1)
			return bot.Message{Title: "Digest of shop", Text: "4 of 4 web instances running"}, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	f.srv.Config.Handler = s.Handler()
	f.srv.Start()
	t.Cleanup(f.srv.Close)
	return f
}

// browser is a client with a cookie jar that does not follow redirects, so
// tests see each step.
func browser(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (f *fixture) signIn(t *testing.T, user string) *http.Client {
	t.Helper()
	c := browser(t)
	link, _ := f.links.Link("slack", user, "shop")
	resp, _ := get(t, c, link)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/apps/shop" {
		t.Fatalf("sign-in: %d to %q, want 303 to /apps/shop", resp.StatusCode, resp.Header.Get("Location"))
	}
	return c
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func TestSignInSetsAStrictSessionCookieAndDropsTheToken(t *testing.T) {
	f := newFixture(t)
	c := browser(t)
	link, ttl := f.links.Link("slack", "UALICE", "shop")
	if ttl != 15*time.Minute {
		t.Errorf("link ttl = %v, want 15m", ttl)
	}
	resp, _ := get(t, c, link)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("status %d, want 303", resp.StatusCode)
	}
	if loc := resp.Header.Get("Location"); strings.Contains(loc, "t=") || loc != "/apps/shop" {
		t.Errorf("redirect to %q: the token must not stay in the address", loc)
	}
	var sess *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == sessionCookie {
			sess = ck
		}
	}
	if sess == nil || !sess.HttpOnly || sess.SameSite != http.SameSiteLaxMode || sess.Secure {
		t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Lax, not Secure over plain http", sess)
	}
	if got := resp.Header.Get("Referrer-Policy"); got != "no-referrer" {
		t.Errorf("Referrer-Policy %q, want no-referrer", got)
	}
	page, body := get(t, c, f.srv.URL+"/apps/shop")
	if page.StatusCode != http.StatusOK || !strings.Contains(body, "<h1>shop</h1>") {
		t.Fatalf("page: %d\n%s", page.StatusCode, body)
	}
}

func TestSecureCookieOverHTTPS(t *testing.T) {
	l, err := NewLinks(testKey, "https://day2bot.example.com", 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{Engine: &board{}, Links: l})
	if err != nil {
		t.Fatal(err)
	}
	link, _ := l.Link("slack", "UALICE", "shop")
	u, _ := url.Parse(link)
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", u.RequestURI(), nil))
	cs := rec.Result().Cookies()
	if len(cs) != 1 || !cs[0].Secure {
		t.Fatalf("cookies %+v: want one Secure session cookie when served over https", cs)
	}
}

func TestBadLinksAreRefused(t *testing.T) {
	f := newFixture(t)
	good, _ := f.links.Link("slack", "UALICE", "shop")
	other, err := NewLinks([]byte(strings.Repeat("k", 32)), f.srv.URL, 0, f.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	foreign, _ := other.Link("slack", "UALICE", "shop")
	u, _ := url.Parse(good)
	tok := u.Query().Get("t")
	payload, sig, _ := strings.Cut(tok, ".")
	flipped := []byte(payload)
	flipped[3] ^= 1
	for _, tc := range []struct {
		name, link, want string
		advance          time.Duration
	}{
		{"expired", good, "has expired", 16 * time.Minute},
		{"tampered payload", f.srv.URL + "/login?t=" + string(flipped) + "." + sig, "not valid", 0},
		{"signed with another key", foreign, "not valid", 0},
		{"no token", f.srv.URL + "/login", "not valid", 0},
		{"garbage", f.srv.URL + "/login?t=%00%01.%02", "not valid", 0},
		{"too long", f.srv.URL + "/login?t=" + strings.Repeat("a", 5000) + "." + sig, "not valid", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.clock.Set(time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC).Add(tc.advance))
			resp, body := get(t, browser(t), tc.link)
			if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, tc.want) {
				t.Fatalf("%d, want 403 saying %q:\n%s", resp.StatusCode, tc.want, body)
			}
			for _, ck := range resp.Cookies() {
				if ck.Name == sessionCookie && ck.Value != "" {
					t.Fatal("a refused link set a session")
				}
			}
		})
	}
}

func TestTokenOfOneKindIsNotAnother(t *testing.T) {
	s, _ := newSigner(testKey)
	now := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	c := Claims{Platform: "slack", User: "U1", Expires: now.Add(time.Hour).Unix(), Nonce: "n"}
	for _, from := range []Kind{KindLink, KindSession, KindFlash} {
		c.Kind = from
		tok := s.sign(c)
		for _, as := range []Kind{KindLink, KindSession, KindFlash} {
			_, err := s.verify(tok, as, now)
			if (err == nil) != (from == as) {
				t.Errorf("a %s token verified as %s: err = %v", from, as, err)
			}
		}
	}
	if _, err := newSigner([]byte("short")); err == nil {
		t.Error("a 5-byte key was accepted")
	}
}

func FuzzVerify(f *testing.F) {
	s, _ := newSigner(testKey)
	now := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	seed := s.sign(Claims{Kind: KindSession, Platform: "slack", User: "U1", Expires: now.Add(time.Hour).Unix()})
	f.Add(seed)
	f.Add("e30.AAAA")
	f.Add(".")
	f.Fuzz(func(t *testing.T, tok string) {
		if _, err := s.verify(tok, KindSession, now); err == nil && tok != seed {
			// Only one token was ever signed with this key.
			t.Fatalf("accepted a token we did not sign: %q", tok)
		}
	})
}

func TestPageGolden(t *testing.T) {
	f := newFixture(t)
	for _, user := range []string{"UALICE", "UBOB"} {
		c := f.signIn(t, user)
		_, body := get(t, c, f.srv.URL+"/apps/shop")
		body = csrfRE.ReplaceAllString(body, `name="csrf" value="CSRF"`)
		golden := filepath.Join("testdata", "app-"+strings.ToLower(user)+".golden")
		if *update {
			if err := os.WriteFile(golden, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		if body != string(want) {
			t.Errorf("page for %s differs from %s (run with -update after checking):\n%s", user, golden, body)
		}
	}
}

func TestOnlyApproversSeeButtons(t *testing.T) {
	f := newFixture(t)
	_, alice := get(t, f.signIn(t, "UALICE"), f.srv.URL+"/apps/shop")
	_, bob := get(t, f.signIn(t, "UBOB"), f.srv.URL+"/apps/shop")
	if !strings.Contains(alice, `value="approve"`) {
		t.Error("the approver sees no Approve button")
	}
	if strings.Contains(bob, `value="approve"`) || strings.Contains(bob, `value="deny"`) {
		t.Error("a non-approver sees vote buttons")
	}
	if !strings.Contains(alice, "&lt;b&gt;now&lt;/b&gt;") {
		t.Error("message text is not HTML-escaped")
	}
}

func TestVoteNeedsTheSessionsFormToken(t *testing.T) {
	f := newFixture(t)
	alice := f.signIn(t, "UALICE")
	bob := f.signIn(t, "UBOB")
	_, bobPage := get(t, bob, f.srv.URL+"/apps/shop")
	bobToken := csrfRE.FindStringSubmatch(bobPage)[1]
	for _, tc := range []struct {
		name string
		c    *http.Client
		form url.Values
		want int
	}{
		{"no session", browser(t), url.Values{"decision": {"approve"}}, http.StatusUnauthorized},
		{"no form token", alice, url.Values{"decision": {"approve"}}, http.StatusForbidden},
		{"another session's token", alice, url.Values{"decision": {"approve"}, "csrf": {bobToken}}, http.StatusForbidden},
		{"made-up token", alice, url.Values{"decision": {"approve"}, "csrf": {"AAAA"}}, http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := tc.c.PostForm(f.srv.URL+"/apps/shop/approvals/a-1", tc.form)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
	if len(f.eng.votes) != 0 || f.eng.state != "pending" {
		t.Fatalf("a refused form reached the engine: votes %v, state %s", f.eng.votes, f.eng.state)
	}
}

func TestVoteGoesToTheEngineAndItsAnswerToThePage(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct{ user, want, state string }{
		{"UBOB", "only group:ops may approve", "pending"}, // forged by hand: the engine refuses
		{"UALICE", "approved a-1", "approved"},
	} {
		c := f.signIn(t, tc.user)
		_, page := get(t, c, f.srv.URL+"/apps/shop")
		tok := csrfRE.FindStringSubmatch(page)[1]
		resp, err := c.PostForm(f.srv.URL+"/apps/shop/approvals/a-1", url.Values{"decision": {"approve"}, "csrf": {tok}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/apps/shop" {
			t.Fatalf("%s: %d to %q, want 303 back to the page", tc.user, resp.StatusCode, resp.Header.Get("Location"))
		}
		_, after := get(t, c, f.srv.URL+"/apps/shop")
		if !strings.Contains(after, tc.want) {
			t.Errorf("%s: the page after the vote does not say %q:\n%s", tc.user, tc.want, after)
		}
		if f.eng.state != tc.state {
			t.Errorf("%s: approval is %s, want %s", tc.user, f.eng.state, tc.state)
		}
		_, again := get(t, c, f.srv.URL+"/apps/shop")
		if strings.Contains(again, tc.want) {
			t.Errorf("%s: the answer is shown twice", tc.user)
		}
	}
}

func TestAppsThePersonMayNotSeeAreNotFound(t *testing.T) {
	f := newFixture(t)
	c := f.signIn(t, "UALICE")
	resp, body := get(t, c, f.srv.URL+"/apps/payroll")
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "no app") {
		t.Fatalf("%d:\n%s", resp.StatusCode, body)
	}
}

// The status follows the error's kind: a passing failure says to try
// again (503), an internal one says where to look and nothing more (500).
func TestPageErrorsByKind(t *testing.T) {
	f := newFixture(t)
	c := f.signIn(t, "UALICE")
	for _, tc := range []struct {
		app, want, not string
		code           int
	}{
		{"busy", "the database is busy; try again in a minute", "", http.StatusServiceUnavailable},
		{"broken", "The page could not be built", "disk I/O", http.StatusInternalServerError},
	} {
		resp, body := get(t, c, f.srv.URL+"/apps/"+tc.app)
		if resp.StatusCode != tc.code || !strings.Contains(body, tc.want) || (tc.not != "" && strings.Contains(body, tc.not)) {
			t.Errorf("%s: %d, want %d saying %q:\n%s", tc.app, resp.StatusCode, tc.code, tc.want, body)
		}
	}
}

func TestDigestIsBuiltOncePerTTL(t *testing.T) {
	f := newFixture(t)
	c := f.signIn(t, "UALICE")
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := c.Get(f.srv.URL + "/apps/shop")
			if err == nil {
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	_, body := get(t, c, f.srv.URL+"/apps/shop")
	if !strings.Contains(body, "4 of 4 web instances running") {
		t.Fatalf("no digest on the page:\n%s", body)
	}
	if n := f.built.Load(); n != 1 {
		t.Errorf("digest built %d times for 9 pages, want 1", n)
	}
	f.clock.Advance(6 * time.Minute)
	// The session outlives the digest's 5 minutes; the next page rebuilds.
	get(t, c, f.srv.URL+"/apps/shop")
	if n := f.built.Load(); n != 2 {
		t.Errorf("digest built %d times after its TTL, want 2", n)
	}
}
