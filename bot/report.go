package bot

import (
	"bytes"
	"cmp"
	"context"
	"encoding/csv"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/day2bot/day2bot/policies/store"
)

// `report APP [YYYY-MM]` is the month's report for the business: cost by
// service and day (Cost Explorer, by the app's cost-allocation tag), the
// runs, the approvals and the changes of the month, as a message with a
// CSV attached. One CSV, one row per item, columns the same for all:
//
//	section,date,item,who,detail,amount,unit
//
// section is cost, run, change (a mutating run that changed AWS, or a
// freeze or policy change), or approval (a vote or an approval's outcome).

// CostRow is one service's cost on one day.
type CostRow struct {
	Day     time.Time
	Service string
	Amount  float64
	Unit    string
}

func (e *Engine) report(ctx context.Context, c caller, req Request, reply Responder) {
	a, ok := e.readableApp(ctx, c, req.App, reply)
	if !ok {
		return
	}
	now := e.now().UTC()
	from := req.Month
	if from.IsZero() {
		from = time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	if from.After(now) {
		e.reject(ctx, reply, usagef("%s has not begun; a report covers a month up to today", from.Format("January 2006")))
		return
	}
	to := from.AddDate(0, 1, 0)
	bg := context.WithoutCancel(ctx)
	e.background(func() {
		m, err := e.buildReport(bg, a, from, to, now)
		if err != nil {
			e.internal(bg, reply, "", err)
			return
		}
		if _, err := reply.Public(bg, m); err != nil {
			e.log.WarnContext(bg, "post report", "app", a.Name, "err", err)
		}
	})
}

// buildReport collects the month [from, to) of app a as of now.
func (e *Engine) buildReport(ctx context.Context, a *App, from, to, now time.Time) (Message, error) {
	in := func(t time.Time) bool { return !t.Before(from) && t.Before(to) }
	var rows [][]string
	add := func(section string, at time.Time, item, who, detail, amount, unit string) {
		rows = append(rows, []string{section, at.UTC().Format(time.RFC3339), item, who, detail, amount, unit})
	}

	var cost float64
	unit := "USD"
	costNote := "not set up"
	if e.opts.CostRows != nil {
		// Cost Explorer has whole days only: up to today, not into it.
		end := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
		if to.Before(end) {
			end = to
		}
		costNote = "no whole day yet"
		if from.Before(end) {
			cr, err := e.opts.CostRows(ctx, a.Name, from, end)
			if err != nil {
				return Message{}, fmt.Errorf("report cost of %s: %w", a.Name, err)
			}
			for _, r := range cr {
				cost += r.Amount
				if r.Unit != "" {
					unit = r.Unit
				}
				rows = append(rows, []string{"cost", r.Day.UTC().Format(time.DateOnly), r.Service, "", "", strconv.FormatFloat(r.Amount, 'f', 2, 64), r.Unit})
			}
			costNote = fmt.Sprintf("%.2f %s (%s–%s)", cost, unit, from.Format("Jan 2"), end.AddDate(0, 0, -1).Format("Jan 2"))
		}
	}

	// Only the month is read: a busy app's later runs must not push the
	// month's out of the bound.
	runs, err := e.store.Runs(ctx, store.RunFilter{App: a.Name, Since: from, Until: to, Limit: e.opts.ReportRows})
	if err != nil {
		return Message{}, fmt.Errorf("report runs of %s: %w", a.Name, err)
	}
	// A report that reached the bound says what it left out, never
	// passing for the whole month.
	var capped []string
	if len(runs) == e.opts.ReportRows {
		capped = append(capped, fmt.Sprintf("the month's newest %d runs only: older ones are left out", len(runs)))
	}
	slices.Reverse(runs) // newest first from the store; the report reads forward
	slices.SortStableFunc(runs, func(x, y store.Run) int { return x.CreatedAt.Compare(y.CreatedAt) })
	var nRuns, nFailed, nChanges int
	for _, r := range runs {
		if !in(r.CreatedAt) {
			continue
		}
		nRuns++
		if r.State == store.Failed || r.State == store.Interrupted {
			nFailed++
		}
		section := "run"
		if t, ok := a.task(r.Task); ok && !r.DryRun && r.State == store.Succeeded {
			if act, ok := e.reg.Lookup(t.Action); ok && act.Mutating() {
				section = "change"
				nChanges++
			}
		}
		detail := string(r.State)
		if r.DryRun {
			detail += " (dry run)"
		}
		if p := paramsText(r.Params); p != "" {
			detail += "; " + p
		}
		if r.Summary != "" {
			detail += "; " + r.Summary
		}
		if len(r.Approvers) > 0 {
			detail += "; approved by " + strings.Join(r.Approvers, ", ")
		}
		add(section, r.CreatedAt, r.Task+" "+r.ID, who(r.Handle, r.Principal), detail, "", "")
	}

	var nApprovals int
	if al, ok := e.store.(auditLog); ok {
		// Only the kinds a report shows are read, so the bound counts them.
		var es []store.Entry
		for _, kind := range []string{store.KindApproval, store.KindFreeze, store.KindPolicy} {
			got, err := al.AuditLog(ctx, store.AuditFilter{App: a.Name, Kind: kind, Since: from, Until: to, Limit: e.opts.ReportRows})
			if err != nil {
				return Message{}, fmt.Errorf("report audit of %s: %w", a.Name, err)
			}
			if len(got) == e.opts.ReportRows {
				capped = append(capped, fmt.Sprintf("the month's newest %d %s entries only: older ones are left out", len(got), kind))
			}
			es = append(es, got...)
		}
		slices.SortFunc(es, func(x, y store.Entry) int { return cmp.Compare(x.Seq, y.Seq) })
		for _, en := range es {
			if !in(en.At) {
				continue
			}
			switch en.Kind {
			case store.KindApproval:
				nApprovals++
				add("approval", en.At, strings.TrimSpace(en.Task+" "+en.RunID), e.display(ctx, en.Actor), en.Detail, "", "")
			case store.KindFreeze, store.KindPolicy:
				nChanges++
				add("change", en.At, en.Kind, e.display(ctx, en.Actor), en.Detail, "", "")
			}
		}
	}

	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write([]string{"section", "date", "item", "who", "detail", "amount", "unit"})
	for _, r := range rows {
		for i := range r {
			r[i] = csvSafe(r[i])
		}
		_ = w.Write(r)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return Message{}, fmt.Errorf("write report of %s: %w", a.Name, err)
	}
	month := from.Format("2006-01")
	m := Message{
		Title: "Report of " + a.Name + " — " + from.Format("January 2006"),
		Fields: []Field{
			{"Cost", costNote},
			{"Runs", fmt.Sprintf("%d, %d failed", nRuns, nFailed)},
			{"Changes", strconv.Itoa(nChanges)},
			{"Approval events", strconv.Itoa(nApprovals)},
		},
		Attachment: &File{Name: a.Name + "-" + month + ".csv", Content: buf.Bytes(), Type: "text/csv"},
		Context:    append([]string{fmt.Sprintf("%d rows in %s-%s.csv; as of %s", len(rows), a.Name, month, now.Format("Jan 2 15:04 MST"))}, capped...),
	}
	return m, nil
}

// csvSafe keeps a spreadsheet from reading a cell as a formula: text
// starting with = + - @ (or a tab or carriage return) gets a leading
// apostrophe. Amounts are numbers and pass unchanged.
func csvSafe(s string) string {
	if s == "" || strings.IndexByte("=+-@\t\r", s[0]) < 0 {
		return s
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return s
	}
	return "'" + s
}

// paramsText is "k=v k=v" in key order.
func paramsText(p map[string]string) string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + p[k]
	}
	return strings.Join(parts, " ")
}
