package digest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/day2bot/day2bot/tasks"
)

// Fleets: Auto Scaling groups (in service vs desired) and target groups
// (healthy targets vs registered), the two places AWS itself says how many
// of something should be up.

// AutoScalingAPI is the Auto Scaling call a digest makes.
type AutoScalingAPI interface {
	DescribeAutoScalingGroups(ctx context.Context, in *autoscaling.DescribeAutoScalingGroupsInput, opts ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error)
}

// ELBv2API is the load balancing calls a digest makes.
type ELBv2API interface {
	DescribeTargetGroups(ctx context.Context, in *elasticloadbalancingv2.DescribeTargetGroupsInput, opts ...func(*elasticloadbalancingv2.Options)) (*elasticloadbalancingv2.DescribeTargetGroupsOutput, error)
	DescribeTags(ctx context.Context, in *elasticloadbalancingv2.DescribeTagsInput, opts ...func(*elasticloadbalancingv2.Options)) (*elasticloadbalancingv2.DescribeTagsOutput, error)
	DescribeTargetHealth(ctx context.Context, in *elasticloadbalancingv2.DescribeTargetHealthInput, opts ...func(*elasticloadbalancingv2.Options)) (*elasticloadbalancingv2.DescribeTargetHealthOutput, error)
	DescribeLoadBalancers(ctx context.Context, in *elasticloadbalancingv2.DescribeLoadBalancersInput, opts ...func(*elasticloadbalancingv2.Options)) (*elasticloadbalancingv2.DescribeLoadBalancersOutput, error)
}

var (
	_ AutoScalingAPI = (*autoscaling.Client)(nil)
	_ ELBv2API       = (*elasticloadbalancingv2.Client)(nil)
)

// countGroups reads the selected groups (tag filters, 100 a page): up is
// the healthy InService instances, expected the desired capacity.
func countGroups(ctx context.Context, c AutoScalingAPI, name string, sel tasks.Selector) (ResourceCount, []string, error) {
	rc := ResourceCount{Name: name, Type: sel.Type}
	if len(sel.Tags) == 0 && len(sel.Names) == 0 && len(sel.IDs) == 0 {
		return rc, nil, nil
	}
	in := &autoscaling.DescribeAutoScalingGroupsInput{MaxRecords: aws.Int32(100)}
	in.AutoScalingGroupNames = append(slices.Clone(sel.Names), sel.IDs...)
	for _, k := range slices.Sorted(maps.Keys(sel.Tags)) {
		in.Filters = append(in.Filters, astypes.Filter{Name: aws.String("tag:" + k), Values: []string{sel.Tags[k]}})
	}
	var names []string
	for {
		page, err := c.DescribeAutoScalingGroups(ctx, in)
		if err != nil {
			return rc, names, fmt.Errorf("describe auto scaling groups: %w", err)
		}
		for _, g := range page.AutoScalingGroups {
			n := aws.ToString(g.AutoScalingGroupName)
			names = append(names, n)
			up := 0
			for _, i := range g.Instances {
				if i.LifecycleState == astypes.LifecycleStateInService && aws.ToString(i.HealthStatus) == "Healthy" {
					up++
				}
			}
			want := int(aws.ToInt32(g.DesiredCapacity))
			rc.Up += up
			rc.Expected += want
			if up < want && len(rc.Down) < maxDownListed {
				rc.Down = append(rc.Down, fmt.Sprintf("%s %d of %d in service", n, up, want))
			}
		}
		if aws.ToString(page.NextToken) == "" {
			return rc, names, nil
		}
		in.NextToken = page.NextToken
	}
}

// elbTagBatch is how many ARNs DescribeTags takes at once.
const elbTagBatch = 20

