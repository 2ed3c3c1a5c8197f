package emulator

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/smithy-go"
)

// The Describe calls of target groups and load balancers share one reader
// and selector; each kind still answers with its own errors.
func TestELBv2DescribeErrors(t *testing.T) {
	s := New()
	defer s.Close()
	ctx := context.Background()
	tg, err := s.SeedTargetGroup(ctx, TargetGroup{Name: "sharedt-tg"})
	if err != nil {
		t.Fatal(err)
	}
	lb, err := s.SeedLoadBalancer(ctx, LoadBalancer{Name: "sharedt-lb"})
	if err != nil {
		t.Fatal(err)
	}
	c := elb.NewFromConfig(s.seedConfig())
	many := make([]string, 21)
	for i := range many {
		many[i] = "sharedt-lb"
	}
	tgCall := func(in *elb.DescribeTargetGroupsInput) error { _, err := c.DescribeTargetGroups(ctx, in); return err }
	lbCall := func(in *elb.DescribeLoadBalancersInput) error { _, err := c.DescribeLoadBalancers(ctx, in); return err }
	for _, tc := range []struct {
		name, code, msg string
		err             error
	}{
		{"tg both", "ValidationError", "Target group ARNs and names cannot be specified at the same time",
			tgCall(&elb.DescribeTargetGroupsInput{TargetGroupArns: []string{tg}, Names: []string{"sharedt-tg"}})},
		{"tg page size", "ValidationError", "PageSize must be between 1 and 400", tgCall(&elb.DescribeTargetGroupsInput{PageSize: aws.Int32(401)})},
		{"tg marker", "ValidationError", "Invalid marker", tgCall(&elb.DescribeTargetGroupsInput{Marker: aws.String("elblbtok-1")})},
		{"tg arn", "TargetGroupNotFound", "One or more target groups not found", tgCall(&elb.DescribeTargetGroupsInput{TargetGroupArns: []string{tg + "x"}})},
		{"tg name", "TargetGroupNotFound", "One or more target groups not found", tgCall(&elb.DescribeTargetGroupsInput{Names: []string{"sharedt-none"}})},
		{"lb both", "ValidationError", "Load balancer ARNs and names cannot be specified at the same time",
			lbCall(&elb.DescribeLoadBalancersInput{LoadBalancerArns: []string{lb}, Names: []string{"sharedt-lb"}})},
		{"lb too many", "ValidationError", "At most 20 load balancer ARNs or names can be specified",
			lbCall(&elb.DescribeLoadBalancersInput{Names: many, PageSize: aws.Int32(0)})},
		{"lb page size", "ValidationError", "PageSize must be between 1 and 400", lbCall(&elb.DescribeLoadBalancersInput{PageSize: aws.Int32(401)})},
		{"lb arn", "LoadBalancerNotFound", "One or more load balancers not found", lbCall(&elb.DescribeLoadBalancersInput{LoadBalancerArns: []string{lb + "x"}})},
		{"lb name", "LoadBalancerNotFound", "Load balancers '[sharedt-none]' not found", lbCall(&elb.DescribeLoadBalancersInput{Names: []string{"sharedt-lb", "sharedt-none"}})},
	} {
		var ae smithy.APIError
		if !errors.As(tc.err, &ae) || ae.ErrorCode() != tc.code || !strings.Contains(ae.ErrorMessage(), tc.msg) {
			t.Errorf("%s: %v, want %s %q", tc.name, tc.err, tc.code, tc.msg)
		}
	}
}
