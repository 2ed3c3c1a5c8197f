package blueprints

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/day2bot/day2bot/tasks"
)

// Render writes a readable description of b: resources, tasks with their
// parameters and bounds, health, schedules and remediations. It is what
// `day2bot blueprints show` prints.
func Render(w io.Writer, b *Blueprint) error {
	var out strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&out, format, args...) }

	p("%s: %s\n", b.Name, b.Description)

	p("\nResources\n")
	width := maxLen(b.ResourceNames())
	var types []string
	for _, r := range b.Resources {
		types = append(types, r.Type)
	}
	typeWidth := maxLen(types)
	for _, rn := range b.ResourceNames() {
		r := b.Resources[rn]
		p("  %-*s  %-*s  %s\n", width, rn, typeWidth, r.Type, selectorText(r.Select))
		if r.Description != "" {
			p("  %*s  %s\n", width, "", r.Description)
		}
	}

	p("\nTasks\n")
	width = maxLen(b.TaskNames())
	for _, tn := range b.TaskNames() {
		t := b.Tasks[tn]
		kind := "read-only"
		if t.Mutating {
			kind = "mutating"
		}
		pad := strings.Repeat(" ", width+4)
		p("  %-*s  %s (%s on %s)\n", width, tn, kind, t.Action, t.Target)
		p("%s%s\n", pad, t.Description)
		for _, prm := range t.Params {
			line := prm.String()
			if prm.Description != "" {
				line += " - " + prm.Description
			}
			p("%s  %s\n", pad, line)
		}
		if t.Confirm != "" {
			p("%s  confirm: %s\n", pad, t.Confirm)
		}
	}

	if len(b.Health.Metrics) > 0 || len(b.Health.AlarmPrefixes) > 0 {
		p("\nHealth\n")
		tw := tabwriter.NewWriter(&out, 0, 4, 2, ' ', 0)
		for _, m := range b.Health.Metrics {
			fmt.Fprintf(tw, "  %s\t%s %s\t%s/%s\t%s\t%s\n", m.Name, m.Namespace, m.Metric, m.Stat,
				tasks.FormatDuration(m.Period), metricScope(b, m), thresholdText(m))
		}
		if err := tw.Flush(); err != nil {
			return fmt.Errorf("render blueprint: %w", err)
		}
		if len(b.Health.AlarmPrefixes) > 0 {
			p("  alarms: names starting with %s\n", strings.Join(b.Health.AlarmPrefixes, ", "))
		}
	}

	if len(b.Schedules) > 0 {
		p("\nSchedules\n")
		tw := tabwriter.NewWriter(&out, 0, 4, 2, ' ', 0)
		for _, s := range b.Schedules {
			what := "health digest"
			if !s.Digest {
				what = s.Task + paramsText(s.Params)
			}
			if s.CatchUp {
				what += " (caught up after downtime)"
			}
			if s.OptIn {
				what += " (opt-in: the app lists it under schedules.enabled)"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", s.Name, s.Cron, what)
		}
		if err := tw.Flush(); err != nil {
			return fmt.Errorf("render blueprint: %w", err)
		}
	}

	if len(b.Remediations) > 0 {
		p("\nRemediations (alarm -> suggested tasks)\n")
		tw := tabwriter.NewWriter(&out, 0, 4, 2, ' ', 0)
		for _, r := range b.Remediations {
			fmt.Fprintf(tw, "  %s\t-> %s%s\n", r.Alarm, strings.Join(r.Tasks, ", "), paramsText(r.Params))
		}
		if err := tw.Flush(); err != nil {
			return fmt.Errorf("render blueprint: %w", err)
		}
	}
	if _, err := io.WriteString(w, out.String()); err != nil {
		return fmt.Errorf("render blueprint: %w", err)
	}
	return nil
}

func maxLen(ss []string) int {
	n := 0
	for _, s := range ss {
		n = max(n, len(s))
	}
	return n
}

// selectorText renders a selector compactly: "tags app={app}, tier=web".
func selectorText(s tasks.Selector) string {
	var parts []string
	if len(s.Tags) > 0 {
		keys := sortedKeys(s.Tags)
		kv := make([]string, len(keys))
		for i, k := range keys {
			kv[i] = k + "=" + s.Tags[k]
		}
		parts = append(parts, "tags "+strings.Join(kv, ", "))
	}
	if len(s.Names) > 0 {
		parts = append(parts, "names "+strings.Join(s.Names, ", "))
	}
	if len(s.IDs) > 0 {
		parts = append(parts, "ids "+strings.Join(s.IDs, ", "))
	}
	if len(parts) == 0 {
		return "(bound by the app)"
	}
	return strings.Join(parts, "; ")
}

func metricScope(b *Blueprint, m Metric) string {
	var dims []string
	if m.Resource != "" {
		d := m.Dimension
		if d == "" {
			d = DimensionFor(b.Resources[m.Resource].Type)
		}
		dims = append(dims, d+"="+m.Resource)
	}
	fixed := sortedKeys(m.Dimensions)
	sort.Strings(fixed)
	for _, k := range fixed {
		dims = append(dims, k+"="+m.Dimensions[k])
	}
	return "per " + strings.Join(dims, ", ")
}

func thresholdText(m Metric) string {
	op := ">="
	if m.Below() {
		op = "<="
	}
	var parts []string
	if m.Warn != nil {
		parts = append(parts, "warn "+op+" "+valueText(*m.Warn, m.Unit))
	}
	if m.Critical != nil {
		parts = append(parts, "critical "+op+" "+valueText(*m.Critical, m.Unit))
	}
	return strings.Join(parts, ", ")
}

// valueText renders a threshold in its unit the way people read it.
func valueText(v float64, unit string) string {
	switch unit {
	case "Percent":
		return num(v) + "%"
	case "Seconds":
		return tasks.FormatDuration(time.Duration(v * float64(time.Second)))
	case "Bytes":
		for _, u := range []struct {
			n   float64
			sym string
		}{{1 << 40, "TiB"}, {1 << 30, "GiB"}, {1 << 20, "MiB"}, {1 << 10, "KiB"}} {
			if math.Abs(v) >= u.n {
				return num(math.Round(v/u.n*10)/10) + " " + u.sym
			}
		}
		return num(v) + " B"
	}
	return num(v)
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func paramsText(ps map[string]string) string {
	if len(ps) == 0 {
		return ""
	}
	var kv []string
	for _, k := range sortedKeys(ps) {
		kv = append(kv, k+"="+ps[k])
	}
	return " " + strings.Join(kv, " ")
}