// countTargets reads the selected target groups: up is the healthy
// targets, expected the registered ones. Their dimension values are the
// ARN suffixes CloudWatch uses ("targetgroup/NAME/ID"); a group behind one
// load balancer also gets its LoadBalancer dimension, which per-group
// metrics such as UnHealthyHostCount need.
func countTargets(ctx context.Context, c ELBv2API, name string, sel tasks.Selector, dims map[string]map[string]string) (ResourceCount, []string, error) {
	rc := ResourceCount{Name: name, Type: sel.Type}
	if len(sel.Tags) == 0 && len(sel.Names) == 0 && len(sel.IDs) == 0 {
		return rc, nil, nil
	}
	groups, err := listTargetGroups(ctx, c, sel)
	if err != nil {
		return rc, nil, err
	}
	if len(sel.Tags) > 0 {
		if groups, err = taggedGroups(ctx, c, groups, sel.Tags); err != nil {
			return rc, nil, err
		}
	}
	var ids []string
	for _, g := range groups {
		arn := aws.ToString(g.TargetGroupArn)
		h, err := c.DescribeTargetHealth(ctx, &elasticloadbalancingv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(arn)})
		if err != nil {
			return rc, ids, fmt.Errorf("describe target health of %s: %w", aws.ToString(g.TargetGroupName), err)
		}
		up := 0
		for _, t := range h.TargetHealthDescriptions {
			if t.TargetHealth != nil && t.TargetHealth.State == elbtypes.TargetHealthStateEnumHealthy {
				up++
			}
		}
		rc.Up += up
		rc.Expected += len(h.TargetHealthDescriptions)
		if up < len(h.TargetHealthDescriptions) && len(rc.Down) < maxDownListed {
			rc.Down = append(rc.Down, fmt.Sprintf("%s %d of %d healthy", aws.ToString(g.TargetGroupName), up, len(h.TargetHealthDescriptions)))
		}
		id := arnSuffix(arn, "targetgroup/")
		ids = append(ids, id)
		if len(g.LoadBalancerArns) == 1 {
			dims[id] = map[string]string{"LoadBalancer": arnSuffix(g.LoadBalancerArns[0], "app/", "net/")}
		}
	}
	return rc, ids, nil
}

func listTargetGroups(ctx context.Context, c ELBv2API, sel tasks.Selector) ([]elbtypes.TargetGroup, error) {
	in := &elasticloadbalancingv2.DescribeTargetGroupsInput{PageSize: aws.Int32(400)}
	if len(sel.Names) > 0 {
		in.Names = sel.Names
	}
	if len(sel.IDs) > 0 {
		in.TargetGroupArns = sel.IDs
	}
	var out []elbtypes.TargetGroup
	for {
		page, err := c.DescribeTargetGroups(ctx, in)
		if err != nil {
			return out, fmt.Errorf("describe target groups: %w", err)
		}
		out = append(out, page.TargetGroups...)
		if aws.ToString(page.NextMarker) == "" {
			return out, nil
		}
		in.Marker = page.NextMarker
	}
}

// taggedGroups keeps the groups carrying every tag.
func taggedGroups(ctx context.Context, c ELBv2API, groups []elbtypes.TargetGroup, want map[string]string) ([]elbtypes.TargetGroup, error) {
	arns := make([]string, len(groups))
	for i, g := range groups {
		arns[i] = aws.ToString(g.TargetGroupArn)
	}
	keep, err := tagged(ctx, c, arns, want)
	if err != nil {
		return nil, fmt.Errorf("describe target group tags: %w", err)
	}
	return slices.DeleteFunc(groups, func(g elbtypes.TargetGroup) bool { return !keep[aws.ToString(g.TargetGroupArn)] }), nil
}

// arnSuffix is the part of arn from the first of the markers on, the form
// CloudWatch dimensions use ("targetgroup/web/0123", "app/lb/4567").
func arnSuffix(arn string, markers ...string) string {
	for _, m := range markers {
		if i := strings.Index(arn, ":"+m); i >= 0 {
			return arn[i+1:]
		}
		if i := strings.Index(arn, "/"+m); i >= 0 {
			return arn[i+1:]
		}
	}
	return arn
}
