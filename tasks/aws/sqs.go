package aws

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/tasks"
)

// SQSAPI is the part of the SQS API the sqs.* actions call.
type SQSAPI interface {
	ListQueues(context.Context, *sqs.ListQueuesInput, ...func(*sqs.Options)) (*sqs.ListQueuesOutput, error)
	GetQueueAttributes(context.Context, *sqs.GetQueueAttributesInput, ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
	ListQueueTags(context.Context, *sqs.ListQueueTagsInput, ...func(*sqs.Options)) (*sqs.ListQueueTagsOutput, error)
	PurgeQueue(context.Context, *sqs.PurgeQueueInput, ...func(*sqs.Options)) (*sqs.PurgeQueueOutput, error)
	StartMessageMoveTask(context.Context, *sqs.StartMessageMoveTaskInput, ...func(*sqs.Options)) (*sqs.StartMessageMoveTaskOutput, error)
	ListMessageMoveTasks(context.Context, *sqs.ListMessageMoveTasksInput, ...func(*sqs.Options)) (*sqs.ListMessageMoveTasksOutput, error)
	CancelMessageMoveTask(context.Context, *sqs.CancelMessageMoveTaskInput, ...func(*sqs.Options)) (*sqs.CancelMessageMoveTaskOutput, error)
}

var _ SQSAPI = (*sqs.Client)(nil)

// SQSClient builds the clients for one invocation's config.
type SQSClient func(awssdk.Config) (SQSAPI, MetricDataAPI)

// SDKSQS is the production SQSClient.
func SDKSQS(cfg awssdk.Config) (SQSAPI, MetricDataAPI) {
	return sqs.NewFromConfig(cfg), cloudwatch.NewFromConfig(cfg)
}

// SQSActions returns the sqs.* actions.
func SQSActions(newClient SQSClient) []tasks.Action {
	read := []string{"sqs:ListQueues", "sqs:GetQueueAttributes", "sqs:ListQueueTags"}
	return forTarget("sqs:queue",
		&stepAction{
			name: "sqs.describe", verb: "described", noun: "queues",
			iam: append(slices.Clone(read), "sqs:ListMessageMoveTasks", "cloudwatch:GetMetricData"),
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				c, cw := newClient(inv.AWS)
				qs, err := selectQueues(ctx, c, inv.Target)
				if err != nil {
					return tasks.Plan{}, nil, err
				}
				b := planBuilder{verb: "describe", noun: "queues"}
				for _, q := range qs {
					b.add(q.name, q.depthText(), decision{Run: func(ctx context.Context) (string, error) {
						return describeQueue(ctx, c, cw, q, qs, inv.Now)
					}})
				}
				return b.plan(), b.steps, nil
			},
		},
		&stepAction{
			name: "sqs.redrive-dlq", mutating: true, verb: "started redrives of", noun: "dead-letter queues",
			// StartMessageMoveTask needs receive and delete on the DLQ and
			// send on the queue the messages go back to.
			iam: append(slices.Clone(read), "sqs:ListMessageMoveTasks", "sqs:StartMessageMoveTask", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:SendMessage"),
			params: []tasks.Param{{Name: "rate", Type: tasks.TypeInt, Default: "100", Min: bound(1), Max: bound(500),
				Description: "messages moved per second, so the consumers are not flooded"}},
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				return redrivePlan(ctx, newClient, inv)
			},
		},
		&stepAction{
			name: "sqs.cancel-redrive", mutating: true, verb: "cancelled redrives of", noun: "dead-letter queues",
			iam: append(slices.Clone(read), "sqs:ListMessageMoveTasks", "sqs:CancelMessageMoveTask"),
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				c, _ := newClient(inv.AWS)
				qs, err := selectQueues(ctx, c, inv.Target)
				if err != nil {
					return tasks.Plan{}, nil, err
				}
				b := planBuilder{verb: "cancel the redrive of", noun: "dead-letter queues"}
				for _, dlq := range qs {
					if len(sourcesOf(dlq, qs)) == 0 {
						continue
					}
					t, err := newestMoveTask(ctx, c, dlq)
					if err != nil {
						return tasks.Plan{}, nil, err
					}
					if t == nil || awssdk.ToString(t.Status) != "RUNNING" {
						b.add(dlq.name, "", decision{Skip: "no redrive is running"})
						continue
					}
					detail := fmt.Sprintf("%d of %d moved so far", t.ApproximateNumberOfMessagesMoved, awssdk.ToInt64(t.ApproximateNumberOfMessagesToMove))
					b.add(dlq.name, detail, decision{Run: func(ctx context.Context) (string, error) {
						out, err := c.CancelMessageMoveTask(ctx, &sqs.CancelMessageMoveTaskInput{TaskHandle: t.TaskHandle})
						if err != nil {
							return "", err
						}
						return fmt.Sprintf("cancelled after %d messages; the rest stay in the dead-letter queue", out.ApproximateNumberOfMessagesMoved), nil
					}})
				}
				return b.plan(), b.steps, nil
			},
		},
		&stepAction{
			name: "sqs.purge", mutating: true, verb: "purged", noun: "queues",
			iam: append(slices.Clone(read), "sqs:PurgeQueue"),
			params: []tasks.Param{{Name: "queue", Type: tasks.TypeString, Required: true,
				Pattern: `^[A-Za-z0-9_*?-]{1,80}(\.fifo)?$`, Format: "a queue name of the app, or a pattern such as *-dlq (* is any run of characters)",
				Description: "the queue to empty (one of the app's queues; * matches several)"}},
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				c, _ := newClient(inv.AWS)
				pattern, err := stringValue(inv.Values, "queue", "")
				if err != nil {
					return tasks.Plan{}, nil, err
				}
				qs, err := selectQueues(ctx, c, inv.Target)
				if err != nil {
					return tasks.Plan{}, nil, err
				}
				b := planBuilder{verb: "purge", noun: "queues"}
				for _, q := range qs {
					if !globMatch(pattern, q.name) {
						continue
					}
					if q.visible+q.inFlight+q.delayed == 0 {
						b.add(q.name, "", decision{Skip: "already empty"})
						continue
					}
					b.add(q.name, "deletes "+q.depthText(), decision{Run: func(ctx context.Context) (string, error) {
						if _, err := c.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: awssdk.String(q.url)}); err != nil {
							return "", err
						}
						return "purged " + q.depthText() + " (SQS finishes deleting within 60 seconds)", nil
					}})
				}
				if len(b.changes) == 0 {
					return tasks.Plan{}, nil, errs.E("purge queue", errs.NotFound, "no queue of this app is called %s (%s)", tasks.QuoteInput(pattern), bindingText(inv.Target))
				}
				return b.plan(), b.steps, nil
			},
		},
	)
}

