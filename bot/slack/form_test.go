package slack

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/day2bot/day2bot/bot"
)

// TestFormViewGolden covers every kind of field: a live-value select with
// what was typed, a number with the task's bounds, an enum, free text,
// and the task's warning.
func TestFormViewGolden(t *testing.T) {
	f := bot.Form{App: "shop", Task: "restart-web-with-a-long-name", Title: "shop restart-web-with-a-long-name",
		Description: "Reboot <web> instances in batches", Confirm: "Users see errors while an instance reboots.",
		Fields: []bot.FormField{
			{Name: "alarm", Label: "alarm", Kind: bot.FieldChoice, Required: true, Initial: "shop-cpu-high"},
			{Name: "batch", Label: "batch", Kind: bot.FieldNumber, Initial: "1", Min: "1", Max: "4", Hint: "instances at once"},
			{Name: "state", Label: "state", Kind: bot.FieldSelect, Options: []string{"ALARM", "OK", "any"}, Initial: "any"},
			{Name: "wait", Label: "wait", Kind: bot.FieldText, Initial: "5m"},
		}}
	view, err := formView(f, "C1")
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.MarshalIndent(view, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "form_view.golden.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run go test -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("form differs from %s (go test ./bot/slack -run TestFormViewGolden -update to accept):\n%s", path, got)
	}
}

func TestFormCommandQuotes(t *testing.T) {
	f := bot.Form{App: "shop", Task: "annotate", Fields: []bot.FormField{{Name: "label"}, {Name: "reason"}, {Name: "empty"}, {Name: "path"}}}
	got := bot.FormCommand(f, map[string]string{"label": "v1", "reason": `deploy "gone" wrong`, "empty": "  ", "path": `a\b`})
	want := `shop annotate label=v1 reason="deploy \"gone\" wrong" path="a\\b"`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	req, err := bot.Parse(got)
	if err != nil || req.Params["reason"] != `deploy "gone" wrong` || req.Params["path"] != `a\b` {
		t.Errorf("parsed back: %+v %v", req.Params, err)
	}
}
