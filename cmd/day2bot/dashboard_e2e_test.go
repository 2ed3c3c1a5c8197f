package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath is Debian's chromium, which .ci/run installs. The browser
// test fails rather than skips without it: a dashboard nobody has opened in
// a browser is not tested.
const chromiumPath = "/usr/bin/chromium"

// TestDashboardInABrowser drives the sandbox as people would: bob asks for
// a change that needs approval, alice and bob ask `dashboard shop` for
// their links, and a real headless Chromium opens them. Bob sees the request
// without buttons and his hand-made POSTs are refused; alice approves with
// the button and the page then shows the run's result. A screenshot of the
// page is kept (DAY2BOT_TEST_ARTIFACTS, else the test's temp dir).
func TestDashboardInABrowser(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("the dashboard test needs Debian's chromium at %s (apt-get install chromium): %v", chromiumPath, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	sb := startSandbox(t, ctx)
	sb.say("as bob", "shop restart-web batch=2")
	approval := sb.out.waitFor(t, ctx, regexp.MustCompile(`approval (a-[a-z0-9]{5})`))[1]
	sb.say("dashboard shop")
	bobLink := sb.out.waitFor(t, ctx, linkRE)[0]
	sb.say("as alice", "dashboard shop")
	aliceLink := sb.out.waitForAfter(t, ctx, linkRE, bobLink)[0]

	browser := newBrowser(t, ctx)

	// Bob: the request is there, without buttons.
	text := visit(t, browser, bobLink, "main")
	if !strings.Contains(text, "Approval needed: shop restart-web") || !strings.Contains(text, approval) {
		t.Fatalf("bob's page lacks the pending request %s:\n%s", approval, text)
	}
	if n := value(t, browser, chromedp.Evaluate[int](`document.querySelectorAll("button[value=approve]").length`)); n != 0 {
		t.Fatalf("bob sees %d Approve buttons on his own request", n)
	}
	// Bob forges the form by hand from a session of his own, with and
	// without the page's token: neither counts.
	base := strings.Split(bobLink, "/login")[0]
	bob := signedIn(t, bobLink)
	page := fetch(t, bob, base+"/apps/shop")
	tok := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)[1]
	if code := post(t, bob, base+"/apps/shop/approvals/"+approval, url.Values{"decision": {"approve"}}); code != http.StatusForbidden {
		t.Errorf("a POST without the form token answered %d, want 403", code)
	}
	post(t, bob, base+"/apps/shop/approvals/"+approval, url.Values{"decision": {"approve"}, "csrf": {tok}})
	if page := fetch(t, bob, base+"/apps/shop"); !strings.Contains(page, "you cannot approve or deny your own request") || !strings.Contains(page, "approval-"+approval) {
		t.Fatalf("after bob's forged vote the page should refuse it and still list %s:\n%s", approval, page)
	}

	// A tampered link signs nobody in.
	if text := visit(t, browser, tamper(aliceLink), "body"); !strings.Contains(text, "not valid") {
		t.Fatalf("a tampered link was not refused:\n%s", text)
	}

	// Alice approves with the button; the sandbox runs the task.
	visit(t, browser, aliceLink, "main")
	do(t, browser, chromedp.Click(chromedp.CSS("#approval-"+approval+` button[value="approve"]`)), chromedp.WaitVisible(chromedp.CSS(".flash")))
	if text := value(t, browser, chromedp.Text(chromedp.CSS(".flash"))); !strings.Contains(text, "approved "+approval) {
		t.Fatalf("the page does not confirm alice's approval: %q", text)
	}
	sb.out.waitFor(t, ctx, regexp.MustCompile(`shop restart-web — succeeded`))
	text = visit(t, browser, base+"/apps/shop", "main")
	for _, want := range []string{"Nothing waits for approval.", "restart-web", "succeeded", "approved by alice"} {
		if !strings.Contains(text, want) {
			t.Errorf("the page after the run lacks %q:\n%s", want, text)
		}
	}
	shot := value(t, browser, chromedp.FullScreenshot(100))
	dir := cmpOr(os.Getenv("DAY2BOT_TEST_ARTIFACTS"), t.TempDir())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "dashboard-shop.png"), shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", filepath.Join(dir, "dashboard-shop.png"), len(shot))
}