// sqsQueue is what the actions read of a queue.
type sqsQueue struct {
	name, url, arn             string
	visible, inFlight, delayed int
	retention, visibility      time.Duration
	dlqARN                     string // the redrive policy's target, "" for none
	maxReceive                 int
	tags                       map[string]string
}

func (q sqsQueue) depthText() string {
	return fmt.Sprintf("%d visible, %d in flight, %d delayed", q.visible, q.inFlight, q.delayed)
}

// queueNameOf is the last path segment of a queue URL, its name.
func queueNameOf(url string) string { return url[strings.LastIndexByte(url, '/')+1:] }

// selectQueues lists the account's queues, keeps the candidates the ids
// and names allow, and reads each one's attributes and tags: the tags AWS
// reports decide whether it is the app's.
func selectQueues(ctx context.Context, c SQSAPI, sel tasks.Selector) ([]sqsQueue, error) {
	if err := checkSelector(sel); err != nil {
		return nil, err
	}
	var out []sqsQueue
	p := sqs.NewListQueuesPaginator(c, &sqs.ListQueuesInput{MaxResults: awssdk.Int32(1000)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list queues: %w", err)
		}
		for _, url := range page.QueueUrls {
			name := queueNameOf(url)
			if len(sel.IDs) == 0 && !selects(tasks.Selector{Names: sel.Names}, name, "", nil) {
				continue
			}
			// Tags first: most queues of an account are not the app's,
			// and their attributes need not be read.
			tags, err := c.ListQueueTags(ctx, &sqs.ListQueueTagsInput{QueueUrl: awssdk.String(url)})
			if queueGone(err) {
				continue // deleted since the listing
			}
			if err != nil {
				return nil, fmt.Errorf("list tags of queue %s: %w", name, err)
			}
			if !selects(tasks.Selector{Names: sel.Names, Tags: sel.Tags}, name, "", tags.Tags) {
				continue
			}
			q, err := readQueue(ctx, c, url)
			if queueGone(err) {
				continue
			}
			if err != nil {
				return nil, err
			}
			if !selects(sel, name, q.arn, tags.Tags) {
				continue
			}
			q.tags = tags.Tags
			out = append(out, q)
		}
	}
	// ListQueues has no defined order; plans and runs need one.
	slices.SortFunc(out, func(a, b sqsQueue) int { return strings.Compare(a.name, b.name) })
	return out, nil
}

