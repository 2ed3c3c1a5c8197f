package aws

import (
	"slices"
	"strings"
	"testing"

	"github.com/day2bot/day2bot/tasks"
)

// contractNames are the action names blueprints are written against
// (the actions contract); All must provide exactly these.
var contractNames = []string{
	"autoscaling.describe", "autoscaling.instance-refresh", "autoscaling.resume-processes", "autoscaling.set-capacity", "autoscaling.set-desired",
	"autoscaling.suspend-processes",
	"backup.failed-jobs", "backup.recovery-points", "backup.start-backup", "backup.start-restore",
	"cloudtrail.check-trails",
	"cloudwatch.list-alarms", "cloudwatch.mute-alarm", "cloudwatch.set-threshold", "cloudwatch.unmute-alarm",
	"config.noncompliant-rules", "config.recorder-status",
	"dynamodb.backup", "dynamodb.describe", "dynamodb.enable-pitr", "dynamodb.restore-pitr", "dynamodb.set-capacity",
	"ec2.change-type", "ec2.create-ami", "ec2.describe", "ec2.reboot", "ec2.start", "ec2.stop",
	"ecr.image-findings", "ecr.lock-tags", "ecr.settings",
	"ecs.describe", "ecs.force-deployment", "ecs.rollback", "ecs.scale",
	"eks.describe-cluster", "eks.describe-nodegroups", "eks.list-addons", "eks.scale-nodegroup", "eks.update-nodegroup-version",
	"elasticache.describe", "elasticache.reboot-nodes", "elasticache.snapshot", "elasticache.test-failover",
	"elbv2.target-health",
	"emr.describe", "emr.resize-group", "emr.terminate-idle",
	"iam.access-key-report", "iam.deactivate-access-key", "iam.delete-access-key", "iam.rotate-access-key",
	"kinesis.describe", "kinesis.set-retention", "kinesis.set-shards",
	"kms.enable-rotation", "kms.rotation-status",
	"lambda.clear-concurrency", "lambda.describe", "lambda.metrics", "lambda.rollback-alias", "lambda.set-concurrency", "lambda.shift-alias",
	"opensearch.describe", "opensearch.set-data-nodes", "opensearch.snapshot",
	"rds.add-reader", "rds.describe", "rds.describe-cluster", "rds.failover-cluster", "rds.list-cluster-snapshots", "rds.list-snapshots",
	"rds.reboot", "rds.remove-reader", "rds.restore-cluster", "rds.restore-db", "rds.snapshot", "rds.snapshot-cluster", "rds.start", "rds.stop",
	"s3.block-public-access", "s3.describe", "s3.enable-encryption", "s3.enable-versioning", "s3.expire-grants", "s3.grant-read", "s3.revoke-principal",
	"s3.teardown-bucket",
	"secrets.rotate", "secrets.rotation-report",
	"sfn.failed-executions", "sfn.redrive", "sfn.restart",
	"sqs.cancel-redrive", "sqs.describe", "sqs.purge", "sqs.redrive-dlq",
	"ssm.patch-compliance", "ssm.run-document", "ssm.run-patch-baseline",
	"vpc.describe", "vpc.enable-flow-logs", "vpc.list-open-ingress", "vpc.revoke-open-ingress",
}

func TestAllActions(t *testing.T) {
	reg, err := tasks.NewRegistry(All()...)
	if err != nil {
		t.Fatal(err)
	}
	if got := reg.Names(); !slices.Equal(got, contractNames) {
		t.Fatalf("registered %v\nwant %v", got, contractNames)
	}
	for _, a := range reg.Actions() {
		t.Run(a.Name(), func(t *testing.T) {
			if len(a.IAMActions()) == 0 {
				t.Fatal("declares no IAM actions")
			}
			if _, err := tasks.IAMPolicy([]tasks.Action{a}); err != nil {
				t.Fatal(err)
			}
			service, _, _ := strings.Cut(a.Name(), ".")
			for _, p := range a.Params() {
				if err := p.Validate(); err != nil {
					t.Errorf("param %s: %v", p.Name, err)
				}
			}
			// A read-only action must not declare a write permission:
			// least privilege for a digest-only role depends on it.
			if !a.Mutating() {
				for _, ia := range a.IAMActions() {
					_, op, _ := strings.Cut(ia, ":")
					if !strings.HasPrefix(op, "Describe") && !strings.HasPrefix(op, "List") && !strings.HasPrefix(op, "Get") {
						t.Errorf("read-only %s action declares %s", service, ia)
					}
				}
			}
		})
	}
}
