package tasks_test

import (
	"flag"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/day2bot/day2bot/blueprints"
	"github.com/day2bot/day2bot/tasks"
	awsactions "github.com/day2bot/day2bot/tasks/aws"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// iamStub is an action that only declares IAM actions.
type iamStub struct {
	stubAction
	iam []string
}

func (s iamStub) IAMActions() []string { return s.iam }

func TestIAMPolicy(t *testing.T) {
	got, err := tasks.IAMPolicy([]tasks.Action{
		iamStub{stubAction{"ec2.reboot"}, []string{"ec2:RebootInstances", "ec2:DescribeInstances"}},
		iamStub{stubAction{"ec2.describe"}, []string{"ec2:DescribeInstances"}},
		iamStub{stubAction{"elbv2.target-health"}, []string{"elasticloadbalancing:DescribeTargetHealth"}},
		iamStub{stubAction{"asg"}, []string{"autoscaling:SetDesiredCapacity"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "Day2botAutoscalingGroups",
      "Effect": "Allow",
      "Action": [
        "autoscaling:SetDesiredCapacity"
      ],
      "Resource": "arn:aws:autoscaling:*:*:autoScalingGroup:*:autoScalingGroupName/*"
    },
    {
      "Sid": "Day2botEc2",
      "Effect": "Allow",
      "Action": [
        "ec2:DescribeInstances"
      ],
      "Resource": "*"
    },
    {
      "Sid": "Day2botEc2Instances",
      "Effect": "Allow",
      "Action": [
        "ec2:RebootInstances"
      ],
      "Resource": "arn:aws:ec2:*:*:instance/*"
    },
    {
      "Sid": "Day2botElasticloadbalancing",
      "Effect": "Allow",
      "Action": [
        "elasticloadbalancing:DescribeTargetHealth"
      ],
      "Resource": "*"
    }
  ]
}
`
	if string(got) != want {
		t.Fatalf("got\n%s", got)
	}
}

func TestIAMPolicyScoped(t *testing.T) {
	got, err := tasks.IAMPolicyScoped([]tasks.Action{
		iamStub{stubAction{"rds.snapshot"}, []string{"rds:CreateDBSnapshot", "rds:DescribeDBInstances"}},
		iamStub{stubAction{"s3.block-public-access"}, []string{"s3:PutBucketPublicAccessBlock", "s3:ListAllMyBuckets"}},
	}, tasks.Scope{Partition: "aws-us-gov", Region: "us-gov-west-1", Account: "123456789012"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`"arn:aws-us-gov:rds:us-gov-west-1:123456789012:db:*",
        "arn:aws-us-gov:rds:us-gov-west-1:123456789012:snapshot:*"`,
		`"Resource": "arn:aws-us-gov:s3:::*"`,
		`"Sid": "Day2botRdsSnapshots"`,
		`"Sid": "Day2botS3Buckets"`,
	} {
		if !strings.Contains(string(got), want) {
			t.Errorf("missing %s in\n%s", want, got)
		}
	}
	// The reads stay on "*": DescribeDBInstances, ListAllMyBuckets.
	if strings.Count(string(got), `"Resource": "*"`) != 2 {
		t.Errorf("want two unscoped read statements:\n%s", got)
	}
}

func TestIAMPolicyRejects(t *testing.T) {
	for name, acts := range map[string][]tasks.Action{
		"wildcard":   {iamStub{stubAction{"x"}, []string{"ec2:*"}}},
		"no prefix":  {iamStub{stubAction{"x"}, []string{"RebootInstances"}}},
		"no actions": {iamStub{stubAction{"x"}, nil}},
	} {
		if _, err := tasks.IAMPolicy(acts); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestIAMPolicyExtraReads(t *testing.T) {
	acts := []tasks.Action{iamStub{stubAction{"ec2.reboot"}, []string{"ec2:RebootInstances", "ec2:DescribeInstances"}}}
	reads := []string{"ce:GetCostAndUsage", "cloudwatch:DescribeAlarms", "cloudwatch:GetMetricData", "ec2:DescribeInstances", "rds:DescribeDBInstances"}
	got, err := tasks.IAMPolicy(acts, reads...)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`"Sid": "Day2botCe",
      "Effect": "Allow",
      "Action": [
        "ce:GetCostAndUsage"
      ],
      "Resource": "*"`,
		`"Sid": "Day2botCloudwatch",
      "Effect": "Allow",
      "Action": [
        "cloudwatch:DescribeAlarms",
        "cloudwatch:GetMetricData"
      ],
      "Resource": "*"`,
		`"Sid": "Day2botRds",
      "Effect": "Allow",
      "Action": [
        "rds:DescribeDBInstances"
      ],
      "Resource": "*"`,
	} {
		if !strings.Contains(string(got), want) {
			t.Errorf("missing %s in\n%s", want, got)
		}
	}
	// DescribeInstances is both the task's and the digest's: listed once.
	if n := strings.Count(string(got), `"ec2:DescribeInstances"`); n != 1 {
		t.Errorf("ec2:DescribeInstances listed %d times:\n%s", n, got)
	}
	// Extra actions name no task, so only reads are taken.
	for _, bad := range []string{"ec2:RebootInstances", "cloudwatch:PutMetricAlarm", "ec2:*", "DescribeInstances"} {
		if _, err := tasks.IAMPolicy(acts, bad); err == nil {
			t.Errorf("extra %q accepted", bad)
		}
	}
}

func TestTrustPolicy(t *testing.T) {
	got, err := tasks.TrustPolicy("arn:aws:iam::123456789012:role/day2bot", "ext-1")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"AWS": "arn:aws:iam::123456789012:role/day2bot"`, `"sts:AssumeRole"`, `"sts:SetSourceIdentity"`, `"sts:ExternalId": "ext-1"`} {
		if !strings.Contains(string(got), want) {
			t.Errorf("missing %s in\n%s", want, got)
		}
	}
	got, err = tasks.TrustPolicy("arn:aws:iam::123456789012:root", "")
	if err != nil || strings.Contains(string(got), "Condition") {
		t.Fatalf("without external id: %v\n%s", err, got)
	}
	if _, err := tasks.TrustPolicy("day2bot", ""); err == nil {
		t.Fatal("non-ARN principal accepted")
	}
}

// TestIAMPolicyOfEmbeddedBlueprints pins the policy of every blueprint in
// the library: the real actions' declarations (iam-policy adds the digest's
// reads, pinned by its own golden in cmd/day2bot). A change in an action's IAM list shows up here as a
// reviewable diff.
func TestIAMPolicyOfEmbeddedBlueprints(t *testing.T) {
	cat, err := blueprints.Library()
	if err != nil {
		t.Fatal(err)
	}
	reg, err := tasks.NewRegistry(awsactions.All()...)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range cat.Names() {
		t.Run(name, func(t *testing.T) {
			b, _ := cat.Get(name)
			var acts []tasks.Action
			for _, tn := range slices.Sorted(maps.Keys(b.Tasks)) {
				a, ok := reg.Lookup(b.Tasks[tn].Action)
				if !ok {
					t.Fatalf("task %s: action %s is not registered", tn, b.Tasks[tn].Action)
				}
				acts = append(acts, a)
			}
			got, err := tasks.IAMPolicy(acts)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("testdata", "iam-"+name+".golden"), got)
		})
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != string(got) {
		t.Fatalf("%s differs (run go test -update after review):\ngot\n%s", path, got)
	}
}
