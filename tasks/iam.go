package tasks

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// IAM documents for an app's role: the permissions its tasks need and the
// trust policy that lets day2bot assume it with a SourceIdentity.

// iamActionRe is an IAM action name: service prefix and action, e.g.
// "ec2:RebootInstances". Wildcards are refused: least privilege means the
// actions list names every call.
var iamActionRe = regexp.MustCompile(`^[a-z0-9-]+:[A-Za-z0-9]+$`)

// PolicyDocument is an IAM policy. Field order is the order AWS shows.
type PolicyDocument struct {
	Version   string            `json:"Version"`
	Statement []PolicyStatement `json:"Statement"`
}

// PolicyStatement is one statement of a PolicyDocument.
type PolicyStatement struct {
	Sid       string                       `json:"Sid,omitempty"`
	Effect    string                       `json:"Effect"`
	Principal map[string]string            `json:"Principal,omitempty"`
	Action    []string                     `json:"Action"`
	Resource  any                          `json:"Resource,omitempty"` // string or []string
	Condition map[string]map[string]string `json:"Condition,omitempty"`
}

// Scope narrows resource ARNs to one partition, region and account; empty
// fields are wildcards ("aws" for the partition).
type Scope struct {
	Partition, Region, Account string
	// Stack narrows CloudFormation actions to the app's stack ("" for any).
	Stack string
	// PassRole is the CloudFormation service role the app's stack is
	// deployed with: the policy may pass it to CloudFormation only.
	PassRole string
	// Tags holds, per IAM action, the tags every resource it may act on
	// carries (see TargetTags); the actions that can be scoped by tag get
	// a Condition on them (see iam_tags.go).
	Tags map[string]map[string]string
}

