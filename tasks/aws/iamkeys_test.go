package aws

import (
	"context"
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/tasks"
	"github.com/day2bot/day2bot/tasks/emulator"
)

func iamAction(t *testing.T, name string) tasks.Action {
	t.Helper()
	return findAction(t, IAMActions(SDKIAM), name)
}

// seedKeySecret creates the Secrets Manager secret an operator sets up
// for a user.
func seedKeySecret(t *testing.T, name string, tags map[string]string) {
	t.Helper()
	var ts []smtypes.Tag
	for k, v := range tags {
		ts = append(ts, smtypes.Tag{Key: awssdk.String(k), Value: awssdk.String(v)})
	}
	_, err := secretsmanager.NewFromConfig(testConfig(t)).CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{
		Name: awssdk.String(name), SecretString: awssdk.String("{}"), Tags: ts})
	if err != nil {
		t.Fatal(err)
	}
}

func secretValue(t *testing.T, name string) string {
	t.Helper()
	out, err := secretsmanager.NewFromConfig(testConfig(t)).GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: awssdk.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return awssdk.ToString(out.SecretString)
}

func TestIAMKeyReportFlagsOldAndUnusedKeys(t *testing.T) {
	app := uniq(t, "keys")
	ci, idle := app+"-ci", app+"-idle"
	emu.SeedIAMUser(emulator.IAMUser{Name: ci, Tags: map[string]string{"app": app}, Keys: []emulator.IAMKey{
		{ID: "AKIAOLDBUTBUSY0001", Created: testNow.AddDate(0, 0, -200), LastUsed: testNow.Add(-time.Hour)}}})
	emu.SeedIAMUser(emulator.IAMUser{Name: idle, Tags: map[string]string{"app": app}, Keys: []emulator.IAMKey{
		{ID: "AKIANEVERUSED00001", Created: testNow.AddDate(0, 0, -100)},
		{ID: "AKIAFRESHINACTIVE1", Created: testNow.AddDate(0, 0, -3), Inactive: true}}})
	emu.SeedIAMUser(emulator.IAMUser{Name: app + "-other", Tags: map[string]string{"app": "other"}})
	_, r := planAndRun(context.Background(), t, iamAction(t, "iam.access-key-report"), invocation(t, tasks.Selector{Type: "iam:user", Tags: map[string]string{"app": app}}, nil))
	want := []tasks.ResourceResult{
		{Resource: ci, Status: tasks.StatusOK, Detail: "AKIAOLDBUTBUSY0001 Active, 200 days old, last used 2026-11-25 (s3) — older than 90 days"},
		{Resource: idle, Status: tasks.StatusOK, Detail: "AKIANEVERUSED00001 Active, 100 days old, never used — older than 90 days, unused; AKIAFRESHINACTIVE1 Inactive, 3 days old, never used"},
	}
	if len(r.Resources) != 2 || r.Resources[0] != want[0] || r.Resources[1] != want[1] {
		t.Fatalf("report:\n%+v\nwant\n%+v", r.Resources, want)
	}
}

func TestIAMRotateStoresKeyOnlyInSecretAndSchedulesFollowUps(t *testing.T) {
	ctx := context.Background()
	app := uniq(t, "keys")
	user, secret := app+"-deployer", app+"/deployer-key"
	old := emu.SeedIAMUser(emulator.IAMUser{Name: user, Tags: map[string]string{"app": app}, Keys: []emulator.IAMKey{{Created: testNow.AddDate(0, 0, -120)}}})[0]
	seedKeySecret(t, secret, map[string]string{"app": app, "iam-user": user})
	sel := tasks.Selector{Type: "iam:user", Tags: map[string]string{"app": app}}
	inv := invocation(t, sel, tasks.Values{"user": user, "secret": secret, "grace": 48 * time.Hour, "delete_after": 7 * 24 * time.Hour})
	act := iamAction(t, "iam.rotate-access-key")

	p, r := planAndRun(ctx, t, act, inv)
	if want := "create a new key, store it in secret " + secret + "; deactivate " + old + " after 2d, delete it 7d later"; p.Changes[0].Detail != want {
		t.Fatalf("plan %q", p.Changes[0].Detail)
	}
	keys := emu.IAMKeys(user)
	if len(keys) != 2 || keys[0] != old {
		t.Fatalf("keys %v", keys)
	}
	newKey := keys[1]
	secretKey := emu.IAMKeySecret(user, newKey)
	if v := secretValue(t, secret); !strings.Contains(v, secretKey) || !strings.Contains(v, newKey) {
		t.Fatalf("secret holds %q", v)
	}
	if want := "new key " + newKey + " stored in secret " + secret + "; " + old + " stays active until 2026-11-27T22:00:00Z"; r.Resources[0].Detail != want {
		t.Fatalf("result %q", r.Resources[0].Detail)
	}
	for _, s := range []string{r.Summary, r.Resources[0].Detail, p.Summary, p.Changes[0].Detail} {
		if strings.Contains(s, secretKey) {
			t.Fatalf("the secret is in %q", s)
		}
	}
	if len(r.FollowUps) != 2 || r.FollowUps[0].Action != DeactivateKeyAction || r.FollowUps[0].After != 48*time.Hour ||
		r.FollowUps[1].Action != DeleteKeyAction || r.FollowUps[1].After != 9*24*time.Hour ||
		r.FollowUps[0].Values["access_key_id"] != old || r.FollowUps[1].Values["user"] != user {
		t.Fatalf("follow-ups %+v", r.FollowUps)
	}
	// Rotating again before the old key is gone: two keys, refused.
	_, err := act.Plan(ctx, inv)
	wantErr(t, err, errs.Conflict, "user "+user+" already has two access keys (IAM's limit): delete the one no longer needed first")

	// The follow-ups, as the engine runs them.
	for _, f := range r.FollowUps {
		_, fr := planAndRun(ctx, t, iamAction(t, f.Action), invocation(t, sel, f.Values))
		if fr.Failed() != 0 {
			t.Fatalf("%s: %+v", f.Action, fr)
		}
		if f.Action == DeactivateKeyAction && emu.IAMKeyStatus(user, old) != "Inactive" {
			t.Fatalf("old key is %s after deactivation", emu.IAMKeyStatus(user, old))
		}
	}
	if emu.IAMKeyStatus(user, old) != "" || emu.IAMKeyStatus(user, newKey) != "Active" {
		t.Fatalf("after the follow-ups: old %q new %q", emu.IAMKeyStatus(user, old), emu.IAMKeyStatus(user, newKey))
	}
}