// queueGone reports SQS's answer for a queue deleted meanwhile.
func queueGone(err error) bool {
	return isNotFound(err) || ErrorCode(err) == "AWS.SimpleQueueService.NonExistentQueue" || ErrorCode(err) == "QueueDoesNotExist"
}

// readQueue reads a queue's attributes.
func readQueue(ctx context.Context, c SQSAPI, url string) (sqsQueue, error) {
	name := queueNameOf(url)
	out, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: awssdk.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}})
	if err != nil {
		return sqsQueue{}, fmt.Errorf("get attributes of queue %s: %w", name, err)
	}
	a := out.Attributes
	num := func(k string) int { n, _ := strconv.Atoi(a[k]); return n }
	q := sqsQueue{name: name, url: url, arn: a["QueueArn"],
		visible: num("ApproximateNumberOfMessages"), inFlight: num("ApproximateNumberOfMessagesNotVisible"),
		delayed:   num("ApproximateNumberOfMessagesDelayed"),
		retention: time.Duration(num("MessageRetentionPeriod")) * time.Second, visibility: time.Duration(num("VisibilityTimeout")) * time.Second}
	if rp := a["RedrivePolicy"]; rp != "" {
		var p struct {
			DeadLetterTargetArn string
			MaxReceiveCount     json.Number
		}
		if err := json.Unmarshal([]byte(rp), &p); err != nil {
			return sqsQueue{}, fmt.Errorf("read redrive policy of queue %s: %w", name, err)
		}
		q.dlqARN = p.DeadLetterTargetArn
		n, _ := p.MaxReceiveCount.Int64()
		q.maxReceive = int(n)
	}
	return q, nil
}

// arnName is the last colon-separated part of an ARN: a queue's name.
func arnName(arn string) string { return arn[strings.LastIndexByte(arn, ':')+1:] }

// sourcesOf are the queues among qs whose dead letters go to dlq.
func sourcesOf(dlq sqsQueue, qs []sqsQueue) []sqsQueue {
	var out []sqsQueue
	for _, q := range qs {
		if q.dlqARN != "" && q.dlqARN == dlq.arn {
			out = append(out, q)
		}
	}
	return out
}

func queueNames(qs []sqsQueue) string {
	var ns []string
	for _, q := range qs {
		ns = append(ns, q.name)
	}
	return strings.Join(ns, ", ")
}

func describeQueue(ctx context.Context, c SQSAPI, cw MetricDataAPI, q sqsQueue, all []sqsQueue, now time.Time) (string, error) {
	parts := []string{q.depthText()}
	age, err := oldestMessageAge(ctx, cw, q.name, now)
	if err != nil {
		return "", err
	}
	parts = append(parts, "oldest message "+age)
	if q.dlqARN != "" {
		dlq := fmt.Sprintf("dead letters to %s after %d receives", arnName(q.dlqARN), q.maxReceive)
		if i := slices.IndexFunc(all, func(d sqsQueue) bool { return d.arn == q.dlqARN }); i >= 0 {
			dlq += fmt.Sprintf(" (it holds %d)", all[i].visible)
		} else {
			dlq += " (not one of the app's queues)"
		}
		parts = append(parts, dlq)
	} else if srcs := sourcesOf(q, all); len(srcs) == 0 {
		parts = append(parts, "no dead-letter queue")
	}
	if srcs := sourcesOf(q, all); len(srcs) > 0 {
		parts = append(parts, "dead-letter queue of "+queueNames(srcs))
		t, err := lastMoveTask(ctx, c, q)
		if err != nil {
			return "", err
		}
		if t != "" {
			parts = append(parts, t)
		}
	}
	parts = append(parts, "retention "+tasks.FormatDuration(q.retention), "visibility timeout "+tasks.FormatDuration(q.visibility))
	return strings.Join(parts, "; "), nil
}

// oldestMessageAge reads AWS/SQS ApproximateAgeOfOldestMessage.
func oldestMessageAge(ctx context.Context, cw MetricDataAPI, name string, now time.Time) (string, error) {
	age, seen, err := recentMax(ctx, cw, "AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", name, now)
	if err != nil || !seen {
		return "no data", err
	}
	return tasks.FormatDuration(time.Duration(age) * time.Second), nil
}

