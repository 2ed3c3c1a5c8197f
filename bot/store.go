package bot

import (
	"context"
	"time"

	"github.com/day2bot/day2bot/policies"
	"github.com/day2bot/day2bot/policies/store"
)

// The engine's view of the store, split by concern. *store.Store implements
// all of them; tests may too.

// Identities resolves who someone is.
type Identities interface {
	// Handle is the person's handle for a principal, "" if unknown.
	Handle(ctx context.Context, principal string) (string, error)
	// GroupsOf lists the groups a principal or handle belongs to.
	GroupsOf(ctx context.Context, principal, handle string) ([]string, error)
	// Identify resolves a principal or a handle to the principal, handle
	// and groups a request is evaluated with (policy test).
	Identify(ctx context.Context, user string) (principal, handle string, groups []string, err error)
	// Users maps each handle to its principals; Groups each group to its
	// members (handles or principals). Reminders mention approvers by them.
	Users(ctx context.Context) (map[string][]string, error)
	Groups(ctx context.Context) (map[string][]string, error)
}

// Rules is the policy side of the store.
type Rules interface {
	// RuleSet is the compiled, cached current rule set.
	RuleSet(ctx context.Context) (*policies.RuleSet, error)
	Rules(ctx context.Context) ([]policies.Rule, error)
	RemoveRule(ctx context.Context, actor, id string) error
}

// Journal is the run journal and audit log.
type Journal interface {
	CreateRun(ctx context.Context, r store.Run) (store.Run, error)
	TransitionRun(ctx context.Context, id string, from, to store.State, summary string) error
	FinishRun(ctx context.Context, id string, to store.State, summary, result string) error
	SetRunMessage(ctx context.Context, id, ref string) error
	Run(ctx context.Context, id string) (store.Run, error)
	Runs(ctx context.Context, f store.RunFilter) ([]store.Run, error)
	InterruptRunning(ctx context.Context, now time.Time) ([]store.Run, error)
	QueuedRuns(ctx context.Context) ([]string, error)
	// StartRun is the queued → running compare-and-set, recording the
	// replica that runs the run.
	StartRun(ctx context.Context, id, owner string) error
	Replicas
	Audit(ctx context.Context, e store.Entry) error
}

// Replicas is what replicas sharing one store need (Options.Shared): a
// heartbeat per replica, queued runs taken over from replicas that stopped,
// and running runs of stopped replicas interrupted.
type Replicas interface {
	Heartbeat(ctx context.Context, replica string, at time.Time) error
	TakeQueued(ctx context.Context, owner string, max int, now, staleBefore time.Time) ([]string, error)
	InterruptOrphans(ctx context.Context, now, staleBefore time.Time) ([]store.Run, error)
}

// Approvals is the approval side of the store. Vote is atomic: exactly one
// vote of an approval reports Started.
type Approvals interface {
	CreateApproval(ctx context.Context, req store.ApprovalRequest) (store.Approval, error)
	Approval(ctx context.Context, id string) (store.Approval, error)
	PendingApprovals(ctx context.Context, app string) ([]store.Approval, error)
	SetApprovalMessage(ctx context.Context, id, ref string) error
	Vote(ctx context.Context, id, voter string, approve bool, at time.Time) (store.VoteResult, error)
	CancelApproval(ctx context.Context, id, by string) error
	RaiseApprovalQuorum(ctx context.Context, id string, quorum int) error
	ExpireApprovals(ctx context.Context, now time.Time) ([]store.Approval, error)
	// SeenOnce reports whether key is new until the given time, shared by
	// every replica: the approval reminders are sent once with it.
	SeenOnce(ctx context.Context, key string, until time.Time) (first bool, err error)
}

// Freezes stop mutating tasks of an app.
type Freezes interface {
	Freeze(ctx context.Context, app, by, reason string, until time.Time) error
	Unfreeze(ctx context.Context, app, by string) error
	FreezeOf(ctx context.Context, app string) (*policies.Freeze, error)
}

// RateUses count uses of rate-limited rules.
type RateUses interface {
	RecordUse(ctx context.Context, ruleID, principal string, at time.Time) error
	UsageFor(ctx context.Context, principal string, since time.Time) (policies.Usage, error)
	PruneUses(ctx context.Context, before time.Time) error
}

// FollowUps are deferred actions that survive restarts; ClaimFollowUp is
// true for exactly one caller.
type FollowUps interface {
	AddFollowUp(ctx context.Context, f store.FollowUp) (int64, error)
	DueFollowUps(ctx context.Context, now time.Time) ([]store.FollowUp, error)
	ClaimFollowUp(ctx context.Context, id int64) (bool, error)
}

// AlertActions are the remediations offered on alerts; a button names one
// by the alert's short id and an index (bot/alerts saves them).
type AlertActions interface {
	AlertAction(ctx context.Context, id string, i int) (app string, a store.AlertAction, err error)
}

// Store is everything the engine keeps in the database.
type Store interface {
	Identities
	Rules
	Journal
	Approvals
	Freezes
	RateUses
	FollowUps
	AlertActions
}

var _ Store = (*store.Store)(nil)
