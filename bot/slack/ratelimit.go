package slack

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/slack-go/slack"
)

// retry says how a Web API call is retried after Slack answers 429.
// slack-go does not retry on its own unless OptionRetry is set (we don't),
// so a 429 surfaces as *slack.RateLimitedError once per attempt and the
// callers of untilNotLimited are the only places that retry.
type retry struct {
	after func(time.Duration) <-chan time.Time
	// stop ends the waiting when shutdown gives up on unsent work.
	stop <-chan struct{}
	// onLimit is told about every 429 before its wait.
	onLimit func(wait time.Duration)
	// tries bounds the calls (0: as many as it takes); maxWait is the
	// longest Retry-After worth waiting for (0: any).
	tries   int
	maxWait time.Duration
}

// untilNotLimited calls call until it succeeds or fails with anything but
// a rate limit, waiting each 429's Retry-After (at least a second) in
// between. When the retry's bounds stop it, the last 429 is returned, so
// callers can tell it apart with errors.As.
func (r retry) untilNotLimited(ctx context.Context, call func(context.Context) error) error {
	for n := 1; ; n++ {
		err := call(ctx)
		var rl *slack.RateLimitedError
		if !errors.As(err, &rl) {
			return err
		}
		wait := max(rl.RetryAfter, time.Second)
		if (r.tries > 0 && n >= r.tries) || (r.maxWait > 0 && wait > r.maxWait) {
			return err
		}
		if r.onLimit != nil {
			r.onLimit(wait)
		}
		select {
		case <-r.after(wait):
		case <-ctx.Done():
			return fmt.Errorf("retry after rate limit: %w", ctx.Err())
		case <-r.stop:
			return fmt.Errorf("retry after rate limit: %w", errOutboxClosed)
		}
	}
}

// retryLimited retries a Web API call that does not go through a channel's
// queue (ephemeral answers), counting each failed attempt
// under method.
func (a *Adapter) retryLimited(ctx context.Context, method string, call func(context.Context) error) error {
	return a.retry(method).untilNotLimited(ctx, func(ctx context.Context) error {
		return a.apiErr(method, call(ctx))
	})
}

func (a *Adapter) retry(method string) retry {
	return retry{
		after: a.opts.After,
		stop:  a.out.quit,
		onLimit: func(wait time.Duration) {
			a.log.Warn("slack rate limited; retrying", "method", method, "retry_after", wait)
		},
	}
}
