package aws

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kinesistypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/tasks"
)

// KinesisAPI is the part of the Kinesis Data Streams API the kinesis.*
// actions call.
type KinesisAPI interface {
	ListStreams(context.Context, *kinesis.ListStreamsInput, ...func(*kinesis.Options)) (*kinesis.ListStreamsOutput, error)
	DescribeStreamSummary(context.Context, *kinesis.DescribeStreamSummaryInput, ...func(*kinesis.Options)) (*kinesis.DescribeStreamSummaryOutput, error)
	ListTagsForStream(context.Context, *kinesis.ListTagsForStreamInput, ...func(*kinesis.Options)) (*kinesis.ListTagsForStreamOutput, error)
	ListStreamConsumers(context.Context, *kinesis.ListStreamConsumersInput, ...func(*kinesis.Options)) (*kinesis.ListStreamConsumersOutput, error)
	UpdateShardCount(context.Context, *kinesis.UpdateShardCountInput, ...func(*kinesis.Options)) (*kinesis.UpdateShardCountOutput, error)
	IncreaseStreamRetentionPeriod(context.Context, *kinesis.IncreaseStreamRetentionPeriodInput, ...func(*kinesis.Options)) (*kinesis.IncreaseStreamRetentionPeriodOutput, error)
	DecreaseStreamRetentionPeriod(context.Context, *kinesis.DecreaseStreamRetentionPeriodInput, ...func(*kinesis.Options)) (*kinesis.DecreaseStreamRetentionPeriodOutput, error)
}

var _ KinesisAPI = (*kinesis.Client)(nil)

// KinesisClient builds the clients for one invocation's config.
type KinesisClient func(awssdk.Config) (KinesisAPI, MetricDataAPI)

// SDKKinesis is the production KinesisClient.
func SDKKinesis(cfg awssdk.Config) (KinesisAPI, MetricDataAPI) {
	return kinesis.NewFromConfig(cfg), cloudwatch.NewFromConfig(cfg)
}

// kinesisWaitParam bounds the wait for a resharded stream to be ACTIVE.
var kinesisWaitParam = tasks.Param{Name: "wait", Type: tasks.TypeDuration, Default: "30m", Min: bound(60), Max: bound(7200),
	Description: "longest wait for the stream to be ACTIVE with its new shard count; AWS goes on after that"}

// KinesisActionsWith are the kinesis.* actions with the pace a reshard
// waits for the stream at.
func KinesisActionsWith(newClient KinesisClient, pace Pace) []tasks.Action {
	read := []string{"kinesis:ListStreams", "kinesis:ListTagsForStream", "kinesis:DescribeStreamSummary"}
	return forTarget("kinesis:stream",
		&stepAction{
			name: "kinesis.describe", verb: "described", noun: "streams",
			iam: append(slices.Clone(read), "kinesis:ListStreamConsumers", "cloudwatch:GetMetricData"),
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				c, cw := newClient(inv.AWS)
				return streamPlan(ctx, c, inv, "describe", func(s kinesisStream) decision {
					return decision{Run: func(ctx context.Context) (string, error) { return describeStream(ctx, c, cw, s, inv.Now) }}
				})
			},
		},
		&stepAction{
			name: "kinesis.set-shards", mutating: true, verb: "resharded", noun: "streams",
			iam: append(slices.Clone(read), "kinesis:UpdateShardCount"),
			params: []tasks.Param{{Name: "shards", Type: tasks.TypeInt, Required: true, Min: bound(1), Max: bound(10000),
				Description: "open shards the stream should have; AWS allows half to double the current count in one step"}, kinesisWaitParam},
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				return reshardPlan(ctx, newClient, pace, inv)
			},
		},
		&stepAction{
			name: "kinesis.set-retention", mutating: true, verb: "set retention of", noun: "streams",
			iam: append(slices.Clone(read), "kinesis:IncreaseStreamRetentionPeriod", "kinesis:DecreaseStreamRetentionPeriod"),
			params: []tasks.Param{{Name: "retention", Type: tasks.TypeDuration, Required: true, Min: bound(24 * 3600), Max: bound(8760 * 3600),
				Description: "how long records stay readable, in whole hours (24h to 365d)"}},
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				c, _ := newClient(inv.AWS)
				r, err := durationValue(inv.Values, "retention", 24*time.Hour)
				if err != nil {
					return tasks.Plan{}, nil, err
				}
				if r%time.Hour != 0 {
					return tasks.Plan{}, nil, errs.E(tasks.ParamOp("retention"), errs.Invalid, "retention %s is not a whole number of hours, which is all Kinesis keeps", tasks.FormatDuration(r))
				}
				hours := int32(r / time.Hour)
				return streamPlan(ctx, c, inv, "keep records "+tasks.FormatDuration(r)+" in", func(s kinesisStream) decision {
					switch {
					case s.retention == hours:
						return decision{Skip: "already keeps records " + tasks.FormatDuration(r)}
					case s.status != kinesistypes.StreamStatusActive:
						return decision{Skip: "is " + string(s.status) + ": wait for the current change to finish"}
					}
					old := tasks.FormatDuration(time.Duration(s.retention) * time.Hour)
					d := decision{Detail: "now " + old, Run: func(ctx context.Context) (string, error) {
						var err error
						if hours > s.retention {
							_, err = c.IncreaseStreamRetentionPeriod(ctx, &kinesis.IncreaseStreamRetentionPeriodInput{StreamARN: awssdk.String(s.arn), RetentionPeriodHours: awssdk.Int32(hours)})
						} else {
							_, err = c.DecreaseStreamRetentionPeriod(ctx, &kinesis.DecreaseStreamRetentionPeriodInput{StreamARN: awssdk.String(s.arn), RetentionPeriodHours: awssdk.Int32(hours)})
						}
						if err != nil {
							return "", err
						}
						return old + " -> " + tasks.FormatDuration(r), nil
					}}
					if hours < s.retention {
						d.Detail += "; records older than " + tasks.FormatDuration(r) + " become unreadable"
					}
					return d
				})
			},
		},
	)
}

