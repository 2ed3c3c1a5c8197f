package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver

	"github.com/day2bot/day2bot/policies/store"
)

// runReplicas measures replicas serve processes sharing one database:
// the ack latency of rounds of n chat commands spread over them, then the
// throughput of a burst of runs (read-only tasks on the emulator) spread
// over them, from the first request until the last run is journaled
// finished.
func runReplicas(bin string, n, rounds, replicas, runs int, dsn, logPath string) error {
	ctx := context.Background()
	if replicas > 1 && dsn == "" {
		return errors.New("-replicas above 1 needs -db postgres://…")
	}
	db := ""
	if dsn != "" {
		schemaDSN, drop, err := freshSchema(ctx, dsn)
		if err != nil {
			return err
		}
		defer drop()
		db = schemaDSN
	}
	t, err := startTargetWith(bin, logPath, false, targetOptions{Replicas: replicas, DB: db})
	if err != nil {
		return err
	}
	defer t.stop()
	st, err := openStore(ctx, t.db)
	if err != nil {
		return err
	}
	defer st.Close()

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n}, Timeout: 30 * time.Second}
	to := func(i int) string { return "http://" + t.addrs[i%len(t.addrs)] + "/slack/commands" }
	texts := []func() (user, text string){
		func() (string, string) { return "UALICE", "help" },
		func() (string, string) { return "UCAROL", app + " restart-web batch=1" }, // denied
		func() (string, string) { return "UBOB", "tasks " + app },
		func() (string, string) { return "UALICE", "why " + app + " restart-web" },
	}
	seq := 0
	bodies := func(count int, text func() (string, string)) [][]byte {
		out := make([][]byte, count)
		for i := range out {
			seq++
			pick := text
			if pick == nil {
				pick = texts[seq%len(texts)]
			}
			user, tx := pick()
			out[i] = []byte(url.Values{
				"team_id": {"T1"}, "channel_id": {fmt.Sprintf("C%02d", seq%20)}, "user_id": {user},
				"user_name": {strings.ToLower(user)}, "command": {"/day2"}, "text": {tx},
				"response_url": {t.fake.ResponseURL()}, "trigger_id": {fmt.Sprint(seq)},
			}.Encode())
		}
		return out
	}
	if _, err := burstTo(client, to, bodies(n, nil)); err != nil { // warm-up
		return err
	}
	var lat []time.Duration
	for range rounds {
		l, err := burstTo(client, to, bodies(n, nil))
		if err != nil {
			return err
		}
		lat = append(lat, l...)
	}

	// Runs: every replica's workers run what it was asked.
	start := time.Now()
	runLat, err := burstTo(client, to, bodies(runs, func() (string, string) { return "UALICE", app + " describe-web" }))
	if err != nil {
		return err
	}
	done, err := waitRuns(ctx, st, "describe-web", runs, 5*time.Minute)
	elapsed := time.Since(start)
	if err != nil {
		return err
	}
	kind := "SQLite"
	if dsn != "" {
		kind = "Postgres"
	}
	fmt.Printf("%d replica(s) on %s; %d rounds × %d chat commands spread over them; then %d runs at once\n", len(t.addrs), kind, rounds, n, runs)
	fmt.Printf("| replicas | ack p50 | ack p99 | run-command ack p99 | runs finished | run throughput |\n|---|---|---|---|---|---|\n")
	fmt.Printf("| %d (%s) | %s | %s | %s | %d in %s | %.1f runs/s |\n", len(t.addrs), kind, ms(pct(lat, 50)), ms(pct(lat, 99)),
		ms(pct(runLat, 99)), done, elapsed.Round(time.Millisecond), float64(done)/elapsed.Seconds())
	return nil
}

// waitRuns waits until want runs of task are finished, and returns how
// many succeeded.
func waitRuns(ctx context.Context, st *store.Store, task string, want int, most time.Duration) (int, error) {
	deadline := time.Now().Add(most)
	for {
		rs, err := st.Runs(ctx, store.RunFilter{App: app, Limit: 100_000})
		if err != nil {
			return 0, err
		}
		finished, ok := 0, 0
		for _, r := range rs {
			if r.Task == task && r.State.Terminal() {
				finished++
				if r.State == store.Succeeded {
					ok++
				}
			}
		}
		if finished >= want {
			if ok != finished {
				return ok, fmt.Errorf("%d of %d runs did not succeed", finished-ok, finished)
			}
			return ok, nil
		}
		if time.Now().After(deadline) {
			return ok, fmt.Errorf("%d of %d runs finished after %s", finished, want, most)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// freshSchema makes a schema of its own in the database dsn names and
// returns a DSN whose search_path is that schema, and a func dropping it.
func freshSchema(ctx context.Context, dsn string) (string, func(), error) {
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		return "", nil, err
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "load_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+name); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("create schema: %w", err)
	}
	drop := func() {
		_, _ = admin.ExecContext(context.Background(), `DROP SCHEMA `+name+` CASCADE`)
		admin.Close()
	}
	u, err := url.Parse(dsn)
	if err != nil {
		drop()
		return "", nil, err
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String(), drop, nil
}
