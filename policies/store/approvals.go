package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/policies"
)

// ApprovalState is the state of an approval request.
//
//	pending → approved | denied | expired | cancelled
type ApprovalState string

const (
	Pending           ApprovalState = "pending"
	Approved          ApprovalState = "approved"
	Denied            ApprovalState = "denied"
	Expired           ApprovalState = "expired"
	ApprovalCancelled ApprovalState = "cancelled" // withdrawn by the requester or an admin
)

// DefaultApprovalExpiry applies when an ApprovalRequest has no ExpiresAt.
const DefaultApprovalExpiry = 24 * time.Hour

// ApprovalRequest is what CreateApproval stores.
type ApprovalRequest struct {
	App             string
	Task            string
	Params          map[string]string
	Requester       string // principal, "slack:U123"
	RequesterHandle string
	Channel         string
	Platform        string
	RuleID          string
	Approvers       []string // who may approve, as the rule says ("group:ops")
	Quorum          int
	ExpiresAt       time.Time
	Request         []byte // the exact request, JSON, replayed when approved
}

// Vote is one approver's answer.
type Vote struct {
	Voter   string
	Approve bool
	At      time.Time
}

// Approval is a stored approval request with its votes.
type Approval struct {
	ApprovalRequest
	ID         string // "a-7f3k2"
	State      ApprovalState
	ParamsHash string // ParamsHash(Params)
	MessageRef string // opaque JSON locating the chat message with the buttons
	RunID      string // set when approved: the run that was queued
	Votes      []Vote
	CreatedAt  time.Time
	DecidedAt  time.Time
	DecidedBy  string
}

// Approvals counts the approving votes.
func (a Approval) Approvals() int {
	n := 0
	for _, v := range a.Votes {
		if v.Approve {
			n++
		}
	}
	return n
}

// VoteResult is what Vote did.
type VoteResult struct {
	Approval Approval // after the vote
	// Started is true for exactly one vote of an approval: the one that
	// reached the quorum. The run it queued is RunID.
	Started bool
	RunID   string
}

