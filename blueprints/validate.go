package blueprints

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/day2bot/day2bot/internal/suggest"
	"github.com/day2bot/day2bot/tasks"
)

// ActionLookup finds actions by registry name; *tasks.Registry satisfies it.
type ActionLookup interface {
	Lookup(name string) (tasks.Action, bool)
}

// actionNamer is optionally implemented by a lookup, for suggestions.
type actionNamer interface{ Names() []string }

// targetTyper is optionally implemented by an action that acts on one
// resource type, so a blueprint pointing it at another type is rejected.
type targetTyper interface{ TargetType() string }

var (
	nameRe      = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)
	namespaceRe = regexp.MustCompile(`^[A-Za-z0-9/._#:-]+$`)
	statRe      = regexp.MustCompile(`^(Average|Sum|Minimum|Maximum|SampleCount|p\d{1,2}(\.\d{1,2})?)$`)
)

const nameRule = "lowercase letters, digits and single dashes, e.g. restart-web"

// Validate checks the blueprint's meaning: names, resource types, tasks
// against their actions (when lookup is not nil), health, schedules and
// remediations. It returns ValidationErrors naming the file and path of
// every problem.
func (b *Blueprint) Validate(lookup ActionLookup) error {
	c := &collector{file: b.File}
	if !nameRe.MatchString(b.Name) {
		c.add("name", "%q is not a valid blueprint name: use %s", b.Name, nameRule)
	}
	if strings.TrimSpace(b.Description) == "" {
		c.add("description", "required: one line saying what stack this blueprint operates")
	}
	if len(b.Resources) == 0 {
		c.add("resources", "at least one resource is required")
	}
	for _, rn := range b.ResourceNames() {
		b.validateResource(c, rn, b.Resources[rn])
	}
	if len(b.Tasks) == 0 {
		c.add("tasks", "at least one task is required")
	}
	for _, tn := range b.TaskNames() {
		b.validateTask(c, tn, b.Tasks[tn], lookup)
	}
	b.validateHealth(c)
	seen := map[string]bool{}
	for i, s := range b.Schedules {
		p := join("schedules", idx(i))
		if seen[s.Name] {
			c.add(join(p, "name"), "duplicate schedule name %q", s.Name)
		}
		seen[s.Name] = true
		validateSchedule(c, p, s, b.Tasks)
	}
	for i, r := range b.Remediations {
		validateRemediation(c, join("remediations", idx(i)), r, b.Tasks)
	}
	b.validateTemplate(c)
	return c.err()
}

func (b *Blueprint) validateResource(c *collector, name string, r Resource) {
	p := join("resources", name)
	if !nameRe.MatchString(name) {
		c.add(p, "%q is not a valid resource name: use %s", name, nameRule)
	}
	if _, ok := resourceTypes[r.Type]; !ok {
		c.add(join(p, "type"), "unknown resource type %q; allowed: %s%s",
			r.Type, strings.Join(ResourceTypes(), ", "), suggest.DidYouMean(r.Type, ResourceTypes()))
	}
	if r.Select.Type != "" && r.Select.Type != r.Type {
		c.add(join(p, "select", "type"), "%q differs from the resource type %q; leave it out", r.Select.Type, r.Type)
	}
	validateSelector(c, join(p, "select"), r.Select)
}

// validateSelector checks the parts of a selector a person can get wrong.
func validateSelector(c *collector, p string, s tasks.Selector) {
	for k, v := range s.Tags {
		if k == "" || v == "" {
			c.add(join(p, "tags"), "tag keys and values must not be empty (got %q: %q)", k, v)
		}
	}
	for i, n := range s.Names {
		if _, err := path.Match(n, ""); err != nil || n == "" {
			c.add(join(p, "names", idx(i)), "%q is not a valid name or glob", n)
		}
	}
	for i, id := range s.IDs {
		if strings.TrimSpace(id) == "" {
			c.add(join(p, "ids", idx(i)), "ids must not be empty")
		}
	}
}

