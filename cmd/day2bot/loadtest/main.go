// Command loadtest measures how fast `day2bot serve` acknowledges Slack
// slash commands under load, against a floor: a bare HTTP handler that
// only verifies Slack's signature and answers 200.
//
// Both run as separate processes on loopback, in the same run and under
// the same client: rounds of N concurrent signed slash commands go to
// serve (real engine, SQLite, the AWS emulator and the local Slack fake)
// and to the floor, alternating which goes first. It prints p50/p99 ack
// latency of each, their ratio, and serve's peak RSS (VmHWM).
//
//	go build -o /tmp/day2bot ./cmd/day2bot
//	go run ./cmd/day2bot/loadtest -bin /tmp/day2bot -n 200 -rounds 10
//
// With -replicas N (and -db postgres://… for N > 1) it measures command
// ack latency spread over N replicas and how fast they finish a burst of
// runs (docs/performance.md, "Replicas").
//
// With -security it measures instead what docs/security.md reports:
// bogus-signed bodies in flight, forged and replayed requests, and a soak.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"
	"go.yaml.in/yaml/v3"

	"github.com/day2bot/day2bot/bot/slack/slackfake"
	"github.com/day2bot/day2bot/policies"
	"github.com/day2bot/day2bot/policies/store"
	"github.com/day2bot/day2bot/policies/store/postgres"
	"github.com/day2bot/day2bot/policies/store/sqlite"
)

const (
	token  = "xoxb-load"
	secret = "load-test-signing-secret"
	app    = "loadshop"
)

const policy = `
users:
  alice: ["slack:UALICE"]
  bob: ["slack:UBOB"]
  carol: ["slack:UCAROL"]
groups:
  ops: [alice]
  developers: [bob]
rules:
  - id: ops-everything
    effect: allow
    subjects: ["group:ops"]
  - id: developers-read
    effect: allow
    subjects: ["group:developers"]
    mutating: false
  - id: developers-changes
    effect: approve
    subjects: ["group:developers"]
    mutating: true
    approvers: ["group:ops"]
    quorum: 1
`