// iamResource says which resource type an IAM action acts on, for the
// write actions that support resource-level permissions. Read actions
// (Describe*, List*) mostly do not, and stay on "*". Patterns use
// {p}artition, {r}egion and {a}ccount.
var iamResource = map[string]struct {
	word string
	arns []string
}{
	"ec2:RebootInstances":              {"Instances", []string{"arn:{p}:ec2:{r}:{a}:instance/*"}},
	"ec2:StartInstances":               {"Instances", []string{"arn:{p}:ec2:{r}:{a}:instance/*"}},
	"ec2:StopInstances":                {"Instances", []string{"arn:{p}:ec2:{r}:{a}:instance/*"}},
	"autoscaling:SetDesiredCapacity":   {"Groups", []string{"arn:{p}:autoscaling:{r}:{a}:autoScalingGroup:*:autoScalingGroupName/*"}},
	"autoscaling:StartInstanceRefresh": {"Groups", []string{"arn:{p}:autoscaling:{r}:{a}:autoScalingGroup:*:autoScalingGroupName/*"}},
	"rds:RebootDBInstance":             {"Databases", []string{"arn:{p}:rds:{r}:{a}:db:*"}},
	"rds:StartDBInstance":              {"Databases", []string{"arn:{p}:rds:{r}:{a}:db:*"}},
	"rds:StopDBInstance":               {"Databases", []string{"arn:{p}:rds:{r}:{a}:db:*"}},
	"rds:CreateDBSnapshot":             {"Snapshots", []string{"arn:{p}:rds:{r}:{a}:db:*", "arn:{p}:rds:{r}:{a}:snapshot:*"}},
	"rds:DeleteDBInstance":             {"Databases", []string{"arn:{p}:rds:{r}:{a}:db:*"}},
	"rds:CreateDBInstance": {"NewInstances", []string{"arn:{p}:rds:{r}:{a}:db:*", "arn:{p}:rds:{r}:{a}:cluster:*",
		"arn:{p}:rds:{r}:{a}:og:*", "arn:{p}:rds:{r}:{a}:pg:*", "arn:{p}:rds:{r}:{a}:subgrp:*"}},
	"rds:AddTagsToResource": {"Tagging", []string{"arn:{p}:rds:{r}:{a}:db:*", "arn:{p}:rds:{r}:{a}:cluster:*",
		"arn:{p}:rds:{r}:{a}:snapshot:*", "arn:{p}:rds:{r}:{a}:cluster-snapshot:*"}},
	"rds:FailoverDBCluster":            {"Clusters", []string{"arn:{p}:rds:{r}:{a}:cluster:*"}},
	"rds:CreateDBClusterSnapshot":      {"ClusterSnapshots", []string{"arn:{p}:rds:{r}:{a}:cluster:*", "arn:{p}:rds:{r}:{a}:cluster-snapshot:*"}},
	"rds:RestoreDBClusterFromSnapshot": {"ClusterRestores", []string{"arn:{p}:rds:{r}:{a}:cluster:*", "arn:{p}:rds:{r}:{a}:cluster-snapshot:*", "arn:{p}:rds:{r}:{a}:subgrp:*"}},
	"rds:RestoreDBInstanceFromDBSnapshot": {"InstanceRestores", []string{"arn:{p}:rds:{r}:{a}:db:*", "arn:{p}:rds:{r}:{a}:snapshot:*",
		"arn:{p}:rds:{r}:{a}:og:*", "arn:{p}:rds:{r}:{a}:pg:*", "arn:{p}:rds:{r}:{a}:subgrp:*"}},
	"lambda:UpdateAlias":               {"Functions", []string{"arn:{p}:lambda:{r}:{a}:function:*"}},
	"lambda:PutFunctionConcurrency":    {"Functions", []string{"arn:{p}:lambda:{r}:{a}:function:*"}},
	"lambda:DeleteFunctionConcurrency": {"Functions", []string{"arn:{p}:lambda:{r}:{a}:function:*"}},
	"ecs:UpdateService":                {"Services", []string{"arn:{p}:ecs:{r}:{a}:service/*"}},
	"cloudwatch:PutMetricAlarm":        {"Alarms", []string{"arn:{p}:cloudwatch:{r}:{a}:alarm:*"}},
	"cloudwatch:DisableAlarmActions":   {"Alarms", []string{"arn:{p}:cloudwatch:{r}:{a}:alarm:*"}},
	"cloudwatch:EnableAlarmActions":    {"Alarms", []string{"arn:{p}:cloudwatch:{r}:{a}:alarm:*"}},
	"s3:GetBucketPolicy":               {"Buckets", []string{"arn:{p}:s3:::*"}},
	"s3:PutBucketPolicy":               {"Buckets", []string{"arn:{p}:s3:::*"}},
	"s3:DeleteBucketPolicy":            {"Buckets", []string{"arn:{p}:s3:::*"}},
	"s3:GetBucketPublicAccessBlock":    {"Buckets", []string{"arn:{p}:s3:::*"}},
	"s3:PutBucketPublicAccessBlock":    {"Buckets", []string{"arn:{p}:s3:::*"}},
	"s3:GetBucketTagging":              {"Buckets", []string{"arn:{p}:s3:::*"}},
	"s3:GetBucketVersioning":           {"Buckets", []string{"arn:{p}:s3:::*"}},
	"s3:PutBucketVersioning":           {"Buckets", []string{"arn:{p}:s3:::*"}},
	"s3:GetEncryptionConfiguration":    {"Buckets", []string{"arn:{p}:s3:::*"}},
	"s3:PutEncryptionConfiguration":    {"Buckets", []string{"arn:{p}:s3:::*"}},

	// Library I: Auto Scaling processes and capacity.
	"autoscaling:SuspendProcesses":       {"Groups", []string{"arn:{p}:autoscaling:{r}:{a}:autoScalingGroup:*:autoScalingGroupName/*"}},
	"autoscaling:ResumeProcesses":        {"Groups", []string{"arn:{p}:autoscaling:{r}:{a}:autoScalingGroup:*:autoScalingGroupName/*"}},
	"autoscaling:UpdateAutoScalingGroup": {"Groups", []string{"arn:{p}:autoscaling:{r}:{a}:autoScalingGroup:*:autoScalingGroupName/*"}},

	// Library I: EC2 instance type and images.
	"ec2:ModifyInstanceAttribute": {"Instances", []string{"arn:{p}:ec2:{r}:{a}:instance/*"}},
	"ec2:CreateImage":             {"Images", []string{"arn:{p}:ec2:{r}:{a}:instance/*", "arn:{p}:ec2:{r}::image/*", "arn:{p}:ec2:{r}::snapshot/*"}},
	"ec2:CreateTags":              {"Images", []string{"arn:{p}:ec2:{r}:{a}:instance/*", "arn:{p}:ec2:{r}::image/*", "arn:{p}:ec2:{r}::snapshot/*"}},

	// Library I: EKS node groups.
	"eks:UpdateNodegroupConfig":  {"Nodegroups", []string{"arn:{p}:eks:{r}:{a}:nodegroup/*/*/*"}},
	"eks:UpdateNodegroupVersion": {"Nodegroups", []string{"arn:{p}:eks:{r}:{a}:nodegroup/*/*/*"}},

	// Library I: ElastiCache.
	"elasticache:TestFailover":       {"ReplicationGroups", []string{"arn:{p}:elasticache:{r}:{a}:replicationgroup:*"}},
	"elasticache:RebootCacheCluster": {"CacheClusters", []string{"arn:{p}:elasticache:{r}:{a}:cluster:*"}},
	"elasticache:CreateSnapshot": {"Snapshots", []string{"arn:{p}:elasticache:{r}:{a}:replicationgroup:*", "arn:{p}:elasticache:{r}:{a}:cluster:*",
		"arn:{p}:elasticache:{r}:{a}:snapshot:*"}},

	// Library I: VPC network.
	"ec2:RevokeSecurityGroupIngress": {"SecurityGroups", []string{"arn:{p}:ec2:{r}:{a}:security-group/*"}},
	"ec2:CreateFlowLogs":             {"FlowLogs", []string{"arn:{p}:ec2:{r}:{a}:vpc/*", "arn:{p}:ec2:{r}:{a}:vpc-flow-log/*"}},

	// Library II: S3 teardown.
	"s3:GetBucketObjectLockConfiguration": {"Buckets", []string{"arn:{p}:s3:::*"}},
	"s3:ListBucketVersions":               {"Buckets", []string{"arn:{p}:s3:::*"}},
	"s3:DeleteBucket":                     {"Buckets", []string{"arn:{p}:s3:::*"}},
	"s3:DeleteObject":                     {"Objects", []string{"arn:{p}:s3:::*/*"}},
	"s3:DeleteObjectVersion":              {"Objects", []string{"arn:{p}:s3:::*/*"}},

	// Library II: IAM access keys (IAM ARNs have no region).
	"iam:ListUserTags":              {"Users", []string{"arn:{p}:iam::{a}:user/*"}},
	"iam:ListAccessKeys":            {"Users", []string{"arn:{p}:iam::{a}:user/*"}},
	"iam:GetAccessKeyLastUsed":      {"Users", []string{"arn:{p}:iam::{a}:user/*"}},
	"iam:CreateAccessKey":           {"Users", []string{"arn:{p}:iam::{a}:user/*"}},
	"iam:UpdateAccessKey":           {"Users", []string{"arn:{p}:iam::{a}:user/*"}},
	"iam:DeleteAccessKey":           {"Users", []string{"arn:{p}:iam::{a}:user/*"}},
	"secretsmanager:DescribeSecret": {"Secrets", []string{"arn:{p}:secretsmanager:{r}:{a}:secret:*"}},
	"secretsmanager:PutSecretValue": {"Secrets", []string{"arn:{p}:secretsmanager:{r}:{a}:secret:*"}},

	// Library III: SQS queues.
	"sqs:GetQueueAttributes":    {"Queues", []string{"arn:{p}:sqs:{r}:{a}:*"}},
	"sqs:ListQueueTags":         {"Queues", []string{"arn:{p}:sqs:{r}:{a}:*"}},
	"sqs:ListMessageMoveTasks":  {"Queues", []string{"arn:{p}:sqs:{r}:{a}:*"}},
	"sqs:StartMessageMoveTask":  {"Queues", []string{"arn:{p}:sqs:{r}:{a}:*"}},
	"sqs:ReceiveMessage":        {"Queues", []string{"arn:{p}:sqs:{r}:{a}:*"}},
	"sqs:DeleteMessage":         {"Queues", []string{"arn:{p}:sqs:{r}:{a}:*"}},
	"sqs:SendMessage":           {"Queues", []string{"arn:{p}:sqs:{r}:{a}:*"}},
	"sqs:PurgeQueue":            {"Queues", []string{"arn:{p}:sqs:{r}:{a}:*"}},
	"sqs:CancelMessageMoveTask": {"Queues", []string{"arn:{p}:sqs:{r}:{a}:*"}},

	// Library III: Kinesis streams.
	"kinesis:ListTagsForStream":             {"Streams", []string{"arn:{p}:kinesis:{r}:{a}:stream/*"}},
	"kinesis:DescribeStreamSummary":         {"Streams", []string{"arn:{p}:kinesis:{r}:{a}:stream/*"}},
	"kinesis:ListStreamConsumers":           {"Streams", []string{"arn:{p}:kinesis:{r}:{a}:stream/*"}},
	"kinesis:UpdateShardCount":              {"Streams", []string{"arn:{p}:kinesis:{r}:{a}:stream/*"}},
	"kinesis:IncreaseStreamRetentionPeriod": {"Streams", []string{"arn:{p}:kinesis:{r}:{a}:stream/*"}},
	"kinesis:DecreaseStreamRetentionPeriod": {"Streams", []string{"arn:{p}:kinesis:{r}:{a}:stream/*"}},

	// Library II: SSM Run Command (AWS-owned documents on the account's instances).
	"ssm:SendCommand":       {"Commands", []string{"arn:{p}:ssm:{r}::document/AWS-*", "arn:{p}:ec2:{r}:{a}:instance/*"}},
	"kms:EnableKeyRotation": {"Keys", []string{"arn:{p}:kms:{r}:{a}:key/*"}},

	// Library III: Secrets Manager rotation.
	"secretsmanager:RotateSecret": {"Secrets", []string{"arn:{p}:secretsmanager:{r}:{a}:secret:*"}},

	// Library III: ECR repositories.
	"ecr:ListTagsForResource":       {"Repositories", []string{"arn:{p}:ecr:{r}:{a}:repository/*"}},
	"ecr:GetLifecyclePolicy":        {"Repositories", []string{"arn:{p}:ecr:{r}:{a}:repository/*"}},
	"ecr:DescribeImageScanFindings": {"Repositories", []string{"arn:{p}:ecr:{r}:{a}:repository/*"}},
	"ecr:PutImageTagMutability":     {"Repositories", []string{"arn:{p}:ecr:{r}:{a}:repository/*"}},

	// Library II: DynamoDB tables.
	"dynamodb:UpdateContinuousBackups":   {"Tables", []string{"arn:{p}:dynamodb:{r}:{a}:table/*"}},
	"dynamodb:CreateBackup":              {"Tables", []string{"arn:{p}:dynamodb:{r}:{a}:table/*"}},
	"dynamodb:RestoreTableToPointInTime": {"Tables", []string{"arn:{p}:dynamodb:{r}:{a}:table/*"}},
	"dynamodb:UpdateTable":               {"Tables", []string{"arn:{p}:dynamodb:{r}:{a}:table/*"}},
	"dynamodb:TagResource":               {"Tables", []string{"arn:{p}:dynamodb:{r}:{a}:table/*"}},
	"dynamodb:PutItem":                   {"Tables", []string{"arn:{p}:dynamodb:{r}:{a}:table/*"}},
	"dynamodb:UpdateItem":                {"Tables", []string{"arn:{p}:dynamodb:{r}:{a}:table/*"}},
	"dynamodb:DeleteItem":                {"Tables", []string{"arn:{p}:dynamodb:{r}:{a}:table/*"}},
	"dynamodb:GetItem":                   {"Tables", []string{"arn:{p}:dynamodb:{r}:{a}:table/*"}},
	"dynamodb:Query":                     {"Tables", []string{"arn:{p}:dynamodb:{r}:{a}:table/*"}},
	"dynamodb:Scan":                      {"Tables", []string{"arn:{p}:dynamodb:{r}:{a}:table/*"}},
	"dynamodb:BatchWriteItem":            {"Tables", []string{"arn:{p}:dynamodb:{r}:{a}:table/*"}},

	// Library II: AWS Backup.
	"backup:ListRecoveryPointsByBackupVault": {"Vaults", []string{"arn:{p}:backup:{r}:{a}:backup-vault:*"}},
	"backup:GetRecoveryPointRestoreMetadata": {"Vaults", []string{"arn:{p}:backup:{r}:{a}:backup-vault:*"}},
	"backup:StartBackupJob":                  {"Vaults", []string{"arn:{p}:backup:{r}:{a}:backup-vault:*"}},
	"backup:StartRestoreJob":                 {"RecoveryPoints", []string{"arn:{p}:backup:{r}:{a}:recovery-point:*"}},

	// AWS Backup and VPC Flow Logs work with a role day2bot passes; only
	// AWSBackup* roles and roles whose name contains flow-logs.
	"iam:PassRole": {"PassedRoles", []string{"arn:{p}:iam::{a}:role/AWSBackup*", "arn:{p}:iam::{a}:role/service-role/AWSBackup*",
		"arn:{p}:iam::{a}:role/*flow-logs*"}},

	// Library III: Step Functions (standard workflows' state machines and executions).
	"states:ListTagsForResource": {"StateMachines", []string{"arn:{p}:states:{r}:{a}:stateMachine:*"}},
	"states:ListExecutions":      {"StateMachines", []string{"arn:{p}:states:{r}:{a}:stateMachine:*"}},
	"states:StartExecution":      {"StateMachines", []string{"arn:{p}:states:{r}:{a}:stateMachine:*"}},
	"states:DescribeExecution":   {"Executions", []string{"arn:{p}:states:{r}:{a}:execution:*"}},
	"states:RedriveExecution":    {"Executions", []string{"arn:{p}:states:{r}:{a}:execution:*"}},

	// Library II: OpenSearch Service domains (ESHttp*: the domain's own REST API, snapshots).
	"es:UpdateDomainConfig":           {"Domains", []string{"arn:{p}:es:{r}:{a}:domain/*"}},
	"es:DescribeDomainChangeProgress": {"Domains", []string{"arn:{p}:es:{r}:{a}:domain/*"}},
	"es:ESHttpGet":                    {"Domains", []string{"arn:{p}:es:{r}:{a}:domain/*"}},
	"es:ESHttpPut":                    {"Domains", []string{"arn:{p}:es:{r}:{a}:domain/*"}},

	// Library II: EMR clusters.
	"elasticmapreduce:ModifyInstanceGroups": {"Clusters", []string{"arn:{p}:elasticmapreduce:{r}:{a}:cluster/*"}},
	"elasticmapreduce:TerminateJobFlows":    {"Clusters", []string{"arn:{p}:elasticmapreduce:{r}:{a}:cluster/*"}},
}

