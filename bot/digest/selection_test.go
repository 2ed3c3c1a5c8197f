package digest

import (
	"context"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/day2bot/day2bot/tasks"
	awsactions "github.com/day2bot/day2bot/tasks/aws"
	"github.com/day2bot/day2bot/tasks/emulator"
)

// The digest and the tasks select the same buckets for one binding:
// "research-*" is a glob, not one bucket with a star in its name.
func TestDigestAndTasksAgreeOnGlobs(t *testing.T) {
	ctx := context.Background()
	prefix := uniq("research")
	for _, b := range []emulator.Bucket{
		{Name: prefix + "-lab1", Tags: map[string]string{"team": "lab"}},
		{Name: prefix + "-lab2", Tags: map[string]string{"team": "lab"}},
		{Name: prefix + "-money", Tags: map[string]string{"team": "finance"}},
		{Name: uniq("other") + "-lab", Tags: map[string]string{"team": "lab"}},
	} {
		if err := emu.SeedBucket(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	describe, ok := func() (tasks.Action, bool) {
		for _, a := range awsactions.S3Actions(awsactions.SDKS3) {
			if a.Name() == "s3.describe" {
				return a, true
			}
		}
		return nil, false
	}()
	if !ok {
		t.Fatal("no s3.describe")
	}
	client := s3.NewFromConfig(testConfig(), func(o *s3.Options) { o.UsePathStyle = true })
	for _, sel := range []tasks.Selector{
		{Type: "s3:bucket", Names: []string{prefix + "-*"}},
		{Type: "s3:bucket", Names: []string{prefix + "-lab?"}},
		{Type: "s3:bucket", Names: []string{prefix + "-*"}, Tags: map[string]string{"team": "l*"}},
	} {
		got, err := findBuckets(ctx, client, sel)
		if err != nil {
			t.Fatal(err)
		}
		plan, err := describe.Plan(ctx, tasks.Invocation{AWS: testConfig(), Target: sel})
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, ch := range plan.Changes {
			want = append(want, ch.Resource)
		}
		slices.Sort(got)
		slices.Sort(want)
		if len(want) == 0 || !slices.Equal(got, want) {
			t.Errorf("%+v: digest selects %v, tasks %v", sel, got, want)
		}
	}
}
