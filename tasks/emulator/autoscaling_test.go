package emulator

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func TestAutoScalingGroupsScaleAndPage(t *testing.T) {
	s := New()
	defer s.Close()
	ctx := context.Background()
	for i := range 3 {
		if err := s.SeedGroup(ctx, Group{Name: fmt.Sprintf("shop-web-%d", i), Min: 1, Max: 4, Desired: 2, Tags: map[string]string{"app": "shop"}, TargetGroupARNs: []string{"arn:tg"}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SeedGroup(ctx, Group{Name: "blog", Min: 0, Max: 1, Desired: 0, Tags: map[string]string{"app": "blog"}}); err != nil {
		t.Fatal(err)
	}
	c := autoscaling.NewFromConfig(s.seedConfig())
	in := &autoscaling.DescribeAutoScalingGroupsInput{Filters: []astypes.Filter{{Name: aws.String("tag:app"), Values: []string{"shop"}}}, MaxRecords: aws.Int32(2)}
	var names []string
	pages := 0
	for p := autoscaling.NewDescribeAutoScalingGroupsPaginator(c, in); p.HasMorePages(); {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, g := range out.AutoScalingGroups {
			names = append(names, aws.ToString(g.AutoScalingGroupName))
			if len(g.Instances) != 2 || aws.ToInt32(g.DesiredCapacity) != 2 || aws.ToInt32(g.MaxSize) != 4 || len(g.Tags) != 1 || g.TargetGroupARNs[0] != "arn:tg" {
				t.Fatalf("group %+v", g)
			}
		}
	}
	if len(names) != 3 || pages != 2 {
		t.Fatalf("names %v pages %d", names, pages)
	}

	if _, err := c.SetDesiredCapacity(ctx, &autoscaling.SetDesiredCapacityInput{AutoScalingGroupName: aws.String("shop-web-0"), DesiredCapacity: aws.Int32(5)}); err == nil {
		t.Fatal("desired above max accepted")
	} else {
		assertEC2Code(t, err, "ValidationError")
	}
	if _, err := c.SetDesiredCapacity(ctx, &autoscaling.SetDesiredCapacityInput{AutoScalingGroupName: aws.String("shop-web-0"), DesiredCapacity: aws.Int32(4)}); err != nil {
		t.Fatal(err)
	}
	if d, n := s.GroupDesired("shop-web-0"); d != 4 || n != 4 {
		t.Fatalf("desired %d instances %d", d, n)
	}
	// The group's instances are EC2 instances, tagged like AWS tags them.
	out, err := ec2.NewFromConfig(s.seedConfig()).DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{
		{Name: aws.String("tag:aws:autoscaling:groupName"), Values: []string{"shop-web-0"}}, {Name: aws.String("instance-state-name"), Values: []string{"running"}}}})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range out.Reservations {
		n += len(r.Instances)
	}
	if n != 4 {
		t.Fatalf("running group instances %d", n)
	}
	if _, err := c.SetDesiredCapacity(ctx, &autoscaling.SetDesiredCapacityInput{AutoScalingGroupName: aws.String("shop-web-0"), DesiredCapacity: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	if d, n := s.GroupDesired("shop-web-0"); d != 1 || n != 1 {
		t.Fatalf("after scale-in desired %d instances %d", d, n)
	}
}

func TestAutoScalingInstanceRefresh(t *testing.T) {
	s := New()
	defer s.Close()
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	s.asg.now = func() time.Time { return now }
	if err := s.SeedGroup(ctx, Group{Name: "web", Min: 1, Max: 4, Desired: 2}); err != nil {
		t.Fatal(err)
	}
	c := autoscaling.NewFromConfig(s.seedConfig())
	start, err := c.StartInstanceRefresh(ctx, &autoscaling.StartInstanceRefreshInput{AutoScalingGroupName: aws.String("web"), Preferences: &astypes.RefreshPreferences{MinHealthyPercentage: aws.Int32(50)}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.StartInstanceRefresh(ctx, &autoscaling.StartInstanceRefreshInput{AutoScalingGroupName: aws.String("web")})
	assertEC2Code(t, err, "InstanceRefreshInProgress")

	desc, err := c.DescribeInstanceRefreshes(ctx, &autoscaling.DescribeInstanceRefreshesInput{AutoScalingGroupName: aws.String("web")})
	if err != nil {
		t.Fatal(err)
	}
	r := desc.InstanceRefreshes[0]
	if aws.ToString(r.InstanceRefreshId) != aws.ToString(start.InstanceRefreshId) || r.Status != astypes.InstanceRefreshStatusInProgress || aws.ToInt32(r.Preferences.MinHealthyPercentage) != 50 || aws.ToInt32(r.InstancesToUpdate) != 2 {
		t.Fatalf("refresh %+v", r)
	}
	now = now.Add(asgRefreshDuration)
	desc, err = c.DescribeInstanceRefreshes(ctx, &autoscaling.DescribeInstanceRefreshesInput{AutoScalingGroupName: aws.String("web")})
	if err != nil || desc.InstanceRefreshes[0].Status != astypes.InstanceRefreshStatusSuccessful || aws.ToInt32(desc.InstanceRefreshes[0].PercentageComplete) != 100 {
		t.Fatalf("after duration: %v %+v", err, desc)
	}
	if _, err := c.StartInstanceRefresh(ctx, &autoscaling.StartInstanceRefreshInput{AutoScalingGroupName: aws.String("web")}); err != nil {
		t.Fatalf("second refresh after the first finished: %v", err)
	}
}
