package aws

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/tasks"
	"github.com/day2bot/day2bot/tasks/emulator"
)

func secretsAction(t *testing.T, name string) tasks.Action {
	t.Helper()
	return findAction(t, SecretsActions(SDKSecretRotation), name)
}

func seedSecret(t *testing.T, s emulator.Secret) {
	t.Helper()
	if err := emu.SeedSecret(context.Background(), s); err != nil {
		t.Fatal(err)
	}
}

func secretSel(app string) tasks.Selector {
	return tasks.Selector{Type: "secretsmanager:secret", Tags: map[string]string{"app": app}}
}

const rotator = "arn:aws:lambda:us-east-1:000000000000:function:rotate-db"

// noSecretIn fails when any value appears in the plan or the result.
func noSecretIn(t *testing.T, p tasks.Plan, r tasks.Result, values ...string) {
	t.Helper()
	text := fmt.Sprintf("%+v %+v", p, r)
	for _, v := range values {
		if strings.Contains(text, v) {
			t.Fatalf("a secret value reached a message: %s", text)
		}
	}
}

func TestSecretsRotationReportFlagsOldOverdueAndUnused(t *testing.T) {
	ctx := context.Background()
	app := uniq(t, "pay")
	day := 24 * time.Hour
	seedSecret(t, emulator.Secret{Name: app + "/db", Value: "db-hunter2", Tags: map[string]string{"app": app}, RotationLambda: rotator, RotateEveryDays: 30,
		LastRotated: testNow.Add(-12 * day), LastAccessed: testNow.Add(-1 * day)})
	seedSecret(t, emulator.Secret{Name: app + "/stripe", Value: "sk_live_s3cr3t", Tags: map[string]string{"app": app},
		LastRotated: testNow.Add(-200 * day), LastAccessed: testNow.Add(-120 * day)})
	seedSecret(t, emulator.Secret{Name: app + "/late", Value: "late-v4lue", Tags: map[string]string{"app": app}, RotationLambda: rotator, RotateEveryDays: 7,
		LastRotated: testNow.Add(-10 * day), LastAccessed: testNow})
	seedSecret(t, emulator.Secret{Name: app + "-other", Value: "not-ours", Tags: map[string]string{"app": "other"}})

	p, r := planAndRun(ctx, t, secretsAction(t, "secrets.rotation-report"), invocation(t, secretSel(app), tasks.Values{"max_age": int64(90), "unused_days": int64(90)}))
	want := []string{
		app + "/db: rotation on, every 30 days; last rotated 12 days ago; next in 18 days; last read 1 day ago",
		app + "/late: rotation on, every 7 days; last rotated 10 days ago; last read today; OVERDUE: the scheduled rotation did not happen",
		app + "/stripe: rotation off; last rotated 200 days ago; last read 120 days ago; OLD: same value for 200 days (max 90); UNUSED: not read for over 90 days; delete it if nothing needs it",
	}
	if len(r.Resources) != 3 {
		t.Fatalf("report %+v", r.Resources)
	}
	for i, rr := range r.Resources {
		if got := rr.Resource + ": " + rr.Detail; got != want[i] {
			t.Errorf("row %d:\n got %s\nwant %s", i, got, want[i])
		}
	}
	noSecretIn(t, p, r, "db-hunter2", "sk_live_s3cr3t", "late-v4lue", "not-ours")
}

func TestSecretsRotateNowPartialFailureAndBinding(t *testing.T) {
	ctx := context.Background()
	app := uniq(t, "pay")
	a, b, manual := app+"/api", app+"/db", app+"/manual"
	for _, n := range []string{a, b} {
		seedSecret(t, emulator.Secret{Name: n, Value: "old-" + n, Tags: map[string]string{"app": app}, RotationLambda: rotator, LastRotated: testNow.Add(-40 * 24 * time.Hour)})
	}
	seedSecret(t, emulator.Secret{Name: manual, Value: "old-manual", Tags: map[string]string{"app": app}})
	foreign := uniq(t, "other") + "/db"
	seedSecret(t, emulator.Secret{Name: foreign, Value: "old-foreign", Tags: map[string]string{"app": "other"}, RotationLambda: rotator})

	act := secretsAction(t, "secrets.rotate")
	inv := invocation(t, secretSel(app), tasks.Values{"secret": app + "/*"})
	p, err := planOnlyReads(ctx, t, act, inv)
	if err != nil {
		t.Fatal(err)
	}
	if p.Summary != "rotate now 2 of 3 secrets" || p.Changes[2].Detail != "has no rotation function: set rotation up in Secrets Manager first" ||
		p.Changes[0].Detail != "last rotated 40 days ago" || secretValue(t, a) != "old-"+a {
		t.Fatalf("plan %q %+v", p.Summary, p.Changes)
	}
	emu.InjectFault("secretsmanager:RotateSecret", emulator.Fault{Status: 400, Code: "InvalidRequestException", Message: "A previous rotation isn't complete."})
	r, err := act.Run(ctx, inv, nil)
	if err != nil {
		t.Fatal(err)
	}
	assertPlanMatchesRun(t, p, r)
	if r.Failed() != 1 || !strings.Contains(r.Resources[0].Detail, "A previous rotation isn't complete") || r.Summary != "started rotation of 1 of 3 secrets, 1 failed, 1 skipped" {
		t.Fatalf("run %q %+v", r.Summary, r.Resources)
	}
	if secretValue(t, a) != "old-"+a || secretValue(t, b) == "old-"+b || !strings.HasPrefix(r.Resources[1].Detail, "rotation started, new version ") {
		t.Fatalf("values after run: %+v", r.Resources)
	}
	noSecretIn(t, p, r, "old-"+a, "old-"+b, "old-manual", secretValue(t, b))

	// Binding: another app's secret, named outright, is not this app's.
	_, err = act.Plan(ctx, invocation(t, secretSel(app), tasks.Values{"secret": foreign}))
	wantErr(t, err, errs.NotFound, "no secret of this app is called \""+foreign+"\" (secretsmanager:secret tag app="+app+")")
	if secretValue(t, foreign) != "old-foreign" {
		t.Fatal("foreign secret rotated")
	}
}
