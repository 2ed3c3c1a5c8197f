package bot

import (
	"context"
	"strconv"
	"strings"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/tasks"
)

// A form is a task's parameters as fields to fill in, for platforms that
// can show one (Slack's modals). It only helps to type the command: what
// the platform submits is turned back into the command text and handled as
// if typed, through the same validation, policy and approval path.

// FormOpener is a Responder that can show a form to the person it answers
// (Slack: views.open with the request's trigger_id).
type FormOpener interface {
	OpenForm(ctx context.Context, f Form) error
}

// FormLimit is a FormOpener whose forms hold at most MaxFormFields fields
// (Discord's modals: 5); tasks with more parameters get no form there.
type FormLimit interface {
	MaxFormFields() int
}

// formFits reports whether t's parameters fit a form reply can show.
func formFits(reply Responder, t *Task) bool {
	if fl, ok := reply.(FormLimit); ok {
		return len(t.Params) <= fl.MaxFormFields()
	}
	return true
}

// Form is one task's parameters to fill in.
type Form struct {
	App, Task   string
	Title       string // "shop restart-web"
	Description string
	Confirm     string // the task's warning, if any
	Fields      []FormField
}

// FieldKind says how a field is filled in.
type FieldKind string

const (
	FieldText   FieldKind = "text"   // free text (strings, durations)
	FieldNumber FieldKind = "number" // a whole number within Min and Max
	FieldSelect FieldKind = "select" // one of Options
	// FieldChoice is a select whose options the platform loads from
	// Engine.ParamChoices as the person types (live AWS data).
	FieldChoice FieldKind = "choice"
)

// FormField is one parameter.
type FormField struct {
	Name     string
	Label    string
	Hint     string // description, format and bounds in words
	Kind     FieldKind
	Required bool
	Initial  string   // the default, or what was typed
	Options  []string // FieldSelect
	Min, Max string   // FieldNumber bounds, "" when open
}

// buttonForm opens the form of a task: "fm:APP:TASK".
const buttonForm = "fm:"

// taskForm builds the form of task t of a, with typed values filled in.
func (e *Engine) taskForm(a *App, t *Task, typed map[string]string) Form {
	f := Form{App: a.Name, Task: t.Name, Title: a.Name + " " + t.Name, Description: t.Description, Confirm: t.Confirm}
	act, _ := e.reg.Lookup(t.Action)
	ch, _ := act.(tasks.Chooser)
	for _, p := range t.Params {
		fd := FormField{Name: p.Name, Label: p.Name, Hint: p.Description, Kind: FieldText, Required: p.Required, Initial: p.Default}
		if v, ok := typed[p.Name]; ok {
			fd.Initial = v
		}
		switch {
		case len(p.Enum) > 0:
			fd.Kind, fd.Options = FieldSelect, p.Enum
		case p.Type == tasks.TypeBool:
			fd.Kind, fd.Options = FieldSelect, []string{"true", "false"}
		case p.Type == tasks.TypeInt:
			fd.Kind = FieldNumber
			if p.Min != nil {
				fd.Min = strconv.FormatFloat(*p.Min, 'f', -1, 64)
			}
			if p.Max != nil {
				fd.Max = strconv.FormatFloat(*p.Max, 'f', -1, 64)
			}
		case ch != nil && ch.Choosable(p.Name):
			fd.Kind = FieldChoice
		}
		if p.Format != "" {
			fd.Hint = strings.TrimSpace(fd.Hint + " — " + p.Format)
		}
		f.Fields = append(f.Fields, fd)
	}
	return f
}

// offerForm opens the task's form instead of refusing a command that
// lacks a required parameter, when the platform can show one and the
// caller may run the task at all. It reports whether it did; otherwise
// the command goes on and is refused for the missing value as usual.
func (e *Engine) offerForm(ctx context.Context, c caller, req Request, reply Responder) bool {
	fo, ok := reply.(FormOpener)
	if !ok || req.DryRun {
		return false
	}
	a, ok := e.apps.app(req.App)
	if !ok {
		return false
	}
	t, ok := a.task(req.Task)
	if !ok || !missingRequired(t, req.Params) || !formFits(reply, t) || !e.mayRunFilter(ctx, c.Principal)(a, t) {
		return false
	}
	return e.openForm(ctx, fo, a, t, req.Params)
}

