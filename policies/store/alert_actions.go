package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/day2bot/day2bot/internal/errs"
)

// AlertAction is one remediation offered on an alert: a task of the alert's
// app and the parameter values it runs with.
type AlertAction struct {
	Task   string            `json:"task"`
	Params map[string]string `json:"params,omitempty"`
}

// SaveAlertActions keeps the remediations offered on one alert of app about
// alarm and returns their short id ("x" and eight characters). Buttons carry
// the id and an index instead of the values. Rows are kept: a button on an
// old message still says what it runs.
func (s *Store) SaveAlertActions(ctx context.Context, app, alarm string, actions []AlertAction) (string, error) {
	if app == "" || len(actions) == 0 {
		return "", errs.E("save alert actions", errs.Invalid, "alert actions need an app and at least one action")
	}
	for _, a := range actions {
		if a.Task == "" {
			return "", errs.E("save alert actions", errs.Invalid, "alert action without a task")
		}
	}
	body, err := json.Marshal(actions)
	if err != nil {
		return "", fmt.Errorf("encode alert actions: %w", err)
	}
	var id string
	err = s.writeRows(ctx, func(tx *txn) error {
		// 31^8 ids: a collision is all but impossible, and retried.
		for range 5 {
			id = newAlertActionsID()
			res, err := tx.ExecContext(ctx, `INSERT INTO alert_actions (id, app, alarm, actions, created_at)
				VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`, id, app, alarm, string(body), s.now().UnixNano())
			if err != nil {
				return fmt.Errorf("save alert actions of %s: %w", alarm, err)
			}
			if n, _ := res.RowsAffected(); n == 1 {
				return nil
			}
		}
		return fmt.Errorf("save alert actions of %s: no free id after 5 tries", alarm)
	})
	if err != nil {
		return "", err
	}
	return id, nil
}

// AlertAction returns the app and the i-th action (0-based) of the alert
// actions id. An unknown id or index is an errs.NotFound error.
func (s *Store) AlertAction(ctx context.Context, id string, i int) (app string, a AlertAction, err error) {
	var body string
	err = s.rdb.QueryRowContext(ctx, `SELECT app, actions FROM alert_actions WHERE id = ?`, strings.ToLower(id)).Scan(&app, &body)
	if errors.Is(err, sql.ErrNoRows) {
		return "", AlertAction{}, notFound("find alert action", "alert action", id)
	}
	if err != nil {
		return "", AlertAction{}, fmt.Errorf("read alert actions %s: %w", id, err)
	}
	var as []AlertAction
	if err := json.Unmarshal([]byte(body), &as); err != nil {
		return "", AlertAction{}, fmt.Errorf("decode alert actions %s: %w", id, err)
	}
	if i < 0 || i >= len(as) {
		return "", AlertAction{}, notFound("find alert action", "alert action", fmt.Sprintf("%s:%d", id, i))
	}
	return app, as[i], nil
}

func newAlertActionsID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	for i := range b {
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	return "x" + string(b)
}
