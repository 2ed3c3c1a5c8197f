package aws

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/tasks"
	"github.com/day2bot/day2bot/tasks/emulator"
)

// An AWS answer outside the per-resource steps (here ListBuckets refused
// with 405) is the operator's to read, not an internal error: the run's
// error carries operation, binding, code, message and status.
func TestAPIErrorOutsideStepsIsShownWhole(t *testing.T) {
	ctx := context.Background()
	name := uniq(t, "research")
	seedBucket(t, emulator.Bucket{Name: name})
	emu.InjectFault("s3:ListBuckets", emulator.Fault{Status: 405, Code: "MethodNotAllowed", Message: "The specified method is not allowed against this resource."})
	_, err := s3Action(t, "s3.describe").Run(ctx, invocation(t, tasks.Selector{Type: "s3:bucket", Names: []string{name}}, nil), nil)
	wantErr(t, err, errs.Internal, "ListBuckets on s3:bucket names "+name+": MethodNotAllowed: The specified method is not allowed against this resource. (HTTP 405 Method Not Allowed)")
}

// A per-resource failure names the operation and the status; an answer
// without an error code (kumo's UnknownAction, a proxy's HTML page) is not
// "UnknownError: UnknownError".
func TestFailureNamesOperationAndStatus(t *testing.T) {
	ctx := context.Background()
	name := uniq(t, "research")
	seedBucket(t, emulator.Bucket{Name: name})
	emu.InjectFault("s3:PutBucketVersioning", emulator.Fault{Status: 501, Code: "NotImplemented", Message: "A header you provided implies functionality that is not implemented"})
	r, err := s3Action(t, "s3.enable-versioning").Run(ctx, invocation(t, tasks.Selector{Type: "s3:bucket", Names: []string{name}}, nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Resources) != 1 {
		t.Fatalf("resources %+v", r.Resources)
	}
	if d := r.Resources[0].Detail; !strings.Contains(d, "PutBucketVersioning on "+name+": NotImplemented: A header you provided implies functionality that is not implemented (HTTP 501 Not Implemented)") {
		t.Fatalf("detail %q", d)
	}

	// kumo answers an EC2 action it lacks with a body the SDK finds no
	// code in.
	_, err = ec2.NewFromConfig(testConfig(t)).DescribeSpotFleetRequests(ctx, &ec2.DescribeSpotFleetRequestsInput{})
	if err == nil {
		t.Fatal("kumo implements DescribeSpotFleetRequests now; pick another missing action")
	}
	f := Failure("sfr-1", Classify(err, nil))
	if strings.Contains(f.Detail, "UnknownError: UnknownError") || !strings.HasPrefix(f.Detail, "DescribeSpotFleetRequests on sfr-1: ") || !strings.Contains(f.Detail, "(HTTP 400 Bad Request)") {
		t.Fatalf("detail %q", f.Detail)
	}
}

// describe reads each field on its own: one unsupported call marks its
// column unavailable and the rest of the row is still reported.
func TestS3DescribeUnsupportedFieldIsUnavailable(t *testing.T) {
	ctx := context.Background()
	name := uniq(t, "research")
	seedBucket(t, emulator.Bucket{Name: name})
	emu.InjectFault("s3:GetPublicAccessBlock", emulator.Fault{Status: 501, Code: "NotImplemented", Message: "not implemented"})
	r, err := s3Action(t, "s3.describe").Run(ctx, invocation(t, tasks.Selector{Type: "s3:bucket", Names: []string{name}}, nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Resources) != 1 || r.Resources[0].Status != tasks.StatusOK {
		t.Fatalf("resources %+v", r.Resources)
	}
	want := "public access block: unavailable (GetPublicAccessBlock: NotImplemented); encryption: "
	if d := r.Resources[0].Detail; !strings.HasPrefix(d, want) || !strings.Contains(d, "versioning: ") {
		t.Fatalf("detail %q, want prefix %q", d, want)
	}
}
