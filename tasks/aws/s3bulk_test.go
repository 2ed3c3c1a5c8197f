package aws

import (
	"context"
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

// labPolicy lets alice and bob read the bucket, in one statement.
func labPolicy(bucket string) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"Lab","Effect":"Allow","Principal":{"AWS":[%q,%q]},"Action":"s3:GetObject","Resource":"arn:aws:s3:::%s/*"}]}`, alice, bob, bucket)
}

// seedLab creates n buckets tagged app=<app> with labPolicy, and one
// bucket of another app with the same policy (which must stay as it is).
func seedLab(t testing.TB, app string, n int) (buckets []string, other string) {
	t.Helper()
	ctx := context.Background()
	for i := range n {
		name := fmt.Sprintf("%s-%03d", app, i)
		if err := emu.SeedBucket(ctx, emulator.Bucket{Name: name, Tags: map[string]string{"app": app}, Policy: labPolicy(name)}); err != nil {
			t.Fatal(err)
		}
		buckets = append(buckets, name)
	}
	other = app + "-elsewhere"
	if err := emu.SeedBucket(ctx, emulator.Bucket{Name: other, Tags: map[string]string{"app": "elsewhere"}, Policy: labPolicy(other)}); err != nil {
		t.Fatal(err)
	}
	return buckets, other
}

// The researchers' bulk revoke: one principal out of every bucket of the
// binding, 300 buckets, with three writes refused by S3. 297 buckets are
// revoked, the three are reported by name with S3's reason, and the
// bucket of another app is not touched.
func TestS3RevokeEverywhere300BucketsThreeFail(t *testing.T) {
	ctx := context.Background()
	app := uniq(t, "lab")
	buckets, other := seedLab(t, app, 300)
	act := s3Action(t, "s3.revoke-principal")
	inv := invocation(t, tasks.Selector{Type: "s3:bucket", Tags: map[string]string{"app": app}}, tasks.Values{"principal": alice})

	p, err := act.Plan(ctx, inv)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Changes) != 300 || p.Summary != "revoke "+alice+" 300 of 300 buckets" {
		t.Fatalf("plan: %s, %d changes", p.Summary, len(p.Changes))
	}
	for i := range 3 {
		emu.InjectFault("s3:PutBucketPolicy", emulator.Fault{Status: 409, Code: "OperationAborted", Message: fmt.Sprintf("A conflicting conditional operation is in progress (%d)", i)})
	}
	var progress []tasks.Progress
	r, err := act.Run(ctx, inv, func(pr tasks.Progress) { progress = append(progress, pr) })
	if err != nil {
		t.Fatal(err)
	}
	assertPlanMatchesRun(t, p, r)
	var failed []string
	for i, rr := range r.Resources {
		if rr.Resource != buckets[i] {
			t.Fatalf("result %d is %s, want %s (plan order)", i, rr.Resource, buckets[i])
		}
		switch rr.Status {
		case tasks.StatusFailed:
			if !strings.Contains(rr.Detail, "OperationAborted: A conflicting conditional operation") {
				t.Errorf("%s failed with %q", rr.Resource, rr.Detail)
			}
			failed = append(failed, rr.Resource)
			if !strings.Contains(bucketPolicyOf(t, rr.Resource), alice) {
				t.Errorf("failed bucket %s lost alice anyway", rr.Resource)
			}
		case tasks.StatusOK:
			if pol := bucketPolicyOf(t, rr.Resource); strings.Contains(pol, alice) || !strings.Contains(pol, bob) {
				t.Errorf("%s after revoke: %s", rr.Resource, pol)
			}
		default:
			t.Errorf("%s: %s", rr.Resource, rr.Status)
		}
	}
	if len(failed) != 3 || r.Failed() != 3 || r.Summary != "revoked access on 297 of 300 buckets, 3 failed" {
		t.Fatalf("summary %q, failed %v", r.Summary, failed)
	}
	if last := progress[len(progress)-1]; len(progress) != 300/s3Parallel+1 || last.Done != 300 || last.Message != "300 of 300 buckets done, 3 failed" {
		t.Fatalf("progress %d reports, last %+v", len(progress), last)
	}
	if !strings.Contains(bucketPolicyOf(t, other), alice) {
		t.Fatal("a bucket of another app was edited")
	}

	// Again: the 297 are skipped, the 3 are revoked now.
	r, err = act.Run(ctx, inv, nil)
	if err != nil || r.Summary != "revoked access on 3 of 300 buckets, 297 skipped" {
		t.Fatalf("retry: %v %s", err, r.Summary)
	}
}

// A bucket whose policy cannot be read is one failed row; the others are
// still revoked.
func TestS3RevokeEverywhereUnreadableBucketIsOneFailure(t *testing.T) {
	ctx := context.Background()
	app := uniq(t, "lab")
	seedLab(t, app, 5)
	sel := tasks.Selector{Type: "s3:bucket", Names: []string{app + "-*"}, Tags: map[string]string{"app": app}}
	emu.InjectFault("s3:GetBucketPolicy", emulator.Fault{Status: 400, Code: "InvalidRequest", Message: "policy unreadable"})
	act := s3Action(t, "s3.revoke-principal")
	r, err := act.Run(ctx, invocation(t, sel, tasks.Values{"principal": alice}), nil)
	if err != nil || r.Summary != "revoked access on 4 of 5 buckets, 1 failed" {
		t.Fatalf("%v %s %+v", err, r.Summary, r.Resources)
	}
}

func TestS3RevokeEverywhereRefusesBadPrincipalAndEmptyBinding(t *testing.T) {
	ctx := context.Background()
	act := s3Action(t, "s3.revoke-principal")
	for _, tc := range []struct {
		sel  tasks.Selector
		v    tasks.Values
		want string
	}{
		{tasks.Selector{Type: "s3:bucket", Tags: map[string]string{"app": "x"}}, tasks.Values{"principal": "*"},
			`principal must be an IAM role or user ARN like arn:aws:iam::123456789012:role/name, got "*"`},
		{tasks.Selector{Type: "s3:bucket"}, tasks.Values{"principal": alice}, "the app's s3:bucket binding selects nothing: give it ids, names or tags"},
	} {
		_, err := act.Plan(ctx, invocation(t, tc.sel, tc.v))
		wantErr(t, err, errs.Invalid, tc.want)
	}
}

func TestS3ExpireGrantsRemovesOnlyEndedGrants(t *testing.T) {
	ctx := context.Background()
	app := uniq(t, "lab")
	buckets, _ := seedLab(t, app, 3)
	sel := tasks.Selector{Type: "s3:bucket", Names: []string{app + "-*"}, Tags: map[string]string{"app": app}}
	grant := s3Action(t, "s3.grant-read")
	// carol's grant on bucket 0 ends in 2h, dave's on bucket 1 in 48h.
	carol, dave := "arn:aws:iam::123456789012:role/carol", "arn:aws:iam::123456789012:role/dave"
	for _, g := range []struct {
		bucket, who string
		d           time.Duration
	}{{buckets[0], carol, 2 * time.Hour}, {buckets[1], dave, 48 * time.Hour}} {
		if _, err := grant.Run(ctx, invocation(t, sel, tasks.Values{"bucket": g.bucket, "principal": g.who, "duration": g.d}), nil); err != nil {
			t.Fatal(err)
		}
	}
	act := s3Action(t, "s3.expire-grants")
	inv := invocation(t, sel, nil)
	inv.Now = testNow.Add(time.Hour)
	if _, r := planAndRun(ctx, t, act, inv); r.Summary != "removed expired grants on 0 of 3 buckets, 3 skipped" {
		t.Fatalf("before the end: %s", r.Summary)
	}
	inv.Now = testNow.Add(2 * time.Hour) // DateLessThan: at the end it no longer applies
	p, r := planAndRun(ctx, t, act, inv)
	if r.Summary != "removed expired grants on 1 of 3 buckets, 2 skipped" || r.Resources[0].Resource != buckets[0] ||
		!strings.HasPrefix(p.Changes[0].Detail, `- remove statement "day2bot-grant-`) || !strings.Contains(p.Changes[0].Detail, "read for "+carol+" ended 2026-11-26T00:00:00Z") {
		t.Fatalf("at the end: %s %+v", r.Summary, p.Changes)
	}
	if pol := bucketPolicyOf(t, buckets[0]); strings.Contains(pol, carol) || !strings.Contains(pol, `"Lab"`) {
		t.Fatalf("bucket 0 after expiry: %s", pol)
	}
	if !strings.Contains(bucketPolicyOf(t, buckets[1]), dave) {
		t.Fatal("dave's running grant was removed")
	}
}