// ParamsHash is the hex SHA-256 of the parameters in canonical form (JSON
// with sorted keys), so an approval is bound to the exact values asked for.
func ParamsHash(params map[string]string) string {
	b, _ := json.Marshal(nonNilMap(params)) // map[string]string always encodes, keys sorted
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// CreateApproval stores a pending approval request with a short new ID.
func (s *Store) CreateApproval(ctx context.Context, req ApprovalRequest) (Approval, error) {
	if req.App == "" || req.Task == "" || req.Requester == "" {
		return Approval{}, errs.E("create approval", errs.Invalid, "an approval needs an app, a task and a requester")
	}
	if req.Quorum < 1 {
		req.Quorum = 1
	}
	now := s.now()
	if req.ExpiresAt.IsZero() {
		req.ExpiresAt = now.Add(DefaultApprovalExpiry)
	}
	a := Approval{ApprovalRequest: req, State: Pending, ParamsHash: ParamsHash(req.Params), CreatedAt: now.UTC()}
	params, err := json.Marshal(nonNilMap(req.Params))
	if err != nil {
		return Approval{}, fmt.Errorf("encode approval params: %w", err)
	}
	approvers, err := json.Marshal(nonNilSlice(req.Approvers))
	if err != nil {
		return Approval{}, fmt.Errorf("encode approvers: %w", err)
	}
	err = s.writeRows(ctx, func(tx *txn) error {
		for range 10 {
			a.ID = newApprovalID()
			res, err := tx.ExecContext(ctx, `INSERT INTO approvals (id, state, app, task, params, params_hash, requester,
				requester_handle, channel, platform, rule_id, approvers, quorum, request, created_at, expires_at)
				VALUES (?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
				a.ID, req.App, req.Task, string(params), a.ParamsHash, req.Requester, req.RequesterHandle, req.Channel,
				req.Platform, req.RuleID, string(approvers), req.Quorum, req.Request, now.UnixNano(), req.ExpiresAt.UnixNano())
			if err != nil {
				return fmt.Errorf("store approval: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 1 {
				return s.audit(ctx, tx, Entry{Actor: req.Requester, Kind: KindApproval, App: req.App, Task: req.Task,
					Detail: fmt.Sprintf("requested approval %s (rule %s, %d of %s)", a.ID, req.RuleID, req.Quorum, strings.Join(req.Approvers, ", "))})
			}
		}
		return errors.New("store approval: no free approval id after 10 tries")
	})
	if err != nil {
		return Approval{}, err
	}
	return a, nil
}

// idAlphabet leaves out look-alikes (0/o, 1/l/i) since people type IDs.
const idAlphabet = "23456789abcdefghjkmnpqrstuvwxyz"

// newApprovalID returns "a-" and five random characters: 31^5 ≈ 28 million
// IDs, and a collision is retried by CreateApproval.
func newApprovalID() string {
	b := make([]byte, 5)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	for i := range b {
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	return "a-" + string(b)
}

// Approval returns one approval with its votes.
func (s *Store) Approval(ctx context.Context, id string) (Approval, error) {
	as, err := s.queryApprovals(ctx, s.rdb, ` WHERE id = ?`, strings.ToLower(id))
	if err != nil {
		return Approval{}, err
	}
	if len(as) == 0 {
		return Approval{}, notFound("find approval", "approval", id)
	}
	return as[0], nil
}

// PendingApprovals returns the pending approvals of app (all apps if
// empty), oldest first.
func (s *Store) PendingApprovals(ctx context.Context, app string) ([]Approval, error) {
	if app == "" {
		return s.queryApprovals(ctx, s.rdb, ` WHERE state = 'pending' ORDER BY created_at, id`)
	}
	return s.queryApprovals(ctx, s.rdb, ` WHERE state = 'pending' AND app = ? ORDER BY created_at, id`, app)
}

// SetApprovalMessage records where the approval's chat message is.
func (s *Store) SetApprovalMessage(ctx context.Context, id, ref string) error {
	return s.writeRows(ctx, func(tx *txn) error {
		res, err := tx.ExecContext(ctx, `UPDATE approvals SET message_ref = ? WHERE id = ?`, ref, id)
		if err != nil {
			return fmt.Errorf("set message of approval %s: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("set approval message", "approval", id)
		}
		return nil
	})
}

// Vote records voter's answer to a pending approval, all in one immediate
// transaction:
//   - an approval that is not pending is an errs.Conflict error (its
//     message says what it is now);
//   - the requester may not vote (errs.Permission), also not from another
//     chat identity of the same person;
//   - nobody votes twice (errs.Conflict);
//   - a deny decides: the approval is denied;
//   - the vote that reaches the quorum approves it and queues the run in
//     the same transaction; that vote alone gets Started and the RunID.
//
// The caller checks beforehand that the voter is one of the approvers.
func (s *Store) Vote(ctx context.Context, id, voter string, approve bool, at time.Time) (VoteResult, error) {
	var res VoteResult
	id = strings.ToLower(id)
	err := s.writeRows(ctx, func(tx *txn) error {
		// The row lock makes concurrent votes on one approval take turns;
		// each then reads the votes committed before it.
		as, err := s.queryApprovals(ctx, tx, ` WHERE id = ?`+s.b.ForUpdate, id)
		if err != nil {
			return err
		}
		if len(as) == 0 {
			return notFound("vote on approval", "approval", id)
		}
		a := as[0]
		if a.State != Pending {
			return errs.E("vote on approval", errs.Conflict, "approval %s is already %s", id, a.State)
		}
		if !at.Before(a.ExpiresAt) {
			// ExpireApprovals will record it; the vote does not count.
			return errs.E("vote on approval", errs.Conflict, "approval %s has expired", id)
		}
		var voterHandle string
		err = tx.QueryRowContext(ctx, `SELECT handle FROM user_principals WHERE principal = ?`, voter).Scan(&voterHandle)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("look up voter %s: %w", voter, err)
		}
		if voter == a.Requester || (voterHandle != "" && voterHandle == a.RequesterHandle) {
			return errs.E("vote on approval", errs.Permission, "you cannot approve or deny your own request")
		}
		// One vote per person: keyed by handle when known, so two chat
		// identities of one person count once.
		key := voter
		if voterHandle != "" {
			key = "handle:" + voterHandle
		}
		ins, err := tx.ExecContext(ctx, `INSERT INTO approval_votes (approval_id, voter, voter_key, approve, at)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, id, voter, key, approve, at.UnixNano())
		if err != nil {
			return fmt.Errorf("record vote on %s: %w", id, err)
		}
		if n, _ := ins.RowsAffected(); n == 0 {
			return errs.E("vote on approval", errs.Conflict, "you already voted on %s", id)
		}
		a.Votes = append(a.Votes, Vote{Voter: voter, Approve: approve, At: at.UTC()})
		verb := "approved"
		if !approve {
			verb = "denied"
		}
		if err := s.audit(ctx, tx, Entry{At: at, Actor: voter, Kind: KindApproval, App: a.App, Task: a.Task,
			Detail: fmt.Sprintf("%s %s (%d of %d)", verb, id, a.Approvals(), a.Quorum)}); err != nil {
			return err
		}
		switch {
		case !approve:
			if err := s.decide(ctx, tx, &a, Denied, voter, at, ""); err != nil {
				return err
			}
		case a.Approvals() >= a.Quorum:
			run, err := s.insertRun(ctx, tx, Run{
				State: Queued, App: a.App, Task: a.Task, Params: a.Params,
				Principal: a.Requester, Handle: a.RequesterHandle, Platform: a.Platform, Channel: a.Channel,
				Decision:  RunDecision{Effect: policies.Approve, Rule: a.RuleID, Reason: "approved by " + strings.Join(approvers(a.Votes), ", ")},
				Approvers: approvers(a.Votes), ApprovalID: a.ID, Request: a.Request,
			})
			if err != nil {
				return err
			}
			if err := s.decide(ctx, tx, &a, Approved, voter, at, run.ID); err != nil {
				return err
			}
			res.Started, res.RunID = true, run.ID
		}
		res.Approval = a
		return nil
	})
	if err != nil {
		return VoteResult{}, err
	}
	return res, nil
}

func approvers(vs []Vote) []string {
	var out []string
	for _, v := range vs {
		if v.Approve {
			out = append(out, v.Voter)
		}
	}
	return out
}

// decide moves a pending approval to a final state.
func (s *Store) decide(ctx context.Context, tx *txn, a *Approval, to ApprovalState, by string, at time.Time, runID string) error {
	res, err := tx.ExecContext(ctx, `UPDATE approvals SET state = ?, decided_at = ?, decided_by = ?, run_id = ?
		WHERE id = ? AND state = 'pending'`, string(to), at.UnixNano(), by, runID, a.ID)
	if err != nil {
		return fmt.Errorf("decide approval %s: %w", a.ID, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("decide approval %s: no longer pending", a.ID)
	}
	a.State, a.DecidedAt, a.DecidedBy, a.RunID = to, at.UTC(), by, runID
	detail := fmt.Sprintf("approval %s %s", a.ID, to)
	if runID != "" {
		detail += ", queued run " + runID
	}
	return s.audit(ctx, tx, Entry{At: at, Actor: by, Kind: KindApproval, App: a.App, Task: a.Task, RunID: runID, Detail: detail})
}

// CancelApproval withdraws a pending approval.
func (s *Store) CancelApproval(ctx context.Context, id, by string) error {
	id = strings.ToLower(id)
	return s.write(ctx, func(tx *txn) error {
		as, err := s.queryApprovals(ctx, tx, ` WHERE id = ?`+s.b.ForUpdate, id)
		if err != nil {
			return err
		}
		if len(as) == 0 {
			return notFound("cancel approval", "approval", id)
		}
		a := as[0]
		if a.State != Pending {
			return errs.E("cancel approval", errs.Conflict, "approval %s is already %s", id, a.State)
		}
		return s.decide(ctx, tx, &a, ApprovalCancelled, by, s.now(), "")
	})
}

// RaiseApprovalQuorum makes a pending approval need at least quorum
// approvals, for a rule that asks for more now than when the request was
// made. It never lowers the quorum; a vote that reaches the new quorum
// queues the run as usual.
func (s *Store) RaiseApprovalQuorum(ctx context.Context, id string, quorum int) error {
	id = strings.ToLower(id)
	return s.writeRows(ctx, func(tx *txn) error {
		res, err := tx.ExecContext(ctx, `UPDATE approvals SET quorum = ? WHERE id = ? AND state = 'pending' AND quorum < ?`,
			quorum, id, quorum)
		if err != nil {
			return fmt.Errorf("raise quorum of approval %s: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // not pending (Vote says so), or already that high
		}
		var app, task string
		if err := tx.QueryRowContext(ctx, `SELECT app, task FROM approvals WHERE id = ?`, id).Scan(&app, &task); err != nil {
			return fmt.Errorf("raise quorum of approval %s: %w", id, err)
		}
		return s.audit(ctx, tx, Entry{Actor: "day2bot", Kind: KindApproval, App: app, Task: task,
			Detail: fmt.Sprintf("approval %s now needs %d approvals (the rule changed)", id, quorum)})
	})
}

// ExpireApprovals moves pending approvals whose expiry is not after now to
// expired and returns them, so the engine can update their messages.
func (s *Store) ExpireApprovals(ctx context.Context, now time.Time) ([]Approval, error) {
	var out []Approval
	err := s.write(ctx, func(tx *txn) error {
		as, err := s.queryApprovals(ctx, tx, ` WHERE state = 'pending' AND expires_at <= ? ORDER BY expires_at, id`+s.b.ForUpdate, now.UnixNano())
		if err != nil {
			return err
		}
		for _, a := range as {
			if err := s.decide(ctx, tx, &a, Expired, "day2bot", now, ""); err != nil {
				return err
			}
			out = append(out, a)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("expire approvals: %w", err)
	}
	return out, nil
}

func (s *Store) queryApprovals(ctx context.Context, q querier, tail string, args ...any) ([]Approval, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, state, app, task, params, params_hash, requester, requester_handle,
		channel, platform, rule_id, approvers, quorum, request, message_ref, run_id, created_at, expires_at,
		decided_at, decided_by FROM approvals`+tail, args...)
	if err != nil {
		return nil, fmt.Errorf("read approvals: %w", err)
	}
	var out []Approval
	for rows.Next() {
		var a Approval
		var state, params, approvers string
		var created, expires int64
		var decided sql.NullInt64
		if err := rows.Scan(&a.ID, &state, &a.App, &a.Task, &params, &a.ParamsHash, &a.Requester, &a.RequesterHandle,
			&a.Channel, &a.Platform, &a.RuleID, &approvers, &a.Quorum, &a.Request, &a.MessageRef, &a.RunID,
			&created, &expires, &decided, &a.DecidedBy); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read approvals: %w", err)
		}
		a.State = ApprovalState(state)
		if err := json.Unmarshal([]byte(params), &a.Params); err != nil {
			rows.Close()
			return nil, fmt.Errorf("decode params of approval %s: %w", a.ID, err)
		}
		if err := json.Unmarshal([]byte(approvers), &a.Approvers); err != nil {
			rows.Close()
			return nil, fmt.Errorf("decode approvers of approval %s: %w", a.ID, err)
		}
		a.CreatedAt, a.ExpiresAt, a.DecidedAt = time.Unix(0, created).UTC(), time.Unix(0, expires).UTC(), fromNanos(decided)
		out = append(out, a)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return nil, fmt.Errorf("read approvals: %w", err)
	}
	// Votes after the approvals' rows are closed: a Tx has one connection.
	for i := range out {
		if out[i].Votes, err = queryVotes(ctx, q, out[i].ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func queryVotes(ctx context.Context, q querier, id string) ([]Vote, error) {
	rows, err := q.QueryContext(ctx, `SELECT voter, approve, at FROM approval_votes WHERE approval_id = ? ORDER BY at, rowid`, id)
	if err != nil {
		return nil, fmt.Errorf("read votes of %s: %w", id, err)
	}
	defer rows.Close()
	var out []Vote
	for rows.Next() {
		var v Vote
		var at int64
		if err := rows.Scan(&v.Voter, &v.Approve, &at); err != nil {
			return nil, fmt.Errorf("read votes of %s: %w", id, err)
		}
		v.At = time.Unix(0, at).UTC()
		out = append(out, v)
	}
	return out, rows.Err()
}
