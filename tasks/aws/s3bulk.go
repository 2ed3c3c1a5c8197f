package aws

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/day2bot/day2bot/tasks"
)

// Bucket policy edits across every bucket of the binding: a research lab
// owns hundreds of buckets, and removing one person's access means editing
// each bucket's policy. Reads and writes go s3Parallel at a time; each
// bucket has its own result, so three refused writes are three failed
// rows next to the 297 that went through, not one error for the lot.

// s3Parallel is how many buckets are read or written at once: enough to
// turn minutes into seconds for hundreds of buckets, far below S3's
// per-prefix request rates.
const s3Parallel = 16

// parallelDo calls fn(i) for i in [0, n), at most limit at once, and
// returns the errors by index.
func parallelDo(ctx context.Context, n, limit int, fn func(ctx context.Context, i int) error) []error {
	errs := make([]error, n)
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for i := range n {
		if err := ctx.Err(); err != nil {
			errs[i] = context.Cause(ctx)
			continue
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			errs[i] = fn(ctx, i)
		})
	}
	wg.Wait()
	return errs
}

// policyEdit changes one bucket's parsed policy and describes each change.
type policyEdit func(bucket string, p *bucketPolicy) ([]string, error)

// bulkPolicyPlan reads the policy of every bucket (in parallel) and plans
// edit on each. A bucket whose policy cannot be read or parsed is not a
// reason to leave the others as they are: it gets a step that reports the
// read error, so the run lists it as failed.
func bulkPolicyPlan(ctx context.Context, c S3API, buckets []string, verb string, edit policyEdit) (tasks.Plan, []step, error) {
	type read struct {
		lines []string
		doc   string
		err   error
	}
	reads := make([]read, len(buckets))
	errs := parallelDo(ctx, len(buckets), s3Parallel, func(ctx context.Context, i int) error {
		p, err := readBucketPolicy(ctx, c, buckets[i])
		if err != nil {
			reads[i].err = err
			return nil
		}
		lines, err := edit(buckets[i], p)
		if err != nil {
			return err
		}
		doc, err := p.marshal()
		if err != nil {
			return err
		}
		reads[i] = read{lines: lines, doc: doc}
		return nil
	})
	for _, err := range errs {
		if err != nil {
			return tasks.Plan{}, nil, err
		}
	}
	b := planBuilder{verb: verb, noun: "buckets"}
	for i, bucket := range buckets {
		r := reads[i]
		switch {
		case r.err != nil:
			err := r.err
			b.add(bucket, "", decision{Action: "cannot read policy", Detail: err.Error(), Run: func(context.Context) (string, error) { return "", err }})
		case len(r.lines) == 0:
			b.add(bucket, "", decision{Skip: "nothing to change"})
		default:
			b.add(bucket, strings.Join(r.lines, "\n"), decision{Run: writePolicy(c, bucket, r.doc, r.lines)})
		}
	}
	return b.plan(), b.steps, nil
}

// readBucketPolicy reads and parses a bucket's policy ("no policy" is an
// empty one).
func readBucketPolicy(ctx context.Context, c S3API, bucket string) (*bucketPolicy, error) {
	raw := ""
	out, err := c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: awssdk.String(bucket)})
	switch {
	case ErrorCode(err) == "NoSuchBucketPolicy":
	case err != nil:
		return nil, fmt.Errorf("get policy of bucket %s: %w", bucket, err)
	default:
		raw = awssdk.ToString(out.Policy)
	}
	p, err := parseBucketPolicy(raw)
	if err != nil {
		return nil, fmt.Errorf("bucket %s: %w", bucket, err)
	}
	return p, nil
}

// writePolicy is the step that stores an edited policy; doc "" deletes it
// (a policy must keep at least one statement).
func writePolicy(c S3API, bucket, doc string, lines []string) step {
	return func(ctx context.Context) (string, error) {
		if doc == "" {
			if _, err := c.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: awssdk.String(bucket)}); err != nil {
				return "", err
			}
			return "bucket policy deleted (no statement left)", nil
		}
		if _, err := c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: awssdk.String(bucket), Policy: awssdk.String(doc)}); err != nil {
			return "", err
		}
		return strings.Join(lines, "\n"), nil
	}
}

// revokeEverywherePlan removes principal from every bucket of the binding.
func revokeEverywherePlan(ctx context.Context, c S3API, inv tasks.Invocation, principal string) (tasks.Plan, []step, error) {
	buckets, err := selectBuckets(ctx, c, inv.Target)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	return bulkPolicyPlan(ctx, c, buckets, "revoke "+principal, func(_ string, p *bucketPolicy) ([]string, error) {
		return p.removePrincipal(principal), nil
	})
}

// expireGrantsPlan removes every grant-read statement whose end has passed.
func expireGrantsPlan(ctx context.Context, c S3API, inv tasks.Invocation) (tasks.Plan, []step, error) {
	buckets, err := selectBuckets(ctx, c, inv.Target)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	return bulkPolicyPlan(ctx, c, buckets, "remove expired grants", func(_ string, p *bucketPolicy) ([]string, error) {
		return p.removeExpiredGrants(inv.Now), nil
	})
}

// removeExpiredGrants drops day2bot's grant statements whose
// aws:CurrentTime bound is not after now. The Condition, not the Sid, is
// what AWS enforces, so it is what is read; statements day2bot did not
// write (no "day2bot-grant-" Sid) are never touched, whatever they say.
func (p *bucketPolicy) removeExpiredGrants(now time.Time) []string {
	var lines []string
	kept := p.statements[:0:0]
	for i, st := range p.statements {
		var sid string
		_ = json.Unmarshal(st["Sid"], &sid)
		end, ok := grantEnd(st)
		if !strings.HasPrefix(sid, "day2bot-grant-") || !ok || end.After(now) {
			kept = append(kept, st)
			continue
		}
		aws, _ := awsPrincipals(st)
		lines = append(lines, fmt.Sprintf("- remove statement %s: read for %s ended %s", statementName(st, i), strings.Join(aws, ", "), end.UTC().Format(time.RFC3339)))
	}
	p.statements = kept
	return lines
}

// grantEnd reads Condition.DateLessThan["aws:CurrentTime"].
func grantEnd(st map[string]json.RawMessage) (time.Time, bool) {
	var cond struct {
		DateLessThan map[string]string
	}
	if json.Unmarshal(st["Condition"], &cond) != nil {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, cond.DateLessThan["aws:CurrentTime"])
	return t, err == nil
}
