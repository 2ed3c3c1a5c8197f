package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/policies"
)

// State is the state of a run in the journal.
//
//	requested → queued → running → succeeded | failed | interrupted | cancelled
//
// A run that was running when the process stopped is interrupted at the next
// start, never run again: a mutating action runs at most once.
type State string

const (
	Requested   State = "requested"
	Queued      State = "queued"
	Running     State = "running"
	Succeeded   State = "succeeded"
	Failed      State = "failed"
	Interrupted State = "interrupted"
	Cancelled   State = "cancelled"
)

// next lists the states each state may move to.
var next = map[State][]State{
	Requested: {Queued, Running, Failed, Cancelled},
	Queued:    {Running, Failed, Interrupted, Cancelled},
	Running:   {Succeeded, Failed, Interrupted, Cancelled},
}

// Terminal reports whether no transition leaves st.
func (st State) Terminal() bool { _, ok := next[st]; return !ok && st.valid() }

func (st State) valid() bool {
	switch st {
	case Requested, Queued, Running, Succeeded, Failed, Interrupted, Cancelled:
		return true
	}
	return false
}

func canMove(from, to State) bool {
	for _, s := range next[from] {
		if s == to {
			return true
		}
	}
	return false
}

// RunDecision is the policy decision a run was allowed under.
type RunDecision struct {
	Effect policies.Effect
	Rule   string
	Reason string
}

// Run is one execution of a task, journaled from request to result.
type Run struct {
	ID         string // "r-123", assigned by CreateRun
	State      State
	App        string
	Task       string
	Params     map[string]string
	Principal  string // who asked, "slack:U123"
	Handle     string
	Platform   string
	Channel    string
	Decision   RunDecision
	Approvers  []string // principals who approved, if the rule asked for approval
	ApprovalID string
	DryRun     bool
	Request    []byte // the exact request, for resuming a queued run
	Summary    string
	Result     string // JSON of the action's per-resource result
	MessageRef string // opaque JSON locating the chat message about the run
	// Owner is the replica (serve process) that runs the run, or whose
	// worker will take it while it is queued; "" for none in particular.
	Owner      string
	CreatedAt  time.Time
	StartedAt  time.Time
	FinishedAt time.Time
	UpdatedAt  time.Time
}

// RunFilter selects runs; zero fields match everything.
type RunFilter struct {
	App    string
	States []State
	// Since and Until bound the runs' creation time, [Since, Until); zero
	// leaves that side open. A month's report reads only its month.
	Since, Until time.Time
	Limit        int // newest Limit runs; 0 means 50
}

// CreateRun journals a new run and returns it with its ID. An empty State
// means Requested; a run may also start Queued or Running.
func (s *Store) CreateRun(ctx context.Context, r Run) (Run, error) {
	err := s.writeRows(ctx, func(tx *txn) error {
		var err error
		r, err = s.insertRun(ctx, tx, r)
		return err
	})
	return r, err
}

func (s *Store) insertRun(ctx context.Context, tx *txn, r Run) (Run, error) {
	if r.State == "" {
		r.State = Requested
	}
	if r.State != Requested && r.State != Queued && r.State != Running {
		return r, errs.E("create run", errs.Invalid, "a run cannot start in state %s", r.State)
	}
	if r.App == "" || r.Task == "" {
		return r, errs.E("create run", errs.Invalid, "a run needs an app and a task")
	}
	now := s.now()
	r.CreatedAt, r.UpdatedAt = now, now
	if r.State == Running {
		r.StartedAt = now
	}
	params, err := json.Marshal(nonNilMap(r.Params))
	if err != nil {
		return r, fmt.Errorf("encode run params: %w", err)
	}
	approvers, err := json.Marshal(nonNilSlice(r.Approvers))
	if err != nil {
		return r, fmt.Errorf("encode run approvers: %w", err)
	}
	var seq int64
	err = tx.QueryRowContext(ctx, `INSERT INTO runs (state, app, task, params, principal, handle, platform, channel,
		effect, rule_id, reason, approvers, approval_id, dry_run, request, message_ref, created_at, started_at, updated_at, owner)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq`,
		string(r.State), r.App, r.Task, string(params), r.Principal, r.Handle, r.Platform, r.Channel,
		string(r.Decision.Effect), r.Decision.Rule, r.Decision.Reason, string(approvers), r.ApprovalID, r.DryRun,
		r.Request, r.MessageRef, now.UnixNano(), nanos(r.StartedAt), now.UnixNano(), r.Owner).Scan(&seq)
	if err != nil {
		return r, fmt.Errorf("journal run: %w", err)
	}
	r.ID = runID(seq)
	detail := fmt.Sprintf("%s %s %s by %s (%s, rule %s)", r.State, r.App, r.Task, r.Principal, r.Decision.Effect, r.Decision.Rule)
	if r.DryRun {
		detail += " dry run"
	}
	if err := s.audit(ctx, tx, Entry{Actor: r.Principal, Kind: KindRun, App: r.App, Task: r.Task, RunID: r.ID, Detail: detail}); err != nil {
		return r, err
	}
	return r, nil
}

