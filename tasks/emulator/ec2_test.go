package emulator

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
)

func TestEC2DescribeFiltersTagsAndPages(t *testing.T) {
	s := New()
	defer s.Close()
	ctx := context.Background()
	web, err := s.SeedInstances(ctx, 12, InstanceSpec{Type: "m5.large", AZ: "us-east-1b", Tags: map[string]string{"app": "shop", "Name": "web"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SeedInstances(ctx, 3, InstanceSpec{Tags: map[string]string{"app": "blog"}}); err != nil {
		t.Fatal(err)
	}
	c := ec2.NewFromConfig(s.seedConfig())
	s.SetInstanceState(web[0], "stopped")

	in := &ec2.DescribeInstancesInput{
		Filters:    []ec2types.Filter{{Name: aws.String("tag:app"), Values: []string{"sh*"}}, {Name: aws.String("instance-state-name"), Values: []string{"running"}}},
		MaxResults: aws.Int32(5),
	}
	var got []string
	pages := 0
	for p := ec2.NewDescribeInstancesPaginator(c, in); p.HasMorePages(); {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, r := range out.Reservations {
			for _, i := range r.Instances {
				got = append(got, aws.ToString(i.InstanceId))
				if aws.ToString(i.Placement.AvailabilityZone) != "us-east-1b" || i.InstanceType != "m5.large" || i.State.Name != ec2types.InstanceStateNameRunning {
					t.Fatalf("instance fields: %+v", i)
				}
				if len(i.Tags) != 2 || aws.ToString(i.Tags[0].Key) != "Name" || aws.ToString(i.Tags[1].Value) != "shop" {
					t.Fatalf("tags: %+v", i.Tags)
				}
			}
		}
	}
	if !slices.Equal(got, web[1:]) || pages != 3 {
		t.Fatalf("got %d ids in %d pages, want %v in 3", len(got), pages, web[1:])
	}
	if n := s.Count("ec2:DescribeInstances"); n != 3 {
		t.Fatalf("DescribeInstances calls = %d", n)
	}

	// tag-key, instance-id, and ids that do not exist.
	out, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{{Name: aws.String("instance-id"), Values: []string{web[0], "i-doesnotexist"}}}})
	if err != nil || len(out.Reservations) != 1 || aws.ToString(out.Reservations[0].Instances[0].InstanceId) != web[0] {
		t.Fatalf("instance-id filter: %v %+v", err, out)
	}
	_, err = c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{web[0], "i-00000000000nope"}})
	assertEC2Code(t, err, "InvalidInstanceID.NotFound")
	_, err = c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(2000)})
	assertEC2Code(t, err, "InvalidParameterValue")
	_, err = c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{{Name: aws.String("bogus"), Values: []string{"x"}}}})
	assertEC2Code(t, err, "InvalidParameterValue")
}

func TestEC2ThousandInstancesOnePage(t *testing.T) {
	s := New()
	defer s.Close()
	ctx := context.Background()
	tag := map[string]string{"app": "big-" + t.Name()}
	if _, err := s.SeedInstances(ctx, 1000, InstanceSpec{Tags: tag}); err != nil {
		t.Fatal(err)
	}
	c := ec2.NewFromConfig(s.seedConfig())
	before := s.Count("ec2:DescribeInstances")
	out, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{{Name: aws.String("tag:app"), Values: []string{tag["app"]}}}, MaxResults: aws.Int32(1000)})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range out.Reservations {
		n += len(r.Instances)
	}
	if n != 1000 || out.NextToken != nil || s.Count("ec2:DescribeInstances")-before != 1 {
		t.Fatalf("got %d instances, next %v, calls %d", n, out.NextToken, s.Count("ec2:DescribeInstances")-before)
	}
}

