package emulator

import (
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// S3 needs no fill-ins: kumo's S3 answers bucket tagging, policy, public
// access block, encryption and versioning in the REST wire format. This
// file only seeds buckets over the wire. kumo's S3 state is process-global,
// so bucket names must be unique per process.

// Bucket is a seedable S3 bucket.
type Bucket struct {
	Name              string
	Tags              map[string]string
	Policy            string // bucket policy JSON, optional
	Versioning        bool
	Encrypted         bool // SSE-S3 default encryption
	BlockPublicAccess bool // all four settings
	// ObjectLock turns on object lock (which every legal hold and
	// retention needs) with a default GOVERNANCE retention of one day.
	ObjectLock bool
	// Objects puts that many small objects (obj-0000, obj-0001, ...).
	Objects int
}

// SeedBucket creates the bucket and applies its settings.
func (s *Server) SeedBucket(ctx context.Context, b Bucket) error {
	cfg := s.seedConfig()
	c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	name := aws.String(b.Name)
	steps := []func() error{
		func() error { _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: name}); return err },
	}
	if len(b.Tags) > 0 {
		var set []s3types.Tag
		for _, k := range sortedKeys(b.Tags) {
			set = append(set, s3types.Tag{Key: aws.String(k), Value: aws.String(b.Tags[k])})
		}
		steps = append(steps, func() error {
			_, err := c.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: name, Tagging: &s3types.Tagging{TagSet: set}})
			return err
		})
	}
	if b.Policy != "" {
		steps = append(steps, func() error {
			_, err := c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: name, Policy: aws.String(b.Policy)})
			return err
		})
	}
	if b.Versioning {
		steps = append(steps, func() error {
			_, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: name,
				VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}})
			return err
		})
	}
	if b.Encrypted {
		steps = append(steps, func() error {
			_, err := c.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: name, ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{
				Rules: []s3types.ServerSideEncryptionRule{{ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAes256}}}}})
			return err
		})
	}
	if b.BlockPublicAccess {
		steps = append(steps, func() error {
			t := aws.Bool(true)
			_, err := c.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: name, PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{
				BlockPublicAcls: t, IgnorePublicAcls: t, BlockPublicPolicy: t, RestrictPublicBuckets: t}})
			return err
		})
	}
	if b.ObjectLock {
		steps = append(steps, func() error {
			_, err := c.PutObjectLockConfiguration(ctx, &s3.PutObjectLockConfigurationInput{Bucket: name, ObjectLockConfiguration: &s3types.ObjectLockConfiguration{
				ObjectLockEnabled: s3types.ObjectLockEnabledEnabled,
				Rule:              &s3types.ObjectLockRule{DefaultRetention: &s3types.DefaultRetention{Mode: s3types.ObjectLockRetentionModeGovernance, Days: aws.Int32(1)}}}})
			return err
		})
	}
	for i := range b.Objects {
		steps = append(steps, func() error {
			_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: name, Key: aws.String(fmt.Sprintf("obj-%04d", i)), Body: strings.NewReader("data")})
			return err
		})
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return fmt.Errorf("seed bucket %s: %w", b.Name, err)
		}
	}
	return nil
}

// WriteS3Error writes the S3 REST error document (<Error> at the root, not
// the awsQuery <ErrorResponse> wrapper), which is what the S3 SDK reads.
func WriteS3Error(w http.ResponseWriter, status int, code, msg string) {
	type s3Error struct {
		XMLName   xml.Name `xml:"Error"`
		Code      string   `xml:"Code"`
		Message   string   `xml:"Message"`
		RequestID string   `xml:"RequestId"`
		HostID    string   `xml:"HostId"`
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	_ = xml.NewEncoder(w).Encode(s3Error{Code: code, Message: msg, RequestID: "emulator", HostID: "emulator"})
}