func (b *Blueprint) validateTask(c *collector, name string, t Task, lookup ActionLookup) {
	p := join("tasks", name)
	if !nameRe.MatchString(name) {
		c.add(p, "%q is not a valid task name: use %s", name, nameRule)
	}
	if strings.TrimSpace(t.Description) == "" {
		c.add(join(p, "description"), "required: say what the task does, it is shown in help")
	}
	res, ok := b.Resources[t.Target]
	if t.Target == "" {
		c.add(join(p, "target"), "required: the resource the task acts on; blueprint %s has: %s", b.Name, strings.Join(b.ResourceNames(), ", "))
	} else if !ok {
		c.add(join(p, "target"), "unknown resource %q; blueprint %s has: %s%s",
			t.Target, b.Name, strings.Join(b.ResourceNames(), ", "), suggest.DidYouMean(t.Target, b.ResourceNames()))
	}
	seen := map[string]bool{}
	for i, prm := range t.Params {
		pp := join(p, "params", idx(i))
		if seen[prm.Name] {
			c.add(join(pp, "name"), "duplicate parameter %q", prm.Name)
		}
		seen[prm.Name] = true
		if err := prm.Validate(); err != nil {
			c.add(pp, "%v", err)
		}
	}
	if t.Action == "" {
		c.add(join(p, "action"), "required: the action this task runs, e.g. ec2.reboot")
		return
	}
	if lookup == nil {
		return
	}
	a, ok := lookup.Lookup(t.Action)
	if !ok {
		hint := ""
		if n, ok := lookup.(actionNamer); ok {
			hint = suggest.DidYouMean(t.Action, n.Names())
		}
		c.add(join(p, "action"), "unknown action %q%s", t.Action, hint)
		return
	}
	if tt, ok := a.(targetTyper); ok && res.Type != "" && tt.TargetType() != res.Type {
		c.add(join(p, "target"), "action %s acts on %s, but resource %q is %s", t.Action, tt.TargetType(), t.Target, res.Type)
	}
	if a.Mutating() != t.Mutating {
		c.add(join(p, "mutating"), "must be %t: action %s %s", a.Mutating(), t.Action, map[bool]string{true: "changes resources", false: "is read-only"}[a.Mutating()])
	}
	validateParamsAgainst(c, p, t, a)
}

// validateParamsAgainst checks that the task's params are a narrowing of
// the action's: known names, same types, bounds inside the action's, enum a
// subset, the action's pattern kept, and the action's required params
// exposed.
func validateParamsAgainst(c *collector, p string, t Task, a tasks.Action) {
	ap := a.Params()
	names := make([]string, len(ap))
	for i, x := range ap {
		names[i] = x.Name
	}
	for i, tp := range t.Params {
		pp := join(p, "params", idx(i))
		j := slices.IndexFunc(ap, func(x tasks.Param) bool { return x.Name == tp.Name })
		if j < 0 {
			allowed := strings.Join(names, ", ")
			if allowed == "" {
				allowed = "none"
			}
			c.add(join(pp, "name"), "action %s has no parameter %q; allowed: %s%s", a.Name(), tp.Name, allowed, suggest.DidYouMean(tp.Name, names))
			continue
		}
		act := ap[j]
		compatible := tp.Type == act.Type || (tp.Type == tasks.TypeEnum && act.Type == tasks.TypeString)
		if !compatible {
			c.add(join(pp, "type"), "must be %s like action %s's %s", act.Type, a.Name(), act.Name)
			continue
		}
		if act.Min != nil && (tp.Min == nil || *tp.Min < *act.Min) {
			c.add(join(pp, "min"), "must be at least %s, action %s's minimum", boundText(act, *act.Min), a.Name())
		}
		if act.Max != nil && (tp.Max == nil || *tp.Max > *act.Max) {
			c.add(join(pp, "max"), "must be at most %s, action %s's maximum", boundText(act, *act.Max), a.Name())
		}
		if len(act.Enum) > 0 {
			for _, e := range tp.Enum {
				if !slices.Contains(act.Enum, e) {
					c.add(join(pp, "enum"), "%q is not allowed by action %s; allowed: %s", e, a.Name(), strings.Join(act.Enum, ", "))
				}
			}
			if len(tp.Enum) == 0 {
				c.add(join(pp, "enum"), "required: a subset of %s", strings.Join(act.Enum, ", "))
			}
		}
		if act.Pattern != "" && tp.Pattern != act.Pattern && len(tp.Enum) == 0 {
			c.add(join(pp, "pattern"), "must be action %s's pattern %s (patterns cannot be compared, so they cannot be narrowed)", a.Name(), act.Pattern)
		}
	}
	for _, act := range ap {
		if !act.Required {
			continue
		}
		tp, ok := t.Param(act.Name)
		if !ok || (!tp.Required && tp.Default == "") {
			c.add(join(p, "params"), "action %s requires %s: declare it required or give it a default", a.Name(), act.Name)
		}
	}
}

func boundText(p tasks.Param, v float64) string {
	if p.Type == tasks.TypeDuration {
		return tasks.FormatDuration(time.Duration(v * float64(time.Second)))
	}
	return fmt.Sprint(v)
}