// TransitionRun moves a run from one state to another if, and only if, it is
// in from now. This compare-and-set is what keeps a run from starting twice:
// of two callers moving the same run from queued to running, one gets an
// errs.Conflict error. summary replaces the run's summary unless empty.
func (s *Store) TransitionRun(ctx context.Context, id string, from, to State, summary string) error {
	if !canMove(from, to) {
		return errs.E("transition run", errs.Invalid, "a run cannot move from %s to %s", from, to)
	}
	return s.writeRows(ctx, func(tx *txn) error {
		return s.moveRun(ctx, tx, id, []State{from}, to, summary, nil, "")
	})
}

// FinishRun moves a run that is not finished yet to a terminal state and
// records its summary and result (JSON, may be empty).
func (s *Store) FinishRun(ctx context.Context, id string, to State, summary, result string) error {
	if !to.Terminal() {
		return errs.E("finish run", errs.Invalid, "%s is not a final run state", to)
	}
	return s.writeRows(ctx, func(tx *txn) error {
		return s.moveRun(ctx, tx, id, []State{Requested, Queued, Running}, to, summary, &result, "")
	})
}

// moveRun is the compare-and-set of run states; a non-empty owner becomes
// the run's owner.
func (s *Store) moveRun(ctx context.Context, tx *txn, id string, from []State, to State, summary string, result *string, owner string) error {
	seq, ok := parseRunID(id)
	if !ok {
		return notFound("change run state", "run", id)
	}
	var cur, app, task string
	err := tx.QueryRowContext(ctx, `SELECT state, app, task FROM runs WHERE seq = ?`+s.b.ForUpdate, seq).Scan(&cur, &app, &task)
	if errors.Is(err, sql.ErrNoRows) {
		return notFound("change run state", "run", id)
	}
	if err != nil {
		return fmt.Errorf("read run %s: %w", id, err)
	}
	if !containsState(from, State(cur)) {
		return errs.E("change run state", errs.Conflict, "run %s is %s, not %s", id, cur, joinStates(from))
	}
	if !canMove(State(cur), to) {
		return errs.E("change run state", errs.Conflict, "run %s is %s and cannot become %s", id, cur, to)
	}
	now := s.now().UnixNano()
	q := `UPDATE runs SET state = ?, updated_at = ?, summary = CASE WHEN ? = '' THEN summary ELSE ? END`
	args := []any{string(to), now, summary, summary}
	if to == Running {
		q += `, started_at = ?`
		args = append(args, now)
	}
	if to.Terminal() {
		q += `, finished_at = ?`
		args = append(args, now)
	}
	if result != nil {
		q += `, result = ?`
		args = append(args, *result)
	}
	if owner != "" {
		q += `, owner = ?`
		args = append(args, owner)
	}
	q += ` WHERE seq = ? AND state = ?`
	args = append(args, seq, cur)
	if _, err := tx.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("update run %s: %w", id, err)
	}
	detail := fmt.Sprintf("%s → %s", cur, to)
	if summary != "" {
		detail += ": " + summary
	}
	return s.audit(ctx, tx, Entry{Actor: "day2bot", Kind: KindRun, App: app, Task: task, RunID: id, Detail: detail})
}

