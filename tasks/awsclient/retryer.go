// Package awsclient builds the aws.Config every action runs with: the
// default credential chain, per-account AssumeRole credentials carrying the
// chat user as SourceIdentity, and one retryer shared by every client.
package awsclient

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
)

// RetryOptions configures the shared retryer.
type RetryOptions struct {
	// MaxAttempts per operation, first attempt included; 0 means 5.
	MaxAttempts int
	// Backoff overrides the jittered exponential backoff (tests pass
	// NoBackoff so retries do not sleep).
	Backoff retry.BackoffDelayer
	// Adaptive adds client-side rate limiting after throttling responses.
	// Because the retryer is shared, a throttle seen by one client slows
	// every client of the process, which is what AWS wants from us.
	Adaptive bool
}

// NoBackoff retries immediately.
var NoBackoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })

// NewRetryer returns one retryer to be shared by all clients (its retry
// token bucket is then shared too, so a throttling storm drains one quota
// instead of one per client). Callers put it in aws.Config.Retryer as a
// func returning this same instance.
func NewRetryer(o RetryOptions) aws.Retryer {
	if o.MaxAttempts == 0 {
		o.MaxAttempts = 5
	}
	std := func(so *retry.StandardOptions) {
		so.MaxAttempts = o.MaxAttempts
		if o.Backoff != nil {
			so.Backoff = o.Backoff
		}
	}
	if o.Adaptive {
		return retry.NewAdaptiveMode(func(ao *retry.AdaptiveModeOptions) {
			ao.StandardOptions = append(ao.StandardOptions, std)
		})
	}
	return retry.NewStandard(std)
}
