package aws

import (
	"context"
	"strings"
	"testing"

	"github.com/day2bot/day2bot/tasks"
	"github.com/day2bot/day2bot/tasks/emulator"
)

func ecrAction(t *testing.T, name string) tasks.Action {
	t.Helper()
	return findAction(t, ECRActions(SDKECR), name)
}

func seedRepo(t *testing.T, r emulator.ECRRepository) {
	t.Helper()
	if err := emu.SeedECRRepository(context.Background(), r); err != nil {
		t.Fatal(err)
	}
}

func repoSel(app string) tasks.Selector {
	return tasks.Selector{Type: "ecr:repository", Tags: map[string]string{"app": app}}
}

func TestECRImageFindingsBySeverity(t *testing.T) {
	ctx := context.Background()
	app := uniq(t, "shop")
	tags := map[string]string{"app": app}
	seedRepo(t, emulator.ECRRepository{Name: app + "/api", Tags: tags, Images: []emulator.ECRImage{{Tag: "v42", ScannedAt: testNow,
		Findings: map[string][]string{"CRITICAL": {"CVE-2024-1", "CVE-2024-2"}, "HIGH": {"CVE-2023-9"}, "LOW": {"CVE-2020-1", "CVE-2020-2"}}}}})
	seedRepo(t, emulator.ECRRepository{Name: app + "/clean", Tags: tags, Images: []emulator.ECRImage{{Tag: "v42", ScannedAt: testNow}}})
	seedRepo(t, emulator.ECRRepository{Name: app + "/unscanned", Tags: tags, Images: []emulator.ECRImage{{Tag: "v42", ScanStatus: "none"}}})
	seedRepo(t, emulator.ECRRepository{Name: app + "/worker", Tags: tags})
	seedRepo(t, emulator.ECRRepository{Name: app + "/foreign", Tags: map[string]string{"app": "other"}, Images: []emulator.ECRImage{{Tag: "v42"}}})

	_, r := planAndRun(ctx, t, ecrAction(t, "ecr.image-findings"), invocation(t, repoSel(app), tasks.Values{"tag": "v42"}))
	want := []string{
		"v42: 5 findings (2 critical, 1 high, 2 low); critical: CVE-2024-1, CVE-2024-2; scanned 2026-11-25 22:00 UTC",
		"v42: no findings; scanned 2026-11-25 22:00 UTC",
		"v42 was never scanned: turn on scan on push or start a scan",
		"no image tagged v42",
	}
	if len(r.Resources) != len(want) {
		t.Fatalf("rows %+v", r.Resources)
	}
	for i, rr := range r.Resources {
		if rr.Detail != want[i] || rr.Status != tasks.StatusOK {
			t.Errorf("%s: %q, want %q", rr.Resource, rr.Detail, want[i])
		}
	}
}

// Settings are read per repository; locking tags skips what is locked
// already, reports AWS's refusal of one repository and leaves another
// app's repository alone.
func TestECRSettingsAndLockTags(t *testing.T) {
	ctx := context.Background()
	app := uniq(t, "shop")
	tags := map[string]string{"app": app}
	a, b, c := app+"/a", app+"/b", app+"/c"
	seedRepo(t, emulator.ECRRepository{Name: a, Tags: tags, Lifecycle: `{"rules":[]}`, ScanOnPush: true})
	seedRepo(t, emulator.ECRRepository{Name: b, Tags: tags})
	seedRepo(t, emulator.ECRRepository{Name: c, Tags: tags, Immutable: true})
	foreign := uniq(t, "other")
	seedRepo(t, emulator.ECRRepository{Name: foreign, Tags: map[string]string{"app": foreign}})

	_, r := planAndRun(ctx, t, ecrAction(t, "ecr.settings"), invocation(t, repoSel(app), nil))
	if r.Resources[0].Detail != "tags mutable; scan on push; lifecycle policy set; MUTABLE TAGS: a push can overwrite a tag that is deployed" ||
		r.Resources[1].Detail != "tags mutable; no scan on push; no lifecycle policy; MUTABLE TAGS: a push can overwrite a tag that is deployed; NO LIFECYCLE POLICY: old images are kept (and paid for) forever" ||
		r.Resources[2].Detail != "tags immutable; no scan on push; no lifecycle policy; NO LIFECYCLE POLICY: old images are kept (and paid for) forever" {
		t.Fatalf("settings %+v", r.Resources)
	}

	act := ecrAction(t, "ecr.lock-tags")
	inv := invocation(t, repoSel(app), nil)
	p, err := planOnlyReads(ctx, t, act, inv)
	if err != nil {
		t.Fatal(err)
	}
	if p.Summary != "make image tags immutable in 2 of 3 repositories" || p.Changes[2].Detail != "tags are immutable already" || emu.ECRTagMutability(a) != "MUTABLE" {
		t.Fatalf("plan %q %+v", p.Summary, p.Changes)
	}
	emu.InjectFault("ecr:PutImageTagMutability", emulator.Fault{Status: 400, Code: "LimitExceededException", Message: "too many requests to this repository"})
	emu.InjectFault("ecr:PutImageTagMutability", emulator.Fault{Status: 400, Code: "LimitExceededException", Message: "too many requests to this repository"})
	emu.InjectFault("ecr:PutImageTagMutability", emulator.Fault{Status: 400, Code: "LimitExceededException", Message: "too many requests to this repository"})
	r, err = act.Run(ctx, inv, nil)
	if err != nil {
		t.Fatal(err)
	}
	assertPlanMatchesRun(t, p, r)
	if r.Failed() != 1 || !strings.Contains(r.Resources[0].Detail, "LimitExceededException") || emu.ECRTagMutability(a) != "MUTABLE" ||
		r.Resources[1].Detail != "MUTABLE -> IMMUTABLE: a pushed tag can no longer be overwritten" || emu.ECRTagMutability(b) != "IMMUTABLE" {
		t.Fatalf("run %+v", r.Resources)
	}
	if emu.ECRTagMutability(foreign) != "MUTABLE" {
		t.Fatal("another app's repository was locked")
	}
	// Binding: the foreign repository named by id while the binding
	// requires the app's tag selects nothing.
	sel := tasks.Selector{Type: "ecr:repository", IDs: []string{foreign}, Tags: tags}
	if p, err := act.Plan(ctx, invocation(t, sel, nil)); err != nil || p.Summary != "no repositories match the target" {
		t.Fatalf("foreign by id: %v %q", err, p.Summary)
	}
}
