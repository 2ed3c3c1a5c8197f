package aws

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/tasks"
)

// S3API is the part of the S3 API the s3.* actions call.
type S3API interface {
	ListBuckets(context.Context, *s3.ListBucketsInput, ...func(*s3.Options)) (*s3.ListBucketsOutput, error)
	GetBucketTagging(context.Context, *s3.GetBucketTaggingInput, ...func(*s3.Options)) (*s3.GetBucketTaggingOutput, error)
	GetPublicAccessBlock(context.Context, *s3.GetPublicAccessBlockInput, ...func(*s3.Options)) (*s3.GetPublicAccessBlockOutput, error)
	PutPublicAccessBlock(context.Context, *s3.PutPublicAccessBlockInput, ...func(*s3.Options)) (*s3.PutPublicAccessBlockOutput, error)
	GetBucketEncryption(context.Context, *s3.GetBucketEncryptionInput, ...func(*s3.Options)) (*s3.GetBucketEncryptionOutput, error)
	PutBucketEncryption(context.Context, *s3.PutBucketEncryptionInput, ...func(*s3.Options)) (*s3.PutBucketEncryptionOutput, error)
	GetBucketVersioning(context.Context, *s3.GetBucketVersioningInput, ...func(*s3.Options)) (*s3.GetBucketVersioningOutput, error)
	PutBucketVersioning(context.Context, *s3.PutBucketVersioningInput, ...func(*s3.Options)) (*s3.PutBucketVersioningOutput, error)
	GetBucketPolicy(context.Context, *s3.GetBucketPolicyInput, ...func(*s3.Options)) (*s3.GetBucketPolicyOutput, error)
	PutBucketPolicy(context.Context, *s3.PutBucketPolicyInput, ...func(*s3.Options)) (*s3.PutBucketPolicyOutput, error)
	DeleteBucketPolicy(context.Context, *s3.DeleteBucketPolicyInput, ...func(*s3.Options)) (*s3.DeleteBucketPolicyOutput, error)
	GetObjectLockConfiguration(context.Context, *s3.GetObjectLockConfigurationInput, ...func(*s3.Options)) (*s3.GetObjectLockConfigurationOutput, error)
	ListObjectVersions(context.Context, *s3.ListObjectVersionsInput, ...func(*s3.Options)) (*s3.ListObjectVersionsOutput, error)
	DeleteObjects(context.Context, *s3.DeleteObjectsInput, ...func(*s3.Options)) (*s3.DeleteObjectsOutput, error)
	DeleteBucket(context.Context, *s3.DeleteBucketInput, ...func(*s3.Options)) (*s3.DeleteBucketOutput, error)
}

var _ S3API = (*s3.Client)(nil)

// S3Client builds the client for one invocation's config.
type S3Client func(awssdk.Config) S3API

// SDKS3 is the production S3Client. A custom endpoint (an emulator, a
// proxy) gets path-style addressing: virtual hosts need DNS it lacks.
func SDKS3(cfg awssdk.Config) S3API {
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = cfg.BaseEndpoint != nil })
}