// recentMax is the largest value of one resource's metric (its 5-minute
// Maximum) over the last 15 minutes; seen is false when there is none.
func recentMax(ctx context.Context, cw MetricDataAPI, namespace, metric, dim, id string, now time.Time) (v float64, seen bool, err error) {
	out, err := cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{
		StartTime: awssdk.Time(now.Add(-15 * time.Minute)), EndTime: awssdk.Time(now),
		MetricDataQueries: []cwtypes.MetricDataQuery{{Id: awssdk.String("m"), MetricStat: &cwtypes.MetricStat{
			Metric: &cwtypes.Metric{Namespace: awssdk.String(namespace), MetricName: awssdk.String(metric),
				Dimensions: []cwtypes.Dimension{{Name: awssdk.String(dim), Value: awssdk.String(id)}}},
			Period: awssdk.Int32(300), Stat: awssdk.String("Maximum")}}},
	})
	if err != nil {
		return 0, false, fmt.Errorf("get %s of %s: %w", metric, id, err)
	}
	for _, r := range out.MetricDataResults {
		for _, x := range r.Values {
			v, seen = max(v, x), true
		}
	}
	return v, seen, nil
}

// newestMoveTask is the DLQ's most recent redrive, nil for none.
func newestMoveTask(ctx context.Context, c SQSAPI, dlq sqsQueue) (*sqstypes.ListMessageMoveTasksResultEntry, error) {
	out, err := c.ListMessageMoveTasks(ctx, &sqs.ListMessageMoveTasksInput{SourceArn: awssdk.String(dlq.arn), MaxResults: awssdk.Int32(1)})
	if err != nil {
		return nil, onResource(dlq.name, fmt.Errorf("list redrives of queue %s: %w", dlq.name, err))
	}
	if len(out.Results) == 0 {
		return nil, nil
	}
	return &out.Results[0], nil
}

// lastMoveTask describes the DLQ's most recent redrive, "" for none.
func lastMoveTask(ctx context.Context, c SQSAPI, dlq sqsQueue) (string, error) {
	t, err := newestMoveTask(ctx, c, dlq)
	if err != nil || t == nil {
		return "", err
	}
	s := fmt.Sprintf("last redrive %s: %d of %d moved", strings.ToLower(awssdk.ToString(t.Status)), t.ApproximateNumberOfMessagesMoved, awssdk.ToInt64(t.ApproximateNumberOfMessagesToMove))
	if r := awssdk.ToString(t.FailureReason); r != "" {
		s += " (" + r + ")"
	}
	return s, nil
}

// redrivePlan moves the messages of each of the app's dead-letter queues
// back. A DLQ is one of the app's queues that another of the app's queues
// sends its dead letters to (the redrive policy AWS reports says so); with
// one such source the messages go to it, with several each goes back to
// the queue it came from (AWS keeps that).
func redrivePlan(ctx context.Context, newClient SQSClient, inv tasks.Invocation) (tasks.Plan, []step, error) {
	c, _ := newClient(inv.AWS)
	rate, err := intValue(inv.Values, "rate", 100)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	qs, err := selectQueues(ctx, c, inv.Target)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	b := planBuilder{verb: fmt.Sprintf("move messages back at %d/s from", rate), noun: "dead-letter queues"}
	for _, dlq := range qs {
		srcs := sourcesOf(dlq, qs)
		if len(srcs) == 0 {
			continue // not a dead-letter queue of the app
		}
		dest := "their source queues " + queueNames(srcs)
		in := &sqs.StartMessageMoveTaskInput{SourceArn: awssdk.String(dlq.arn), MaxNumberOfMessagesPerSecond: awssdk.Int32(int32(rate))}
		if len(srcs) == 1 {
			dest = srcs[0].name
			in.DestinationArn = awssdk.String(srcs[0].arn)
		}
		if dlq.visible == 0 {
			b.add(dlq.name, "", decision{Skip: "holds no messages"})
			continue
		}
		last, err := newestMoveTask(ctx, c, dlq)
		if err != nil {
			return tasks.Plan{}, nil, err
		}
		if last != nil && awssdk.ToString(last.Status) == "RUNNING" {
			b.add(dlq.name, "", decision{Skip: "a redrive is already running"})
			continue
		}
		detail := fmt.Sprintf("%d messages to %s", dlq.visible, dest)
		b.add(dlq.name, detail, decision{Run: func(ctx context.Context) (string, error) {
			if _, err := c.StartMessageMoveTask(ctx, in); err != nil {
				return "", err
			}
			return fmt.Sprintf("moving %s at %d/s; describe-queues shows the progress", detail, rate), nil
		}})
	}
	return b.plan(), b.steps, nil
}
