package emulator

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func TestEC2DescribeTagsMergesKumoAndInstances(t *testing.T) {
	s := New()
	defer s.Close()
	ctx := context.Background()
	c := ec2.NewFromConfig(s.seedConfig())
	// kumo keeps the VPC (and its tag) after Close: the app value is unique
	// per run, so VPCs of earlier -count runs never match the filters below.
	app := uniq("tags") + "-test"
	vpc, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.9.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	vpcID := aws.ToString(vpc.Vpc.VpcId)
	if _, err := c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{vpcID}, Tags: []ec2types.Tag{{Key: aws.String("app"), Value: aws.String(app)}}}); err != nil {
		t.Fatal(err)
	}
	ids, err := s.SeedInstances(ctx, 3, InstanceSpec{Tags: map[string]string{"app": app, "Name": "web"}})
	if err != nil {
		t.Fatal(err)
	}

	// A wildcard on the value: matches this run's app and nothing older.
	byValue := []ec2types.Filter{{Name: aws.String("value"), Values: []string{strings.TrimSuffix(app, "test") + "*"}}}
	var got []ec2types.TagDescription
	pages := 0
	for p := ec2.NewDescribeTagsPaginator(c, &ec2.DescribeTagsInput{Filters: byValue, MaxResults: aws.Int32(5)}); p.HasMorePages(); {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		got = append(got, out.Tags...)
	}
	if len(got) != 4 || pages != 1 {
		t.Fatalf("got %d tags in %d pages: %+v", len(got), pages, got)
	}
	seen := map[string]bool{}
	for _, d := range got {
		seen[aws.ToString(d.ResourceId)+"/"+string(d.ResourceType)] = true
	}
	if !seen[vpcID+"/vpc"] || !seen[ids[0]+"/instance"] {
		t.Fatalf("missing kumo or instance tags: %v", seen)
	}

	// Six instance tags in pages of five: two pages, no kumo entries.
	in := &ec2.DescribeTagsInput{Filters: []ec2types.Filter{
		{Name: aws.String("resource-type"), Values: []string{"instance"}}, {Name: aws.String("resource-id"), Values: ids}},
		MaxResults: aws.Int32(5)}
	first, err := c.DescribeTags(ctx, in)
	if err != nil || len(first.Tags) != 5 || first.NextToken == nil || aws.ToString(first.Tags[0].Key) != "Name" {
		t.Fatalf("first page: %v %+v", err, first)
	}
	in.NextToken = first.NextToken
	second, err := c.DescribeTags(ctx, in)
	if err != nil || len(second.Tags) != 1 || second.NextToken != nil || aws.ToString(second.Tags[0].ResourceId) != ids[2] {
		t.Fatalf("second page: %v %+v", err, second)
	}
	out := second
	out, err = c.DescribeTags(ctx, &ec2.DescribeTagsInput{Filters: []ec2types.Filter{{Name: aws.String("resource-type"), Values: []string{"instance"}}, {Name: aws.String("key"), Values: []string{"Name"}}}, MaxResults: aws.Int32(5)})
	if err != nil || len(out.Tags) != 3 {
		t.Fatalf("by key: %v %+v", err, out)
	}
}
