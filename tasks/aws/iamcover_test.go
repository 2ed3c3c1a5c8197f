package aws

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"

	"github.com/day2bot/day2bot/tasks"
)

// IAM coverage: every AWS call an action makes in its tests must be allowed
// by the least-privilege policy `day2bot iam-policy` generates for it. A
// missing declaration otherwise shows up only in production, as an
// AccessDenied on the first real run.
//
// findAction wraps every action a test looks up with coverIAM, so each
// family's tests check their own calls without saying so: the wrapper signs
// the action's calls with an access key of its own, and after each Plan and
// Run reads back, from the emulator's request log, exactly the calls made
// with that key.

// iamForCall maps a recorded call (SigV4 signing name:operation) to the IAM
// action that authorizes it, where the two are spelled differently.
var iamForCall = map[string]string{
	"monitoring:GetMetricData":       "cloudwatch:GetMetricData",
	"monitoring:GetMetricStatistics": "cloudwatch:GetMetricStatistics",
	"monitoring:DescribeAlarms":      "cloudwatch:DescribeAlarms",
	"monitoring:PutMetricAlarm":      "cloudwatch:PutMetricAlarm",
	"monitoring:DisableAlarmActions": "cloudwatch:DisableAlarmActions",
	"monitoring:EnableAlarmActions":  "cloudwatch:EnableAlarmActions",
	"s3:ListBuckets":                 "s3:ListAllMyBuckets",
	"s3:HeadBucket":                  "s3:ListBucket",
	"s3:ListObjects":                 "s3:ListBucket",
	"s3:ListObjectsV2":               "s3:ListBucket",
	"s3:GetPublicAccessBlock":        "s3:GetBucketPublicAccessBlock",
	"s3:PutPublicAccessBlock":        "s3:PutBucketPublicAccessBlock",
	"s3:GetBucketEncryption":         "s3:GetEncryptionConfiguration",
	"s3:PutBucketEncryption":         "s3:PutEncryptionConfiguration",
	"s3:DeleteBucketEncryption":      "s3:PutEncryptionConfiguration",
	"s3:GetBucketLocation":           "s3:GetBucketLocation",
	"s3:ListObjectVersions":          "s3:ListBucketVersions",
	"s3:DeleteObjects":               "s3:DeleteObject",
	"s3:GetObjectLockConfiguration":  "s3:GetBucketObjectLockConfiguration",
	// An OpenSearch domain's own REST API is authorized by HTTP method.
	"es:GetSnapshotRepository": "es:ESHttpGet",
	"es:CreateSnapshot":        "es:ESHttpPut",
}

// iamActionOf is the IAM action that authorizes a recorded call.
func iamActionOf(service, operation string) string {
	op := service + ":" + operation
	if a, ok := iamForCall[op]; ok {
		return a
	}
	return op
}

// policyActions lists the IAM actions the generated policy allows.
func policyActions(t testing.TB, acts ...tasks.Action) []string {
	t.Helper()
	b, err := tasks.IAMPolicy(acts)
	if err != nil {
		t.Fatal(err)
	}
	var doc tasks.PolicyDocument
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, st := range doc.Statement {
		if st.Effect == "Allow" {
			out = append(out, st.Action...)
		}
	}
	return out
}

var iamKeySeq atomic.Int64

// iamChecked is an action whose every Plan and Run is checked against its
// generated policy.
type iamChecked struct {
	tasks.Action
	t testing.TB
}

// coverIAM wraps act so the test fails when a Plan or Run makes an AWS call
// that the policy generated for act does not allow.
func coverIAM(t testing.TB, act tasks.Action) tasks.Action {
	return &iamChecked{Action: act, t: t}
}

// TargetType passes the wrapped action's resource type through, so the
// wrapper validates in blueprints like the action itself.
func (a *iamChecked) TargetType() string {
	if tt, ok := a.Action.(interface{ TargetType() string }); ok {
		return tt.TargetType()
	}
	return ""
}

func (a *iamChecked) Plan(ctx context.Context, inv tasks.Invocation) (tasks.Plan, error) {
	key := a.sign(&inv)
	p, err := a.Action.Plan(ctx, inv)
	a.check(key, "plan")
	return p, err
}

func (a *iamChecked) Run(ctx context.Context, inv tasks.Invocation, progress func(tasks.Progress)) (tasks.Result, error) {
	key := a.sign(&inv)
	r, err := a.Action.Run(ctx, inv, progress)
	a.check(key, "run")
	return r, err
}

// sign gives the invocation an access key no other call uses.
func (a *iamChecked) sign(inv *tasks.Invocation) string {
	key := fmt.Sprintf("AKIDIAM%06d", iamKeySeq.Add(1))
	inv.AWS = inv.AWS.Copy()
	inv.AWS.Credentials = credentials.NewStaticCredentialsProvider(key, "secret", "")
	return key
}

// check compares the calls signed with key to the action's policy.
func (a *iamChecked) check(key, phase string) {
	a.t.Helper()
	allowed := policyActions(a.t, a.Action)
	for _, call := range callsSignedBy(key) {
		if ia := iamActionOf(call[0], call[1]); !slices.Contains(allowed, ia) {
			a.t.Errorf("%s %s called %s:%s, which its IAM policy does not allow (%s is not among %v)", a.Name(), phase, call[0], call[1], ia, allowed)
		}
	}
}

// callsSignedBy lists (service, operation) of the recorded calls whose
// SigV4 credential is key.
func callsSignedBy(key string) [][2]string {
	var out [][2]string
	for _, r := range emu.Requests("") {
		if strings.Contains(r.Header.Get("Authorization"), "Credential="+key+"/") {
			out = append(out, [2]string{r.Service, r.Operation})
		}
	}
	return out
}

// TestCoverIAMCatchesAnUndeclaredCall proves the wrapper is not vacuous: an
// action that calls more than it declares fails the check.
func TestCoverIAMCatchesAnUndeclaredCall(t *testing.T) {
	app := uniq(t, "shop")
	seedDBs(t, app, []string{app + "-a"})
	under := &stepAction{name: "rds.undeclared", target: "rds:db-instance", verb: "described", noun: "DB instances",
		iam: []string{"rds:DescribeDBSnapshots"}, // but it calls DescribeDBInstances
		plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
			return rdsPlan(ctx, SDKRDS(inv.AWS), inv, "describe", func(rdstypes.DBInstance) decision { return decision{} })
		}}
	rec := &recordingTB{TB: t}
	if _, err := coverIAM(rec, under).Plan(context.Background(), invocation(t, tasks.Selector{Type: "rds:db-instance", IDs: []string{app + "-a"}}, nil)); err != nil {
		t.Fatal(err)
	}
	if len(rec.errors) != 1 || !strings.Contains(rec.errors[0], "called rds:DescribeDBInstances") {
		t.Fatalf("coverage errors = %q", rec.errors)
	}
	// Declared, the same call passes.
	under.iam = []string{"rds:DescribeDBInstances"}
	rec = &recordingTB{TB: t}
	if _, err := coverIAM(rec, under).Plan(context.Background(), invocation(t, tasks.Selector{Type: "rds:db-instance", IDs: []string{app + "-a"}}, nil)); err != nil || len(rec.errors) != 0 {
		t.Fatalf("declared call: %v %q", err, rec.errors)
	}
}

// recordingTB records Errorf instead of failing, for testing a checker.
type recordingTB struct {
	testing.TB
	errors []string
}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}
func (r *recordingTB) Helper() {}
