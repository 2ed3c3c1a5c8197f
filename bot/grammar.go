package bot

// The grammar of what users type after the slash command. Parse is a pure
// function from text to a typed Request or an errs.Invalid error; it knows nothing
// about apps, tasks or who is asking (the dispatcher resolves those), so it
// can be table-tested and fuzzed on its own.
//
//	help [TOPIC]                   what you may run (TOPIC: a command or an app)
//	apps                           the apps you can see
//	tasks APP                      an app's tasks and their parameters
//	APP TASK [k=v …] [--dry-run]   run a task (also: run APP TASK …)
//	status APP · digest APP · schedules APP · history [APP] · pending
//	approve ID · deny ID [reason] · cancel ID
//	why APP TASK [k=v …]           explain the policy decision
//	freeze APP [DURATION] [reason] · unfreeze APP
//	policy list|show ID|remove ID|test USER APP TASK [k=v …]   (admins)
//
// Values may be quoted with "…" or '…' (Slack's curly quotes count), e.g.
// reason="deploy gone wrong". Command words are case-insensitive.

import (
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/day2bot/day2bot/internal/suggest"
	"github.com/day2bot/day2bot/tasks"
)

// Verb names a command. The zero value is not a command.
type Verb string

const (
	VerbHelp     Verb = "help"
	VerbApps     Verb = "apps"
	VerbTasks    Verb = "tasks"
	VerbRun      Verb = "run"
	VerbStatus   Verb = "status"
	VerbDigest   Verb = "digest"
	VerbCost     Verb = "cost"
	VerbReport   Verb = "report"
	VerbHistory  Verb = "history"
	VerbPending  Verb = "pending"
	VerbApprove  Verb = "approve"
	VerbDeny     Verb = "deny"
	VerbCancel   Verb = "cancel"
	VerbWhy      Verb = "why"
	VerbFreeze   Verb = "freeze"
	VerbUnfreeze Verb = "unfreeze"
	VerbPolicy   Verb = "policy"
	// VerbSchedules lists an app's schedules (next and last runs).
	VerbSchedules Verb = "schedules"
	// VerbDashboard answers with a private sign-in link to an app's page.
	VerbDashboard Verb = "dashboard"
)

// Verbs lists every command word, in the order help shows them.
var Verbs = []Verb{VerbHelp, VerbApps, VerbTasks, VerbRun, VerbStatus, VerbDigest, VerbCost, VerbReport, VerbHistory,
	VerbPending, VerbApprove, VerbDeny, VerbCancel, VerbWhy, VerbFreeze, VerbUnfreeze, VerbPolicy, VerbSchedules, VerbDashboard}

// PolicyOp is a subcommand of `policy`.
type PolicyOp string

const (
	PolicyList   PolicyOp = "list"
	PolicyShow   PolicyOp = "show"
	PolicyRemove PolicyOp = "remove"
	PolicyTest   PolicyOp = "test"
)

var policyOps = []string{string(PolicyList), string(PolicyShow), string(PolicyRemove), string(PolicyTest)}

// Request is one parsed command.
type Request struct {
	Verb Verb
	// App and Task for tasks, run, status, digest, schedules, history, why, freeze,
	// unfreeze and policy test. Task names are as typed (lowercased).
	App  string
	Task string
	// Params are the k=v pairs as typed; the dispatcher validates them
	// against the task's schema.
	Params map[string]string
	DryRun bool
	// ID is the approval or run id of approve, deny, cancel, policy show and
	// policy remove.
	ID string
	// Reason is free text of deny and freeze.
	Reason string
	// For is how long a freeze lasts; 0 means until unfrozen.
	For time.Duration
	// Topic is help's optional argument.
	Topic string
	// Month is report's month (its first day, UTC); zero means this month.
	Month time.Time
	// Policy is the policy subcommand; User the handle/principal policy
	// test evaluates for.
	Policy PolicyOp
	User   string
}

// Limits keep hostile input cheap: chat platforms cap messages well below.
const (
	maxInput  = 4000
	maxTokens = 64
	maxName   = 64
)

