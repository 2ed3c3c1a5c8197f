package aws

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/tasks"
	"github.com/day2bot/day2bot/tasks/emulator"
)

func s3Action(t *testing.T, name string) tasks.Action {
	t.Helper()
	return findAction(t, S3Actions(SDKS3), name)
}

func seedBucket(t *testing.T, b emulator.Bucket) {
	t.Helper()
	if err := emu.SeedBucket(context.Background(), b); err != nil {
		t.Fatal(err)
	}
}

func bucketPolicyOf(t *testing.T, bucket string) string {
	t.Helper()
	out, err := SDKS3(testConfig(t)).GetBucketPolicy(context.Background(), &s3.GetBucketPolicyInput{Bucket: awssdk.String(bucket)})
	if ErrorCode(err) == "NoSuchBucketPolicy" {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return awssdk.ToString(out.Policy)
}

const (
	alice = "arn:aws:iam::123456789012:role/alice"
	bob   = "arn:aws:iam::123456789012:role/bob"
)

func TestS3RevokePrincipalEditsEveryStatement(t *testing.T) {
	ctx := context.Background()
	bucket := uniq(t, "research")
	policy := fmt.Sprintf(`{"Version":"2012-10-17","Id":"keep-me","Statement":[
		{"Sid":"AliceOnly","Effect":"Allow","Principal":{"AWS":%q},"Action":"s3:GetObject","Resource":"arn:aws:s3:::%s/*"},
		{"Sid":"Both","Effect":"Allow","Principal":{"AWS":[%q,%q]},"Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::%s/*"},
		{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::%s/public/*"},
		{"Sid":"Logs","Effect":"Allow","Principal":{"Service":"logging.s3.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::%s/logs/*"}
	]}`, alice, bucket, alice, bob, bucket, bucket, bucket)
	seedBucket(t, emulator.Bucket{Name: bucket, Tags: map[string]string{"team": "lab"}, Policy: policy})
	act := s3Action(t, "s3.revoke-principal")
	sel := tasks.Selector{Type: "s3:bucket", Names: []string{"research-*"}, Tags: map[string]string{"team": "lab"}}
	inv := invocation(t, sel, tasks.Values{"bucket": bucket, "principal": alice})

	p, err := act.Plan(ctx, inv)
	if err != nil {
		t.Fatal(err)
	}
	wantDetail := fmt.Sprintf(`- remove statement "AliceOnly": {"Action":"s3:GetObject","Effect":"Allow","Principal":{"AWS":%q},"Resource":"arn:aws:s3:::%s/*","Sid":"AliceOnly"}`+"\n"+
		`~ statement "Both": remove principal %s (1 other principals stay)`, alice, bucket, alice)
	if len(p.Changes) != 1 || p.Changes[0].Detail != wantDetail || bucketPolicyOf(t, bucket) != policy {
		t.Fatalf("plan %+v", p.Changes)
	}
	r, err := act.Run(ctx, inv, nil)
	if err != nil {
		t.Fatal(err)
	}
	assertPlanMatchesRun(t, p, r)
	var got struct {
		Id        string
		Statement []struct {
			Sid       string
			Principal json.RawMessage
			Action    json.RawMessage
		}
	}
	if err := json.Unmarshal([]byte(bucketPolicyOf(t, bucket)), &got); err != nil {
		t.Fatal(err)
	}
	if got.Id != "keep-me" || len(got.Statement) != 3 || got.Statement[0].Sid != "Both" ||
		string(got.Statement[0].Principal) != fmt.Sprintf(`{"AWS":%q}`, bob) || string(got.Statement[0].Action) != `["s3:GetObject","s3:PutObject"]` ||
		string(got.Statement[1].Principal) != `"*"` || got.Statement[2].Sid != "Logs" {
		t.Fatalf("policy after revoke: %+v", got)
	}

	// Nothing left to revoke: skipped, no write.
	puts := callsMentioning("s3:PutBucketPolicy", bucket)
	r, err = act.Run(ctx, inv, nil)
	if err != nil || r.Resources[0].Status != tasks.StatusSkipped || callsMentioning("s3:PutBucketPolicy", bucket) != puts {
		t.Fatalf("second revoke: %v %+v", err, r)
	}
}

func TestS3RevokeLastPrincipalDeletesPolicy(t *testing.T) {
	ctx := context.Background()
	bucket := uniq(t, "research")
	seedBucket(t, emulator.Bucket{Name: bucket, Policy: fmt.Sprintf(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":[%q]},"Action":"s3:GetObject","Resource":"arn:aws:s3:::%s/*"}}`, alice, bucket)})
	r, err := s3Action(t, "s3.revoke-principal").Run(ctx, invocation(t, tasks.Selector{Type: "s3:bucket", IDs: []string{bucket}}, tasks.Values{"bucket": bucket, "principal": alice}), nil)
	if err != nil || r.Resources[0].Detail != "bucket policy deleted (no statement left)" || bucketPolicyOf(t, bucket) != "" {
		t.Fatalf("%v %+v", err, r)
	}
}

func TestS3GrantReadIsTimeBoundAndReplacesEarlierGrant(t *testing.T) {
	ctx := context.Background()
	bucket := uniq(t, "research")
	seedBucket(t, emulator.Bucket{Name: bucket})
	act := s3Action(t, "s3.grant-read")
	sel := tasks.Selector{Type: "s3:bucket", Names: []string{"research-*"}}
	inv := invocation(t, sel, tasks.Values{"bucket": bucket, "principal": bob, "duration": 48 * time.Hour})

	p, err := act.Plan(ctx, inv)
	if err != nil {
		t.Fatal(err)
	}
	sid := grantSidPrefix(bob) + "20261127T220000Z"
	stmt := fmt.Sprintf(`{"Action":["s3:GetObject","s3:ListBucket"],"Condition":{"DateLessThan":{"aws:CurrentTime":"2026-11-27T22:00:00Z"}},"Effect":"Allow","Principal":{"AWS":%q},"Resource":["arn:aws:s3:::%s","arn:aws:s3:::%s/*"],"Sid":%q}`, bob, bucket, bucket, sid)
	if p.Changes[0].Detail != "+ add statement: "+stmt || !strings.HasPrefix(sid, "day2bot-grant-") {
		t.Fatalf("plan %q", p.Changes[0].Detail)
	}
	r, err := act.Run(ctx, inv, nil)
	if err != nil {
		t.Fatal(err)
	}
	assertPlanMatchesRun(t, p, r)
	if want := `{"Statement":[` + stmt + `],"Version":"2012-10-17"}`; bucketPolicyOf(t, bucket) != want {
		t.Fatalf("policy %s\nwant %s", bucketPolicyOf(t, bucket), want)
	}

	// A new grant for the same principal replaces the old statement.
	inv.Now = inv.Now.Add(time.Hour)
	p, err = act.Plan(ctx, inv)
	if err != nil || !strings.HasPrefix(p.Changes[0].Detail, `- replace statement "`+sid+`"`) {
		t.Fatalf("regrant plan %v %q", err, p.Changes[0].Detail)
	}
	if _, err := act.Run(ctx, inv, nil); err != nil {
		t.Fatal(err)
	}
	if pol := bucketPolicyOf(t, bucket); strings.Count(pol, "day2bot-grant-") != 1 || !strings.Contains(pol, "2026-11-27T23:00:00Z") {
		t.Fatalf("after regrant %s", pol)
	}

	// Revoking the principal removes the grant, and with it the policy.
	if _, err := s3Action(t, "s3.revoke-principal").Run(ctx, invocation(t, sel, tasks.Values{"bucket": bucket, "principal": bob}), nil); err != nil || bucketPolicyOf(t, bucket) != "" {
		t.Fatalf("revoke grant: %v %s", err, bucketPolicyOf(t, bucket))
	}
}

func TestS3BucketParamMustBeSelected(t *testing.T) {
	ctx := context.Background()
	mine, other := uniq(t, "research"), uniq(t, "finance")
	seedBucket(t, emulator.Bucket{Name: mine, Tags: map[string]string{"team": "lab"}})
	seedBucket(t, emulator.Bucket{Name: other, Tags: map[string]string{"team": "money"}})
	for _, tc := range []struct {
		sel    tasks.Selector
		bucket string
		text   string // the selector in the message
	}{
		{tasks.Selector{Type: "s3:bucket", Names: []string{"research-*"}}, other, "names research-*"},
		{tasks.Selector{Type: "s3:bucket", Tags: map[string]string{"team": "lab"}}, other, "tag team=lab"},
	} {
		_, err := s3Action(t, "s3.grant-read").Plan(ctx, invocation(t, tc.sel, tasks.Values{"bucket": tc.bucket, "principal": bob, "duration": time.Hour}))
		wantErr(t, err, errs.NotFound, fmt.Sprintf("bucket %q is not one of this app's buckets (%s)", other, tc.text))
	}
	_, err := s3Action(t, "s3.grant-read").Plan(ctx, invocation(t, tasks.Selector{Type: "s3:bucket", IDs: []string{mine}}, tasks.Values{"bucket": mine, "principal": "*", "duration": time.Hour}))
	wantErr(t, err, errs.Invalid, `principal must be an IAM role or user ARN like arn:aws:iam::123456789012:role/name, got "*"`)
	if callsMentioning("s3:PutBucketPolicy", other) != 0 {
		t.Fatal("wrote a policy on a bucket outside the app")
	}
}

func TestS3PostureActionsPlanThenRun(t *testing.T) {
	ctx := context.Background()
	app := uniq(t, "lake")
	open, locked := app+"-open", app+"-locked"
	seedBucket(t, emulator.Bucket{Name: open, Tags: map[string]string{"app": app},
		Policy: fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::%s/*"}]}`, open)})
	seedBucket(t, emulator.Bucket{Name: locked, Tags: map[string]string{"app": app}, Versioning: true, Encrypted: true, BlockPublicAccess: true})
	seedBucket(t, emulator.Bucket{Name: app + "-notmine", Tags: map[string]string{"app": "other"}})
	sel := tasks.Selector{Type: "s3:bucket", Tags: map[string]string{"app": app}}
	inv := invocation(t, sel, nil)

	d, err := s3Action(t, "s3.describe").Run(ctx, inv, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Resources) != 2 || d.Resources[0].Resource != locked ||
		d.Resources[0].Detail != "public access block: all blocked; encryption: AES256; versioning: Enabled; no policy" ||
		!strings.HasPrefix(d.Resources[1].Detail, "public access block: none; ") || !strings.HasSuffix(d.Resources[1].Detail, "versioning: never enabled; policy principals: * (public)") {
		t.Fatalf("describe %+v", d.Resources)
	}

	for _, tc := range []struct{ action, op string }{
		{"s3.block-public-access", "s3:PutPublicAccessBlock"},
		{"s3.enable-versioning", "s3:PutBucketVersioning"},
		{"s3.enable-encryption", "s3:PutBucketEncryption"},
	} {
		act := s3Action(t, tc.action)
		before := emu.Count(tc.op)
		p, err := act.Plan(ctx, inv)
		if err != nil {
			t.Fatal(err)
		}
		if p.Changes[0].Action != "skip" { // the locked bucket needs nothing
			t.Fatalf("%s plan %+v", tc.action, p.Changes)
		}
		r, err := act.Run(ctx, inv, nil)
		if err != nil {
			t.Fatal(err)
		}
		assertPlanMatchesRun(t, p, r)
		// S3 names the bucket in the path, which the recorder does not
		// keep; the tests of this package run one at a time, so count.
		if n := emu.Count(tc.op) - before; n != 1 || p.Changes[1].Action == "skip" {
			t.Fatalf("%s: %d writes for plan %+v", tc.action, n, p.Changes)
		}
		if again, _ := act.Plan(ctx, inv); again.Changes[1].Action != "skip" {
			t.Fatalf("%s not idempotent: %+v", tc.action, again.Changes)
		}
	}
}

func TestS3AccessDeniedAndSlowDown(t *testing.T) {
	ctx := context.Background()
	bucket := uniq(t, "research")
	seedBucket(t, emulator.Bucket{Name: bucket})
	inv := invocation(t, tasks.Selector{Type: "s3:bucket", IDs: []string{bucket}}, tasks.Values{"bucket": bucket, "principal": bob, "duration": time.Hour})

	emu.InjectFault("s3:GetBucketPolicy", emulator.Fault{Status: 403, Code: "AccessDenied", Message: "Access Denied"})
	_, err := s3Action(t, "s3.grant-read").Plan(ctx, inv)
	wantErr(t, err, errs.Permission, `AWS denied GetBucketPolicy: the app's IAM role needs permission "s3:GetBucketPolicy"`)
	if a := errs.IAMActionOf(err); a != "s3:GetBucketPolicy" {
		t.Fatalf("IAM action %q", a)
	}

	emu.InjectFault("s3:PutBucketPolicy", emulator.Fault{Status: 503, Code: "SlowDown", Message: "Please reduce your request rate."})
	r, err := s3Action(t, "s3.grant-read").Run(ctx, inv, nil)
	if err != nil || r.Resources[0].Status != tasks.StatusOK || callsMentioning("s3:PutBucketPolicy", bucket) != 2 {
		t.Fatalf("slow down: %v %+v (%d puts)", err, r, callsMentioning("s3:PutBucketPolicy", bucket))
	}
}

// Revoking access takes a principal out of Allow statements only: a Deny
// that names it is a guardrail on the bucket, and removing it would give
// the principal more access, not less.
func TestS3RevokeKeepsDenyStatements(t *testing.T) {
	ctx := context.Background()
	bucket := uniq(t, "research")
	deny := fmt.Sprintf(`{"Sid":"NoDeletes","Effect":"Deny","Principal":{"AWS":%q},"Action":"s3:DeleteObject","Resource":"arn:aws:s3:::%s/*"}`, alice, bucket)
	seedBucket(t, emulator.Bucket{Name: bucket, Policy: fmt.Sprintf(`{"Version":"2012-10-17","Statement":[
		{"Sid":"Read","Effect":"Allow","Principal":{"AWS":%q},"Action":"s3:GetObject","Resource":"arn:aws:s3:::%s/*"},%s]}`, alice, bucket, deny)})
	r, err := s3Action(t, "s3.revoke-principal").Run(ctx, invocation(t, tasks.Selector{Type: "s3:bucket", IDs: []string{bucket}}, tasks.Values{"bucket": bucket, "principal": alice}), nil)
	if err != nil {
		t.Fatal(err)
	}
	var got struct{ Statement []json.RawMessage }
	if err := json.Unmarshal([]byte(bucketPolicyOf(t, bucket)), &got); err != nil {
		t.Fatalf("policy after revoke (%+v): %v", r, err)
	}
	if len(got.Statement) != 1 || !strings.Contains(string(got.Statement[0]), `"NoDeletes"`) || !strings.Contains(string(got.Statement[0]), alice) {
		t.Fatalf("statements after revoke = %s, want only the Deny, unchanged", got.Statement)
	}
}