func TestS3TeardownEmptiesAndDeletes(t *testing.T) {
	ctx := context.Background()
	app := uniq(t, "done")
	bucket := app + "-results"
	seedBucket(t, emulator.Bucket{Name: bucket, Tags: map[string]string{"app": app}, Versioning: true, Objects: 5})
	act := s3Action(t, "s3.teardown-bucket")
	inv := invocation(t, tasks.Selector{Type: "s3:bucket", Tags: map[string]string{"app": app}}, tasks.Values{"bucket": bucket})
	p, r := planAndRun(ctx, t, act, inv)
	if p.Changes[0].Detail != "delete 5 object versions and delete markers, then the bucket" || r.Resources[0].Detail != "deleted 5 object versions and the bucket" {
		t.Fatalf("plan %+v run %+v", p.Changes, r.Resources)
	}
	_, err := s3.NewFromConfig(testConfig(t), func(o *s3.Options) { o.UsePathStyle = true }).HeadBucket(ctx, &s3.HeadBucketInput{Bucket: awssdk.String(bucket)})
	if err == nil {
		t.Fatal("bucket still exists")
	}
}

func TestS3TeardownRefusesObjectLock(t *testing.T) {
	ctx := context.Background()
	app := uniq(t, "held")
	bucket := app + "-evidence"
	seedBucket(t, emulator.Bucket{Name: bucket, Tags: map[string]string{"app": app}, Versioning: true, ObjectLock: true, Objects: 2})
	before := emu.Count("s3:DeleteObjects") + emu.Count("s3:DeleteBucket")
	_, err := s3Action(t, "s3.teardown-bucket").Run(ctx, invocation(t, tasks.Selector{Type: "s3:bucket", Tags: map[string]string{"app": app}}, tasks.Values{"bucket": bucket}), nil)
	wantErr(t, err, errs.Permission, "bucket "+bucket+" has object lock enabled, so its objects may be under retention or legal hold: day2bot does not tear it down (release the holds and retention in AWS first, with the people who set them)")
	if emu.Count("s3:DeleteObjects")+emu.Count("s3:DeleteBucket") != before {
		t.Fatal("deleted something from a locked bucket")
	}
}

// BenchmarkS3RevokeEverywhere300 is the bulk revoke of the must-show test
// (300 buckets, plan reads + writes over HTTP to the emulator) per op.
func BenchmarkS3RevokeEverywhere300(b *testing.B) {
	ctx := context.Background()
	app := uniq(b, "bench")
	buckets, _ := seedLab(b, app, 300)
	act := findAction(b, S3Actions(SDKS3), "s3.revoke-principal")
	inv := tasks.Invocation{AWS: testConfig(b), Target: tasks.Selector{Type: "s3:bucket", Tags: map[string]string{"app": app}}, Values: tasks.Values{"principal": alice}, Now: testNow}
	c := SDKS3(testConfig(b))
	for b.Loop() {
		b.StopTimer()
		for _, name := range buckets {
			if _, err := c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: awssdk.String(name), Policy: awssdk.String(labPolicy(name))}); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		r, err := act.Run(ctx, inv, nil)
		if err != nil || r.Summary != "revoked access on 300 of 300 buckets" {
			b.Fatalf("%v %s", err, r.Summary)
		}
	}
}