func TestIAMRotateRefusesSecretNotSetUpForTheUser(t *testing.T) {
	ctx := context.Background()
	app := uniq(t, "keys")
	user := app + "-deployer"
	emu.SeedIAMUser(emulator.IAMUser{Name: user, Tags: map[string]string{"app": app}, Keys: []emulator.IAMKey{{Created: testNow}}})
	seedKeySecret(t, app+"/someone-else", map[string]string{"app": app, "iam-user": "someone-else"})
	sel := tasks.Selector{Type: "iam:user", Tags: map[string]string{"app": app}}
	for _, tc := range []struct {
		user, secret string
		kind         errs.Kind
		want         string
	}{
		{user, app + "/someone-else", errs.Permission,
			`secret "` + app + `/someone-else" is not set up for user ` + user + ` of this app: it needs the tags tag app=` + app + `; tag iam-user=` + user},
		{user, app + "/missing", errs.NotFound,
			`secret "` + app + `/missing" does not exist: create it for user ` + user + ` (tagged iam-user=` + user + `) first`},
		{app + "-not-ours", app + "/someone-else", errs.NotFound,
			`user "` + app + `-not-ours" is not one of this app's IAM users (tag app=` + app + `)`},
	} {
		_, err := iamAction(t, "iam.rotate-access-key").Run(ctx, invocation(t, sel, tasks.Values{"user": tc.user, "secret": tc.secret}), nil)
		wantErr(t, err, tc.kind, tc.want)
	}
	if n := len(emu.IAMKeys(user)); n != 1 {
		t.Fatalf("%d keys after refused rotations", n)
	}
}

// A new key whose secret could not be stored is deleted again: nobody
// holds its secret, so it could only leak.
func TestIAMRotateDeletesNewKeyWhenSecretWriteFails(t *testing.T) {
	ctx := context.Background()
	app := uniq(t, "keys")
	user, secret := app+"-deployer", app+"/deployer-key"
	old := emu.SeedIAMUser(emulator.IAMUser{Name: user, Tags: map[string]string{"app": app}, Keys: []emulator.IAMKey{{Created: testNow}}})[0]
	seedKeySecret(t, secret, map[string]string{"app": app, "iam-user": user})
	emu.InjectFault("secretsmanager:PutSecretValue", emulator.Fault{Status: 400, Code: "InvalidRequestException", Message: "secret is scheduled for deletion"})
	r, err := iamAction(t, "iam.rotate-access-key").Run(ctx, invocation(t, tasks.Selector{Type: "iam:user", Tags: map[string]string{"app": app}}, tasks.Values{"user": user, "secret": secret}), nil)
	if err != nil || r.Failed() != 1 || !strings.Contains(r.Resources[0].Detail, "the new key was deleted again") || len(r.FollowUps) != 0 {
		t.Fatalf("%v %+v", err, r)
	}
	if keys := emu.IAMKeys(user); len(keys) != 1 || keys[0] != old || emu.IAMKeyStatus(user, old) != "Active" {
		t.Fatalf("keys after a failed rotation: %v", keys)
	}
}

// Deleting refuses a key that was switched back on during the grace period.
func TestIAMDeleteSkipsKeyActiveAgain(t *testing.T) {
	app := uniq(t, "keys")
	user := app + "-deployer"
	id := emu.SeedIAMUser(emulator.IAMUser{Name: user, Tags: map[string]string{"app": app}, Keys: []emulator.IAMKey{{Created: testNow}}})[0]
	_, r := planAndRun(context.Background(), t, iamAction(t, DeleteKeyAction), invocation(t, tasks.Selector{Type: "iam:user", Names: []string{user}}, tasks.Values{"user": user, "access_key_id": id}))
	if r.Resources[0].Status != tasks.StatusSkipped || !strings.Contains(r.Resources[0].Detail, "active again") || emu.IAMKeyStatus(user, id) != "Active" {
		t.Fatalf("%+v", r)
	}
}
