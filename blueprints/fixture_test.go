package blueprints

import (
	"context"
	"sort"

	"github.com/day2bot/day2bot/tasks"
)

// fakeAction is a schema fixture: the name, parameters and mutating flag of
// an action as agreed in the actions contract. Validation only reads those,
// so Plan and Run are never called.
type fakeAction struct {
	name     string
	target   string
	mutating bool
	params   []tasks.Param
}

var _ tasks.Action = fakeAction{}

func (a fakeAction) Name() string          { return a.name }
func (a fakeAction) Params() []tasks.Param { return a.params }
func (a fakeAction) Mutating() bool        { return a.mutating }
func (a fakeAction) IAMActions() []string  { return nil }
func (a fakeAction) TargetType() string    { return a.target }
func (a fakeAction) Plan(context.Context, tasks.Invocation) (tasks.Plan, error) {
	panic("fixture: Plan is not part of validation")
}
func (a fakeAction) Run(context.Context, tasks.Invocation, func(tasks.Progress)) (tasks.Result, error) {
	panic("fixture: Run is not part of validation")
}

type fakeLookup map[string]tasks.Action

func (l fakeLookup) Lookup(name string) (tasks.Action, bool) { a, ok := l[name]; return a, ok }

func (l fakeLookup) Names() []string {
	var ns []string
	for n := range l {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	return ns
}

func fp(v float64) *float64 { return &v }

// contractActions mirrors the action names and parameters of the actions
// contract (tasks/aws).
func contractActions() fakeLookup {
	str := func(n string) tasks.Param { return tasks.Param{Name: n, Type: tasks.TypeString, Required: true} }
	integer := func(n string) tasks.Param { return tasks.Param{Name: n, Type: tasks.TypeInt, Min: fp(0)} }
	opt := func(n string) tasks.Param { return tasks.Param{Name: n, Type: tasks.TypeString} }
	dur := func(n string) tasks.Param { return tasks.Param{Name: n, Type: tasks.TypeDuration} }
	dbID := func(n string) tasks.Param {
		return tasks.Param{Name: n, Type: tasks.TypeString, Required: true, Pattern: `^[a-z](-?[a-z0-9]){0,62}$`,
			Format: "a database identifier: up to 63 lowercase letters, digits or single dashes, starting with a letter"}
	}
	alias := tasks.Param{Name: "alias", Type: tasks.TypeString, Required: true, Pattern: `^[a-zA-Z][a-zA-Z0-9_-]{0,63}$`,
		Format: "an alias name: a letter, then up to 63 letters, digits, dashes or underscores"}
	batch := tasks.Param{Name: "batch", Type: tasks.TypeInt, Min: fp(1), Default: "1"}
	asgProcess := tasks.Param{Name: "process", Type: tasks.TypeEnum, Required: true, Enum: []string{"all", "Launch", "Terminate", "HealthCheck",
		"ReplaceUnhealthy", "AZRebalance", "AlarmNotification", "ScheduledActions", "AddToLoadBalancer", "InstanceRefresh"}}
	eksWait := tasks.Param{Name: "wait", Type: tasks.TypeDuration, Min: fp(60), Max: fp(3600), Default: "10m"}
	capacity := func(n string) tasks.Param {
		return tasks.Param{Name: n, Type: tasks.TypeInt, Required: true, Min: fp(0), Max: fp(1000)}
	}
	ssmConcurrency := tasks.Param{Name: "concurrency", Type: tasks.TypeInt, Min: fp(1), Max: fp(50), Default: "1"}
	ssmMaxErrors := tasks.Param{Name: "max_errors", Type: tasks.TypeInt, Min: fp(0), Max: fp(50), Default: "0"}
	backupRole := tasks.Param{Name: "role", Type: tasks.TypeString, Pattern: `^(service-role/)?AWSBackup[A-Za-z0-9+=,.@_-]{0,100}$`,
		Format: "an IAM role name starting with AWSBackup, optionally under service-role/", Default: "service-role/AWSBackupDefaultServiceRole"}
	l := fakeLookup{}
	for _, a := range []fakeAction{
		{"ec2.describe", "ec2:instance", false, nil},
		{"ec2.reboot", "ec2:instance", true, []tasks.Param{batch}},
		{"ec2.stop", "ec2:instance", true, []tasks.Param{batch}},
		{"ec2.start", "ec2:instance", true, []tasks.Param{batch}},
		{"ec2.change-type", "ec2:instance", true, []tasks.Param{{Name: "type", Type: tasks.TypeString, Required: true, Pattern: `^[a-z][a-z0-9-]*\.[a-z0-9-]+$`, Format: "an instance type like t3.large or m6i.xlarge"}}},
		{"ec2.create-ami", "ec2:instance", true, []tasks.Param{{Name: "no_reboot", Type: tasks.TypeBool, Default: "true"},
			{Name: "label", Type: tasks.TypeString, Pattern: `^[a-z0-9-]{1,40}$`, Format: "1 to 40 lowercase letters, digits or dashes", Default: "manual"}}},
		{"elbv2.target-health", "elbv2:target-group", false, nil},
		{"autoscaling.describe", "autoscaling:group", false, nil},
		{"autoscaling.set-desired", "autoscaling:group", true, []tasks.Param{{Name: "desired", Type: tasks.TypeInt, Min: fp(0), Required: true}}},
		{"autoscaling.instance-refresh", "autoscaling:group", true, []tasks.Param{{Name: "min_healthy", Type: tasks.TypeInt, Min: fp(0), Max: fp(100), Default: "90"}}},
		{"autoscaling.suspend-processes", "autoscaling:group", true, []tasks.Param{asgProcess}},
		{"autoscaling.resume-processes", "autoscaling:group", true, []tasks.Param{asgProcess}},
		{"autoscaling.set-capacity", "autoscaling:group", true, []tasks.Param{capacity("min"), capacity("max"), capacity("desired")}},
		{"rds.describe", "rds:db-instance", false, nil},
		{"rds.snapshot", "rds:db-instance", true, []tasks.Param{{Name: "label", Type: tasks.TypeString, Pattern: `^[a-z0-9-]{1,40}$`, Format: "1 to 40 lowercase letters, digits or dashes", Default: "manual"}}},
		{"rds.reboot", "rds:db-instance", true, []tasks.Param{{Name: "failover", Type: tasks.TypeBool, Default: "false"}}},
		{"rds.start", "rds:db-instance", true, nil},
		{"rds.stop", "rds:db-instance", true, nil},
		{"rds.list-snapshots", "rds:db-instance", false, []tasks.Param{{Name: "limit", Type: tasks.TypeInt, Min: fp(1), Default: "20"}}},
		{"rds.restore-db", "rds:db-instance", true, []tasks.Param{dbID("snapshot"), dbID("new_id")}},
		{"rds.describe-cluster", "rds:db-cluster", false, nil},
		{"rds.failover-cluster", "rds:db-cluster", true, []tasks.Param{dbID("reader")}},
		{"rds.add-reader", "rds:db-cluster", true, []tasks.Param{{Name: "count", Type: tasks.TypeInt, Min: fp(1), Max: fp(15), Default: "1"}}},
		{"rds.remove-reader", "rds:db-cluster", true, []tasks.Param{dbID("reader")}},
		{"rds.snapshot-cluster", "rds:db-cluster", true, []tasks.Param{{Name: "label", Type: tasks.TypeString, Pattern: `^[a-z0-9-]{1,40}$`, Format: "1 to 40 lowercase letters, digits or dashes", Default: "manual"}}},
		{"rds.list-cluster-snapshots", "rds:db-cluster", false, []tasks.Param{{Name: "limit", Type: tasks.TypeInt, Min: fp(1), Max: fp(100), Default: "10"}}},
		{"rds.restore-cluster", "rds:db-cluster", true, []tasks.Param{dbID("snapshot"), dbID("new_id")}},
		{"lambda.describe", "lambda:function", false, nil},
		{"lambda.metrics", "lambda:function", false, []tasks.Param{{Name: "window", Type: tasks.TypeDuration, Min: fp(300), Max: fp(86400), Default: "1h"}}},
		{"lambda.set-concurrency", "lambda:function", true, []tasks.Param{{Name: "reserved", Type: tasks.TypeInt, Min: fp(0), Max: fp(1000), Required: true}}},
		{"lambda.clear-concurrency", "lambda:function", true, nil},
		{"lambda.shift-alias", "lambda:function", true, []tasks.Param{alias,
			{Name: "version", Type: tasks.TypeInt, Min: fp(1), Max: fp(100000), Required: true},
			{Name: "weight", Type: tasks.TypeInt, Min: fp(1), Max: fp(100), Default: "100"}}},
		{"lambda.rollback-alias", "lambda:function", true, []tasks.Param{alias}},
		{"ecs.describe", "ecs:service", false, nil},
		{"ecs.scale", "ecs:service", true, []tasks.Param{integer("desired")}},
		{"ecs.force-deployment", "ecs:service", true, nil},
		{"eks.describe-cluster", "eks:cluster", false, nil},
		{"eks.list-addons", "eks:cluster", false, nil},
		{"eks.describe-nodegroups", "eks:nodegroup", false, nil},
		{"eks.scale-nodegroup", "eks:nodegroup", true, []tasks.Param{capacity("min"), {Name: "max", Type: tasks.TypeInt, Required: true, Min: fp(1), Max: fp(1000)}, capacity("desired"), eksWait}},
		{"eks.update-nodegroup-version", "eks:nodegroup", true, []tasks.Param{eksWait}},
		{"elasticache.describe", "elasticache:replication-group", false, nil},
		{"elasticache.test-failover", "elasticache:replication-group", true, []tasks.Param{{Name: "shard", Type: tasks.TypeString, Default: "0001", Pattern: `^[0-9]{4}$`, Format: "a four-digit node group id like 0001"}, eksWait}},
		{"elasticache.reboot-nodes", "elasticache:replication-group", true, []tasks.Param{{Name: "batch", Type: tasks.TypeInt, Default: "1", Min: fp(1), Max: fp(10)}, eksWait}},
		{"elasticache.snapshot", "elasticache:replication-group", true, []tasks.Param{{Name: "label", Type: tasks.TypeString, Pattern: `^[a-z0-9-]{1,40}$`, Format: "1 to 40 lowercase letters, digits or dashes", Default: "manual"}}},
		{"vpc.describe", "ec2:vpc", false, nil},
		{"vpc.enable-flow-logs", "ec2:vpc", true, []tasks.Param{{Name: "log_group", Type: tasks.TypeString, Default: "vpc-flow-logs", Pattern: `^[.\-_/#A-Za-z0-9]{1,512}$`, Format: "a log group"},
			{Name: "role_arn", Type: tasks.TypeString, Required: true, Pattern: `^arn:aws[a-z-]*:iam::[0-9]{12}:role/([A-Za-z0-9+=,.@_-]+/)*[A-Za-z0-9+=,.@_-]*flow-logs[A-Za-z0-9+=,.@_-]*$`, Format: "a role"},
			{Name: "traffic", Type: tasks.TypeEnum, Default: "ALL", Enum: []string{"ALL", "ACCEPT", "REJECT"}}}},
		{"vpc.list-open-ingress", "ec2:security-group", false, nil},
		{"vpc.revoke-open-ingress", "ec2:security-group", true, []tasks.Param{{Name: "group", Type: tasks.TypeString, Required: true, Pattern: `^sg-[0-9a-f]{8,17}$`, Format: "a group id"},
			{Name: "protocol", Type: tasks.TypeEnum, Required: true, Enum: []string{"tcp", "udp", "icmp", "all"}},
			{Name: "port", Type: tasks.TypeInt, Default: "0", Min: fp(0), Max: fp(65535)},
			{Name: "cidr", Type: tasks.TypeEnum, Required: true, Enum: []string{"0.0.0.0/0", "::/0"}}}},
		{"ecs.rollback", "ecs:service", true, []tasks.Param{{Name: "wait", Type: tasks.TypeDuration, Min: fp(60), Max: fp(3600), Default: "10m"}}},
		{"s3.describe", "s3:bucket", false, nil},
		{"s3.block-public-access", "s3:bucket", true, nil},
		{"s3.revoke-principal", "s3:bucket", true, []tasks.Param{opt("bucket"), str("principal")}},
		{"s3.expire-grants", "s3:bucket", true, nil},
		{"iam.access-key-report", "iam:user", false, []tasks.Param{{Name: "max_age", Type: tasks.TypeInt, Min: fp(1), Max: fp(3650), Default: "90"}, {Name: "unused_days", Type: tasks.TypeInt, Min: fp(1), Max: fp(3650), Default: "90"}}},
		{"iam.rotate-access-key", "iam:user", true, []tasks.Param{str("user"), str("secret"), {Name: "grace", Type: tasks.TypeDuration, Min: fp(3600), Max: fp(30 * 86400), Default: "7d"}, {Name: "delete_after", Type: tasks.TypeDuration, Min: fp(86400), Max: fp(90 * 86400), Default: "7d"}}},
		{"iam.deactivate-access-key", "iam:user", true, []tasks.Param{str("user"), str("access_key_id")}},
		{"iam.delete-access-key", "iam:user", true, []tasks.Param{str("user"), str("access_key_id")}},
		{"s3.teardown-bucket", "s3:bucket", true, []tasks.Param{str("bucket")}},
		{"s3.grant-read", "s3:bucket", true, []tasks.Param{str("bucket"), str("principal"), dur("duration")}},
		{"s3.enable-encryption", "s3:bucket", true, nil},
		{"s3.enable-versioning", "s3:bucket", true, nil},
		{"cloudwatch.list-alarms", "cloudwatch:alarm", false, []tasks.Param{{Name: "state", Type: tasks.TypeEnum, Enum: []string{"ALARM", "OK", "INSUFFICIENT_DATA", "any"}, Default: "any"}}},
		{"cloudwatch.mute-alarm", "cloudwatch:alarm", true, []tasks.Param{str("alarm"), dur("duration")}},
		{"cloudwatch.unmute-alarm", "cloudwatch:alarm", true, []tasks.Param{str("alarm")}},
		{"cloudwatch.set-threshold", "cloudwatch:alarm", true, []tasks.Param{str("alarm"), integer("threshold")}},
		{"sqs.describe", "sqs:queue", false, nil},
		{"sqs.cancel-redrive", "sqs:queue", true, nil},
		{"sqs.redrive-dlq", "sqs:queue", true, []tasks.Param{{Name: "rate", Type: tasks.TypeInt, Min: fp(1), Max: fp(500), Default: "100"}}},
		{"sqs.purge", "sqs:queue", true, []tasks.Param{{Name: "queue", Type: tasks.TypeString, Required: true, Pattern: `^[A-Za-z0-9_*?-]{1,80}(\.fifo)?$`, Format: "a queue name of the app, or a pattern such as *-dlq (* is any run of characters)"}}},
		{"kinesis.describe", "kinesis:stream", false, nil},
		{"kinesis.set-shards", "kinesis:stream", true, []tasks.Param{{Name: "shards", Type: tasks.TypeInt, Min: fp(1), Max: fp(10000), Required: true}, {Name: "wait", Type: tasks.TypeDuration, Min: fp(60), Max: fp(7200), Default: "30m"}}},
		{"kinesis.set-retention", "kinesis:stream", true, []tasks.Param{{Name: "retention", Type: tasks.TypeDuration, Min: fp(24 * 3600), Max: fp(8760 * 3600), Required: true}}},
		{"ssm.patch-compliance", "ec2:instance", false, nil},
		{"ssm.run-patch-baseline", "ec2:instance", true, []tasks.Param{{Name: "operation", Type: tasks.TypeEnum, Enum: []string{"Scan", "Install"}, Default: "Scan"},
			{Name: "reboot", Type: tasks.TypeBool, Default: "true"}, ssmConcurrency, ssmMaxErrors, {Name: "wait", Type: tasks.TypeDuration, Min: fp(300), Max: fp(3 * 3600), Default: "1h"}}},
		{"ssm.run-document", "ec2:instance", true, []tasks.Param{{Name: "document", Type: tasks.TypeEnum, Required: true,
			Enum: []string{"AWS-UpdateSSMAgent", "AWS-GatherSoftwareInventory", "AWS-RefreshAssociation"}}, ssmConcurrency, ssmMaxErrors}},
		{"kms.rotation-status", "kms:key", false, nil},
		{"kms.enable-rotation", "kms:key", true, []tasks.Param{{Name: "period_days", Type: tasks.TypeInt, Min: fp(90), Max: fp(2560), Default: "365"}}},
		{"secrets.rotation-report", "secretsmanager:secret", false, []tasks.Param{{Name: "max_age", Type: tasks.TypeInt, Min: fp(1), Max: fp(3650), Default: "90"}, {Name: "unused_days", Type: tasks.TypeInt, Min: fp(1), Max: fp(3650), Default: "90"}}},
		{"secrets.rotate", "secretsmanager:secret", true, []tasks.Param{{Name: "secret", Type: tasks.TypeString, Required: true, Pattern: `^[A-Za-z0-9/_+=.@*?-]{1,512}$`, Format: "a secret name of the app, or a pattern such as prod/* (* is any run of characters)"}}},
		{"ecr.image-findings", "ecr:repository", false, []tasks.Param{{Name: "tag", Type: tasks.TypeString, Default: "latest", Pattern: `^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`, Format: "an image tag: up to 128 letters, digits, underscores, dots or dashes, not starting with a dot or dash"}}},
		{"ecr.settings", "ecr:repository", false, nil},
		{"ecr.lock-tags", "ecr:repository", true, nil},
		{"dynamodb.describe", "dynamodb:table", false, nil},
		{"dynamodb.enable-pitr", "dynamodb:table", true, nil},
		{"dynamodb.backup", "dynamodb:table", true, []tasks.Param{{Name: "label", Type: tasks.TypeString, Pattern: `^[a-z0-9-]{1,40}$`, Format: "1 to 40 lowercase letters, digits or dashes", Default: "manual"}}},
		{"dynamodb.restore-pitr", "dynamodb:table", true, []tasks.Param{
			{Name: "table", Type: tasks.TypeString, Required: true, Pattern: `^[a-zA-Z0-9_.-]{3,255}$`, Format: "a table name: 3 to 255 letters, digits, dots, dashes or underscores"},
			{Name: "new_table", Type: tasks.TypeString, Required: true, Pattern: `^[a-zA-Z0-9_.-]{3,255}$`, Format: "a table name: 3 to 255 letters, digits, dots, dashes or underscores"},
			{Name: "ago", Type: tasks.TypeDuration, Min: fp(0), Max: fp(35 * 86400), Default: "0s"}}},
		{"dynamodb.set-capacity", "dynamodb:table", true, []tasks.Param{{Name: "read", Type: tasks.TypeInt, Min: fp(1), Max: fp(40000), Required: true}, {Name: "write", Type: tasks.TypeInt, Min: fp(1), Max: fp(40000), Required: true}}},
		{"backup.recovery-points", "backup:vault", false, nil},
		{"backup.start-backup", "backup:vault", true, []tasks.Param{{Name: "resource", Type: tasks.TypeString, Required: true, Pattern: `^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:[0-9]*:\S{1,1000}$`, Format: "a resource ARN (arn:aws:SERVICE:REGION:ACCOUNT:…)"},
			{Name: "retention_days", Type: tasks.TypeInt, Min: fp(1), Max: fp(3650), Default: "35"}, backupRole}},
		{"backup.start-restore", "backup:vault", true, []tasks.Param{{Name: "recovery_point", Type: tasks.TypeString, Required: true, Pattern: `^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:[0-9]*:\S{1,1000}$`, Format: "a recovery point ARN"},
			{Name: "new_name", Type: tasks.TypeString, Required: true, Pattern: `^[a-zA-Z][a-zA-Z0-9_.-]{2,62}$`, Format: "3 to 63 letters, digits, dots, dashes or underscores, starting with a letter"}, backupRole}},
		{"backup.failed-jobs", "backup:vault", false, []tasks.Param{{Name: "window", Type: tasks.TypeDuration, Min: fp(3600), Max: fp(30 * 86400), Default: "24h"}}},
		{"cloudtrail.check-trails", "cloudtrail:trail", false, nil},
		{"config.recorder-status", "config:recorder", false, nil},
		{"config.noncompliant-rules", "config:rule", false, []tasks.Param{{Name: "limit", Type: tasks.TypeInt, Min: fp(1), Max: fp(100), Default: "10"}}},
		{"sfn.failed-executions", "sfn:state-machine", false, []tasks.Param{{Name: "window", Type: tasks.TypeDuration, Min: fp(900), Max: fp(14 * 86400), Default: "24h"}, {Name: "show", Type: tasks.TypeInt, Min: fp(0), Max: fp(10), Default: "3"}}},
		{"sfn.redrive", "sfn:state-machine", true, []tasks.Param{{Name: "execution", Type: tasks.TypeString, Required: true, Pattern: `^[A-Za-z0-9_.*?-]{1,80}$`, Format: "an execution name, or a pattern such as order-* (* is any run of characters; * alone is every one)"},
			{Name: "window", Type: tasks.TypeDuration, Min: fp(900), Max: fp(14 * 86400), Default: "24h"}, {Name: "max", Type: tasks.TypeInt, Min: fp(1), Max: fp(100), Default: "10"}}},
		{"sfn.restart", "sfn:state-machine", true, []tasks.Param{{Name: "execution", Type: tasks.TypeString, Required: true, Pattern: `^[A-Za-z0-9_.-]{1,80}$`, Format: "an execution name: up to 80 letters, digits, dots, dashes or underscores"}}},
		{"opensearch.describe", "opensearch:domain", false, nil},
		{"opensearch.snapshot", "opensearch:domain", true, []tasks.Param{{Name: "repository", Type: tasks.TypeString, Pattern: `^[a-z0-9][a-z0-9_-]{0,63}$`, Format: "1 to 64 lowercase letters, digits, dashes or underscores", Default: "snapshots"},
			{Name: "label", Type: tasks.TypeString, Pattern: `^[a-z0-9-]{1,40}$`, Format: "1 to 40 lowercase letters, digits or dashes", Default: "manual"}}},
		{"opensearch.set-data-nodes", "opensearch:domain", true, []tasks.Param{{Name: "count", Type: tasks.TypeInt, Min: fp(1), Max: fp(80), Required: true},
			{Name: "wait", Type: tasks.TypeDuration, Min: fp(300), Max: fp(6 * 3600), Default: "1h"}}},
		{"emr.describe", "emr:cluster", false, nil},
		{"emr.resize-group", "emr:cluster", true, []tasks.Param{{Name: "group", Type: tasks.TypeEnum, Enum: []string{"task", "core"}, Default: "task"},
			{Name: "count", Type: tasks.TypeInt, Min: fp(0), Max: fp(100), Required: true}}},
		{"emr.terminate-idle", "emr:cluster", true, []tasks.Param{{Name: "idle_hours", Type: tasks.TypeInt, Min: fp(1), Max: fp(168), Default: "4"}}},
	} {
		l[a.name] = a
	}
	return l
}
