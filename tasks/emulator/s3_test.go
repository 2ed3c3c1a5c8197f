package emulator

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func TestSeedBucketSettingsAndMissingConfigErrors(t *testing.T) {
	s := New()
	defer s.Close()
	ctx := context.Background()
	// kumo's S3 is process-global: names must differ between -count runs.
	fullName, bareName := uniq("emu-seed-full"), uniq("emu-seed-bare")
	policy := `{"Version":"2012-10-17","Statement":[{"Sid":"r","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/r"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::` + fullName + `/*"}]}`
	if err := s.SeedBucket(ctx, Bucket{Name: fullName, Tags: map[string]string{"app": "lab"}, Policy: policy, Versioning: true, Encrypted: true, BlockPublicAccess: true}); err != nil {
		t.Fatal(err)
	}
	if err := s.SeedBucket(ctx, Bucket{Name: bareName}); err != nil {
		t.Fatal(err)
	}
	c := s3.NewFromConfig(s.seedConfig(), func(o *s3.Options) { o.UsePathStyle = true })
	full, bare := aws.String(fullName), aws.String(bareName)

	tags, err := c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: full})
	if err != nil || aws.ToString(tags.TagSet[0].Value) != "lab" {
		t.Fatalf("tags %v", err)
	}
	pol, err := c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: full})
	if err != nil || aws.ToString(pol.Policy) != policy {
		t.Fatalf("policy %v %q", err, aws.ToString(pol.Policy))
	}
	v, err := c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: full})
	if err != nil || v.Status != s3types.BucketVersioningStatusEnabled {
		t.Fatalf("versioning %v %v", err, v.Status)
	}
	pab, err := c.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: full})
	if err != nil || !aws.ToBool(pab.PublicAccessBlockConfiguration.RestrictPublicBuckets) {
		t.Fatalf("pab %v", err)
	}

	for op, err := range map[string]error{
		"NoSuchTagSet":                         second(c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: bare})),
		"NoSuchBucketPolicy":                   second(c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: bare})),
		"NoSuchPublicAccessBlockConfiguration": second(c.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: bare})),
	} {
		if errCode(err) != op {
			t.Errorf("%s: got %v", op, err)
		}
	}
}

func second[T any](_ T, err error) error { return err }
