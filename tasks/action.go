package tasks

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Action is the Go code behind a blueprint task: the only place that talks to
// AWS. A task names exactly one action; many tasks may share one action with
// different parameter bounds.
type Action interface {
	// Name is the registry key, e.g. "ec2.reboot".
	Name() string
	// Params lists what the action understands. A blueprint task may narrow
	// bounds and defaults but never add parameters the action does not know.
	Params() []Param
	// Mutating reports whether Run changes anything in AWS.
	Mutating() bool
	// IAMActions are the IAM permissions Run and Plan need, e.g.
	// "ec2:RebootInstances"; used for least-privilege policies and for naming
	// the missing permission when AWS answers AccessDenied.
	IAMActions() []string
	// Plan is the dry run: which resources would change and how. No writes.
	Plan(ctx context.Context, inv Invocation) (Plan, error)
	// Run executes. ctx carries the run's deadline; progress may be nil.
	Run(ctx context.Context, inv Invocation, progress func(Progress)) (Result, error)
}

// Invocation is everything an action needs for one execution.
type Invocation struct {
	// AWS is the config for the app's account and region, already carrying
	// the caller-scoped credentials (AssumeRole with SourceIdentity).
	AWS aws.Config
	// Target selects the resources the task acts on.
	Target Selector
	// Values are the validated parameter values, keyed by parameter name.
	Values Values
	// Related are the app's resources (one selector each), for
	// actions that must look at them: a rolling restart waits until the
	// app's target groups report each batch healthy. May be empty.
	Related []Selector
	// Now is the engine's clock (actions never call time.Now themselves, so
	// tests can pin it).
	Now time.Time
	// Approved is the plan the approvers saw, when the run was approved
	// (nil otherwise; an empty Plan when they saw none). An action whose
	// plan prepares something in AWS (a CloudFormation change set) executes
	// exactly Approved.Ref, never a plan made afresh.
	Approved *Plan
}

// Selector picks AWS resources of one type, by tag, name or id.
type Selector struct {
	Type  string            `yaml:"type" json:"type"` // e.g. "ec2:instance"
	Tags  map[string]string `yaml:"tags,omitempty" json:"tags,omitempty"`
	Names []string          `yaml:"names,omitempty" json:"names,omitempty"`
	IDs   []string          `yaml:"ids,omitempty" json:"ids,omitempty"`
}

// Values holds validated parameter values.
type Values map[string]any

// Plan is the dry run of an action.
type Plan struct {
	Summary string
	Changes []Change
	// Ref names what the plan prepared in AWS for Run to execute, e.g. a
	// change set ARN; empty for plans that are only a prediction.
	Ref string `json:",omitempty"`
}

// Change is one resource-level change a plan predicts.
type Change struct {
	Resource string // id or name
	Action   string // e.g. "reboot", "set desired 2 -> 4"
	Detail   string
}

// Progress is reported during long runs.
type Progress struct {
	Done, Total int
	Message     string
}

// Status is the outcome for one resource.
type Status string

const (
	StatusOK      Status = "ok"
	StatusFailed  Status = "failed"
	StatusSkipped Status = "skipped"
)

// Result is the per-resource outcome of a run. A run with some failed
// resources is a partial failure, not an error: Run returns an error only
// when nothing could be attempted.
type Result struct {
	Summary   string
	Resources []ResourceResult
	// FollowUps are actions the engine must run later on the same target,
	// persisted so they survive restarts (e.g. re-enable alarm actions after
	// a timed mute: AWS has no expiry of its own).
	FollowUps []FollowUp
}

// FollowUp is a deferred action run by the engine's scheduler.
type FollowUp struct {
	After  time.Duration
	Action string // registry name, e.g. "cloudwatch.unmute-alarm"
	Values Values
	Reason string
}

// ResourceResult is the outcome for one resource.
type ResourceResult struct {
	Resource string
	Status   Status
	Detail   string
	// Transient marks a failure that may pass by itself (AWS throttled,
	// a 5xx): a run that failed only so offers Retry.
	Transient bool `json:",omitempty"`
}

// FailedTransiently reports whether every resource failed, each for a
// reason that may pass by itself: nothing was changed, and trying again
// later may work.
func (r Result) FailedTransiently() bool {
	for _, rr := range r.Resources {
		if rr.Status != StatusFailed || !rr.Transient {
			return false
		}
	}
	return len(r.Resources) > 0
}

// Failed reports how many resources failed.
func (r Result) Failed() int {
	n := 0
	for _, rr := range r.Resources {
		if rr.Status == StatusFailed {
			n++
		}
	}
	return n
}
