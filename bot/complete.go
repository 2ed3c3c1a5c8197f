package bot

import (
	"context"
	"strings"
)

// maxCompletions is Discord's autocomplete limit.
const maxCompletions = 25

// Complete suggests completions of a partial command for autocomplete:
// command words and app names for the first word, the app's task names for
// the second ("shop re" → "shop restart-web"). It reads no state that
// needs the principal today, but takes it so suggestions can be filtered
// by policy later without an API change.
func (e *Engine) Complete(ctx context.Context, principal, partial string) []string {
	partial = strings.TrimPrefix(strings.TrimLeft(partial, " "), "/day2 ")
	words := strings.Fields(strings.ToLower(partial))
	trailing := strings.HasSuffix(partial, " ")
	var out []string
	add := func(s string) bool {
		out = append(out, s)
		return len(out) < maxCompletions
	}
	switch {
	case len(words) == 0 || (len(words) == 1 && !trailing):
		prefix := ""
		if len(words) == 1 {
			prefix = words[0]
		}
		for _, n := range e.apps.names {
			if strings.HasPrefix(n, prefix) && !add(n) {
				return out
			}
		}
		for _, v := range verbWords() {
			if strings.HasPrefix(v, prefix) && !add(v) {
				return out
			}
		}
	case len(words) == 1 || (len(words) == 2 && !trailing):
		appWord, prefix := words[0], ""
		lead := appWord + " "
		if appWord == string(VerbRun) || appWord == string(VerbWhy) || appWord == string(VerbTasks) ||
			appWord == string(VerbStatus) || appWord == string(VerbHistory) || appWord == string(VerbFreeze) {
			// "why sh" completes the app.
			if len(words) == 2 {
				prefix = words[1]
			}
			for _, n := range e.apps.names {
				if strings.HasPrefix(n, prefix) && !add(lead+n) {
					return out
				}
			}
			return out
		}
		a, ok := e.apps.app(appWord)
		if !ok {
			return nil
		}
		if len(words) == 2 {
			prefix = words[1]
		}
		for _, t := range a.taskNames() {
			if strings.HasPrefix(t, prefix) && !add(lead+t) {
				return out
			}
		}
	case len(words) >= 2:
		// After the task: its parameter names.
		appWord, taskWord, lead := words[0], words[1], strings.Join(words, " ")
		if appWord == string(VerbRun) || appWord == string(VerbWhy) {
			if len(words) < 3 {
				return nil
			}
			appWord, taskWord = words[1], words[2]
		}
		a, ok := e.apps.app(appWord)
		if !ok {
			return nil
		}
		t, ok := a.task(taskWord)
		if !ok {
			return nil
		}
		last := ""
		if !trailing {
			last = words[len(words)-1]
			lead = strings.Join(words[:len(words)-1], " ")
		}
		for _, p := range t.Params {
			if strings.HasPrefix(p.Name+"=", last) && !strings.Contains(" "+lead+" ", " "+p.Name+"=") && !add(lead+" "+p.Name+"=") {
				return out
			}
		}
	}
	return out
}
