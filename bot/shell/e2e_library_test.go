package shell_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/day2bot/day2bot/blueprints"
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
	x := newE2EWith(t, func(x *e2e) {
		for i := range 300 {
			name := fmt.Sprintf("lab-%03d", i)
			pol := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Principal":{"AWS":[%q,"arn:aws:iam::123456789012:role/dave"]},"Action":"s3:GetObject","Resource":"arn:aws:s3:::%s/*"}]}`, researcher, name)
			if err := x.emu.SeedBucket(x.ctx, emulator.Bucket{Name: name, Tags: map[string]string{"app": "research"}, Policy: pol}); err != nil {
				t.Fatal(err)
			}
		}
		x.apps = append(x.apps, libraryApp(t, "research", blueprints.App{Blueprints: []string{"s3-data"}, Region: "us-east-1", Owners: []string{"alice"}}))
	})
	for i := range 3 {
		x.emu.InjectFault("s3:PutBucketPolicy", emulator.Fault{Status: 409, Code: "OperationAborted", Message: fmt.Sprintf("conflicting operation %d", i)})
	}
	writes := x.emu.Count("s3:PutBucketPolicy") // the seeds'
	// 900 S3 calls (tags, policy reads, writes): the harness's 30s drain
	// is too short on a loaded machine, so wait longer here.
	mark := x.out.Len()
	x.session("alice").Line(x.ctx, "research revoke-principal principal="+researcher)
	ctx, cancel := context.WithTimeout(x.ctx, 5*time.Minute)
	defer cancel()
	if err := x.e.Drain(ctx); err != nil {
		t.Fatalf("drain: %v", err)
	}
	out := x.out.Since(mark)
	has(t, out, "research revoke-principal — partly failed", "revoked access on 297 of 300 buckets, 3 failed",
		"OperationAborted: conflicting operation", "attached as a file", "-result.tsv")
	if n := strings.Count(out, "📎"); n != 1 {
		t.Fatalf("%d attachments, want the one result table:\n%s", n, out)
	}
	if n := x.emu.Count("s3:PutBucketPolicy") - writes; n != 300 {
		t.Fatalf("%d policy writes, want 300 (one per bucket, the 3 refused included)", n)
	}
}
