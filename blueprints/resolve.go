package blueprints

import (
	"cmp"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/internal/suggest"
	"github.com/day2bot/day2bot/tasks"
)

// ResolvedApp is an app with its blueprints combined and its bindings
// applied: what the engine runs, schedules and alerts on. "{app}" in
// default selectors, alarm prefixes and alarm globs is replaced by the name.
type ResolvedApp struct {
	Name       string
	Blueprints []string
	Account    Account
	Region     string
	Owners     []string
	Channels   []string

	Resources     map[string]ResolvedResource
	Tasks         map[string]ResolvedTask
	Metrics       []ResolvedMetric
	AlarmPrefixes []string
	Schedules     []ResolvedSchedule
	Remediations  []ResolvedRemediation
	// Stack is set when the app is deployed from its blueprints' templates.
	Stack *ResolvedStack
}

// ResolvedResource is a resource with its effective selector.
type ResolvedResource struct {
	Name        string
	Blueprint   string
	Description string
	Select      tasks.Selector // Type always set
	Bound       bool           // the selector comes from the app's bindings
}

// ResolvedTask is a task of the app with its target selector.
type ResolvedTask struct {
	Name      string
	Blueprint string
	Task      Task
	Target    tasks.Selector
}

// Params are the parameters a user may set.
func (t ResolvedTask) Params() []tasks.Param { return t.Task.Params }

// Values validates what the user typed and applies defaults; errors are
// errs.Invalid (see tasks.ParamOp).
func (t ResolvedTask) Values(raw map[string]string) (tasks.Values, error) {
	return tasks.ParseValues(t.Task.Params, raw)
}

// ResolvedMetric is a health metric with the selector of the resources whose
// ids fill Dimension (zero Select when the metric only has fixed dimensions).
type ResolvedMetric struct {
	Blueprint string
	Metric
	Select tasks.Selector
}

// ResolvedSchedule is one schedule of the app. Key is stable across
// restarts ("shop/nightly-snapshot") for the scheduler's persisted state.
type ResolvedSchedule struct {
	Key       string
	Blueprint string // "" for schedules added by the app config
	Schedule
}

// ResolvedRemediation is a remediation with "{app}" replaced in its glob.
type ResolvedRemediation struct {
	Blueprint string
	Remediation
}

// Suggestion is a task to offer when an alarm fires, with prefilled values.
type Suggestion struct {
	Task   string
	Params map[string]string
}

// ResolveApp combines the app's blueprints from cat and applies its
// bindings. Config.Validate reports the same problems with file and path;
// this returns them as ValidationErrors without a file.
func ResolveApp(cat *Catalog, name string, app App) (*ResolvedApp, error) {
	ce := &collector{}
	p := join("apps", name)
	var bps []*Blueprint
	for i, bn := range app.Blueprints {
		b, err := cat.Lookup(bn)
		if err != nil {
			ce.add(join(p, "blueprints", idx(i)), "%v", err)
			continue
		}
		bps = append(bps, b)
	}
	if err := ce.err(); err != nil {
		return nil, err
	}
	ra := resolve(ce, p, name, app, bps)
	if err := ce.err(); err != nil {
		return nil, err
	}
	return ra, nil
}

