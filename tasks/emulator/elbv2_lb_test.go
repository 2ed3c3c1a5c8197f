package emulator

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

func TestELBv2LoadBalancers(t *testing.T) {
	s := New()
	defer s.Close()
	ctx := context.Background()
	tg, err := s.SeedTargetGroup(ctx, TargetGroup{Name: "lbt-web", Tags: map[string]string{"app": "lbt"}})
	if err != nil {
		t.Fatal(err)
	}
	var arns []string
	for i := range 3 {
		lb := LoadBalancer{Name: fmt.Sprintf("lbt-%d", i), Tags: map[string]string{"app": "lbt", "n": fmt.Sprint(i)}}
		if i == 1 {
			lb.TargetGroups = []string{tg}
		}
		arn, err := s.SeedLoadBalancer(ctx, lb)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(arn, ":loadbalancer/app/lbt-"+fmt.Sprint(i)+"/") {
			t.Fatalf("arn %s", arn)
		}
		arns = append(arns, arn)
	}
	c := elb.NewFromConfig(s.seedConfig())

	var names []string
	pages := 0
	for p := elb.NewDescribeLoadBalancersPaginator(c, &elb.DescribeLoadBalancersInput{PageSize: aws.Int32(2)}); p.HasMorePages(); {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, lb := range out.LoadBalancers {
			if lb.State == nil || lb.State.Code != elbtypes.LoadBalancerStateEnumActive || lb.Type != elbtypes.LoadBalancerTypeEnumApplication {
				t.Errorf("%s: state %+v type %s", aws.ToString(lb.LoadBalancerName), lb.State, lb.Type)
			}
			names = append(names, aws.ToString(lb.LoadBalancerName))
		}
	}
	if !slices.Equal(names, []string{"lbt-0", "lbt-1", "lbt-2"}) || pages != 2 {
		t.Fatalf("names %v pages %d", names, pages)
	}
	byName, err := c.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{Names: []string{"lbt-2"}})
	if err != nil || len(byName.LoadBalancers) != 1 || aws.ToString(byName.LoadBalancers[0].LoadBalancerArn) != arns[2] {
		t.Fatalf("by name: %v %+v", err, byName)
	}
	byARN, err := c.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{LoadBalancerArns: arns[:2]})
	if err != nil || len(byARN.LoadBalancers) != 2 || aws.ToString(byARN.LoadBalancers[1].LoadBalancerName) != "lbt-1" {
		t.Fatalf("by arn: %v %+v", err, byARN)
	}
	_, err = c.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{Names: []string{"nope"}})
	assertEC2Code(t, err, "LoadBalancerNotFound")
	_, err = c.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{Names: []string{"lbt-0"}, LoadBalancerArns: arns[:1]})
	assertEC2Code(t, err, "ValidationError")
	_, err = c.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{Marker: aws.String("elbtok-1")})
	assertEC2Code(t, err, "ValidationError")

	// Tags of load balancers and target groups in one call.
	tags, err := c.DescribeTags(ctx, &elb.DescribeTagsInput{ResourceArns: []string{arns[1], tg}})
	if err != nil || len(tags.TagDescriptions) != 2 {
		t.Fatalf("tags: %v %+v", err, tags)
	}
	if got := tags.TagDescriptions[0].Tags; len(got) != 2 || aws.ToString(got[1].Key) != "n" || aws.ToString(got[1].Value) != "1" {
		t.Fatalf("load balancer tags %+v", got)
	}
	if got := tags.TagDescriptions[1].Tags; len(got) != 1 || aws.ToString(got[0].Value) != "lbt" {
		t.Fatalf("target group tags %+v", got)
	}
	if _, err := c.AddTags(ctx, &elb.AddTagsInput{ResourceArns: arns[:1], Tags: []elbtypes.Tag{{Key: aws.String("tier"), Value: aws.String("web")}}}); err != nil {
		t.Fatal(err)
	}
	tags, err = c.DescribeTags(ctx, &elb.DescribeTagsInput{ResourceArns: arns[:1]})
	if err != nil || len(tags.TagDescriptions[0].Tags) != 3 {
		t.Fatalf("after AddTags: %v %+v", err, tags)
	}

	// The listener puts the group behind lbt-1.
	groups, err := c.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{TargetGroupArns: []string{tg}})
	if err != nil || len(groups.TargetGroups) != 1 || !slices.Equal(groups.TargetGroups[0].LoadBalancerArns, arns[1:2]) {
		t.Fatalf("target group: %v %+v", err, groups)
	}
	behind, err := c.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{LoadBalancerArn: aws.String(arns[1])})
	if err != nil || len(behind.TargetGroups) != 1 || aws.ToString(behind.TargetGroups[0].TargetGroupName) != "lbt-web" {
		t.Fatalf("groups of lbt-1: %v %+v", err, behind)
	}
	none, err := c.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{LoadBalancerArn: aws.String(arns[0])})
	if err != nil || len(none.TargetGroups) != 0 {
		t.Fatalf("groups of lbt-0: %v %+v", err, none)
	}
	_, err = c.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{Names: []string{"nope"}})
	assertEC2Code(t, err, "TargetGroupNotFound")

	_, err = c.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("-bad")})
	assertEC2Code(t, err, "ValidationError")
}
