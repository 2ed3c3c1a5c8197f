package aws

import "github.com/day2bot/day2bot/tasks"

// All returns every AWS action with clients built by the SDK from each
// invocation's aws.Config. This is the one list: the registry is built from
// it and nothing registers itself.
func All() []tasks.Action { return AllWith(Options{}) }

// Options tune the actions All builds.
type Options struct {
	// Pace is how batched actions wait for a batch to be back.
	Pace Pace
}

// AllWith is All with options.
func AllWith(o Options) []tasks.Action {
	var all []tasks.Action
	all = append(all, EC2ActionsWith(SDKEC2, SDKELBv2, o.Pace)...)
	all = append(all, AutoScalingActions(SDKAutoScaling)...)
	all = append(all, ELBv2Actions(SDKELBv2)...)
	all = append(all, RDSActions(SDKRDS)...)
	all = append(all, AuroraActions(SDKAurora)...)
	all = append(all, LambdaActions(SDKLambda)...)
	all = append(all, CloudWatchActions(SDKCloudWatch)...)
	all = append(all, ECSActionsWith(SDKECS, o.Pace)...)
	all = append(all, EKSActions(SDKEKS, o.Pace)...)
	all = append(all, ElastiCacheActions(SDKElastiCache, o.Pace)...)
	all = append(all, VPCActions(SDKVPC)...)
	all = append(all, S3Actions(SDKS3)...)
	all = append(all, IAMActions(SDKIAM)...)
	all = append(all, SQSActions(SDKSQS)...)
	all = append(all, KinesisActionsWith(SDKKinesis, o.Pace)...)
	all = append(all, SSMActions(SDKSSM, o.Pace)...)
	all = append(all, KMSActions(SDKKMS)...)
	all = append(all, SecretsActions(SDKSecretRotation)...)
	all = append(all, ECRActions(SDKECR)...)
	all = append(all, DynamoDBActions(SDKDynamoDB)...)
	all = append(all, BackupActions(SDKBackup)...)
	all = append(all, GovernanceActions(SDKGovernance)...)
	all = append(all, SFNActions(SDKSFN)...)
	all = append(all, OpenSearchActions(SDKOpenSearch, o.Pace)...)
	all = append(all, EMRActions(SDKEMR)...)
	return all
}
