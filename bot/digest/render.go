package digest

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/day2bot/day2bot/bot"
)

// Message renders a report as a neutral chat message; chart, if not nil,
// is attached as the key metric's PNG.
func Message(r Report, chart []byte) bot.Message {
	m := bot.Message{
		Title: "Health digest — " + r.App,
		Tone:  tone(r),
	}
	m.Fields = []bot.Field{
		{Name: "Window", Value: fmt.Sprintf("%s → %s (every %s)", r.From.Format("Jan 2 15:04"), r.To.Format("Jan 2 15:04 MST"), short(r.Period))},
		{Name: "Resources up", Value: resourcesText(r.Resources)},
		{Name: "Alarms in ALARM", Value: strconv.Itoa(len(r.Alarms))},
		{Name: "Runs in window", Value: runsText(r)},
		{Name: "Pending approvals", Value: strconv.Itoa(len(r.Pending))},
		{Name: "Cost", Value: costText(r.Cost)},
	}
	if top := r.Cost.TopServices(3); len(top) > 0 {
		m.Fields = append(m.Fields, bot.Field{Name: "Top services", Value: servicesText(top, r.Cost.Unit)})
	}
	if len(r.Metrics) > 0 {
		t := &bot.Table{Columns: []string{"Metric", "Of", "Stat", "Mean", "Worst", "Level", "Note"}}
		for _, s := range r.Metrics {
			worst := "—"
			mean := "—"
			if s.Level != "" {
				mean = value(s.Mean, s.Unit)
				worst = value(s.Worst, s.Unit)
				if s.WorstID != "" && s.Resources > 1 && s.Level != "ok" {
					worst += " (" + s.WorstID + ")"
				}
			}
			note := s.Note
			if s.Resources > 1 && (s.Warn > 0 || s.Crit > 0) {
				note = strings.TrimSpace(fmt.Sprintf("%d of %d warn, %d critical %s", s.Warn, s.Resources, s.Crit, note))
			}
			t.Rows = append(t.Rows, []string{s.Name, s.Resource, s.Stat, mean, worst, marker(s.Level), note})
		}
		m.Table = t
	}
	var text []string
	for _, a := range r.Alarms {
		line := "✖ *" + a.Name + "*"
		if !a.Since.IsZero() {
			line += " since " + a.Since.UTC().Format("Jan 2 15:04 MST")
		}
		if a.Reason != "" {
			line += ": " + a.Reason
		}
		text = append(text, line)
	}
	for _, rc := range r.Resources {
		if len(rc.Down) > 0 {
			text = append(text, fmt.Sprintf("%s not up: %s", rc.Name, strings.Join(rc.Down, ", ")))
		}
	}
	for _, a := range r.Pending {
		text = append(text, fmt.Sprintf("pending `%s`: %s %s by %s", a.ID, a.App, a.Task, who(a.RequesterHandle, a.Requester)))
	}
	for _, run := range r.Runs {
		text = append(text, fmt.Sprintf("run `%s` %s %s — %s", run.ID, run.Task, run.State, run.CreatedAt.UTC().Format("Jan 2 15:04")))
	}
	for _, p := range r.Problems {
		text = append(text, "could not read "+p)
	}
	m.Text = strings.Join(text, "\n")
	if r.Cost.Known && !r.Cost.FirstDay {
		m.Context = append(m.Context, "cost: "+r.Cost.Scope+", whole days "+r.Cost.Start.Format("Jan 2")+"–"+r.Cost.End.AddDate(0, 0, -1).Format("Jan 2")+
			" vs "+r.Cost.PrevStart.Format("Jan 2")+"–"+r.Cost.PrevEnd.AddDate(0, 0, -1).Format("Jan 2")+", as of "+r.Cost.AsOf.UTC().Format("15:04 MST"))
	}
	if strings.HasPrefix(r.Cost.Scope, "tag ") {
		m.Context = append(m.Context, "per-app cost counts only resources carrying the tag, and only once it is activated as a cost-allocation tag in Billing")
	}
	if chart != nil {
		m.Attachment = &bot.File{Name: r.App + "-" + keyMetricName(r) + ".png", Content: chart, Type: "image/png"}
	}
	return m
}

