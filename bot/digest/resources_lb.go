package digest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/day2bot/day2bot/tasks"
)

// Load balancers: up is the active ones. Their dimension values are the
// ARN suffixes CloudWatch's LoadBalancer dimension uses ("app/NAME/ID"),
// which is what ALB metrics such as TargetResponseTime are published under.

// countLoadBalancers reads the selected load balancers: by name or ARN
// (20 a call, the most AWS takes) or, for tags alone, every one of the
// region's in pages of 400, then keeps those carrying every tag.
func countLoadBalancers(ctx context.Context, c ELBv2API, name string, sel tasks.Selector) (ResourceCount, []string, error) {
	rc := ResourceCount{Name: name, Type: sel.Type}
	if len(sel.Tags) == 0 && len(sel.Names) == 0 && len(sel.IDs) == 0 {
		return rc, nil, nil
	}
	lbs, err := listLoadBalancers(ctx, c, sel)
	if err != nil {
		return rc, nil, err
	}
	if len(sel.Tags) > 0 {
		arns := make([]string, len(lbs))
		for i, lb := range lbs {
			arns[i] = aws.ToString(lb.LoadBalancerArn)
		}
		keep, err := tagged(ctx, c, arns, sel.Tags)
		if err != nil {
			return rc, nil, fmt.Errorf("describe load balancer tags: %w", err)
		}
		lbs = slices.DeleteFunc(lbs, func(lb elbtypes.LoadBalancer) bool { return !keep[aws.ToString(lb.LoadBalancerArn)] })
	}
	var ids []string
	for _, lb := range lbs {
		rc.Expected++
		state := elbtypes.LoadBalancerStateEnum("unknown")
		if lb.State != nil {
			state = lb.State.Code
		}
		if state == elbtypes.LoadBalancerStateEnumActive {
			rc.Up++
		} else if len(rc.Down) < maxDownListed {
			rc.Down = append(rc.Down, aws.ToString(lb.LoadBalancerName)+" "+string(state))
		}
		ids = append(ids, arnSuffix(aws.ToString(lb.LoadBalancerArn), "app/", "net/", "gwy/"))
	}
	return rc, ids, nil
}

// listLoadBalancers asks for the selector's names and ARNs, 20 at a time
// (ids that are not ARNs are names too); a tag-only selector lists all.
func listLoadBalancers(ctx context.Context, c ELBv2API, sel tasks.Selector) ([]elbtypes.LoadBalancer, error) {
	var names, arns []string
	names = append(names, sel.Names...)
	for _, id := range sel.IDs {
		if strings.HasPrefix(id, "arn:") {
			arns = append(arns, id)
		} else {
			names = append(names, id)
		}
	}
	if len(names) == 0 && len(arns) == 0 {
		return describeLoadBalancers(ctx, c, &elasticloadbalancingv2.DescribeLoadBalancersInput{})
	}
	var out []elbtypes.LoadBalancer
	for chunk := range slices.Chunk(names, elbTagBatch) {
		got, err := describeLoadBalancers(ctx, c, &elasticloadbalancingv2.DescribeLoadBalancersInput{Names: chunk})
		if err != nil {
			return out, err
		}
		out = append(out, got...)
	}
	for chunk := range slices.Chunk(arns, elbTagBatch) {
		got, err := describeLoadBalancers(ctx, c, &elasticloadbalancingv2.DescribeLoadBalancersInput{LoadBalancerArns: chunk})
		if err != nil {
			return out, err
		}
		out = append(out, got...)
	}
	return out, nil
}

func describeLoadBalancers(ctx context.Context, c ELBv2API, in *elasticloadbalancingv2.DescribeLoadBalancersInput) ([]elbtypes.LoadBalancer, error) {
	in.PageSize = aws.Int32(400)
	var out []elbtypes.LoadBalancer
	for {
		page, err := c.DescribeLoadBalancers(ctx, in)
		if err != nil {
			return out, fmt.Errorf("describe load balancers: %w", err)
		}
		out = append(out, page.LoadBalancers...)
		if aws.ToString(page.NextMarker) == "" {
			return out, nil
		}
		in.Marker = page.NextMarker
	}
}

// tagged reports which of arns (load balancers or target groups) carry
// every tag of want, asking DescribeTags 20 ARNs at a time.
func tagged(ctx context.Context, c ELBv2API, arns []string, want map[string]string) (map[string]bool, error) {
	keep := make(map[string]bool, len(arns))
	for chunk := range slices.Chunk(arns, elbTagBatch) {
		out, err := c.DescribeTags(ctx, &elasticloadbalancingv2.DescribeTagsInput{ResourceArns: chunk})
		if err != nil {
			return keep, err
		}
		for _, td := range out.TagDescriptions {
			has := make(map[string]string, len(td.Tags))
			for _, t := range td.Tags {
				has[aws.ToString(t.Key)] = aws.ToString(t.Value)
			}
			keep[aws.ToString(td.ResourceArn)] = !slices.ContainsFunc(slices.Collect(maps.Keys(want)), func(k string) bool {
				v, ok := has[k]
				return !ok || v != want[k]
			})
		}
	}
	return keep, nil
}
