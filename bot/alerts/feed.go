package alerts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// SQSAPI is the SQS calls a Feed makes.
type SQSAPI interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
}

var _ SQSAPI = (*sqs.Client)(nil)

// Feed reads the alarms' notifications from an SQS queue subscribed to
// their SNS topic and has the watcher check each named alarm at once,
// instead of at its next poll. A notification is only a hint: the watcher
// reads the alarm's state from CloudWatch, so a stale, repeated or forged
// message can at worst cause one extra DescribeAlarms.
type Feed struct {
	Queue   string // queue URL
	SQS     SQSAPI
	Watcher *Watcher
}

// Run receives until ctx ends (long polls of 20 s).
func (f *Feed) Run(ctx context.Context) error {
	for ctx.Err() == nil {
		if _, err := f.Once(ctx, 20); err != nil && ctx.Err() == nil {
			f.Watcher.opts.Logger.WarnContext(ctx, "alarm feed", "queue", f.Queue, "err", err)
			// Back off one polling interval on errors (throttling, a
			// missing queue) instead of spinning.
			select {
			case <-ctx.Done():
			case <-f.Watcher.opts.Clock.After(f.Watcher.opts.Every):
			}
		}
	}
	return ctx.Err()
}

// Once receives one batch (waiting up to wait seconds), checks the alarms
// it names and deletes the messages. It returns the alarm names seen.
func (f *Feed) Once(ctx context.Context, wait int32) ([]string, error) {
	out, err := f.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(f.Queue), MaxNumberOfMessages: 10, WaitTimeSeconds: wait,
	})
	if err != nil {
		return nil, fmt.Errorf("receive alarm notifications: %w", err)
	}
	var names []string
	var errs []error
	for _, m := range out.Messages {
		name, perr := AlarmName([]byte(aws.ToString(m.Body)))
		if perr == nil {
			names = append(names, name)
			if err := f.Watcher.PollAlarm(ctx, name); err != nil {
				// Keep the message: it comes back after the visibility
				// timeout and is tried again.
				errs = append(errs, err)
				continue
			}
		} else {
			f.Watcher.opts.Logger.WarnContext(ctx, "alarm feed: message is not an alarm notification; deleted", "queue", f.Queue, "err", perr)
		}
		if _, err := f.SQS.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(f.Queue), ReceiptHandle: m.ReceiptHandle}); err != nil {
			errs = append(errs, fmt.Errorf("delete alarm notification: %w", err))
		}
	}
	return names, errors.Join(errs...)
}

// maxNotification bounds what is parsed: SQS messages are at most 256 KiB.
const maxNotification = 256 << 10

// AlarmName reads the alarm name from a CloudWatch alarm notification as
// SQS delivers it: wrapped in an SNS envelope (its Message field holds the
// alarm JSON as a string) or raw (raw message delivery on).
func AlarmName(body []byte) (string, error) {
	if len(body) > maxNotification {
		return "", errors.New("notification too large")
	}
	var env struct {
		Type      string
		Message   *string
		AlarmName *string
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return "", fmt.Errorf("parse notification: %w", err)
	}
	if env.AlarmName == nil && env.Message != nil {
		var inner struct{ AlarmName *string }
		if err := json.Unmarshal([]byte(*env.Message), &inner); err != nil {
			return "", fmt.Errorf("parse SNS message: %w", err)
		}
		env.AlarmName = inner.AlarmName
	}
	if env.AlarmName == nil {
		return "", errors.New("notification has no AlarmName")
	}
	name := *env.AlarmName
	// CloudWatch alarm names: 1-255 characters, no control characters.
	if name == "" || len(name) > 255 || strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "", fmt.Errorf("notification has an invalid AlarmName %q", name)
	}
	return name, nil
}