var linkRE = regexp.MustCompile(`http://127\.0\.0\.1:\d+/login\?t=[A-Za-z0-9_.%-]+`)

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// tamper changes one character of a link's token.
func tamper(link string) string {
	i := strings.Index(link, "t=") + 5
	c := byte('A')
	if link[i] == 'A' {
		c = 'B'
	}
	return link[:i] + string(c) + link[i+1:]
}

func newBrowser(t *testing.T, ctx context.Context) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.NoSandbox, chromedp.Headless, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1200, 1600),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc() })
	return bctx
}

func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("browser: %v", err)
	}
}

func value[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	return v
}

// visit opens u and returns the text of the element sel.
func visit(t *testing.T, ctx context.Context, u, sel string) string {
	t.Helper()
	do(t, ctx, chromedp.Navigate(u))
	return value(t, ctx, chromedp.Text(chromedp.CSS(sel)))
}

// signedIn is a plain HTTP client signed in with link, for requests no
// page would make.
func signedIn(t *testing.T, link string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in answered %d", resp.StatusCode)
	}
	return c
}

func fetch(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func post(t *testing.T, c *http.Client, u string, form url.Values) int {
	t.Helper()
	resp, err := c.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// sandboxRun is the sandbox running in this process with piped stdin.
type sandboxRun struct {
	in  *io.PipeWriter
	out *watchedBuffer
}

func startSandbox(t *testing.T, ctx context.Context) *sandboxRun {
	t.Helper()
	pr, pw := io.Pipe()
	sb := &sandboxRun{in: pw, out: newWatchedBuffer()}
	g := &globals{Stdout: sb.out, Stderr: sb.out, Stdin: pr, Getenv: func(string) string { return "" }}
	// Its own context: the test's ends before cleanups run, and the
	// sandbox must end by its input closing, as a script's does.
	sctx, stop := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- run(sctx, []string{"sandbox", "--dashboard", "127.0.0.1:0"}, g) }()
	t.Cleanup(func() {
		defer stop()
		pw.Close() // end of input: the sandbox drains and exits
		limit := time.NewTimer(time.Minute)
		defer limit.Stop()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("sandbox exit %d:\n%s", code, sb.out.String())
			}
		case <-limit.C:
			t.Errorf("sandbox did not exit a minute after its input closed:\n%s", sb.out.String())
		}
	})
	sb.out.waitFor(t, ctx, regexp.MustCompile(`dashboard on http://127\.0\.0\.1:\d+`))
	return sb
}

func (s *sandboxRun) say(lines ...string) {
	for _, l := range lines {
		_, _ = io.WriteString(s.in, l+"\n")
	}
}

// watchedBuffer is an output buffer tests can wait on: every write wakes
// the waiters, so nothing polls or sleeps.
type watchedBuffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	changed chan struct{}
}

func newWatchedBuffer() *watchedBuffer { return &watchedBuffer{changed: make(chan struct{})} }

func (w *watchedBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.b.Write(p)
	close(w.changed)
	w.changed = make(chan struct{})
	return n, err
}

func (w *watchedBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

func (w *watchedBuffer) waitFor(t *testing.T, ctx context.Context, re *regexp.Regexp) []string {
	return w.waitForAfter(t, ctx, re, "")
}

// waitForAfter waits for re to match the output after the first occurrence
// of marker ("" for the whole output).
func (w *watchedBuffer) waitForAfter(t *testing.T, ctx context.Context, re *regexp.Regexp, marker string) []string {
	t.Helper()
	for {
		w.mu.Lock()
		s, ch := w.b.String(), w.changed
		w.mu.Unlock()
		if marker != "" {
			if i := strings.Index(s, marker); i >= 0 {
				s = s[i+len(marker):]
			} else {
				s = ""
			}
		}
		if m := re.FindStringSubmatch(s); m != nil {
			return m
		}
		select {
		case <-ch:
		case <-ctx.Done():
			t.Fatalf("waited for %s; output so far:\n%s", re, w.String())
		}
	}
}
