package aws

import (
	"context"
	"strings"
	"testing"

	"github.com/day2bot/day2bot/tasks"
	"github.com/day2bot/day2bot/tasks/emulator"
)

func seedKey(t *testing.T, k emulator.KMSKey) string {
	t.Helper()
	id, err := emu.SeedKMSKey(context.Background(), k)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func keySel(app string) tasks.Selector {
	return tasks.Selector{Type: "kms:key", Tags: map[string]string{"app": app}}
}

func TestKMSRotationStatusAndEnable(t *testing.T) {
	ctx := context.Background()
	app := uniq(t, "vault")
	tags := map[string]string{"app": app}
	yearly := seedKey(t, emulator.KMSKey{Tags: tags, Rotation: 365})
	off := seedKey(t, emulator.KMSKey{Tags: tags})
	off2 := seedKey(t, emulator.KMSKey{Tags: tags})
	disabled := seedKey(t, emulator.KMSKey{Tags: tags, Disabled: true})
	foreign := seedKey(t, emulator.KMSKey{Tags: map[string]string{"app": uniq(t, "other")}})

	_, r := planAndRun(ctx, t, findAction(t, KMSActions(SDKKMS), "kms.rotation-status"), invocation(t, keySel(app), nil))
	got := map[string]string{}
	for _, rr := range r.Resources {
		got[rr.Resource] = rr.Detail
	}
	if len(got) != 4 || !strings.HasPrefix(got[yearly], "SYMMETRIC_DEFAULT, Enabled, rotates every 365 days (next ") ||
		got[off] != "SYMMETRIC_DEFAULT, Enabled, rotation off" || got[disabled] != "SYMMETRIC_DEFAULT, Disabled, rotation off" {
		t.Fatalf("status %v", got)
	}

	act := findAction(t, KMSActions(SDKKMS), "kms.enable-rotation")
	inv := invocation(t, keySel(app), tasks.Values{"period_days": int64(365)})
	p, err := planOnlyReads(ctx, t, act, inv)
	if err != nil || p.Summary != "rotate every 365 days 2 of 4 keys" || emu.KMSRotation(off) != 0 {
		t.Fatalf("plan %v %q", err, p.Summary)
	}
	emu.InjectFault("kms:EnableKeyRotation", emulator.Fault{Status: 400, Code: "KMSInternalException", Message: "try again"})
	r, err = act.Run(ctx, inv, nil)
	if err != nil {
		t.Fatal(err)
	}
	assertPlanMatchesRun(t, p, r)
	if r.Failed() != 1 || r.Summary != "enabled rotation of 1 of 4 keys, 1 failed, 2 skipped" {
		t.Fatalf("run %s %+v", r.Summary, r.Resources)
	}
	if emu.KMSRotation(off)+emu.KMSRotation(off2) != 365 || emu.KMSRotation(disabled) != 0 {
		t.Fatalf("rotation %d %d %d", emu.KMSRotation(off), emu.KMSRotation(off2), emu.KMSRotation(disabled))
	}
	for _, rr := range r.Resources {
		if rr.Resource == disabled && rr.Detail != "the key is Disabled" {
			t.Fatalf("disabled %+v", rr)
		}
	}

	// Another app's key named by id, with the binding's tag, is not the app's.
	sel := keySel(app)
	sel.IDs = []string{foreign}
	p, err = act.Plan(ctx, invocation(t, sel, tasks.Values{"period_days": int64(90)}))
	if err != nil || len(p.Changes) != 0 || emu.KMSRotation(foreign) != 0 {
		t.Fatalf("foreign key planned: %v %+v", err, p.Changes)
	}
}