func main() {
	floor := flag.String("floor", "", "internal: run the floor server on this address")
	bin := flag.String("bin", "", "path of the day2bot binary (go build -o /tmp/day2bot ./cmd/day2bot)")
	n := flag.Int("n", 200, "concurrent commands per round")
	rounds := flag.Int("rounds", 10, "rounds per target")
	mix := flag.String("mix", "all", "command mix: all (includes approval requests and dry runs that call AWS) or chat (no AWS calls)")
	logPath := flag.String("log", "", "write serve's log here (default: a temp file, removed)")
	security := flag.Bool("security", false, "measure what docs/security.md reports instead of ack latency")
	replicas := flag.Int("replicas", 0, "measure ack latency and run throughput of this many serve replicas on -db instead")
	db := flag.String("db", "", "with -replicas: a postgres:// DSN to make a fresh schema in (default: one replica on a SQLite file)")
	runs := flag.Int("runs", 200, "with -replicas: runs (read-only tasks on the emulator) started at once")
	bogus := flag.Int("bogus", 1000, "with -security: concurrent connections with 512 KiB bogus-signed bodies")
	soak := flag.Int("soak", 10000, "with -security: signed commands in the soak")
	flag.Parse()
	if *floor != "" {
		if err := runFloor(*floor); err != nil {
			fmt.Fprintln(os.Stderr, "loadtest floor:", err)
			os.Exit(1)
		}
		return
	}
	if *bin == "" {
		fmt.Fprintln(os.Stderr, "loadtest: -bin is required")
		os.Exit(2)
	}
	if *security {
		if err := runSecurity(*bin, *logPath, *bogus, *soak); err != nil {
			fmt.Fprintln(os.Stderr, "loadtest:", err)
			os.Exit(1)
		}
		return
	}
	if *replicas > 0 {
		if err := runReplicas(*bin, *n, *rounds, *replicas, *runs, *db, *logPath); err != nil {
			fmt.Fprintln(os.Stderr, "loadtest:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*bin, *n, *rounds, *mix, *logPath); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

// runFloor serves the floor: read the body within a limit, verify the
// signature as the adapter does (slack-go's verifier), answer 200.
func runFloor(addr string) error {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 512<<10))
		if err != nil {
			http.Error(w, "too large", http.StatusUnauthorized)
			return
		}
		sv, err := slack.NewSecretsVerifier(r.Header, secret)
		if err == nil {
			_, _ = sv.Write(body)
			err = sv.Ensure()
		}
		if err != nil {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	return http.ListenAndServe(addr, h)
}

func run(bin string, n, rounds int, mix, logPath string) error {
	t, err := startTarget(bin, logPath, true)
	if err != nil {
		return err
	}
	defer t.stop()
	fake, serve, serveAddr, floorAddr := t.fake, t.serve, t.addr, t.floorAddr

	idle, err := procStatus(serve.Process.Pid)
	if err != nil {
		return err
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n, MaxConnsPerHost: 0}, Timeout: 10 * time.Second}
	texts := []func(i int) (user, text string){
		func(int) (string, string) { return "UALICE", "help" },
		func(int) (string, string) { return "UCAROL", app + " restart-web batch=1" },  // denied
		func(int) (string, string) { return "UBOB", "tasks " + app },                  // list
		func(int) (string, string) { return "UALICE", "why " + app + " restart-web" }, // explain
	}
	if mix == "all" {
		texts = append(texts,
			func(int) (string, string) { return "UBOB", app + " restart-web batch=2" },      // approval request, planned on the emulator
			func(int) (string, string) { return "UALICE", app + " describe-web --dry-run" }, // dry run on the emulator
		)
	}
	seq := 0
	fire := func(base string) ([]time.Duration, error) {
		bodies := make([][]byte, n)
		for i := range n {
			seq++
			user, text := texts[seq%len(texts)](seq)
			form := url.Values{
				"team_id": {"T1"}, "channel_id": {fmt.Sprintf("C%02d", seq%20)}, "user_id": {user},
				"user_name": {strings.ToLower(user)}, "command": {"/day2"}, "text": {text},
				"response_url": {fake.ResponseURL()}, "trigger_id": {fmt.Sprint(seq)},
			}
			bodies[i] = []byte(form.Encode())
		}
		return burst(client, base, bodies)
	}
	// Warm up connections and caches on both sides.
	for _, base := range []string{"http://" + serveAddr + "/slack/commands", "http://" + floorAddr + "/"} {
		if _, err := fire(base); err != nil {
			return err
		}
	}
	var serveLat, floorLat []time.Duration
	for r := range rounds {
		targets := []string{"serve", "floor"}
		if r%2 == 1 {
			slices.Reverse(targets)
		}
		for _, tgt := range targets {
			base := "http://" + floorAddr + "/"
			if tgt == "serve" {
				base = "http://" + serveAddr + "/slack/commands"
			}
			lat, err := fire(base)
			if err != nil {
				return fmt.Errorf("%s: %w", tgt, err)
			}
			if tgt == "serve" {
				serveLat = append(serveLat, lat...)
			} else {
				floorLat = append(floorLat, lat...)
			}
		}
	}
	// Let serve finish the work it acked (answers, approval posts) so the
	// peak RSS covers it, then read it.
	settle(fake, 5*time.Second, 60*time.Second)
	mem, err := procStatus(serve.Process.Pid)
	if err != nil {
		return err
	}
	s50, s99 := pct(serveLat, 50), pct(serveLat, 99)
	f50, f99 := pct(floorLat, 50), pct(floorLat, 99)
	fmt.Printf("requests: %d rounds × %d concurrent per target (%d each), mix %s\n", rounds, n, len(serveLat), mix)
	fmt.Printf("| target | p50 | p99 | max |\n|---|---|---|---|\n")
	fmt.Printf("| serve (engine, SQLite, emulator) | %s | %s | %s |\n", ms(s50), ms(s99), ms(slices.Max(serveLat)))
	fmt.Printf("| floor (verify signature only) | %s | %s | %s |\n", ms(f50), ms(f99), ms(slices.Max(floorLat)))
	fmt.Printf("ratio serve/floor: p50 %.2f×, p99 %.2f×\n", float64(s50)/float64(f50), float64(s99)/float64(f99))
	fmt.Printf("serve RSS: peak (VmHWM) %s; at the end %s anonymous + %s file-backed; idle before load %s\n",
		mb(mem["VmHWM"]), mb(mem["RssAnon"]), mb(mem["RssFile"]), mb(idle["VmRSS"]))
	fmt.Printf("slack fake: %d Web API calls, %d ephemerals, %d messages\n", len(fake.Calls()), len(fake.Ephemerals()), len(fake.Messages("")))
	return nil
}

// burst sends all bodies at once and returns each request's latency from
// sending to the response headers (the ack).
func burst(client *http.Client, target string, bodies [][]byte) ([]time.Duration, error) {
	return burstTo(client, func(int) string { return target }, bodies)
}

// burstTo is burst with request i sent to target(i).
func burstTo(client *http.Client, target func(i int) string, bodies [][]byte) ([]time.Duration, error) {
	lat := make([]time.Duration, len(bodies))
	errs := make([]error, len(bodies))
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	for i, body := range bodies {
		ready.Add(1)
		done.Go(func() {
			req, err := http.NewRequest(http.MethodPost, target(i), strings.NewReader(string(body)))
			if err != nil {
				errs[i] = err
				ready.Done()
				return
			}
			ready.Done()
			<-start
			// Sign at send time, as Slack does.
			req.Header = slackfake.Sign(secret, time.Now(), body)
			t0 := time.Now()
			resp, err := client.Do(req)
			lat[i] = time.Since(t0)
			if err != nil {
				errs[i] = err
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				errs[i] = fmt.Errorf("status %d", resp.StatusCode)
			}
		})
	}
	ready.Wait()
	close(start)
	done.Wait()
	return lat, errors.Join(errs...)
}

func pct(d []time.Duration, p int) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	return s[max(0, min(i-1, len(s)-1))]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

func freeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func waitHealthy(urls ...string) error {
	deadline := time.Now().Add(30 * time.Second)
	for _, u := range urls {
		for {
			resp, err := http.Get(u)
			if err == nil {
				resp.Body.Close()
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s not up: %w", u, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return nil
}

// settle waits until the fake has seen no change for quiet, or max.
func settle(fake *slackfake.Server, quiet, most time.Duration) {
	end := time.After(most)
	for {
		select {
		case <-fake.Changed():
		case <-time.After(quiet):
			return
		case <-end:
			return
		}
	}
}

// procStatus reads memory fields (in bytes) from /proc/PID/status: VmHWM
// is the peak resident set, RssAnon and RssFile its current split between
// the heap and mapped files (the binary's own pages count there).
func procStatus(pid int) (map[string]int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]int64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || !strings.HasSuffix(v, " kB") {
			continue
		}
		var kb int64
		if _, err := fmt.Sscanf(strings.TrimSpace(v), "%d kB", &kb); err == nil {
			out[k] = kb << 10
		}
	}
	if _, ok := out["VmHWM"]; !ok {
		return nil, errors.New("no VmHWM in /proc status")
	}
	return out, nil
}

func mb(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/(1<<20)) }

func importPolicy(ctx context.Context, db string) error {
	var f policies.File
	dec := yaml.NewDecoder(strings.NewReader(policy))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return err
	}
	st, err := openStore(ctx, db)
	if err != nil {
		return err
	}
	defer st.Close()
	return st.ImportFile(ctx, "loadtest", f)
}

// openStore opens the target's database: a SQLite file or a postgres://
// DSN.
func openStore(ctx context.Context, db string) (*store.Store, error) {
	if strings.HasPrefix(db, "postgres://") {
		d, err := postgres.Open(ctx, db)
		if err != nil {
			return nil, err
		}
		return d.Store, nil
	}
	return sqlite.Open(ctx, db)
}
