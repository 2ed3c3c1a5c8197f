package digest

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/day2bot/day2bot/tasks"
)

// S3API is the S3 calls a digest makes to find an app's buckets by tag.
type S3API interface {
	ListBuckets(ctx context.Context, in *s3.ListBucketsInput, opts ...func(*s3.Options)) (*s3.ListBucketsOutput, error)
	GetBucketTagging(ctx context.Context, in *s3.GetBucketTaggingInput, opts ...func(*s3.Options)) (*s3.GetBucketTaggingOutput, error)
}

var _ S3API = (*s3.Client)(nil)

// maxTaggedBuckets bounds the GetBucketTagging calls of one digest: S3 has
// no tag filter, so finding buckets by tag costs a call per bucket.
const maxTaggedBuckets = 200

// findBuckets returns the names of the selected buckets: named ones as
// they are, tagged ones by reading each bucket's tags (the account's
// first maxTaggedBuckets buckets; the rest are reported).
func findBuckets(ctx context.Context, c S3API, sel tasks.Selector) ([]string, error) {
	// Names are globs (tasks' selection rules): only literal names and
	// ids without tags can be taken as they are.
	literal := !slices.ContainsFunc(sel.Names, tasks.HasGlob)
	if len(sel.Tags) == 0 && literal {
		return append(slices.Clone(sel.Names), sel.IDs...), nil
	}
	var names []string
	var all []string
	in := &s3.ListBucketsInput{MaxBuckets: aws.Int32(1000)}
	for {
		out, err := c.ListBuckets(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list buckets: %w", err)
		}
		for _, b := range out.Buckets {
			all = append(all, aws.ToString(b.Name))
		}
		if aws.ToString(out.ContinuationToken) == "" {
			break
		}
		in.ContinuationToken = out.ContinuationToken
	}
	var skipped error
	if len(all) > maxTaggedBuckets {
		skipped = fmt.Errorf("only the first %d of %d buckets were checked for tags; bind the app's buckets by name", maxTaggedBuckets, len(all))
		all = all[:maxTaggedBuckets]
	}
	for _, b := range all {
		// Cheap checks first: tags cost one call per bucket.
		if (len(sel.Names) > 0 || len(sel.IDs) > 0) &&
			!(tasks.Selector{Names: sel.Names, IDs: sel.IDs}).Matches(tasks.Candidate{ID: b, ARN: "arn:aws:s3:::" + b}) {
			continue
		}
		if len(sel.Tags) == 0 {
			names = append(names, b)
			continue
		}
		out, err := c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String(b)})
		var ae smithy.APIError
		switch {
		case errors.As(err, &ae) && (ae.ErrorCode() == "NoSuchTagSet" || ae.ErrorCode() == "NoSuchBucket"):
			continue
		case err != nil:
			return names, fmt.Errorf("read tags of bucket %s: %w", b, err)
		}
		has := map[string]string{}
		for _, t := range out.TagSet {
			has[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
		if (tasks.Selector{Tags: sel.Tags}).Matches(tasks.Candidate{ID: b, Tags: has}) {
			names = append(names, b)
		}
	}
	return names, skipped
}