// S3Actions returns the s3.* actions.
func S3Actions(newClient S3Client) []tasks.Action {
	bucketParam := tasks.Param{Name: "bucket", Type: tasks.TypeString, Required: true, Description: "bucket name (one of the app's buckets)"}
	principalParam := tasks.Param{Name: "principal", Type: tasks.TypeString, Required: true, Description: "IAM role or user ARN"}
	list := []string{"s3:ListAllMyBuckets", "s3:GetBucketTagging"}
	return withChoices("bucket", func(ctx context.Context, inv tasks.Invocation) ([]tasks.Choice, error) {
		return bucketChoices(ctx, newClient(inv.AWS), inv.Target)
	}, forTarget("s3:bucket",
		&stepAction{
			name: "s3.describe", verb: "described", noun: "buckets",
			iam: append(slices.Clip(list), "s3:GetBucketPublicAccessBlock", "s3:GetEncryptionConfiguration", "s3:GetBucketVersioning", "s3:GetBucketPolicy"),
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				c := newClient(inv.AWS)
				return bucketPlan(ctx, c, inv, "describe", func(bucket string) (decision, error) {
					return decision{Run: func(ctx context.Context) (string, error) { return describeBucket(ctx, c, bucket) }}, nil
				})
			},
		},
		&stepAction{
			name: "s3.block-public-access", mutating: true, verb: "blocked public access on", noun: "buckets",
			iam: append(slices.Clip(list), "s3:GetBucketPublicAccessBlock", "s3:PutBucketPublicAccessBlock"),
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				c := newClient(inv.AWS)
				return bucketPlan(ctx, c, inv, "block public access", func(bucket string) (decision, error) {
					pab, err := publicAccessBlock(ctx, c, bucket)
					if err != nil {
						return decision{}, err
					}
					if pabText(pab) == "all blocked" {
						return decision{Skip: "public access is already blocked"}, nil
					}
					return decision{Detail: "now: " + pabText(pab), Run: func(ctx context.Context) (string, error) {
						t := awssdk.Bool(true)
						_, err := c.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: awssdk.String(bucket), PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{
							BlockPublicAcls: t, IgnorePublicAcls: t, BlockPublicPolicy: t, RestrictPublicBuckets: t}})
						if err != nil {
							return "", err
						}
						return "all four public access block settings on", nil
					}}, nil
				})
			},
		},
		&stepAction{
			name: "s3.enable-encryption", mutating: true, verb: "encrypted", noun: "buckets",
			iam: append(slices.Clip(list), "s3:GetEncryptionConfiguration", "s3:PutEncryptionConfiguration"),
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				c := newClient(inv.AWS)
				return bucketPlan(ctx, c, inv, "enable default encryption (SSE-S3)", func(bucket string) (decision, error) {
					enc, err := bucketEncryption(ctx, c, bucket)
					if err != nil {
						return decision{}, err
					}
					if enc != "none" {
						return decision{Skip: "default encryption is already " + enc}, nil
					}
					return decision{Run: func(ctx context.Context) (string, error) {
						_, err := c.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: awssdk.String(bucket), ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{
							Rules: []s3types.ServerSideEncryptionRule{{ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAes256}}}}})
						if err != nil {
							return "", err
						}
						return "default encryption AES256 (SSE-S3) for new objects", nil
					}}, nil
				})
			},
		},
		&stepAction{
			name: "s3.enable-versioning", mutating: true, verb: "versioned", noun: "buckets",
			iam: append(slices.Clip(list), "s3:GetBucketVersioning", "s3:PutBucketVersioning"),
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				c := newClient(inv.AWS)
				return bucketPlan(ctx, c, inv, "enable versioning", func(bucket string) (decision, error) {
					v, err := c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: awssdk.String(bucket)})
					if err != nil {
						return decision{}, onResource(bucket, fmt.Errorf("get versioning of %s: %w", bucket, err))
					}
					if v.Status == s3types.BucketVersioningStatusEnabled {
						return decision{Skip: "versioning is already enabled"}, nil
					}
					return decision{Detail: "now: " + versioningText(v.Status), Run: func(ctx context.Context) (string, error) {
						_, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: awssdk.String(bucket),
							VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}})
						if err != nil {
							return "", err
						}
						return "versioning enabled", nil
					}}, nil
				})
			},
		},
		&stepAction{
			name: "s3.revoke-principal", mutating: true, verb: "revoked access on", noun: "buckets", parallel: s3Parallel,
			iam: []string{"s3:ListAllMyBuckets", "s3:GetBucketTagging", "s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy"},
			params: []tasks.Param{
				{Name: "bucket", Type: tasks.TypeString, Description: "bucket name (one of the app's buckets); leave out to revoke from every bucket of the app"},
				principalParam},
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				c := newClient(inv.AWS)
				principal, err := stringValue(inv.Values, "principal", "")
				if err != nil {
					return tasks.Plan{}, nil, err
				}
				bucket, err := stringValue(inv.Values, "bucket", "")
				if err != nil {
					return tasks.Plan{}, nil, err
				}
				if bucket == "" {
					if !principalRe.MatchString(principal) {
						return tasks.Plan{}, nil, principalError(principal)
					}
					return revokeEverywherePlan(ctx, c, inv, principal)
				}
				return policyPlan(ctx, c, inv, "revoke "+principal, func(p *bucketPolicy) ([]string, error) {
					return p.removePrincipal(principal), nil
				})
			},
		},
		&stepAction{
			name: "s3.expire-grants", mutating: true, verb: "removed expired grants on", noun: "buckets", parallel: s3Parallel,
			iam: []string{"s3:ListAllMyBuckets", "s3:GetBucketTagging", "s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy"},
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				return expireGrantsPlan(ctx, newClient(inv.AWS), inv)
			},
		},
		teardownAction(newClient, bucketParam),
		&stepAction{
			name: "s3.grant-read", mutating: true, verb: "granted read on", noun: "buckets",
			iam: []string{"s3:GetBucketTagging", "s3:GetBucketPolicy", "s3:PutBucketPolicy"},
			params: []tasks.Param{bucketParam, principalParam, {Name: "duration", Type: tasks.TypeDuration, Default: "24h", Min: bound(60), Max: bound(90 * 24 * 3600),
				Description: "how long the access lasts"}},
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				c := newClient(inv.AWS)
				principal, err := stringValue(inv.Values, "principal", "")
				if err != nil {
					return tasks.Plan{}, nil, err
				}
				d, err := durationValue(inv.Values, "duration", 24*time.Hour)
				if err != nil {
					return tasks.Plan{}, nil, err
				}
				bucket, err := stringValue(inv.Values, "bucket", "")
				if err != nil {
					return tasks.Plan{}, nil, err
				}
				expiry := inv.Now.Add(d).UTC().Truncate(time.Second)
				return policyPlan(ctx, c, inv, fmt.Sprintf("grant %s read until %s", principal, expiry.Format(time.RFC3339)), func(p *bucketPolicy) ([]string, error) {
					return p.grantRead(bucket, principal, expiry)
				})
			},
		},
	))
}

