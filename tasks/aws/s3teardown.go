package aws

import (
	"context"
	"fmt"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/tasks"
)

// Tearing down a finished project's bucket: every object version and
// delete marker is deleted, then the bucket.
//
// Buckets with object lock are refused, whatever their objects' state. A
// legal hold or a retention period can only exist on a bucket with object
// lock enabled, so "object lock on" is the one check that covers both
// without reading the hold of every object; and day2bot never bypasses
// governance retention, which is there precisely so that a hurried
// clean-up cannot destroy records.

// teardownAction is s3.teardown-bucket.
func teardownAction(newClient S3Client, bucketParam tasks.Param) tasks.Action {
	return &stepAction{
		name: "s3.teardown-bucket", mutating: true, verb: "tore down", noun: "buckets",
		iam: []string{"s3:GetBucketTagging", "s3:GetBucketObjectLockConfiguration", "s3:ListBucketVersions",
			"s3:DeleteObject", "s3:DeleteObjectVersion", "s3:DeleteBucket"},
		params: []tasks.Param{bucketParam},
		plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
			c := newClient(inv.AWS)
			bucket, err := checkBucketParam(ctx, c, inv)
			if err != nil {
				return tasks.Plan{}, nil, err
			}
			if err := refuseObjectLock(ctx, c, bucket); err != nil {
				return tasks.Plan{}, nil, err
			}
			n, err := countVersions(ctx, c, bucket)
			if err != nil {
				return tasks.Plan{}, nil, err
			}
			b := planBuilder{verb: "empty and delete", noun: "buckets"}
			b.add(bucket, fmt.Sprintf("delete %d object versions and delete markers, then the bucket", n), decision{Run: func(ctx context.Context) (string, error) {
				deleted, err := emptyBucket(ctx, c, bucket)
				if err != nil {
					return "", err
				}
				if _, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: awssdk.String(bucket)}); err != nil {
					return "", fmt.Errorf("delete bucket %s after deleting %d objects: %w", bucket, deleted, err)
				}
				return fmt.Sprintf("deleted %d object versions and the bucket", deleted), nil
			}})
			return b.plan(), b.steps, nil
		},
	}
}

func refuseObjectLock(ctx context.Context, c S3API, bucket string) error {
	out, err := c.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: awssdk.String(bucket)})
	switch {
	case ErrorCode(err) == "ObjectLockConfigurationNotFoundError":
		return nil
	case err != nil:
		return fmt.Errorf("get object lock configuration of %s: %w", bucket, err)
	}
	if out.ObjectLockConfiguration != nil && out.ObjectLockConfiguration.ObjectLockEnabled == s3types.ObjectLockEnabledEnabled {
		return errs.E("tear down bucket", errs.Permission, "bucket %s has object lock enabled, so its objects may be under retention or legal hold: day2bot does not tear it down (release the holds and retention in AWS first, with the people who set them)", bucket)
	}
	return nil
}

// countVersions counts object versions and delete markers.
func countVersions(ctx context.Context, c S3API, bucket string) (int, error) {
	n := 0
	err := eachVersionPage(ctx, c, bucket, func(ids []s3types.ObjectIdentifier) error { n += len(ids); return nil })
	return n, err
}

// eachVersionPage lists a bucket's versions and delete markers a page
// (up to 1000, DeleteObjects' own limit) at a time.
func eachVersionPage(ctx context.Context, c S3API, bucket string, fn func([]s3types.ObjectIdentifier) error) error {
	in := &s3.ListObjectVersionsInput{Bucket: awssdk.String(bucket), MaxKeys: awssdk.Int32(1000)}
	for {
		out, err := c.ListObjectVersions(ctx, in)
		if err != nil {
			return fmt.Errorf("list object versions of %s: %w", bucket, err)
		}
		var ids []s3types.ObjectIdentifier
		for _, v := range out.Versions {
			ids = append(ids, s3types.ObjectIdentifier{Key: v.Key, VersionId: v.VersionId})
		}
		for _, m := range out.DeleteMarkers {
			ids = append(ids, s3types.ObjectIdentifier{Key: m.Key, VersionId: m.VersionId})
		}
		if len(ids) > 0 {
			if err := fn(ids); err != nil {
				return err
			}
		}
		if !awssdk.ToBool(out.IsTruncated) {
			return nil
		}
		in.KeyMarker, in.VersionIdMarker = out.NextKeyMarker, out.NextVersionIdMarker
	}
}

// emptyBucket deletes every version, a page at a time, and stops at the
// first page with refused keys (naming the first of them).
func emptyBucket(ctx context.Context, c S3API, bucket string) (int, error) {
	deleted := 0
	err := eachVersionPage(ctx, c, bucket, func(ids []s3types.ObjectIdentifier) error {
		out, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: awssdk.String(bucket), Delete: &s3types.Delete{Objects: ids, Quiet: awssdk.Bool(true)}})
		if err != nil {
			return fmt.Errorf("delete objects of %s: %w", bucket, err)
		}
		deleted += len(ids) - len(out.Errors)
		if len(out.Errors) > 0 {
			e := out.Errors[0]
			return fmt.Errorf("%d objects of %s were not deleted (first: %s: %s %s); %d were", len(out.Errors), bucket,
				awssdk.ToString(e.Key), awssdk.ToString(e.Code), awssdk.ToString(e.Message), deleted)
		}
		return nil
	})
	return deleted, err
}
