package aws

import "github.com/day2bot/day2bot/tasks"

// All returns every AWS action with clients built by the SDK from each
// invocation's aws.Config. This is the one list: the registry is built from
// it and nothing registers itself.
func All() []tasks.Action {
	var all []tasks.Action
	all = append(all, EC2Actions(SDKEC2)...)
	all = append(all, AutoScalingActions(SDKAutoScaling)...)
	all = append(all, ELBv2Actions(SDKELBv2)...)
	all = append(all, RDSActions(SDKRDS)...)
	all = append(all, AuroraActions(SDKAurora)...)
	all = append(all, CloudWatchActions(SDKCloudWatch)...)
	all = append(all, ECSActions(SDKECS)...)
	all = append(all, S3Actions(SDKS3)...)
	return all
}
