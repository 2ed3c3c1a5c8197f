package bot_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/day2bot/day2bot/blueprints"
	"github.com/day2bot/day2bot/bot"
	"github.com/day2bot/day2bot/bot/digest"
	"github.com/day2bot/day2bot/internal/enginetest"
	"github.com/day2bot/day2bot/policies/store"
	"github.com/day2bot/day2bot/tasks/emulator"
)

var updateReport = flag.Bool("update-report", false, "rewrite testdata/report-*.csv")

// reportHarness is the harness with cost from the emulator's Cost
// Explorer, read the way serve reads it (digest.Builder.CostRows, by the
// app's cost-allocation tag).
func reportHarness(t *testing.T) (*harness, string) {
	emu := emulator.New()
	t.Cleanup(emu.Close)
	cfg := emu.ClientConfig("us-east-1", "AKIDREPORT")
	h := newHarness(t, func(o *bot.Options) {
		b, err := digest.New(digest.Options{
			Clients: func(context.Context, *blueprints.ResolvedApp) (digest.Clients, error) {
				return digest.SDKClients(cfg), nil
			},
			Journal: o.Store.(*store.Store), Clock: o.Clock.Now, CostTag: "app",
		})
		if err != nil {
			t.Fatal(err)
		}
		o.CostRows = func(ctx context.Context, app string, from, to time.Time) ([]bot.CostRow, error) {
			return b.CostRows(ctx, &blueprints.ResolvedApp{Name: app}, from, to)
		}
	})
	dir := t.TempDir()
	h.Platform.SaveAttachments(dir)
	return h, dir
}

func reportGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "report-"+name+".csv")
	if *updateReport {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update-report writes it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from %s (go test ./bot -run TestReport -update-report rewrites it):\n%s", name, path, got)
	}
}

func TestReportOfTheMonth(t *testing.T) {
	h, dir := reportHarness(t)
	// A change, a change that needed an approval, a read-only run and a
	// dry run.
	h.Say("alice", "shop restart-web batch=2")
	out := h.Say("bob", "shop restart-web")
	h.Say("alice", "approve "+enginetest.ApprovalID(t, out))
	h.Say("bob", "shop list-web")
	h.Say("alice", "shop restart-web --dry-run")
	h.Clock.Advance(time.Hour)

	out = h.Say("alice", "report shop")
	enginetest.MustContain(t, out, "Report of shop — November 2026", "Cost: ", "(Nov 1–Nov 24)", "Runs: 4, 0 failed", "Changes: 2", "📎 shop-2026-11.csv")
	got, err := readSaved(dir, "shop-2026-11.csv")
	if err != nil {
		t.Fatal(err)
	}
	// Approval ids are random.
	reportGolden(t, "shop-2026-11", regexp.MustCompile(`\ba-[0-9a-z]+\b`).ReplaceAll(got, []byte("a-ID")))
	if n := strings.Count(string(got), "\ncost,"); n != 24*5 {
		t.Errorf("%d cost rows, want 24 days × 5 services", n)
	}

	// A past month has its whole cost and none of this month's runs.
	out = h.Say("alice", "report shop 2026-10")
	enginetest.MustContain(t, out, "Report of shop — October 2026", "(Oct 1–Oct 31)", "Runs: 0, 0 failed")
	got, err = readSaved(dir, "shop-2026-10.csv")
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(got), "\ncost,"); n != 31*5 || strings.Contains(string(got), "\nrun,") {
		t.Errorf("October: %d cost rows and runs?\n%s", n, got)
	}

	enginetest.MustContain(t, h.Say("alice", "report shop 2027-01"), "January 2027 has not begun")
	enginetest.MustContain(t, h.Say("alice", "report shop november"), `"november" is not a month; write it like 2026-11`)
	enginetest.MustContain(t, h.Say("carol", "report shop"), "shop")
}

// A month's report reads that month, however busy the app was after it;
// a month with more than a report reads says what it left out.
func TestReportReadsItsMonthAndSaysWhatItLeftOut(t *testing.T) {
	h := newHarness(t, func(o *bot.Options) { o.ReportRows = 3 })
	h.Clock.Set(time.Date(2026, 10, 30, 9, 0, 0, 0, time.UTC))
	h.Say("alice", "shop list-web")
	h.Say("alice", "shop list-web")
	h.Clock.Set(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	for range 4 {
		h.Say("alice", "shop list-web")
	}
	out := h.Say("alice", "report shop 2026-10")
	enginetest.MustContain(t, out, "Report of shop — October 2026", "Runs: 2, 0 failed")
	enginetest.MustNotContain(t, out, "left out")
	out = h.Say("alice", "report shop")
	enginetest.MustContain(t, out, "Report of shop — November 2026", "Runs: 3, 0 failed",
		"the month's newest 3 runs only: older ones are left out")
}

// readSaved reads the attachment the shell saved as N-name.
func readSaved(dir, name string) ([]byte, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*-"+name))
	if err != nil || len(paths) != 1 {
		return nil, fmt.Errorf("saved %s: %d files, %v", name, len(paths), err)
	}
	return os.ReadFile(paths[0])
}