func TestEC2RebootStopStartTags(t *testing.T) {
	s := New()
	defer s.Close()
	ctx := context.Background()
	ids, err := s.SeedInstances(ctx, 2, InstanceSpec{})
	if err != nil {
		t.Fatal(err)
	}
	c := ec2.NewFromConfig(s.seedConfig())
	if _, err := c.RebootInstances(ctx, &ec2.RebootInstancesInput{InstanceIds: ids}); err != nil {
		t.Fatal(err)
	}
	_, err = c.RebootInstances(ctx, &ec2.RebootInstancesInput{InstanceIds: []string{ids[0], "i-0000000000000beef"}})
	assertEC2Code(t, err, "InvalidInstanceID.NotFound")
	if s.RebootCount(ids[0]) != 1 || s.RebootCount(ids[1]) != 1 {
		t.Fatalf("reboots = %d, %d (a failed call must reboot nothing)", s.RebootCount(ids[0]), s.RebootCount(ids[1]))
	}

	stop, err := c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: ids[:1]})
	if err != nil || stop.StoppingInstances[0].CurrentState.Name != ec2types.InstanceStateNameStopping || stop.StoppingInstances[0].PreviousState.Name != ec2types.InstanceStateNameRunning {
		t.Fatalf("stop: %v %+v", err, stop)
	}
	if s.InstanceState(ids[0]) != "stopped" {
		t.Fatalf("state = %s", s.InstanceState(ids[0]))
	}
	_, err = c.RebootInstances(ctx, &ec2.RebootInstancesInput{InstanceIds: ids[:1]})
	assertEC2Code(t, err, "IncorrectInstanceState")
	if _, err := c.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: ids[:1]}); err != nil || s.InstanceState(ids[0]) != "running" {
		t.Fatalf("start: %v, state %s", err, s.InstanceState(ids[0]))
	}

	if _, err := c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: ids[1:], Tags: []ec2types.Tag{{Key: aws.String("team"), Value: aws.String("ops")}}}); err != nil {
		t.Fatal(err)
	}
	out, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{{Name: aws.String("tag-key"), Values: []string{"team"}}}})
	if err != nil || len(out.Reservations) != 1 || aws.ToString(out.Reservations[0].Instances[0].InstanceId) != ids[1] {
		t.Fatalf("after CreateTags: %v %+v", err, out)
	}
	if _, err := c.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: ids[1:], Tags: []ec2types.Tag{{Key: aws.String("team")}}}); err != nil {
		t.Fatal(err)
	}
	out, err = c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{{Name: aws.String("tag-key"), Values: []string{"team"}}}})
	if err != nil || len(out.Reservations) != 0 {
		t.Fatalf("after DeleteTags: %v %+v", err, out)
	}
}

func TestWildcardMatch(t *testing.T) {
	tests := []struct {
		p, s string
		want bool
	}{
		{"shop", "shop", true}, {"sh*", "shop", true}, {"*op", "shop", true}, {"s?op", "shop", true},
		{"*", "", true}, {"a/*", "a/b/c", true}, {"shop", "shops", false}, {"s?p", "shop", false}, {"*x*", "shop", false},
	}
	for _, tc := range tests {
		if got := wildcardMatch(tc.p, tc.s); got != tc.want {
			t.Errorf("wildcardMatch(%q, %q) = %v", tc.p, tc.s, got)
		}
	}
}

func assertEC2Code(t *testing.T, err error, code string) {
	t.Helper()
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != code {
		t.Fatalf("err = %v, want code %s", err, code)
	}
}

func TestEC2RunInstancesClientTokenIdempotent(t *testing.T) {
	s := New()
	defer s.Close()
	c := ec2.NewFromConfig(s.seedConfig())
	in := &ec2.RunInstancesInput{ImageId: aws.String("ami-1"), MinCount: aws.Int32(2), MaxCount: aws.Int32(2), ClientToken: aws.String("tok-" + t.Name())}
	a, err := c.RunInstances(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.RunInstances(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(a.Instances[1].InstanceId) != aws.ToString(b.Instances[1].InstanceId) || len(s.ec2.order) != 2 {
		t.Fatalf("a retried launch launched again: %d instances", len(s.ec2.order))
	}
}