var (
	nameRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]*$`)
	keyRE   = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	idRE    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*$`)
	userRE  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:@-]*$`)
	dryRuns = []string{"--dry-run", "--dryrun", "--plan"}
)

// Parse turns the text after the slash command into a Request.
func Parse(text string) (Request, error) {
	if len(text) > maxInput {
		return Request{}, usagef("command too long (%d characters, at most %d)", len(text), maxInput)
	}
	if !utf8.ValidString(text) {
		return Request{}, usagef("command is not valid UTF-8 text")
	}
	toks, err := tokenize(text)
	if err != nil {
		return Request{}, err
	}
	// A leading "/day2" or "day2" is what the user would type in chat; the
	// platforms strip it, a terminal does not.
	if len(toks) > 0 && (toks[0].text == "/day2" || toks[0].text == "day2") && !toks[0].quoted {
		toks = toks[1:]
	}
	if len(toks) == 0 {
		return Request{Verb: VerbHelp}, nil
	}
	if len(toks) > maxTokens {
		return Request{}, usagef("too many words (%d, at most %d)", len(toks), maxTokens)
	}
	head := strings.ToLower(toks[0].text)
	args := toks[1:]
	switch v := Verb(head); v {
	case VerbHelp:
		if len(args) > 1 {
			return Request{}, usagef("usage: help [command or app]")
		}
		r := Request{Verb: v}
		if len(args) == 1 {
			r.Topic = strings.ToLower(args[0].text)
		}
		return r, nil
	case VerbApps, VerbPending:
		if len(args) > 0 {
			return Request{}, usagef("%s takes no arguments", v)
		}
		return Request{Verb: v}, nil
	case VerbTasks:
		// tasks APP lists; tasks APP TASK details one task.
		if len(args) < 1 || len(args) > 2 {
			return Request{}, usagef("usage: tasks APP [TASK]")
		}
		r := Request{Verb: v}
		if r.App, err = appName(args[0]); err != nil {
			return Request{}, err
		}
		if len(args) == 2 {
			if r.Task, err = taskName(args[1]); err != nil {
				return Request{}, err
			}
		}
		return r, nil
	case VerbStatus, VerbDigest, VerbCost, VerbUnfreeze, VerbSchedules, VerbDashboard:
		if len(args) != 1 {
			return Request{}, usagef("usage: %s APP", v)
		}
		app, err := appName(args[0])
		if err != nil {
			return Request{}, err
		}
		return Request{Verb: v, App: app}, nil
	case VerbReport:
		if len(args) < 1 || len(args) > 2 {
			return Request{}, usagef("usage: report APP [YYYY-MM]")
		}
		r := Request{Verb: v}
		if r.App, err = appName(args[0]); err != nil {
			return Request{}, err
		}
		if len(args) == 2 {
			m, perr := time.Parse("2006-01", args[1].text)
			if perr != nil {
				return Request{}, usagef("%s is not a month; write it like 2026-11", tasks.QuoteInput(args[1].text))
			}
			r.Month = m
		}
		return r, nil
	case VerbHistory:
		if len(args) > 1 {
			return Request{}, usagef("usage: history [APP]")
		}
		r := Request{Verb: v}
		if len(args) == 1 {
			if r.App, err = appName(args[0]); err != nil {
				return Request{}, err
			}
		}
		return r, nil
	case VerbApprove, VerbCancel:
		if len(args) != 1 {
			return Request{}, usagef("usage: %s ID", v)
		}
		id, err := parseID(args[0])
		if err != nil {
			return Request{}, err
		}
		return Request{Verb: v, ID: id}, nil
	case VerbDeny:
		if len(args) == 0 {
			return Request{}, usagef("usage: deny ID [reason]")
		}
		id, err := parseID(args[0])
		if err != nil {
			return Request{}, err
		}
		return Request{Verb: v, ID: id, Reason: reasonOf(args[1:])}, nil
	case VerbRun:
		if len(args) < 2 {
			return Request{}, usagef("usage: run APP TASK [key=value …] [--dry-run]")
		}
		return parseTask(VerbRun, args)
	case VerbWhy:
		if len(args) < 2 {
			return Request{}, usagef("usage: why APP TASK [key=value …]")
		}
		r, err := parseTask(VerbWhy, args)
		if err != nil {
			return Request{}, err
		}
		if r.DryRun {
			return Request{}, usagef("why never runs anything; drop --dry-run")
		}
		return r, nil
	case VerbFreeze:
		return parseFreeze(args)
	case VerbPolicy:
		return parsePolicy(args)
	}
	if strings.HasPrefix(head, "-") {
		return Request{}, usagef("a command starts with a command word or an app, not %s; try help", tasks.QuoteInput(toks[0].text))
	}
	// Anything else is APP TASK …; the dispatcher knows the apps and answers
	// a typo of a command word there ("did you mean approve?").
	if len(args) == 0 {
		if _, err := appName(toks[0]); err != nil {
			return Request{}, usagef("unknown command %s; try help%s", tasks.QuoteInput(toks[0].text), didYouMean(head, verbWords()))
		}
		if c := closest(head, verbWords()); c != "" {
			return Request{}, usagef("unknown command %s; did you mean %q?", tasks.QuoteInput(toks[0].text), c)
		}
		return Request{}, usagef("usage: %s TASK [key=value …] — or `tasks %s` to list them", head, head)
	}
	return parseTask(VerbRun, toks)
}

func verbWords() []string {
	w := make([]string, len(Verbs))
	for i, v := range Verbs {
		w[i] = string(v)
	}
	return w
}

// parseTask reads APP TASK [k=v …] [--dry-run].
func parseTask(v Verb, args []token) (Request, error) {
	app, err := appName(args[0])
	if err != nil {
		return Request{}, err
	}
	task, err := taskName(args[1])
	if err != nil {
		return Request{}, err
	}
	r := Request{Verb: v, App: app, Task: task}
	for _, t := range args[2:] {
		if !t.quoted && strings.HasPrefix(t.text, "-") {
			flag := strings.ToLower(t.text)
			if slices.Contains(dryRuns, flag) {
				r.DryRun = true
				continue
			}
			return Request{}, usagef("unknown flag %s; the only flag is --dry-run%s", tasks.QuoteInput(t.text), didYouMean(flag, dryRuns[:1]))
		}
		if t.eq <= 0 {
			return Request{}, usagef("expected key=value after the task, got %s", tasks.QuoteInput(t.text))
		}
		k, val := strings.ToLower(t.text[:t.eq]), t.text[t.eq+1:]
		if !keyRE.MatchString(k) || len(k) > maxName {
			return Request{}, usagef("parameter name %s must be lowercase letters, digits and _", tasks.QuoteInput(k))
		}
		if r.Params == nil {
			r.Params = map[string]string{}
		}
		if _, dup := r.Params[k]; dup {
			return Request{}, usagef("parameter %s given twice", k)
		}
		r.Params[k] = val
	}
	return r, nil
}

func parseFreeze(args []token) (Request, error) {
	if len(args) == 0 {
		return Request{}, usagef("usage: freeze APP [duration] [reason]")
	}
	app, err := appName(args[0])
	if err != nil {
		return Request{}, err
	}
	r := Request{Verb: VerbFreeze, App: app}
	rest := args[1:]
	if len(rest) > 0 && !rest[0].quoted && looksLikeDuration(rest[0].text) {
		d, err := tasks.ParseDuration(strings.TrimPrefix(rest[0].text, "+"))
		if err != nil || d <= 0 {
			return Request{}, usagef("freeze duration %s must be a positive duration like 30m, 2h or 7d; "+
				"leave it out to freeze until unfrozen, or quote a reason that starts with it", tasks.QuoteInput(rest[0].text))
		}
		if d > 90*24*time.Hour {
			return Request{}, usagef("freeze duration %s is longer than 90d; freeze without a duration to freeze until unfrozen", rest[0].text)
		}
		r.For, rest = d, rest[1:]
	}
	r.Reason = reasonOf(rest)
	return r, nil
}

func parsePolicy(args []token) (Request, error) {
	if len(args) == 0 {
		return Request{}, usagef("usage: policy list|show ID|remove ID|test USER APP TASK [key=value …]")
	}
	op := strings.ToLower(args[0].text)
	switch PolicyOp(op) {
	case PolicyList:
		if len(args) > 1 {
			return Request{}, usagef("policy list takes no arguments")
		}
		return Request{Verb: VerbPolicy, Policy: PolicyList}, nil
	case PolicyShow, PolicyRemove:
		if len(args) != 2 {
			return Request{}, usagef("usage: policy %s RULE-ID", op)
		}
		id, err := parseID(args[1])
		if err != nil {
			return Request{}, err
		}
		return Request{Verb: VerbPolicy, Policy: PolicyOp(op), ID: id}, nil
	case PolicyTest:
		if len(args) < 4 {
			return Request{}, usagef("usage: policy test USER APP TASK [key=value …]")
		}
		user := args[1].text
		if !userRE.MatchString(user) || len(user) > maxName*2 {
			return Request{}, usagef("user %s must be a handle like alice or a principal like slack:U123", tasks.QuoteInput(user))
		}
		r, err := parseTask(VerbPolicy, args[2:])
		if err != nil {
			return Request{}, err
		}
		if r.DryRun {
			return Request{}, usagef("policy test never runs anything; drop --dry-run")
		}
		r.Policy, r.User = PolicyTest, user
		return r, nil
	}
	return Request{}, usagef("unknown policy command %s; use list, show, remove or test%s", tasks.QuoteInput(args[0].text), didYouMean(op, policyOps))
}

func appName(t token) (string, error) {
	s := strings.ToLower(t.text)
	if !nameRE.MatchString(s) || len(s) > maxName {
		return "", usagef("%s is not an app name (letters, digits, - _ .)", tasks.QuoteInput(t.text))
	}
	return s, nil
}

func taskName(t token) (string, error) {
	s := strings.ToLower(t.text)
	if !nameRE.MatchString(s) || len(s) > maxName {
		if strings.Contains(s, "=") {
			return "", usagef("expected a task name before %s; try tasks APP", tasks.QuoteInput(t.text))
		}
		return "", usagef("%s is not a task name (letters, digits, - _ .)", tasks.QuoteInput(t.text))
	}
	return s, nil
}

func parseID(t token) (string, error) {
	if !idRE.MatchString(t.text) || len(t.text) > maxName {
		return "", usagef("%s is not an id like r-12 or a-7", tasks.QuoteInput(t.text))
	}
	return t.text, nil
}

// reasonOf joins free text; a single reason="…" token counts as the text.
func reasonOf(ts []token) string {
	parts := make([]string, 0, len(ts))
	for _, t := range ts {
		s := t.text
		if len(ts) == 1 && t.eq == len("reason") && strings.EqualFold(s[:t.eq], "reason") {
			s = s[t.eq+1:]
		}
		parts = append(parts, s)
	}
	return strings.TrimSpace(strings.Join(parts, " "))
}

func startsWithDigit(s string) bool { return s != "" && s[0] >= '0' && s[0] <= '9' }

// looksLikeDuration reports whether a freeze's word after the app is meant
// as its length: a number, signed or not ("2h", "-5m", "+1d", ".5h"), or a
// word for "no end" ("forever"). Such a word that is not a valid positive
// duration is an error, not the start of the reason: read as a reason it
// silently froze with no end.
func looksLikeDuration(s string) bool {
	t := strings.TrimLeft(s, "+-−")
	if startsWithDigit(t) || strings.HasPrefix(t, ".") && startsWithDigit(t[1:]) {
		return true
	}
	switch strings.ToLower(s) {
	case "forever", "indefinitely", "indefinite", "infinite", "infinity", "inf", "permanent", "permanently",
		"always", "never", "unlimited", "eternal", "eternity":
		return true
	}
	return false
}

// didYouMean and closest skip the edit-distance search for words longer
// than any name: such a word is no typo, and the search costs its length
// squared.
func didYouMean(w string, cands []string) string {
	if len(w) > maxName {
		return ""
	}
	return suggest.DidYouMean(w, cands)
}

func closest(w string, cands []string) string {
	if len(w) > maxName {
		return ""
	}
	return suggest.Closest(w, cands)
}