// bucketPlan plans a per-bucket change over the selected buckets; decide
// may read the bucket (a read error fails the plan: nothing was changed).
func bucketPlan(ctx context.Context, c S3API, inv tasks.Invocation, verb string, decide func(bucket string) (decision, error)) (tasks.Plan, []step, error) {
	buckets, err := selectBuckets(ctx, c, inv.Target)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	b := planBuilder{verb: verb, noun: "buckets"}
	for _, name := range buckets {
		d, err := decide(name)
		if err != nil {
			return tasks.Plan{}, nil, err
		}
		b.add(name, "", d)
	}
	return b.plan(), b.steps, nil
}

// selectBuckets lists buckets (paginated) and keeps the selected ones,
// reading tags only when the selector needs them.
func selectBuckets(ctx context.Context, c S3API, sel tasks.Selector) ([]string, error) {
	if err := checkSelector(sel); err != nil {
		return nil, err
	}
	var candidates []string
	p := s3.NewListBucketsPaginator(c, &s3.ListBucketsInput{MaxBuckets: awssdk.Int32(1000)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list buckets: %w", err)
		}
		for _, b := range page.Buckets {
			name := awssdk.ToString(b.Name)
			// Cheap checks first: tags cost one call per bucket.
			if selects(tasks.Selector{IDs: sel.IDs, Names: sel.Names}, name, "arn:aws:s3:::"+name, nil) {
				candidates = append(candidates, name)
			}
		}
	}
	// A lab's binding may hold hundreds of buckets: read their tags in
	// parallel, keep the listing's order.
	match := make([]bool, len(candidates))
	errs := parallelDo(ctx, len(candidates), s3Parallel, func(ctx context.Context, i int) error {
		ok, err := bucketTagsMatch(ctx, c, sel, candidates[i])
		match[i] = ok
		return err
	})
	var out []string
	for i, name := range candidates {
		if errs[i] != nil {
			return nil, errs[i]
		}
		if match[i] {
			out = append(out, name)
		}
	}
	return out, nil
}