func missingRequired(t *Task, typed map[string]string) bool {
	for _, p := range t.Params {
		if _, ok := typed[p.Name]; p.Required && p.Default == "" && !ok {
			return true
		}
	}
	return false
}

func (e *Engine) openForm(ctx context.Context, fo FormOpener, a *App, t *Task, typed map[string]string) bool {
	if err := fo.OpenForm(ctx, e.taskForm(a, t, typed)); err != nil {
		e.log.WarnContext(ctx, "open form", "app", a.Name, "task", t.Name, "err", err)
		return false
	}
	noteCommand(ctx).outcome = "form opened"
	return true
}

// formButton is the "Run…" button pressed on `tasks APP`.
func (e *Engine) formButton(ctx context.Context, c caller, id string, reply Responder) {
	app, task, _ := strings.Cut(id, ":")
	a, aok := e.apps.app(app)
	var t *Task
	tok := false
	if aok {
		t, tok = a.task(task)
	}
	fo, ok := reply.(FormOpener)
	if !tok || !ok || !formFits(reply, t) || !e.mayRunFilter(ctx, c.Principal)(a, t) {
		e.reject(ctx, reply, usagef("this button is not understood any more; type the command instead"))
		return
	}
	if !e.openForm(ctx, fo, a, t, nil) {
		e.reject(ctx, reply, usagef("the form could not be opened; type %s %s key=value … instead", a.Name, t.Name))
	}
}

// formButtons are the "Run…" buttons of `tasks APP` (only "": every task)
// and `tasks APP TASK`: one per task with parameters the caller may run,
// where the platform shows forms.
func (e *Engine) formButtons(ctx context.Context, c caller, a *App, only string, reply Responder) []Button {
	if _, ok := reply.(FormOpener); !ok {
		return nil
	}
	may := e.mayRunFilter(ctx, c.Principal)
	var out []Button
	for i := range a.Tasks {
		t := &a.Tasks[i]
		id := buttonForm + a.Name + ":" + t.Name
		if (only != "" && t.Name != only) || len(t.Params) == 0 || len(id) > 100 || !formFits(reply, t) || !may(a, t) {
			continue
		}
		out = append(out, Button{ID: id, Label: "Run " + t.Name + "…"})
		if len(out) == maxFormButtons {
			break
		}
	}
	return out
}

// maxFormButtons keeps `tasks APP` readable (Slack shows 25 per block).
const maxFormButtons = 20

// CheckForm checks a submitted form's values against the task's
// parameters, field by field, so a platform that can show errors next to
// the fields (Slack's modals) keeps the form open with them instead of
// closing it and answering in the channel. It returns the message of each
// field that cannot work as given; none means submit. Policy is not asked
// here: the submission is then handled as if typed.
func (e *Engine) CheckForm(app, task string, values map[string]string) map[string]string {
	a, ok := e.apps.app(app)
	if !ok {
		return nil
	}
	t, ok := a.task(task)
	if !ok {
		return nil
	}
	problems := map[string]string{}
	for _, p := range t.Params {
		raw := map[string]string{}
		if v := strings.TrimSpace(values[p.Name]); v != "" {
			raw[p.Name] = v // an empty field leaves the default, as FormCommand does
		}
		if _, err := tasks.ParseValues([]tasks.Param{p}, raw); err != nil {
			problems[p.Name] = oneLine(errs.Text(err, "not a valid value"))
		}
	}
	return problems
}

// FormCommand is the command a submitted form stands for, as typed:
// "APP TASK k=v …" in the form's field order, values quoted where the
// grammar would split them, empty values left out.
func FormCommand(f Form, values map[string]string) string {
	words := []string{f.App, f.Task}
	for _, fd := range f.Fields {
		if v := strings.TrimSpace(values[fd.Name]); v != "" {
			words = append(words, fd.Name+"="+quoteArg(v))
		}
	}
	return strings.Join(words, " ")
}

// quoteArg quotes a value the grammar would split or unquote (see
// tokenize): white space or quote characters anywhere.
func quoteArg(v string) string {
	if !strings.ContainsFunc(v, func(r rune) bool {
		_, q := closingQuote[r]
		return q || r == ' ' || r == '\t' || r == '\n' || r == '\\'
	}) {
		return v
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", " ").Replace(v) + `"`
}