// resolve builds the resolved app, adding every problem to ce.
func resolve(ce *collector, p, name string, app App, bps []*Blueprint) *ResolvedApp {
	ra := &ResolvedApp{
		Name: name, Account: app.Account, Region: app.Region,
		Owners: app.Owners, Channels: app.Channels,
		Resources: map[string]ResolvedResource{},
		Tasks:     map[string]ResolvedTask{},
	}
	sub := func(s string) string { return strings.ReplaceAll(s, "{app}", name) }
	for _, b := range bps {
		ra.Blueprints = append(ra.Blueprints, b.Name)
		for _, rn := range b.ResourceNames() {
			r := b.Resources[rn]
			sel := substSelector(r.Select, sub)
			sel.Type = r.Type
			if prev, ok := ra.Resources[rn]; ok {
				if prev.Select.Type != r.Type || !reflect.DeepEqual(prev.Select, sel) {
					ce.add(join(p, "blueprints"), "blueprints %s and %s both define resource %q differently; they cannot be combined in one app",
						prev.Blueprint, b.Name, rn)
				}
				continue
			}
			ra.Resources[rn] = ResolvedResource{Name: rn, Blueprint: b.Name, Description: r.Description, Select: sel}
		}
	}
	if app.Stack != nil {
		resolveStack(ce, p, name, app.Stack, bps, ra)
	}
	resNames := sortedKeys(ra.Resources)
	for _, bn := range sortedKeys(app.Bindings) {
		bp := join(p, "bindings", bn)
		r, ok := ra.Resources[bn]
		if !ok {
			ce.add(bp, "unknown resource %q; %s: %s%s", bn, blueprintsHave(ra.Blueprints),
				strings.Join(resNames, ", "), suggest.DidYouMean(bn, resNames))
			continue
		}
		sel, ok := bindFromStack(ce, bp, app.Bindings[bn], r.Select.Type, ra.Stack)
		if !ok {
			continue
		}
		if sel.Type != "" && sel.Type != r.Select.Type {
			ce.add(join(bp, "type"), "%q differs from the resource type %s; leave it out", sel.Type, r.Select.Type)
		}
		if len(sel.Tags) == 0 && len(sel.Names) == 0 && len(sel.IDs) == 0 {
			ce.add(bp, "selects nothing: give tags, names or ids")
		}
		validateSelector(ce, bp, sel)
		sel.Type = r.Select.Type
		r.Select, r.Bound = sel, true
		ra.Resources[bn] = r
	}
	for _, rn := range resNames {
		r := ra.Resources[rn]
		if !r.Bound && len(r.Select.Tags) == 0 && len(r.Select.Names) == 0 && len(r.Select.IDs) == 0 {
			ce.add(join(p, "bindings"), "resource %q of blueprint %s has no default selection; bind it by tags, names or ids", rn, r.Blueprint)
		}
	}
	for _, b := range bps {
		for _, tn := range b.TaskNames() {
			t := b.Tasks[tn]
			if prev, ok := ra.Tasks[tn]; ok {
				ce.add(join(p, "blueprints"), "task %q is defined by both %s and %s; task names must be unique within an app", tn, prev.Blueprint, b.Name)
				continue
			}
			ra.Tasks[tn] = ResolvedTask{Name: tn, Blueprint: b.Name, Task: t, Target: ra.Resources[t.Target].Select}
		}
		for _, m := range b.Health.Metrics {
			rm := ResolvedMetric{Blueprint: b.Name, Metric: m}
			if r, ok := ra.Resources[m.Resource]; ok && m.Resource != "" {
				rm.Select = r.Select
				if rm.Dimension == "" {
					rm.Dimension = DimensionFor(r.Select.Type)
				}
			}
			ra.Metrics = append(ra.Metrics, rm)
		}
		for _, a := range b.Health.AlarmPrefixes {
			if a = sub(a); !slices.Contains(ra.AlarmPrefixes, a) {
				ra.AlarmPrefixes = append(ra.AlarmPrefixes, a)
			}
		}
		for _, r := range b.Remediations {
			r.Alarm = sub(r.Alarm)
			ra.Remediations = append(ra.Remediations, ResolvedRemediation{Blueprint: b.Name, Remediation: r})
		}
	}
	for _, a := range app.AlarmPrefixes {
		if !slices.Contains(ra.AlarmPrefixes, a) {
			ra.AlarmPrefixes = append(ra.AlarmPrefixes, a)
		}
	}
	ra.Schedules = resolveSchedules(ce, p, name, app.Schedules, bps, ra.Tasks)
	return ra
}