func bucketTagsMatch(ctx context.Context, c S3API, sel tasks.Selector, bucket string) (bool, error) {
	if len(sel.Tags) == 0 {
		return true, nil
	}
	tags := map[string]string{}
	out, err := c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: awssdk.String(bucket)})
	switch {
	case ErrorCode(err) == "NoSuchTagSet":
	case err != nil:
		return false, onResource(bucket, fmt.Errorf("get tags of bucket %s: %w", bucket, err))
	default:
		for _, t := range out.TagSet {
			tags[awssdk.ToString(t.Key)] = awssdk.ToString(t.Value)
		}
	}
	return selects(tasks.Selector{Tags: sel.Tags}, bucket, "", tags), nil
}

// bucketChoices are the names of the selected buckets.
func bucketChoices(ctx context.Context, c S3API, sel tasks.Selector) ([]tasks.Choice, error) {
	names, err := selectBuckets(ctx, c, sel)
	if err != nil {
		return nil, err
	}
	out := make([]tasks.Choice, len(names))
	for i, n := range names {
		out[i] = tasks.Choice{Value: n}
	}
	return out, nil
}

// checkBucketParam checks that the bucket named by the "bucket" parameter
// is one the app's selector matches.
func checkBucketParam(ctx context.Context, c S3API, inv tasks.Invocation) (string, error) {
	bucket, err := stringValue(inv.Values, "bucket", "")
	if err != nil {
		return "", err
	}
	if bucket == "" {
		return "", errs.E(tasks.ParamOp("bucket"), errs.Invalid, "bucket is required: name one of the app's buckets")
	}
	if err := checkSelector(inv.Target); err != nil {
		return "", err
	}
	if !selects(tasks.Selector{IDs: inv.Target.IDs, Names: inv.Target.Names}, bucket, "arn:aws:s3:::"+bucket, nil) {
		return "", errs.E("find bucket", errs.NotFound, "bucket %q is not one of this app's buckets (%s)", bucket, selectorText(inv.Target))
	}
	ok, err := bucketTagsMatch(ctx, c, inv.Target, bucket)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", errs.E("find bucket", errs.NotFound, "bucket %q is not one of this app's buckets (%s)", bucket, selectorText(inv.Target))
	}
	return bucket, nil
}

// policyPlan plans an edit of one bucket's policy: edit changes the parsed
// policy and returns the lines describing each statement it changed.
func policyPlan(ctx context.Context, c S3API, inv tasks.Invocation, verb string, edit func(*bucketPolicy) ([]string, error)) (tasks.Plan, []step, error) {
	bucket, err := checkBucketParam(ctx, c, inv)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	if principal, err := stringValue(inv.Values, "principal", ""); err != nil || !principalRe.MatchString(principal) {
		return tasks.Plan{}, nil, principalError(principal)
	}
	raw := ""
	out, err := c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: awssdk.String(bucket)})
	switch {
	case ErrorCode(err) == "NoSuchBucketPolicy":
	case err != nil:
		return tasks.Plan{}, nil, onResource(bucket, fmt.Errorf("get policy of bucket %s: %w", bucket, err))
	default:
		raw = awssdk.ToString(out.Policy)
	}
	p, err := parseBucketPolicy(raw)
	if err != nil {
		return tasks.Plan{}, nil, fmt.Errorf("bucket %s: %w", bucket, err)
	}
	lines, err := edit(p)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	b := planBuilder{verb: verb, noun: "buckets"}
	if len(lines) == 0 {
		b.add(bucket, "", decision{Skip: "the policy already says so: nothing to change"})
		return b.plan(), b.steps, nil
	}
	doc, err := p.marshal()
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	b.add(bucket, strings.Join(lines, "\n"), decision{Run: func(ctx context.Context) (string, error) {
		if doc == "" { // no statement left: a policy must have one
			if _, err := c.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: awssdk.String(bucket)}); err != nil {
				return "", err
			}
			return "bucket policy deleted (no statement left)", nil
		}
		if _, err := c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: awssdk.String(bucket), Policy: awssdk.String(doc)}); err != nil {
			return "", err
		}
		return strings.Join(lines, "\n"), nil
	}})
	return b.plan(), b.steps, nil
}

