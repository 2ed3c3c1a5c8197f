package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/day2bot/day2bot/bot/slack/slackfake"
)

// runSecurity measures what docs/security.md reports, against one serve
// process: unsigned bodies held in memory, forged and replayed requests,
// and a soak of signed commands with RSS and goroutines before and after.
func runSecurity(bin, logPath string, bogus, soak int) error {
	t, err := startTarget(bin, logPath, false)
	if err != nil {
		return err
	}
	defer t.stop()
	base := "http://" + t.addr
	pid := t.serve.Process.Pid
	idle, err := procStatus(pid)
	if err != nil {
		return err
	}
	idleG, err := goroutines(base)
	if err != nil {
		return err
	}
	fmt.Printf("serve idle: RSS %s (%s anonymous, %s file-backed: the binary's pages), %d goroutines\n\n",
		mb(idle["VmRSS"]), mb(idle["RssAnon"]), mb(idle["RssFile"]), idleG)

	// 1. Bodies with bogus signatures, all at once: serve bounds the bytes
	// it holds (8 MiB) and answers 503 beyond; peak RSS is this phase's.
	body := bytes.Repeat([]byte("x"), 512<<10)
	codes := fire(bogus, func(int) (*http.Request, error) {
		req, err := http.NewRequest(http.MethodPost, base+"/slack/commands", bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header = slackfake.Sign("not-the-secret", time.Now(), body)
		return req, nil
	})
	peak, err := procStatus(pid)
	if err != nil {
		return err
	}
	fmt.Printf("## %d concurrent 512 KiB bodies with bogus signatures\n%s\npeak RSS (VmHWM) %s; after: %s anonymous, %s file-backed\n\n",
		bogus, codes, mb(peak["VmHWM"]), mb(peak["RssAnon"]), mb(peak["RssFile"]))

	// 2. Forged: a wrong signature, a stale timestamp, no signature.
	form := func(text string) []byte {
		return []byte(url.Values{"team_id": {"T1"}, "channel_id": {"C00"}, "user_id": {"UALICE"}, "user_name": {"alice"},
			"command": {"/day2"}, "text": {text}, "response_url": {t.fake.ResponseURL()}, "trigger_id": {"1"}}.Encode())
	}
	before := len(t.fake.Ephemerals())
	for _, c := range []struct {
		name string
		sign func([]byte) http.Header
	}{
		{"wrong signature", func(b []byte) http.Header { return slackfake.Sign(randomSecret(), time.Now(), b) }},
		{"stale timestamp (6 min)", func(b []byte) http.Header { return slackfake.Sign(secret, time.Now().Add(-6*time.Minute), b) }},
		{"no signature", func([]byte) http.Header { return http.Header{"Content-Type": {"application/x-www-form-urlencoded"}} }},
	} {
		codes := fire(300, func(int) (*http.Request, error) {
			b := form("help")
			req, err := http.NewRequest(http.MethodPost, base+"/slack/commands", bytes.NewReader(b))
			if err == nil {
				req.Header = c.sign(b)
			}
			return req, err
		})
		fmt.Printf("## 300 forged commands: %s\n%s\n", c.name, codes)
	}

	// 3. Replay: one signed command sent once, then again as captured,
	// and with its signature header re-cased.
	b := form("help")
	h := slackfake.Sign(secret, time.Now(), b)
	send := func(h http.Header) int {
		req, _ := http.NewRequest(http.MethodPost, base+"/slack/commands", bytes.NewReader(b))
		req.Header = h
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	first := send(h)
	var again []int
	for range 3 {
		again = append(again, send(h.Clone()))
	}
	upper := h.Clone()
	upper.Set("X-Slack-Signature", "v0="+strings.ToUpper(strings.TrimPrefix(h.Get("X-Slack-Signature"), "v0=")))
	again = append(again, send(upper))
	settle(t.fake, 2*time.Second, 20*time.Second)
	fmt.Printf("## replay\nfirst: %d; 3 replays and 1 re-cased: %v; commands answered: %d (of all forged and replayed above)\n\n",
		first, again, len(t.fake.Ephemerals())-before)

	// 4. Soak: signed commands that answer without AWS, in bursts.
	texts := []string{"help", "tasks " + app, "why " + app + " restart-web", "apps"}
	users := []string{"UALICE", "UBOB", "UCAROL"}
	const burstSize = 100
	start := time.Now()
	soakCodes := statusCount{}
	for i := 0; i < soak; i += burstSize {
		c := fire(min(burstSize, soak-i), func(j int) (*http.Request, error) {
			k := i + j
			b := []byte(url.Values{"team_id": {"T1"}, "channel_id": {fmt.Sprintf("C%02d", k%20)}, "user_id": {users[k%len(users)]},
				"user_name": {"u"}, "command": {"/day2"}, "text": {texts[k%len(texts)]},
				"response_url": {t.fake.ResponseURL()}, "trigger_id": {fmt.Sprint(k)}}.Encode())
			req, err := http.NewRequest(http.MethodPost, base+"/slack/commands", bytes.NewReader(b))
			if err == nil {
				req.Header = slackfake.Sign(secret, time.Now(), b)
			}
			return req, err
		})
		soakCodes.add(c)
	}
	acked := time.Since(start)
	settle(t.fake, 3*time.Second, 120*time.Second)
	answered := time.Since(start)
	after, err := procStatus(pid)
	if err != nil {
		return err
	}
	afterG, err := goroutines(base)
	if err != nil {
		return err
	}
	fmt.Printf("## soak: %d signed commands in bursts of %d\n%s\nall acked in %s; answered (Slack fake quiet for 3 s) after %s\n",
		soak, burstSize, soakCodes, acked.Round(time.Millisecond), (answered - 3*time.Second).Round(time.Millisecond))
	fmt.Printf("RSS before %s, after %s (peak over the whole run %s); goroutines before %d, after %d\n",
		mb(idle["VmRSS"]), mb(after["VmRSS"]), mb(after["VmHWM"]), idleG, afterG)
	fmt.Printf("slack fake: %d ephemerals\n", len(t.fake.Ephemerals()))
	return nil
}

// statusCount counts responses by HTTP status (0: transport error).
type statusCount map[int]int

func (s statusCount) add(o statusCount) {
	for k, v := range o {
		s[k] += v
	}
}

func (s statusCount) String() string {
	var parts []string
	for _, code := range []int{200, 401, 413, 503, 0} {
		if n := s[code]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d × %d", n, code))
		}
	}
	for code, n := range s {
		if code != 200 && code != 401 && code != 413 && code != 503 && code != 0 {
			parts = append(parts, fmt.Sprintf("%d × %d", n, code))
		}
	}
	return "statuses: " + strings.Join(parts, ", ")
}

// fire sends n requests at once, each on its own connection, and counts
// the statuses.
func fire(n int, mk func(i int) (*http.Request, error)) statusCount {
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true, MaxConnsPerHost: 0}, Timeout: 60 * time.Second}
	var mu sync.Mutex
	out := statusCount{}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			code := 0
			if req, err := mk(i); err == nil {
				if resp, err := client.Do(req); err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					code = resp.StatusCode
				}
			}
			mu.Lock()
			out[code]++
			mu.Unlock()
		})
	}
	wg.Wait()
	return out
}

func randomSecret() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// goroutines reads go_goroutines from serve's /metrics.
func goroutines(base string) (int, error) {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var n int
		if _, err := fmt.Sscanf(sc.Text(), "go_goroutines %d", &n); err == nil {
			return n, nil
		}
	}
	return 0, fmt.Errorf("no go_goroutines in %s/metrics", base)
}
