package shell_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/day2bot/day2bot/blueprints"
	"github.com/day2bot/day2bot/internal/enginetest"
	"github.com/day2bot/day2bot/tasks/emulator"
)

// End-to-end runs of the library's bulk and secret-handling tasks: what the
// chat shows for them, through the engine, against the emulator.

// A researcher's access is removed from all 300 buckets of the lab in one
// command; S3 refuses three writes. The chat shows the outcome in one
// result with the per-bucket table attached as a file (the refused writes
// are the first batch's, so their rows are among those shown inline).
func TestE2ERevokePrincipalAcross300Buckets(t *testing.T) {
	const researcher = "arn:aws:iam::123456789012:role/carol"
	// kumo's state is process-global: names of this run's own.
	app := uniqName("research")
	x := newE2EWith(t, func(x *e2e) {
		for i := range 300 {
			name := fmt.Sprintf("%s-lab-%03d", app, i)
			pol := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Principal":{"AWS":[%q,"arn:aws:iam::123456789012:role/dave"]},"Action":"s3:GetObject","Resource":"arn:aws:s3:::%s/*"}]}`, researcher, name)
			if err := x.emu.SeedBucket(x.Ctx, emulator.Bucket{Name: name, Tags: map[string]string{"app": app}, Policy: pol}); err != nil {
				t.Fatal(err)
			}
		}
		x.Config.Apps = append(x.Config.Apps, enginetest.LibraryApp(t, app, blueprints.App{Blueprints: []string{"s3-data"}, Region: "us-east-1", Owners: []string{"alice"}}))
	})
	for i := range 3 {
		x.emu.InjectFault("s3:PutBucketPolicy", emulator.Fault{Status: 409, Code: "OperationAborted", Message: fmt.Sprintf("conflicting operation %d", i)})
	}
	writes := x.emu.Count("s3:PutBucketPolicy") // the seeds'
	// 900 S3 calls (tags, policy reads, writes): the harness's 30s drain
	// is too short on a loaded machine, so wait longer here.
	mark := x.Out.Len()
	x.Session("alice").Line(x.Ctx, app+" revoke-principal principal="+researcher)
	ctx, cancel := context.WithTimeout(x.Ctx, 5*time.Minute)
	defer cancel()
	if err := x.Engine.Drain(ctx); err != nil {
		t.Fatalf("drain: %v", err)
	}
	out := x.Out.Since(mark)
	enginetest.MustContain(t, out, app+" revoke-principal — partly failed", "revoked access on 297 of 300 buckets, 3 failed",
		"OperationAborted: conflicting operation", "attached as a file", "-result.tsv")
	if n := strings.Count(out, "📎"); n != 1 {
		t.Fatalf("%d attachments, want the one result table:\n%s", n, out)
	}
	if n := x.emu.Count("s3:PutBucketPolicy") - writes; n != 300 {
		t.Fatalf("%d policy writes, want 300 (one per bucket, the 3 refused included)", n)
	}
}

// A key rotation from the chat: the new key's secret goes to the user's
// Secrets Manager secret and nowhere else — not the chat, not the log, not
// the database — and the old key is deactivated by the follow-up once the
// grace period has passed on the (injected) clock, then deleted.
func TestE2ERotateKeySecretOnlyInSecretsManager(t *testing.T) {
	var logs enginetest.Transcript
	var old string
	// kumo's state is process-global: names of this run's own.
	app, user := uniqName("keys"), uniqName("deployer")
	secretName := app + "/" + user
	x := newE2EWith(t, func(x *e2e) {
		old = x.emu.SeedIAMUser(emulator.IAMUser{Name: user, Tags: map[string]string{"app": app},
			Keys: []emulator.IAMKey{{Created: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)}}})[0]
		sm := secretsmanager.NewFromConfig(x.emu.ClientConfig("us-east-1", "AKIDSEED"))
		if _, err := sm.CreateSecret(x.Ctx, &secretsmanager.CreateSecretInput{Name: aws.String(secretName), SecretString: aws.String("{}"),
			Tags: []smtypes.Tag{{Key: aws.String("app"), Value: aws.String(app)}, {Key: aws.String("iam-user"), Value: aws.String(user)}}}); err != nil {
			t.Fatal(err)
		}
		x.Config.Apps = append(x.Config.Apps, enginetest.LibraryApp(t, app, blueprints.App{Blueprints: []string{"iam-access-keys"}, Region: "us-east-1", Owners: []string{"alice"}}))
	}, withLogger(slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))

	out := x.Say("alice", app+" rotate-key user="+user+" secret="+secretName+" grace=1d delete_after=2d")
	keys := x.emu.IAMKeys(user)
	if len(keys) != 2 || keys[0] != old {
		t.Fatalf("keys %v after rotation:\n%s", keys, out)
	}
	newKey := keys[1]
	secret := x.emu.IAMKeySecret(user, newKey)
	enginetest.MustContain(t, out, app+" rotate-key — succeeded", "new key "+newKey+" stored in secret "+secretName, old+" stays active until 2026-11-26T09:00:00Z")
	sm := secretsmanager.NewFromConfig(x.emu.ClientConfig("us-east-1", "AKIDCHECK"))
	got, err := sm.GetSecretValue(x.Ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(secretName)})
	if err != nil || !strings.Contains(aws.ToString(got.SecretString), secret) {
		t.Fatalf("secret store: %v", err)
	}

	// Not yet: a minute before the grace period ends the old key works.
	x.Clock.Advance(24*time.Hour - time.Minute)
	x.Engine.Sweep(x.Ctx)
	x.Drain()
	if s := x.emu.IAMKeyStatus(user, old); s != "Active" {
		t.Fatalf("old key %s before the grace period ended", s)
	}
	mark := x.Out.Len()
	x.Clock.Advance(time.Minute)
	x.Engine.Sweep(x.Ctx)
	x.Drain()
	if s := x.emu.IAMKeyStatus(user, old); s != "Inactive" {
		t.Fatalf("old key %s after the grace period", s)
	}
	enginetest.MustContain(t, x.Out.Since(mark), "follow-up of r-1: iam.deactivate-access-key", "end of the 24h grace period of a rotated key", "deactivated 1 of 1 access keys")

	x.Clock.Advance(48 * time.Hour)
	x.Engine.Sweep(x.Ctx)
	x.Drain()
	if s := x.emu.IAMKeyStatus(user, old); s != "" || x.emu.IAMKeyStatus(user, newKey) != "Active" {
		t.Fatalf("after delete_after: old %q, new %q", s, x.emu.IAMKeyStatus(user, newKey))
	}

	// The secret is nowhere but the secret store: every chat message, every
	// log line, the database and its WAL.
	where := map[string]string{"chat": x.Out.Since(0), "log": logs.Since(0)}
	x.Stop()
	for _, f := range []string{x.Path, x.Path + "-wal"} {
		b, err := os.ReadFile(f)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		where[filepath.Base(f)] = string(b)
	}
	if !strings.Contains(where["log"], "follow-up done") || strings.Count(where["chat"], "\n") < 10 {
		t.Fatalf("nothing to scan: %d log bytes, chat %q", len(where["log"]), where["chat"])
	}
	for name, text := range where {
		for _, part := range []string{secret, secret[len(secret)-16:]} {
			if strings.Contains(text, part) {
				t.Errorf("the new key's secret (or its end) is in the %s", name)
			}
		}
	}
}

var uniqSeq atomic.Int64

// uniqName is prefix with a number of this process's own: the emulator's
// state outlives one run of a test (-count=N).
func uniqName(prefix string) string { return fmt.Sprintf("%s%d", prefix, uniqSeq.Add(1)) }