func principalError(principal string) error {
	return errs.E(tasks.ParamOp("principal"), errs.Invalid, "%s", "principal must be an IAM role or user ARN like arn:aws:iam::123456789012:role/name, got "+tasks.QuoteInput(principal))
}

// describeBucket is the one-line security posture of a bucket. Each field
// is read on its own: a call the endpoint does not support (or refuses)
// marks that field "unavailable (API: reason)" instead of failing the row.
func describeBucket(ctx context.Context, c S3API, bucket string) (string, error) {
	field := func(v string, err error) (string, error) {
		if err == nil {
			return v, nil
		}
		var api smithy.APIError
		if !errors.As(err, &api) {
			return "", err // not an AWS answer: a real failure
		}
		_, op := operationOf(err)
		return fmt.Sprintf("unavailable (%s: %s)", op, api.ErrorCode()), nil
	}
	pab, err := field(func() (string, error) {
		p, err := publicAccessBlock(ctx, c, bucket)
		return pabText(p), err
	}())
	if err != nil {
		return "", err
	}
	enc, err := field(bucketEncryption(ctx, c, bucket))
	if err != nil {
		return "", err
	}
	ver, err := field(func() (string, error) {
		v, err := c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: awssdk.String(bucket)})
		if err != nil {
			return "", onResource(bucket, fmt.Errorf("get versioning of %s: %w", bucket, err))
		}
		return versioningText(v.Status), nil
	}())
	if err != nil {
		return "", err
	}
	principals, err := field(func() (string, error) {
		out, err := c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: awssdk.String(bucket)})
		switch {
		case ErrorCode(err) == "NoSuchBucketPolicy":
			return "no policy", nil
		case err != nil:
			return "", onResource(bucket, fmt.Errorf("get policy of %s: %w", bucket, err))
		}
		p, err := parseBucketPolicy(awssdk.ToString(out.Policy))
		if err != nil {
			return "", fmt.Errorf("bucket %s: %w", bucket, err)
		}
		return "policy principals: " + strings.Join(p.principals(), ", "), nil
	}())
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("public access block: %s; encryption: %s; versioning: %s; %s", pab, enc, ver, principals), nil
}

func publicAccessBlock(ctx context.Context, c S3API, bucket string) (*s3types.PublicAccessBlockConfiguration, error) {
	out, err := c.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: awssdk.String(bucket)})
	if ErrorCode(err) == "NoSuchPublicAccessBlockConfiguration" {
		return nil, nil
	}
	if err != nil {
		return nil, onResource(bucket, fmt.Errorf("get public access block of %s: %w", bucket, err))
	}
	return out.PublicAccessBlockConfiguration, nil
}

func pabText(c *s3types.PublicAccessBlockConfiguration) string {
	if c == nil {
		return "none"
	}
	var off []string
	for _, f := range []struct {
		name string
		on   *bool
	}{{"BlockPublicAcls", c.BlockPublicAcls}, {"IgnorePublicAcls", c.IgnorePublicAcls}, {"BlockPublicPolicy", c.BlockPublicPolicy}, {"RestrictPublicBuckets", c.RestrictPublicBuckets}} {
		if !awssdk.ToBool(f.on) {
			off = append(off, f.name)
		}
	}
	if len(off) == 0 {
		return "all blocked"
	}
	return "off: " + strings.Join(off, ", ")
}

func bucketEncryption(ctx context.Context, c S3API, bucket string) (string, error) {
	out, err := c.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: awssdk.String(bucket)})
	if ErrorCode(err) == "ServerSideEncryptionConfigurationNotFoundError" {
		return "none", nil
	}
	if err != nil {
		return "", onResource(bucket, fmt.Errorf("get encryption of %s: %w", bucket, err))
	}
	if out.ServerSideEncryptionConfiguration == nil || len(out.ServerSideEncryptionConfiguration.Rules) == 0 ||
		out.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault == nil {
		return "none", nil
	}
	return string(out.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm), nil
}

func versioningText(s s3types.BucketVersioningStatus) string {
	if s == "" {
		return "never enabled"
	}
	return string(s)
}
