package bot

import (
	"context"
	"slices"
	"strings"
)

// maxCompletions is Discord's autocomplete limit.
const maxCompletions = 25

// appVerbs take an app as their only argument; taskVerbs take APP TASK.
var (
	appVerbs  = []Verb{VerbTasks, VerbStatus, VerbDigest, VerbCost, VerbReport, VerbSchedules, VerbHistory, VerbFreeze, VerbUnfreeze, VerbHelp, VerbDashboard}
	taskVerbs = []Verb{VerbRun, VerbWhy}
)

// Complete suggests completions of a partial command for autocomplete:
// command words and app names first, then the app's task names ("shop re"
// → "shop restart-web"), then the task's parameter names. Each suggestion
// is the whole command so far. Apps and tasks to run are offered only if
// the policy lets principal run them at all (see mayRunFilter); after why,
// status and the other app verbs every app principal may see (MaySee) and
// all its tasks are offered, since asking about something you may not run
// is the point of why.
func (e *Engine) Complete(ctx context.Context, principal, partial string) []string {
	partial = strings.TrimLeft(partial, " ")
	if rest, ok := strings.CutPrefix(partial, "/day2 "); ok {
		partial = rest
	}
	words := strings.Fields(strings.ToLower(partial))
	// Only-whitespace input (a tab, a no-break space) is nothing typed
	// yet: it has no last word to complete.
	trailing := len(words) == 0 || strings.HasSuffix(partial, " ")
	pos, cur := len(words), ""
	if !trailing {
		pos, cur = len(words)-1, words[len(words)-1]
	}
	lead := strings.Join(words[:pos], " ")
	if lead != "" {
		lead += " "
	}
	var out []string
	offer := func(cands []string) []string {
		for _, c := range cands {
			if strings.HasPrefix(c, cur) {
				out = append(out, lead+c)
				if len(out) == maxCompletions {
					break
				}
			}
		}
		return out
	}
	if pos == 0 {
		words := verbWords()
		if e.opts.DashboardLink == nil {
			// Not offered where it would only answer "not set up".
			words = slices.DeleteFunc(words, func(w string) bool { return w == string(VerbDashboard) })
		}
		return offer(append(e.runnableApps(ctx, principal), words...))
	}
	first := Verb(words[0])
	if slices.Contains(appVerbs, first) {
		if pos == 1 {
			return offer(e.seenApps(ctx, principal))
		}
		return nil
	}
	off, filtered := 0, first != VerbWhy
	if slices.Contains(taskVerbs, first) {
		off = 1
		if pos == 1 {
			if filtered {
				return offer(e.runnableApps(ctx, principal))
			}
			return offer(e.seenApps(ctx, principal))
		}
	} else if slices.Contains(Verbs, first) {
		return nil // approve ID, policy …: nothing to suggest
	}
	a, ok := e.apps.app(words[off])
	if !ok || !slices.Contains(e.seenApps(ctx, principal), a.Name) {
		return nil
	}
	if pos == off+1 {
		if !filtered {
			return offer(a.taskNames())
		}
		may := e.mayRunFilter(ctx, principal)
		var names []string
		for _, n := range a.taskNames() {
			if t, _ := a.task(n); may(a, t) {
				names = append(names, n)
			}
		}
		return offer(names)
	}
	t, ok := a.task(words[off+1])
	if !ok {
		return nil
	}
	if name, val, ok := strings.Cut(cur, "="); ok {
		// A value: the live choices for it, keeping what was typed
		// before in the case it was typed.
		typed := val
		if len(val) <= len(partial) {
			typed = partial[len(partial)-len(val):]
		}
		choices, err := e.ParamChoices(ctx, principal, a.Name, t.Name, name, typed)
		if err != nil {
			return nil
		}
		for _, c := range choices {
			out = append(out, lead+name+"="+quoteArg(c.Value))
			if len(out) == maxCompletions {
				break
			}
		}
		return out
	}
	var names []string
	for _, p := range t.Params {
		if !strings.Contains(" "+lead, " "+p.Name+"=") {
			names = append(names, p.Name+"=")
		}
	}
	return offer(names)
}

// runnableApps are the apps with some task principal may run.
func (e *Engine) runnableApps(ctx context.Context, principal string) []string {
	may := e.mayRunFilter(ctx, principal)
	var out []string
	for _, n := range e.apps.names {
		if a, _ := e.apps.app(n); anyRunnable(a, may) {
			out = append(out, n)
		}
	}
	return out
}

// seenApps are the apps principal may see; none when that cannot be told
// (logged): app names are not offered to someone who may not know them.
func (e *Engine) seenApps(ctx context.Context, principal string) []string {
	names, err := e.VisibleApps(ctx, principal)
	if err != nil {
		e.log.WarnContext(ctx, "complete: visible apps", "principal", principal, "err", err)
		return nil
	}
	return names
}