func (b *Blueprint) validateHealth(c *collector) {
	seen := map[string]bool{}
	for i, m := range b.Health.Metrics {
		p := join("health", "metrics", idx(i))
		if !nameRe.MatchString(m.Name) {
			c.add(join(p, "name"), "%q is not a valid metric name: use %s", m.Name, nameRule)
		} else if seen[m.Name] {
			c.add(join(p, "name"), "duplicate metric %q", m.Name)
		}
		seen[m.Name] = true
		if !namespaceRe.MatchString(m.Namespace) {
			c.add(join(p, "namespace"), "required: a CloudWatch namespace such as AWS/EC2")
		}
		if m.Metric == "" {
			c.add(join(p, "metric"), "required: a CloudWatch metric name such as CPUUtilization")
		}
		if m.Resource != "" {
			r, ok := b.Resources[m.Resource]
			switch {
			case !ok:
				c.add(join(p, "resource"), "unknown resource %q; blueprint %s has: %s%s",
					m.Resource, b.Name, strings.Join(b.ResourceNames(), ", "), suggest.DidYouMean(m.Resource, b.ResourceNames()))
			case m.Dimension == "" && DimensionFor(r.Type) == "":
				c.add(join(p, "dimension"), "required: resources of type %s have no default CloudWatch dimension", r.Type)
			}
		} else if m.Dimension != "" {
			c.add(join(p, "dimension"), "needs resource: the resource whose ids fill dimension %s", m.Dimension)
		} else if len(m.Dimensions) == 0 {
			c.add(join(p, "resource"), "required: a resource whose ids become dimensions, or fixed dimensions")
		}
		if !statRe.MatchString(m.Stat) {
			c.add(join(p, "stat"), "%q is not a statistic; allowed: Average, Sum, Minimum, Maximum, SampleCount or a percentile like p99", m.Stat)
		}
		if m.Period < time.Minute || m.Period%time.Minute != 0 {
			c.add(join(p, "period"), "must be a whole number of minutes, at least 1m (got %s)", tasks.FormatDuration(m.Period))
		}
		if m.Comparison != "" && m.Comparison != "above" && m.Comparison != "below" {
			c.add(join(p, "comparison"), "%q is not allowed; use above or below", m.Comparison)
		}
		if m.Warn == nil && m.Critical == nil {
			c.add(p, "at least one of warn and critical is required")
		}
		if m.Warn != nil && m.Critical != nil {
			if !m.Below() && *m.Warn > *m.Critical {
				c.add(join(p, "warn"), "must not be above critical (%v) when high values are bad", *m.Critical)
			}
			if m.Below() && *m.Warn < *m.Critical {
				c.add(join(p, "warn"), "must not be below critical (%v) when low values are bad", *m.Critical)
			}
		}
	}
	for i, a := range b.Health.AlarmPrefixes {
		if strings.TrimSpace(a) == "" {
			c.add(join("health", "alarm_prefixes", idx(i)), "must not be empty")
		}
	}
}

// validateSchedule checks one schedule against the tasks it may run.
func validateSchedule(c *collector, p string, s Schedule, ts map[string]Task) {
	if !nameRe.MatchString(s.Name) {
		c.add(join(p, "name"), "%q is not a valid schedule name: use %s", s.Name, nameRule)
	}
	if err := parseCron(s.Cron); err != nil {
		c.add(join(p, "cron"), "%q is not a cron spec (%v); use 5 fields like \"0 8 * * 1-5\" or @daily", s.Cron, err)
	}
	switch {
	case s.Digest && s.Task != "":
		c.add(p, "set either task or digest, not both")
	case s.Digest:
		if len(s.Params) > 0 {
			c.add(join(p, "params"), "a digest takes no parameters")
		}
	case s.Task == "":
		c.add(join(p, "task"), "required: the task to run (or digest: true)")
	default:
		t, ok := ts[s.Task]
		if !ok {
			names := sortedKeys(ts)
			c.add(join(p, "task"), "unknown task %q; available: %s%s", s.Task, strings.Join(names, ", "), suggest.DidYouMean(s.Task, names))
			return
		}
		if _, err := tasks.ParseValues(t.Params, s.Params); err != nil {
			c.add(join(p, "params"), "%v", err)
		}
	}
}

// parseCron validates a spec the way the scheduler parses it. cron's parser
// has panicked on odd input, so it runs behind a recover.
func parseCron(spec string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("invalid spec: %v", r)
		}
	}()
	_, err = cron.ParseStandard(spec)
	return err
}

func validateRemediation(c *collector, p string, r Remediation, ts map[string]Task) {
	if strings.TrimSpace(r.Alarm) == "" {
		c.add(join(p, "alarm"), "required: a glob of alarm names, * and ? like \"*-cpu-high\"")
	}
	if len(r.Tasks) == 0 {
		c.add(join(p, "tasks"), "at least one task is required")
	}
	names := sortedKeys(ts)
	for i, tn := range r.Tasks {
		t, ok := ts[tn]
		if !ok {
			c.add(join(p, "tasks", idx(i)), "unknown task %q; available: %s%s", tn, strings.Join(names, ", "), suggest.DidYouMean(tn, names))
			continue
		}
		for _, k := range sortedKeys(r.Params) {
			prm, ok := t.Param(k)
			if !ok {
				c.add(join(p, "params", k), "task %s has no parameter %q", tn, k)
				continue
			}
			// Values naming the alarm are only known when it fires.
			if v := r.Params[k]; !strings.Contains(v, "{alarm}") {
				if _, err := prm.Parse(v); err != nil {
					c.add(join(p, "params", k), "%v", err)
				}
			}
		}
	}
}