// IAMPolicy is IAMPolicyScoped with no scope: partition aws, any region
// and account, resource types still narrowed.
func IAMPolicy(actions []Action, extra ...string) ([]byte, error) {
	return IAMPolicyScoped(actions, Scope{}, extra...)
}

// IAMPolicyScoped returns the least-privilege permissions policy for
// actions: the union of their IAMActions, deduplicated and sorted. Actions
// on a known resource type get that type's ARNs (in scope); the others —
// the Describe/List calls, which mostly lack resource-level permissions
// and run before the target is known — get "*". One statement per service
// and resource type, so a reader sees at a glance what the app may touch.
// The output is deterministic (golden-testable, diffable).
//
// extra are IAM actions needed beyond the tasks' own, such as
// bot/digest.IAMActions. They must be reads (Describe, List, Get): they come
// from no action's declaration, so nothing else vouches for them.
func IAMPolicyScoped(actions []Action, scope Scope, extra ...string) ([]byte, error) {
	type group struct {
		sid       string
		resource  any // string or []string
		actions   []string
		condition map[string]map[string]string
	}
	groups := map[string]*group{}
	sub := strings.NewReplacer("{p}", or(scope.Partition, "aws"), "{r}", or(scope.Region, "*"), "{a}", or(scope.Account, "*"))
	add := func(ia string) {
		svc, _, _ := strings.Cut(ia, ":")
		key, sid := svc, "Day2bot"+sidWord(svc)
		var resource any = "*"
		if svc == "cloudformation" {
			// Every CloudFormation call day2bot makes names the stack.
			key, sid = svc+" Stack", sid+"Stack"
			resource = sub.Replace("arn:{p}:cloudformation:{r}:{a}:stack/") + or(scope.Stack, "*") + "/*"
		} else if r, ok := iamResource[ia]; ok {
			key, sid = svc+" "+r.word, sid+r.word
			arns := make([]string, len(r.arns))
			for i, arn := range r.arns {
				arns[i] = sub.Replace(arn)
			}
			resource = arns
			if len(arns) == 1 {
				resource = arns[0]
			}
		}
		cond := tagCondition(ia, scope.Tags[ia])
		if cond != nil {
			key, sid = key+" "+conditionKey(cond), sid+"Tagged"
		}
		g, ok := groups[key]
		if !ok {
			g = &group{sid: sid, resource: resource, condition: cond}
			groups[key] = g
		}
		if !slices.Contains(g.actions, ia) {
			g.actions = append(g.actions, ia)
		}
	}
	for _, a := range actions {
		for _, ia := range a.IAMActions() {
			if !iamActionRe.MatchString(ia) {
				return nil, fmt.Errorf("iam policy: action %s declares %q, not an IAM action like ec2:RebootInstances", a.Name(), ia)
			}
			add(ia)
		}
	}
	for _, ia := range extra {
		if !iamActionRe.MatchString(ia) || !isReadAction(ia) {
			return nil, fmt.Errorf("iam policy: extra %q is not a read IAM action like ec2:DescribeInstances", ia)
		}
		add(ia)
	}
	if len(groups) == 0 {
		return nil, errors.New("iam policy: the actions need no IAM permissions")
	}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	doc := PolicyDocument{Version: "2012-10-17"}
	sids := map[string]int{}
	for _, k := range keys {
		g := groups[k]
		slices.Sort(g.actions)
		// Sids must be unique; two tag sets on one resource type (tasks
		// on differently tagged instances) number the second.
		sid := g.sid
		if sids[g.sid]++; sids[g.sid] > 1 {
			sid = fmt.Sprintf("%s%d", g.sid, sids[g.sid])
		}
		doc.Statement = append(doc.Statement, PolicyStatement{Sid: sid, Effect: "Allow", Action: g.actions, Resource: g.resource, Condition: g.condition})
	}
	if scope.PassRole != "" {
		doc.Statement = append(doc.Statement, PolicyStatement{Sid: "Day2botPassStackRole", Effect: "Allow",
			Action: []string{"iam:PassRole"}, Resource: scope.PassRole,
			Condition: map[string]map[string]string{"StringEquals": {"iam:PassedToService": "cloudformation.amazonaws.com"}}})
	}
	return marshalPolicy(doc)
}