// kinesisStream is what the actions read of a stream.
type kinesisStream struct {
	name, arn string
	status    kinesistypes.StreamStatus
	onDemand  bool
	shards    int
	retention int32 // hours
	consumers int
}

func (s kinesisStream) text() string {
	mode := "provisioned"
	if s.onDemand {
		mode = "on-demand"
	}
	return fmt.Sprintf("%s, %s, %d open shards, retention %s", s.status, mode, s.shards, tasks.FormatDuration(time.Duration(s.retention)*time.Hour))
}

// selectStreams lists the account's streams, keeps the candidates the ids
// and names allow, and reads each one's tags and summary: the tags AWS
// reports decide whether it is the app's.
func selectStreams(ctx context.Context, c KinesisAPI, sel tasks.Selector) ([]kinesisStream, error) {
	if err := checkSelector(sel); err != nil {
		return nil, err
	}
	var out []kinesisStream
	p := kinesis.NewListStreamsPaginator(c, &kinesis.ListStreamsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list streams: %w", err)
		}
		for _, sum := range page.StreamSummaries {
			name, arn := awssdk.ToString(sum.StreamName), awssdk.ToString(sum.StreamARN)
			if !selects(tasks.Selector{IDs: sel.IDs, Names: sel.Names}, name, arn, nil) {
				continue
			}
			tags, err := streamTags(ctx, c, arn)
			if isNotFound(err) {
				continue // deleted since the listing
			}
			if err != nil {
				return nil, fmt.Errorf("list tags of stream %s: %w", name, err)
			}
			if !selects(sel, name, arn, tags) {
				continue
			}
			d, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamARN: awssdk.String(arn)})
			if err != nil {
				return nil, fmt.Errorf("describe stream %s: %w", name, err)
			}
			out = append(out, streamOf(d.StreamDescriptionSummary))
		}
	}
	slices.SortFunc(out, func(a, b kinesisStream) int { return strings.Compare(a.name, b.name) })
	return out, nil
}

func streamOf(s *kinesistypes.StreamDescriptionSummary) kinesisStream {
	return kinesisStream{name: awssdk.ToString(s.StreamName), arn: awssdk.ToString(s.StreamARN), status: s.StreamStatus,
		onDemand: s.StreamModeDetails != nil && s.StreamModeDetails.StreamMode == kinesistypes.StreamModeOnDemand,
		shards:   int(awssdk.ToInt32(s.OpenShardCount)), retention: awssdk.ToInt32(s.RetentionPeriodHours), consumers: int(awssdk.ToInt32(s.ConsumerCount))}
}

