package aws

import (
	"context"
	"fmt"
	"slices"
	"strings"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/day2bot/day2bot/tasks"
)

const lbType = "elbv2:load-balancer"

// selectLoadBalancers resolves the selector by the tasks' rules: ids are
// ARNs or names (exact), names globs, tag values globs. Literal names and
// ARNs go to AWS 20 a call (the most it takes); a glob name or a tag-only
// selector lists every load balancer of the region, 400 a page.
func selectLoadBalancers(ctx context.Context, c ELBv2API, sel tasks.Selector) ([]elbtypes.LoadBalancer, error) {
	if sel.Type != lbType {
		return nil, fmt.Errorf("select load balancers: selector type %q, want %s", sel.Type, lbType)
	}
	if err := checkSelector(sel); err != nil {
		return nil, err
	}
	var names, arns []string
	names = append(names, sel.Names...)
	for _, id := range sel.IDs {
		if strings.HasPrefix(id, "arn:") {
			arns = append(arns, id)
		} else {
			names = append(names, id)
		}
	}
	var lbs []elbtypes.LoadBalancer
	if slices.ContainsFunc(sel.Names, tasks.HasGlob) || len(names)+len(arns) == 0 {
		got, err := describeLoadBalancers(ctx, c, &elb.DescribeLoadBalancersInput{})
		if err != nil {
			return nil, err
		}
		lbs = got
	} else {
		for chunk := range slices.Chunk(names, tagBatch) {
			got, err := describeLoadBalancers(ctx, c, &elb.DescribeLoadBalancersInput{Names: chunk})
			if err != nil {
				return nil, err
			}
			lbs = append(lbs, got...)
		}
		for chunk := range slices.Chunk(arns, tagBatch) {
			got, err := describeLoadBalancers(ctx, c, &elb.DescribeLoadBalancersInput{LoadBalancerArns: chunk})
			if err != nil {
				return nil, err
			}
			lbs = append(lbs, got...)
		}
	}
	lbs = slices.DeleteFunc(lbs, func(lb elbtypes.LoadBalancer) bool {
		name := awssdk.ToString(lb.LoadBalancerName)
		return !selects(tasks.Selector{IDs: sel.IDs, Names: sel.Names}, name, awssdk.ToString(lb.LoadBalancerArn), nil)
	})
	if len(sel.Tags) > 0 {
		arns := make([]string, len(lbs))
		for i, lb := range lbs {
			arns[i] = awssdk.ToString(lb.LoadBalancerArn)
		}
		keep, err := taggedARNs(ctx, c, arns, sel.Tags)
		if err != nil {
			return nil, fmt.Errorf("describe load balancer tags: %w", err)
		}
		lbs = slices.DeleteFunc(lbs, func(lb elbtypes.LoadBalancer) bool { return !keep[awssdk.ToString(lb.LoadBalancerArn)] })
	}
	return lbs, nil
}

func describeLoadBalancers(ctx context.Context, c ELBv2API, in *elb.DescribeLoadBalancersInput) ([]elbtypes.LoadBalancer, error) {
	in.PageSize = awssdk.Int32(400)
	var out []elbtypes.LoadBalancer
	for p := elb.NewDescribeLoadBalancersPaginator(c, in); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return out, fmt.Errorf("describe load balancers: %w", err)
		}
		out = append(out, page.LoadBalancers...)
	}
	return out, nil
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