// isReadAction reports whether an IAM action only reads, by its verb.
func isReadAction(ia string) bool {
	_, name, _ := strings.Cut(ia, ":")
	for _, verb := range []string{"Describe", "List", "Get"} {
		if strings.HasPrefix(name, verb) {
			return true
		}
	}
	return false
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// TrustPolicy returns the trust policy of an app's role: principalARN (the
// identity day2bot runs as) may assume it and must be allowed to set the
// SourceIdentity day2bot passes (the chat user). externalID, when set, is
// required on AssumeRole.
func TrustPolicy(principalARN, externalID string) ([]byte, error) {
	if !strings.HasPrefix(principalARN, "arn:") {
		return nil, fmt.Errorf("trust policy: principal %q is not an ARN", principalARN)
	}
	st := PolicyStatement{
		Sid: "Day2botAssumeWithSourceIdentity", Effect: "Allow",
		Principal: map[string]string{"AWS": principalARN},
		Action:    []string{"sts:AssumeRole", "sts:SetSourceIdentity"},
	}
	if externalID != "" {
		st.Condition = map[string]map[string]string{"StringEquals": {"sts:ExternalId": externalID}}
	}
	return marshalPolicy(PolicyDocument{Version: "2012-10-17", Statement: []PolicyStatement{st}})
}

func marshalPolicy(doc PolicyDocument) ([]byte, error) {
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("marshal policy: %w", err)
	}
	return append(b, '\n'), nil
}

// sidWord turns a service prefix into the alphanumeric Sid IAM requires:
// "elasticloadbalancing" → "Elasticloadbalancing", "cost-explorer" →
// "CostExplorer".
func sidWord(svc string) string {
	var b strings.Builder
	for part := range strings.SplitSeq(svc, "-") {
		if part == "" {
			continue
		}
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}