// SetRunMessage records where the chat message about a run is (opaque JSON).
func (s *Store) SetRunMessage(ctx context.Context, id, ref string) error {
	seq, ok := parseRunID(id)
	if !ok {
		return notFound("set run message", "run", id)
	}
	return s.writeRows(ctx, func(tx *txn) error {
		res, err := tx.ExecContext(ctx, `UPDATE runs SET message_ref = ? WHERE seq = ?`, ref, seq)
		if err != nil {
			return fmt.Errorf("set message of run %s: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("set run message", "run", id)
		}
		return nil
	})
}

// Run returns one run by ID.
func (s *Store) Run(ctx context.Context, id string) (Run, error) {
	seq, ok := parseRunID(id)
	if !ok {
		return Run{}, notFound("find run", "run", id)
	}
	rs, err := s.queryRuns(ctx, s.rdb, ` WHERE seq = ?`, seq)
	if err != nil {
		return Run{}, err
	}
	if len(rs) == 0 {
		return Run{}, notFound("find run", "run", id)
	}
	return rs[0], nil
}

// Runs returns the newest runs matching f, newest first.
func (s *Store) Runs(ctx context.Context, f RunFilter) ([]Run, error) {
	var where []string
	var args []any
	if f.App != "" {
		where = append(where, "app = ?")
		args = append(args, f.App)
	}
	if len(f.States) > 0 {
		ph := make([]string, len(f.States))
		for i, st := range f.States {
			ph[i] = "?"
			args = append(args, string(st))
		}
		where = append(where, "state IN ("+strings.Join(ph, ", ")+")")
	}
	if !f.Since.IsZero() {
		where = append(where, "created_at >= ?")
		args = append(args, f.Since.UnixNano())
	}
	if !f.Until.IsZero() {
		where = append(where, "created_at < ?")
		args = append(args, f.Until.UnixNano())
	}
	q := ""
	if len(where) > 0 {
		q = " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	q += " ORDER BY seq DESC LIMIT ?"
	args = append(args, limit)
	return s.queryRuns(ctx, s.rdb, q, args...)
}

// QueuedRuns returns the ids of every queued run, oldest first: the work to
// resume at start-up, however much piled up (Runs is for listings and
// stops at its limit).
func (s *Store) QueuedRuns(ctx context.Context) ([]string, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT seq FROM runs WHERE state = 'queued' ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("list queued runs: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var seq int64
		if err := rows.Scan(&seq); err != nil {
			return nil, fmt.Errorf("list queued runs: %w", err)
		}
		ids = append(ids, runID(seq))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list queued runs: %w", err)
	}
	return ids, nil
}

// InterruptRunning marks every running run interrupted and returns them.
// Call it once at start-up, before the job runner starts: a run that was
// running when the process stopped may have half-happened and is never
// retried automatically. Queued runs are left for the engine to resume
// (Runs with States: Queued).
func (s *Store) InterruptRunning(ctx context.Context, now time.Time) ([]Run, error) {
	return s.interrupt(ctx, now, ` WHERE state = 'running' ORDER BY seq`, "running → interrupted at start-up")
}

func (s *Store) queryRuns(ctx context.Context, q querier, tail string, args ...any) ([]Run, error) {
	rows, err := q.QueryContext(ctx, `SELECT seq, state, app, task, params, principal, handle, platform, channel,
		effect, rule_id, reason, approvers, approval_id, dry_run, request, summary, result, message_ref,
		created_at, started_at, finished_at, updated_at, owner FROM runs`+tail, args...)
	if err != nil {
		return nil, fmt.Errorf("read runs: %w", err)
	}
	defer rows.Close()
	var out []Run
	for rows.Next() {
		var r Run
		var seq int64
		var state, effect, params, approvers string
		var created, updated int64
		var started, finished sql.NullInt64
		if err := rows.Scan(&seq, &state, &r.App, &r.Task, &params, &r.Principal, &r.Handle, &r.Platform, &r.Channel,
			&effect, &r.Decision.Rule, &r.Decision.Reason, &approvers, &r.ApprovalID, &r.DryRun, &r.Request,
			&r.Summary, &r.Result, &r.MessageRef, &created, &started, &finished, &updated, &r.Owner); err != nil {
			return nil, fmt.Errorf("read runs: %w", err)
		}
		r.ID, r.State, r.Decision.Effect = runID(seq), State(state), policies.Effect(effect)
		if err := json.Unmarshal([]byte(params), &r.Params); err != nil {
			return nil, fmt.Errorf("decode params of run %s: %w", r.ID, err)
		}
		if err := json.Unmarshal([]byte(approvers), &r.Approvers); err != nil {
			return nil, fmt.Errorf("decode approvers of run %s: %w", r.ID, err)
		}
		r.CreatedAt, r.UpdatedAt = time.Unix(0, created).UTC(), time.Unix(0, updated).UTC()
		r.StartedAt, r.FinishedAt = fromNanos(started), fromNanos(finished)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read runs: %w", err)
	}
	return out, nil
}

func runID(seq int64) string { return "r-" + strconv.FormatInt(seq, 10) }

// parseRunID accepts "r-123" and, since people type it, "123".
func parseRunID(id string) (int64, bool) {
	n, err := strconv.ParseInt(strings.TrimPrefix(id, "r-"), 10, 64)
	return n, err == nil && n > 0
}

func mustSeq(id string) int64 { n, _ := parseRunID(id); return n }

func containsState(ss []State, st State) bool {
	for _, s := range ss {
		if s == st {
			return true
		}
	}
	return false
}

func joinStates(ss []State) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = string(s)
	}
	return strings.Join(parts, " or ")
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func nonNilSlice(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