func tone(r Report) bot.Tone {
	worst := ""
	for _, s := range r.Metrics {
		if s.Level == "critical" || (worst == "" && s.Level == "warn") {
			worst = s.Level
		}
	}
	switch {
	case len(r.Alarms) > 0 || worst == "critical":
		return bot.ToneDanger
	case worst == "warn" || len(r.Problems) > 0 || r.Failures > 0:
		return bot.ToneWarning
	}
	for _, rc := range r.Resources {
		if rc.Up < rc.Expected {
			return bot.ToneWarning
		}
	}
	return bot.ToneSuccess
}

func marker(level string) string {
	switch level {
	case "critical":
		return "✖ critical"
	case "warn":
		return "⚠ warn"
	case "ok":
		return "ok"
	}
	return "no data"
}

func resourcesText(rs []ResourceCount) string {
	if len(rs) == 0 {
		return "none counted"
	}
	parts := make([]string, len(rs))
	for i, rc := range rs {
		parts[i] = fmt.Sprintf("%s %d/%d", rc.Name, rc.Up, rc.Expected)
	}
	return strings.Join(parts, " · ")
}

func runsText(r Report) string {
	n := 0
	for _, run := range r.Runs {
		if !run.CreatedAt.Before(r.From) {
			n++
		}
	}
	if r.Failures == 0 {
		return fmt.Sprintf("%d recent, none failed", n)
	}
	return fmt.Sprintf("%d recent, %d failed", n, r.Failures)
}

func costText(c Cost) string {
	switch {
	case !c.Known:
		return "unknown"
	case c.FirstDay:
		return "first day of the month, no cost yet"
	}
	s := fmt.Sprintf("%s %s month to date vs %s %s", money(c.MonthToDate), c.Unit, money(c.Previous), c.Unit)
	if c.Previous > 0 {
		s += fmt.Sprintf(" (%+.0f%%)", (c.MonthToDate/c.Previous-1)*100)
	}
	if c.ForecastKnown {
		s += fmt.Sprintf("; forecast %s %s for %s", money(c.Forecast), c.Unit, c.Start.Format("January"))
	}
	return s
}

// servicesText is "EC2 - Compute 540.00 · RDS 300.00 · other 12.00".
func servicesText(top []ServiceCost, unit string) string {
	parts := make([]string, len(top))
	for i, s := range top {
		parts[i] = shortService(s.Service) + " " + money(s.Amount)
	}
	return strings.Join(parts, " · ") + " " + unit
}

// shortService drops the vendor prefixes of Cost Explorer's service names
// ("Amazon Elastic Compute Cloud - Compute" → "Elastic Compute Cloud -
// Compute"), which say nothing in an AWS bill.
func shortService(s string) string {
	for _, p := range []string{"Amazon ", "AWS "} {
		if rest, ok := strings.CutPrefix(s, p); ok && rest != "" {
			return rest
		}
	}
	return s
}

// money formats with thousands separators: 12,345.67.
func money(v float64) string {
	s := strconv.FormatFloat(math.Abs(v), 'f', 2, 64)
	intPart, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	sign := ""
	if v < 0 {
		sign = "-"
	}
	return sign + b.String() + "." + frac
}

// value formats a metric value in its unit.
func value(v float64, unit string) string {
	switch unit {
	case "Percent":
		return strconv.FormatFloat(v, 'f', 1, 64) + "%"
	case "Seconds":
		return strconv.FormatFloat(v, 'f', 3, 64) + "s"
	case "Bytes":
		const gib = 1 << 30
		if math.Abs(v) >= gib {
			return strconv.FormatFloat(v/gib, 'f', 1, 64) + " GiB"
		}
		return strconv.FormatFloat(v/(1<<20), 'f', 1, 64) + " MiB"
	case "Count":
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

func short(d time.Duration) string {
	switch {
	case d <= 0:
		return "—"
	case d%time.Hour == 0:
		return strconv.Itoa(int(d/time.Hour)) + "h"
	case d%time.Minute == 0:
		return strconv.Itoa(int(d/time.Minute)) + "m"
	}
	return d.String()
}

func who(handle, principal string) string {
	if handle != "" {
		return handle
	}
	return principal
}