// resolveSchedules merges default schedules (identical duplicates across
// blueprints, such as a shared morning digest, collapse into one), applies
// the app's overrides and removes disabled ones.
func resolveSchedules(ce *collector, p, app string, as AppSchedules, bps []*Blueprint, ts map[string]ResolvedTask) []ResolvedSchedule {
	added := map[string]bool{}
	for i, s := range as.Add {
		sp := join(p, "schedules", "add", idx(i))
		if added[s.Name] {
			ce.add(join(sp, "name"), "duplicate schedule name %q", s.Name)
		}
		added[s.Name] = true
		plain := make(map[string]Task, len(ts))
		for n, t := range ts {
			plain[n] = t.Task
		}
		validateSchedule(ce, sp, s, plain)
	}
	var out []ResolvedSchedule
	byName := map[string]int{}
	allDefaults := map[string]bool{}
	optIn := map[string]bool{}
	for _, b := range bps {
		for _, s := range b.Schedules {
			allDefaults[s.Name] = true
			if s.OptIn {
				optIn[s.Name] = true
				if !slices.Contains(as.Enabled, s.Name) {
					continue
				}
			}
			if added[s.Name] {
				continue
			}
			if i, ok := byName[s.Name]; ok {
				if !reflect.DeepEqual(out[i].Schedule, s) {
					ce.add(join(p, "schedules"), "blueprints %s and %s both have schedule %q; override it under add or list it under disabled",
						out[i].Blueprint, b.Name, s.Name)
				}
				continue
			}
			byName[s.Name] = len(out)
			out = append(out, ResolvedSchedule{Key: app + "/" + s.Name, Blueprint: b.Name, Schedule: s})
		}
	}
	for _, s := range as.Add {
		out = append(out, ResolvedSchedule{Key: app + "/" + s.Name, Schedule: s})
	}
	defaults := sortedKeys(allDefaults)
	for i, d := range as.Disabled {
		if !allDefaults[d] {
			ce.add(join(p, "schedules", "disabled", idx(i)), "no default schedule %q; the app's blueprints have: %s%s",
				d, strings.Join(defaults, ", "), suggest.DidYouMean(d, defaults))
		}
	}
	offered := sortedKeys(optIn)
	for i, e := range as.Enabled {
		if !optIn[e] {
			ce.add(join(p, "schedules", "enabled", idx(i)), "no opt-in schedule %q; the app's blueprints offer: %s%s",
				e, cmp.Or(strings.Join(offered, ", "), "none"), suggest.DidYouMean(e, offered))
		}
	}
	out = slices.DeleteFunc(out, func(s ResolvedSchedule) bool {
		return s.Blueprint != "" && slices.Contains(as.Disabled, s.Name)
	})
	return out
}

func substSelector(s tasks.Selector, sub func(string) string) tasks.Selector {
	out := tasks.Selector{Type: s.Type}
	if s.Tags != nil {
		out.Tags = make(map[string]string, len(s.Tags))
		for k, v := range s.Tags {
			out.Tags[sub(k)] = sub(v)
		}
	}
	for _, n := range s.Names {
		out.Names = append(out.Names, sub(n))
	}
	for _, id := range s.IDs {
		out.IDs = append(out.IDs, sub(id))
	}
	return out
}

func blueprintsHave(names []string) string {
	if len(names) == 1 {
		return "blueprint " + names[0] + " has"
	}
	return "blueprints " + strings.Join(names, ", ") + " have"
}

// TaskNames returns the app's task names, sorted.
func (a *ResolvedApp) TaskNames() []string { return sortedKeys(a.Tasks) }

// Task returns the task named name, or a user error suggesting a near name.
func (a *ResolvedApp) Task(name string) (ResolvedTask, error) {
	if t, ok := a.Tasks[name]; ok {
		return t, nil
	}
	names := a.TaskNames()
	return ResolvedTask{}, errs.E("find task", errs.NotFound, "app %s has no task %q%s; tasks: %s",
		a.Name, name, suggest.DidYouMean(name, names), strings.Join(names, ", "))
}

// OwnsAlarm reports whether an alarm belongs to the app by its name prefix.
func (a *ResolvedApp) OwnsAlarm(alarm string) bool {
	return slices.ContainsFunc(a.AlarmPrefixes, func(p string) bool { return strings.HasPrefix(alarm, p) })
}

// RemediationsFor returns the tasks to offer when alarm fires, in blueprint
// order without duplicates, with "{alarm}" in prefilled values replaced.
func (a *ResolvedApp) RemediationsFor(alarm string) []Suggestion {
	var out []Suggestion
	seen := map[string]bool{}
	for _, r := range a.Remediations {
		if !globMatch(r.Alarm, alarm) {
			continue
		}
		for _, tn := range r.Tasks {
			if seen[tn] {
				continue
			}
			seen[tn] = true
			s := Suggestion{Task: tn}
			if len(r.Params) > 0 {
				s.Params = make(map[string]string, len(r.Params))
				for k, v := range r.Params {
					s.Params[k] = strings.ReplaceAll(v, "{alarm}", alarm)
				}
			}
			out = append(out, s)
		}
	}
	return out
}

// globMatch matches alarm names against a glob where * is any run of
// characters (including "/", which alarm names may contain) and ? is one.
func globMatch(pattern, s string) bool {
	var re strings.Builder
	re.WriteString("^")
	for _, r := range pattern {
		switch r {
		case '*':
			re.WriteString("(?s:.*)")
		case '?':
			re.WriteString("(?s:.)")
		default:
			re.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	re.WriteString("$")
	ok, err := regexp.MatchString(re.String(), s)
	return err == nil && ok
}
