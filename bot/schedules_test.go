package bot_test

import (
	"context"
	"testing"

	"github.com/day2bot/day2bot/bot"
	"github.com/day2bot/day2bot/internal/enginetest"
	"github.com/day2bot/day2bot/internal/errs"
)

func TestParseSchedules(t *testing.T) {
	r, err := bot.Parse("schedules Shop")
	if err != nil || r.Verb != bot.VerbSchedules || r.App != "shop" {
		t.Errorf("Parse(schedules Shop) = %+v, %v", r, err)
	}
	for _, bad := range []string{"schedules", "schedules shop extra"} {
		if _, err := bot.Parse(bad); errs.Text(err, "") != "usage: schedules APP" || !errs.Is(errs.Invalid, err) {
			t.Errorf("Parse(%q) err = %v, want usage: schedules APP", bad, err)
		}
	}
}

func TestSchedulesCommand(t *testing.T) {
	var asked string
	h := newHarness(t, func(o *bot.Options) {
		o.Schedules = func(_ context.Context, app string) (bot.Message, error) {
			asked = app
			return bot.Message{Title: "Schedules of " + app, Table: &bot.Table{Columns: []string{"Schedule"}, Rows: [][]string{{"nightly"}}}}, nil
		}
	})
	out := h.Say("bob", "schedules SHOP")
	enginetest.MustContain(t, out, "[only bob]", "Schedules of shop", "nightly")
	if asked != "shop" {
		t.Errorf("asked for %q, want the app's name shop", asked)
	}
	enginetest.MustContain(t, h.Say("bob", "schedules shpo"), "unknown app \"shpo\"", "did you mean")

	bare := newHarness(t)
	enginetest.MustContain(t, bare.Say("bob", "schedules shop"), "schedules are not set up")
}
