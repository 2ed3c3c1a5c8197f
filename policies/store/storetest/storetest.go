// Package storetest is the store contract: the tests every backend of
// policies/store must pass, run by each backend's own test with a fresh
// database per test (in the style of Tailscale's ipn/store/storetest).
//
// A backend's test calls
//
//	storetest.Run(t, func(t *testing.T) storetest.Database { … })
//
// The suite covers migrations, rule sets and their cache across processes,
// identities, the append-only audit log, approvals with concurrent votes
// (exactly one run), compare-and-set run transitions, rate-limit counting
// under concurrency, schedule and alarm state, follow-ups, alert actions
// and the adapters' replay memory.
package storetest

import (
	"context"
	"embed"
	"fmt"
	"testing"
	"time"

	"github.com/day2bot/day2bot/internal/clocktest"
	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/policies/store"
)

// Database is one fresh, empty database of the backend under test.
type Database struct {
	// Open opens a store on the database, closed when the test ends. Each
	// call is another process sharing the database: a replica.
	Open func(t *testing.T, opts ...store.Option) *store.Store
	// Exec runs a statement on the database behind the store's back, as
	// a careless operator would (the audit log must refuse changes).
	Exec func(ctx context.Context, q string) error
	// QueryInt reads one number behind the store's back (rows kept).
	QueryInt func(ctx context.Context, q string) (int, error)
}

// Run runs every contract test against databases made by newDB.
func Run(t *testing.T, newDB func(t *testing.T) Database) {
	tests := []struct {
		name string
		fn   func(t *testing.T, db Database)
	}{
		{"Migrations", testMigrations},
		{"ReopenKeepsEverything", testReopenKeepsEverything},
		{"ConcurrentWriters", testConcurrentWriters},
		{"AuditIsAppendOnly", testAuditIsAppendOnly},
		{"AlertActions", testAlertActions},
		{"ApprovalIDsAndHash", testApprovalIDsAndHash},
		{"VoteQuorumStartsRunOnce", testVoteQuorumStartsRunOnce},
		{"VoteDenyDecides", testVoteDenyDecides},
		{"ExpireAndCancel", testExpireAndCancel},
		{"VoteRace", testVoteRace},
		{"RaiseApprovalQuorum", testRaiseApprovalQuorum},
		{"Identify", testIdentify},
		{"ImportExportRoundTrip", testImportExportRoundTrip},
		{"ImportBadFileChangesNothing", testImportBadFileChangesNothing},
		{"ImportAuditsEachChange", testImportAuditsEachChange},
		{"AddPutRemoveRule", testAddPutRemoveRule},
		{"RuleAuditReadsAsWritten", testRuleAuditReadsAsWritten},
		{"RuleSetCacheSeesOtherProcess", testRuleSetCacheSeesOtherProcess},
		{"RunLifecycle", testRunLifecycle},
		{"RunStartsOnceUnderRace", testRunStartsOnceUnderRace},
		{"InterruptRunningAndResume", testInterruptRunningAndResume},
		{"QueuedRunsListsAllOldestFirst", testQueuedRunsListsAllOldestFirst},
		{"RunsAndAuditByTime", testRunsAndAuditByTime},
		{"Freeze", testFreeze},
		{"Usage", testUsage},
		{"UsageUnderConcurrency", testUsageUnderConcurrency},
		{"ScheduleAndAlarmState", testScheduleAndAlarmState},
		{"FollowUpsClaimedOnce", testFollowUpsClaimedOnce},
		{"IdentitiesAndGroups", testIdentitiesAndGroups},
		{"SeenOnce", testSeenOnce},
		{"SeenOnceAcrossReplicas", testSeenOnceAcrossReplicas},
		{"StartRunOnceWithOwner", testStartRunOnceWithOwner},
		{"TakeQueued", testTakeQueued},
		{"InterruptOrphans", testInterruptOrphans},
		{"ClaimScheduleRunOnce", testClaimScheduleRunOnce},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newDB(t)) })
	}
}

//go:embed testdata
var testdata embed.FS

func newClock() *clocktest.Clock {
	return clocktest.New(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
}

// openTemp opens the first store on a fresh database.
func openTemp(t *testing.T, db Database) (*store.Store, *clocktest.Clock) {
	t.Helper()
	clk := newClock()
	return db.Open(t, store.WithClock(clk.Now)), clk
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// errDiff says how err differs from an error of kind whose rendered message
// is msg, or "" if it does not. Both count: callers branch on the kind
// (errs.Is) and the person in chat reads the message (errs.Render).
func errDiff(err error, kind errs.Kind, msg string) string {
	got, ok := errs.Render(err)
	if k := errs.KindOf(err); k != kind || !ok || got != msg {
		return fmt.Sprintf("got %v (kind %v, message %q), want kind %v, message %q", err, k, got, kind, msg)
	}
	return ""
}

// wantErr stops the test unless err is of kind and renders as msg.
func wantErr(t *testing.T, what string, err error, kind errs.Kind, msg string) {
	t.Helper()
	if d := errDiff(err, kind, msg); d != "" {
		t.Fatalf("%s: %s", what, d)
	}
}
