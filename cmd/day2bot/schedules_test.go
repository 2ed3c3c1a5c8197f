package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSchedulesListCommand(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "d.db")
	st, err := openStore(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetScheduleLastRun(context.Background(), "shop/nightly-snapshot", time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	st.Close()
	cfg := filepath.Join(dir, "day2bot.yaml")
	if err := os.WriteFile(cfg, []byte("apps:\n  shop:\n    blueprints: [ec2-web, rds]\n    channels: [\"shell:ops\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, "", "schedules", "list", "--config", cfg, "--db", db)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"SCHEDULE", "shop/morning-digest", "digest", "shop/nightly-snapshot", "task snapshot-db", "2026-11-25 02:00 UTC", "never"} {
		if !strings.Contains(out, want) {
			t.Errorf("list lacks %q:\n%s", want, out)
		}
	}
}

// The routines part of the config file reaches routines.Config (parsed
// and tested in bot/routines).
func TestRoutinesConfig(t *testing.T) {
	cfg, err := parseConfig("x.yaml", []byte("routines:\n  cost_tag: app\n  alert_every: 2m\n  alert_queue: https://sqs.us-east-1.amazonaws.com/1/q\n"), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Routines.CostTag != "app" || cfg.Routines.AlertEvery != "2m" || cfg.Routines.AlertQueue == "" {
		t.Errorf("routines = %+v", cfg.Routines)
	}
}
