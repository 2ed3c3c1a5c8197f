package emulator

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

func TestELBv2TargetGroupsAndHealth(t *testing.T) {
	s := New()
	defer s.Close()
	ctx := context.Background()
	ids, err := s.SeedInstances(ctx, 3, InstanceSpec{})
	if err != nil {
		t.Fatal(err)
	}
	var arns []string
	for i := range 3 {
		arn, err := s.SeedTargetGroup(ctx, TargetGroup{Name: fmt.Sprintf("shop-web-%d", i), Tags: map[string]string{"app": "shop"}, Targets: ids})
		if err != nil {
			t.Fatal(err)
		}
		arns = append(arns, arn)
	}
	c := elb.NewFromConfig(s.seedConfig())

	var names []string
	pages := 0
	for p := elb.NewDescribeTargetGroupsPaginator(c, &elb.DescribeTargetGroupsInput{PageSize: aws.Int32(2)}); p.HasMorePages(); {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, g := range out.TargetGroups {
			names = append(names, aws.ToString(g.TargetGroupName))
		}
	}
	if len(names) != 3 || pages != 2 {
		t.Fatalf("names %v pages %d", names, pages)
	}
	byName, err := c.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{Names: []string{"shop-web-1"}})
	if err != nil || len(byName.TargetGroups) != 1 || aws.ToString(byName.TargetGroups[0].TargetGroupArn) != arns[1] {
		t.Fatalf("by name: %v %+v", err, byName)
	}
	_, err = c.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{Names: []string{"nope"}})
	assertEC2Code(t, err, "TargetGroupNotFound")

	tags, err := c.DescribeTags(ctx, &elb.DescribeTagsInput{ResourceArns: arns[:2]})
	if err != nil || len(tags.TagDescriptions) != 2 || aws.ToString(tags.TagDescriptions[1].Tags[0].Value) != "shop" {
		t.Fatalf("tags: %v %+v", err, tags)
	}

	s.SetInstanceState(ids[1], "stopped")
	s.SetTargetHealth(arns[0], ids[2], "unhealthy", "Target.FailedHealthChecks", "Health checks failed with these codes: [502]")
	h, err := c.DescribeTargetHealth(ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(arns[0])})
	if err != nil {
		t.Fatal(err)
	}
	want := []elbtypes.TargetHealthStateEnum{elbtypes.TargetHealthStateEnumHealthy, elbtypes.TargetHealthStateEnumUnused, elbtypes.TargetHealthStateEnumUnhealthy}
	for i, d := range h.TargetHealthDescriptions {
		if aws.ToString(d.Target.Id) != ids[i] || d.TargetHealth.State != want[i] {
			t.Fatalf("target %d: %s %s", i, aws.ToString(d.Target.Id), d.TargetHealth.State)
		}
	}
	if h.TargetHealthDescriptions[2].TargetHealth.Reason != elbtypes.TargetHealthReasonEnumFailedHealthChecks {
		t.Fatalf("reason %s", h.TargetHealthDescriptions[2].TargetHealth.Reason)
	}
	if _, err := c.DeregisterTargets(ctx, &elb.DeregisterTargetsInput{TargetGroupArn: aws.String(arns[1]), Targets: []elbtypes.TargetDescription{{Id: aws.String(ids[0])}}}); err != nil {
		t.Fatal(err)
	}
	h, err = c.DescribeTargetHealth(ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(arns[1])})
	if err != nil || len(h.TargetHealthDescriptions) != 2 {
		t.Fatalf("after deregister: %v %d", err, len(h.TargetHealthDescriptions))
	}
}