// streamTags reads all of a stream's tags (ListTagsForStream pages by key).
func streamTags(ctx context.Context, c KinesisAPI, arn string) (map[string]string, error) {
	tags := map[string]string{}
	in := &kinesis.ListTagsForStreamInput{StreamARN: awssdk.String(arn)}
	for {
		out, err := c.ListTagsForStream(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, t := range out.Tags {
			tags[awssdk.ToString(t.Key)] = awssdk.ToString(t.Value)
		}
		if !awssdk.ToBool(out.HasMoreTags) || len(out.Tags) == 0 {
			return tags, nil
		}
		in.ExclusiveStartTagKey = out.Tags[len(out.Tags)-1].Key
	}
}

func streamPlan(ctx context.Context, c KinesisAPI, inv tasks.Invocation, verb string, decide func(kinesisStream) decision) (tasks.Plan, []step, error) {
	ss, err := selectStreams(ctx, c, inv.Target)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	b := planBuilder{verb: verb, noun: "streams"}
	for _, s := range ss {
		b.add(s.name, s.text(), decide(s))
	}
	return b.plan(), b.steps, nil
}

func describeStream(ctx context.Context, c KinesisAPI, cw MetricDataAPI, s kinesisStream, now time.Time) (string, error) {
	parts := []string{s.text()}
	var cs []string
	p := kinesis.NewListStreamConsumersPaginator(c, &kinesis.ListStreamConsumersInput{StreamARN: awssdk.String(s.arn)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return "", fmt.Errorf("list consumers of stream %s: %w", s.name, err)
		}
		for _, co := range page.Consumers {
			t := awssdk.ToString(co.ConsumerName)
			if co.ConsumerStatus != kinesistypes.ConsumerStatusActive {
				t += " (" + string(co.ConsumerStatus) + ")"
			}
			cs = append(cs, t)
		}
	}
	if len(cs) == 0 {
		parts = append(parts, "no enhanced fan-out consumers")
	} else {
		parts = append(parts, "consumers "+strings.Join(cs, ", "))
	}
	age, err := iteratorAge(ctx, cw, s.name, now)
	if err != nil {
		return "", err
	}
	return strings.Join(append(parts, "iterator age (max, 15m) "+age), "; "), nil
}

// iteratorAge reads AWS/Kinesis GetRecords.IteratorAgeMilliseconds: how
// far behind the slowest reader is.
func iteratorAge(ctx context.Context, cw MetricDataAPI, name string, now time.Time) (string, error) {
	age, seen, err := recentMax(ctx, cw, "AWS/Kinesis", "GetRecords.IteratorAgeMilliseconds", "StreamName", name, now)
	if err != nil || !seen {
		return "no data", err
	}
	return (time.Duration(age) * time.Millisecond).String(), nil
}

// reshardPlan sets each stream's open shard count in one UNIFORM_SCALING
// step and waits until the stream is ACTIVE with it. The plan applies
// AWS's rules (provisioned streams only, ACTIVE, half to double the
// current count), so what it shows is what AWS accepts.
func reshardPlan(ctx context.Context, newClient KinesisClient, pace Pace, inv tasks.Invocation) (tasks.Plan, []step, error) {
	c, _ := newClient(inv.AWS)
	n, err := intValue(inv.Values, "shards", 0)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	wait, err := durationValue(inv.Values, "wait", 30*time.Minute)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	return streamPlan(ctx, c, inv, fmt.Sprintf("set %d open shards on", n), func(s kinesisStream) decision {
		switch {
		case s.onDemand:
			return decision{Skip: "on-demand: AWS sets its shards"}
		case s.status != kinesistypes.StreamStatusActive:
			return decision{Skip: "is " + string(s.status) + ": wait for the current change to finish"}
		case s.shards == n:
			return decision{Skip: fmt.Sprintf("already has %d open shards", n)}
		case n > 2*s.shards || 2*n < s.shards:
			return decision{Skip: fmt.Sprintf("AWS changes %d shards to between %d and %d in one step", s.shards, (s.shards+1)/2, 2*s.shards)}
		}
		return decision{Action: fmt.Sprintf("reshard %d -> %d open shards", s.shards, n), Run: func(ctx context.Context) (string, error) {
			if _, err := c.UpdateShardCount(ctx, &kinesis.UpdateShardCountInput{StreamARN: awssdk.String(s.arn),
				TargetShardCount: awssdk.Int32(int32(n)), ScalingType: kinesistypes.ScalingTypeUniformScaling}); err != nil {
				return "", err
			}
			last, show := s, stepProgress(ctx)
			check := func(ctx context.Context) ([]string, error) {
				d, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamARN: awssdk.String(s.arn)})
				if err != nil {
					return nil, fmt.Errorf("describe stream %s: %w", s.name, err)
				}
				last = streamOf(d.StreamDescriptionSummary)
				if last.status == kinesistypes.StreamStatusActive && last.shards == n {
					return nil, nil
				}
				show(fmt.Sprintf("%s, %d open shards (resharding to %d)", last.status, last.shards, n))
				return []string{fmt.Sprintf("%s: %s, %d open shards", s.name, last.status, last.shards)}, nil
			}
			if err := pace.waitBack(ctx, wait, 1, 1, check, nil); err != nil {
				if nb := (*NotBackError)(nil); errors.As(err, &nb) {
					return "", errs.Wrap("reshard stream", errs.Conflict, err, "resharding to %d was accepted, but the stream was not ACTIVE with it within %s (%s); AWS goes on with it",
						n, tasks.FormatDuration(wait), strings.Join(nb.NotBack, "; "))
				}
				return "", err
			}
			return fmt.Sprintf("%d -> %d open shards, ACTIVE", s.shards, last.shards), nil
		}}
	})
}
