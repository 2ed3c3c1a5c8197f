package storetest

import (
	"context"
	"maps"
	"strings"
	"testing"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/policies/store"
)

func testAlertActions(t *testing.T, db Database) {
	ctx := context.Background()
	s, _ := openTemp(t, db)
	alarm := "shop-" + strings.Repeat("x", 250) // alarm names may be 255 bytes
	want := []store.AlertAction{
		{Task: "restart-web"},
		{Task: "mute-alarm", Params: map[string]string{"alarm": alarm, "duration": "1h"}},
	}
	id, err := s.SaveAlertActions(ctx, "shop", alarm, want)
	if err != nil {
		t.Fatal(err)
	}
	if len(id) != 9 || id[0] != 'x' {
		t.Fatalf("id = %q, want x and 8 characters", id)
	}
	other, err := s.SaveAlertActions(ctx, "shop", alarm, want[:1])
	if err != nil || other == id {
		t.Fatalf("second save = %q, %v (first %q)", other, err, id)
	}

	// Read back through a second Store on the same file: what a restarted
	// process sees when an old button is pressed.
	s2 := db.Open(t)
	for i, w := range want {
		app, got, err := s2.AlertAction(ctx, strings.ToUpper(id), i)
		if err != nil {
			t.Fatalf("action %d: %v", i, err)
		}
		if app != "shop" || got.Task != w.Task || !maps.Equal(got.Params, w.Params) {
			t.Errorf("action %d = %s %+v, want shop %+v", i, app, got, w)
		}
	}
	for _, c := range []struct {
		id   string
		i    int
		want string
	}{
		{id, 2, "no alert action " + id + ":2"},
		{id, -1, "no alert action " + id + ":-1"},
		{other, 1, "no alert action " + other + ":1"},
		{"xnotthere", 0, "no alert action xnotthere"},
		{"", 0, `no alert action ""`},
	} {
		_, _, err := s2.AlertAction(ctx, c.id, c.i)
		if d := errDiff(err, errs.NotFound, c.want); d != "" {
			t.Errorf("AlertAction(%q, %d): %s", c.id, c.i, d)
		}
	}
	for _, c := range []struct {
		app, want string
		actions   []store.AlertAction
	}{
		{"shop", "alert actions need an app and at least one action", nil},
		{"shop", "alert action without a task", []store.AlertAction{{Task: ""}}},
		{"", "alert actions need an app and at least one action", want},
	} {
		_, err := s.SaveAlertActions(ctx, c.app, alarm, c.actions)
		if d := errDiff(err, errs.Invalid, c.want); d != "" {
			t.Errorf("save %q %+v: %s", c.app, c.actions, d)
		}
	}
}
