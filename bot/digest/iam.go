package digest

// IAMActions are the read permissions a digest needs in the app's account
// (the role assumed for scheduler:<app>), sorted. `day2bot iam-policy`
// lists only the tasks' actions; add these where digests are posted.
func IAMActions() []string {
	return []string{
		"autoscaling:DescribeAutoScalingGroups",
		"ce:GetCostAndUsage",
		"ce:GetCostForecast",
		"cloudwatch:DescribeAlarms",
		"cloudwatch:GetMetricData",
		"ec2:DescribeInstances",
		"ecs:DescribeServices",
		"ecs:ListClusters",
		"ecs:ListServices",
		"elasticloadbalancing:DescribeLoadBalancers",
		"elasticloadbalancing:DescribeTags",
		"elasticloadbalancing:DescribeTargetGroups",
		"elasticloadbalancing:DescribeTargetHealth",
		"rds:DescribeDBInstances",
		"s3:GetBucketTagging",
		"s3:ListAllMyBuckets",
	}
}
