package shell

import (
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/day2bot/day2bot/bot"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestRenderGolden(t *testing.T) {
	msgs := []bot.Message{
		{Title: "shop restart-web — succeeded", Text: "rebooted 2 of 2 instances", Tone: bot.ToneSuccess,
			Fields:  []bot.Field{{Name: "Parameters", Value: "batch=2"}},
			Table:   &bot.Table{Columns: []string{"Resource", "Status", "Detail"}, Rows: [][]string{{"i-1", "ok", "rebooted"}, {"i-22222", "failed", "IncorrectInstanceState: stopped"}}},
			Context: []string{"run r-7 · requested by bob", "approved by alice"}},
		{Title: "Approval needed: shop restart-web", Text: "Plan: reboot 4 instances\nin 2 batches", Tone: bot.ToneWarning,
			Buttons: []bot.Button{{ID: "ap:a-7f3k2", Label: "Approve", Style: bot.StylePrimary}, {ID: "dn:a-7f3k2", Label: "Deny", Style: bot.StyleDanger}},
			Context: []string{"approval a-7f3k2 · expires in 1h"}},
		{Text: "batch must be between 1 and 4, got 9", Tone: bot.ToneDanger},
		{Title: "long", Attachment: &bot.File{Name: "r-1-result.tsv", Content: []byte("a\tb\n")}, Table: &bot.Table{Columns: []string{"A", "Ünïcode"}, Rows: [][]string{{"x"}, {"yy", "z", "extra"}}}},
	}
	var b strings.Builder
	for _, m := range msgs {
		b.WriteString(Render(m))
		b.WriteString("----\n")
	}
	golden := filepath.Join("testdata", "render.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Errorf("rendering differs from %s (-update to accept):\n%s", golden, b.String())
	}
}

func TestButtonLookup(t *testing.T) {
	p := New(&strings.Builder{})
	// Alerts: an old one with "rm:" buttons, a new one with saved actions.
	p.Post(t.Context(), "ops", bot.Message{Buttons: []bot.Button{{ID: "rm:shop:restart-web", Label: "restart-web"}, {ID: "rm:shop:describe-web", Label: "describe-web"}}})
	p.Post(t.Context(), "ops", bot.Message{Buttons: []bot.Button{{ID: "ra:xk7m2p9qa:0", Label: "restart-web"}, {ID: "ra:xk7m2p9qa:1", Label: "mute-alarm"}}})
	ref, _ := p.Post(t.Context(), "ops", bot.Message{Buttons: []bot.Button{{ID: "ap:a-abcde", Label: "Approve"}, {ID: "dn:a-abcde", Label: "Deny"}}})
	p.Post(t.Context(), "ops", bot.Message{Title: "no buttons"})
	for _, c := range []struct {
		id, label, want string
		ok              bool
	}{
		{"a-abcde", "approve", "ap:a-abcde", true},
		{"A-ABCDE", "DENY", "dn:a-abcde", true},
		{"#" + ref.ID, "deny", "dn:a-abcde", true},
		{ref.ID, "approve", "ap:a-abcde", true},
		{"last", "approve", "ap:a-abcde", true},
		{"a-zzzzz", "approve", "", false},
		{"a-abcde", "maybe", "", false},
		{"2", "approve", "", false},
		{"xk7m2p9qa", "mute-alarm", "ra:xk7m2p9qa:1", true},
		{"XK7M2P9QA", "restart-web", "ra:xk7m2p9qa:0", true},
		{"shop", "describe-web", "rm:shop:describe-web", true},
		{"1", "restart-web", "rm:shop:restart-web", true},
		{"xk7m2p9qa:1", "mute-alarm", "", false},
	} {
		_, b, ok := p.button(c.id, c.label)
		if ok != c.ok || b.ID != c.want {
			t.Errorf("button(%q, %q) = %q, %v; want %q, %v", c.id, c.label, b.ID, ok, c.want, c.ok)
		}
	}
}

// pressed records the buttons a session pressed.
type pressed struct{ ids []string }

func (p *pressed) HandleCommand(context.Context, bot.Command) {}
func (p *pressed) HandleAction(_ context.Context, a bot.Action) {
	p.ids = append(p.ids, a.ButtonID)
}
func (p *pressed) Complete(context.Context, string, string) []string { return nil }

// A label of several words ("Run again") is pressed as typed.
func TestPressLabelWithSpaces(t *testing.T) {
	var out strings.Builder
	p := New(&out)
	p.Post(t.Context(), "ops", bot.Message{Title: "interrupted", Buttons: []bot.Button{{ID: "rt:r-9", Label: "Run again"}}})
	eng := &pressed{}
	s := &Session{Engine: eng, Platform: p, Channel: "ops", User: "alice"}
	s.Line(t.Context(), "press r-9 run again")
	s.Line(t.Context(), "press r-9 run")
	if len(eng.ids) != 1 || eng.ids[0] != "rt:r-9" {
		t.Errorf("pressed %q, want rt:r-9 once", eng.ids)
	}
	if !strings.Contains(out.String(), "(press r-9 run again)") || !strings.Contains(out.String(), `no "run" button on r-9`) {
		t.Errorf("transcript:\n%s", out.String())
	}
}

type blockingReader struct{ ch chan struct{} }

func (b blockingReader) Read([]byte) (int, error) { <-b.ch; return 0, io.EOF }

// A cancelled context ends a session that waits for input.
func TestRunEndsOnCancel(t *testing.T) {
	var out strings.Builder
	s := &Session{Engine: nil, Platform: New(&out), Channel: "ops", User: "alice"}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	r := blockingReader{ch: make(chan struct{})}
	defer close(r.ch)
	go func() { done <- s.Run(ctx, r) }()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want context.Canceled", err)
	}
}
