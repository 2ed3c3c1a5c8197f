package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/day2bot/day2bot/bot"
)

// Forms are Slack modals: views.open with the trigger_id of the command or
// click that asked; the selects of live values load their options from
// POST /slack/options (block_suggestion); the submission (view_submission)
// becomes the command text and goes to the engine as if typed.

// Chooser is what the options route needs of the engine (*bot.Engine).
type Chooser interface {
	ParamChoices(ctx context.Context, principal, app, task, param, query string) ([]bot.Choice, error)
}

// formCallback is the callback_id of day2bot's modals.
const formCallback = "day2-task"

// optionsTimeout keeps the options answer inside Slack's 3 s.
const optionsTimeout = 2500 * time.Millisecond

// Slack's limits on modals and options.
const (
	maxTitle       = 24
	maxOptionText  = 75
	maxOptionValue = 150
	maxOptions     = 100
)

// formMeta is a modal's private_metadata: which task, asked where.
type formMeta struct {
	App     string   `json:"app"`
	Task    string   `json:"task"`
	Channel string   `json:"channel"`
	Fields  []string `json:"fields"` // parameter names in the form's order
}

var _ bot.FormOpener = (*responder)(nil)

// OpenForm opens f as a modal for the person who asked; it needs the
// trigger_id of their command or click (valid 3 s).
func (r *responder) OpenForm(ctx context.Context, f bot.Form) error {
	if r.triggerID == "" {
		return errors.New("open slack form: no trigger_id")
	}
	view, err := formView(f, r.channel)
	if err != nil {
		return err
	}
	if _, err := r.a.api.OpenViewContext(ctx, r.triggerID, view); err != nil {
		return fmt.Errorf("open slack form %s/%s: %w", f.App, f.Task, err)
	}
	return nil
}

// formView renders f as a modal.
func formView(f bot.Form, channel string) (slack.ModalViewRequest, error) {
	meta := formMeta{App: f.App, Task: f.Task, Channel: channel}
	for _, fd := range f.Fields {
		meta.Fields = append(meta.Fields, fd.Name)
	}
	raw, err := json.Marshal(meta)
	if err != nil {
		return slack.ModalViewRequest{}, fmt.Errorf("encode form metadata: %w", err)
	}
	blocks := []slack.Block{slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "*"+escape(f.Title)+"*\n"+escape(f.Description), false, false), nil, nil)}
	if f.Confirm != "" {
		blocks = append(blocks, slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, ":warning: "+escape(f.Confirm), false, false)))
	}
	for _, fd := range f.Fields {
		in := slack.NewInputBlock("p:"+fd.Name, plain(fd.Label), nil, fieldElement(fd))
		if fd.Hint != "" {
			in.Hint = plain(cut(fd.Hint, 2000))
		}
		in.Optional = !fd.Required
		blocks = append(blocks, in)
	}
	return slack.ModalViewRequest{
		Type: slack.VTModal, CallbackID: formCallback, PrivateMetadata: string(raw),
		Title: plain(cut(f.Task, maxTitle)), Submit: plain("Run"), Close: plain("Cancel"),
		Blocks: slack.Blocks{BlockSet: blocks},
	}, nil
}

func fieldElement(fd bot.FormField) slack.BlockElement {
	switch fd.Kind {
	case bot.FieldNumber:
		el := slack.NewNumberInputBlockElement(nil, fd.Name, false)
		el.InitialValue, el.MinValue, el.MaxValue = fd.Initial, fd.Min, fd.Max
		return el
	case bot.FieldSelect:
		var opts []*slack.OptionBlockObject
		var initial *slack.OptionBlockObject
		for _, o := range fd.Options {
			opt := slack.NewOptionBlockObject(o, plain(o), nil)
			opts = append(opts, opt)
			if o == fd.Initial {
				initial = opt
			}
		}
		el := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain("Choose"), fd.Name, opts...)
		el.InitialOption = initial
		return el
	case bot.FieldChoice:
		el := slack.NewOptionsSelectBlockElement(slack.OptTypeExternal, plain("Type to search"), fd.Name)
		zero := 0
		el.MinQueryLength = &zero
		if fd.Initial != "" {
			el.InitialOption = slack.NewOptionBlockObject(fd.Initial, plain(cut(fd.Initial, maxOptionText)), nil)
		}
		return el
	}
	el := slack.NewPlainTextInputBlockElement(nil, fd.Name)
	el.InitialValue = fd.Initial
	return el
}

func plain(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
}

// cut shortens s to n runes, marking the cut.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// OptionsHandler serves POST /slack/options: the options of a modal's
// select of live values (block_suggestion), as the engine offers them to
// the person typing, within Slack's 3 s.
func (a *Adapter) OptionsHandler(c Chooser) http.Handler {
	return a.formHandler("options", func(w http.ResponseWriter, r *http.Request, form url.Values) bool {
		var cb slack.InteractionCallback
		if err := json.Unmarshal([]byte(form.Get("payload")), &cb); err != nil || cb.Type != slack.InteractionTypeBlockSuggestion {
			http.Error(w, "bad payload", http.StatusBadRequest)
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(a.options(r.Context(), c, cb))
		return true
	})
}

// options answers one block_suggestion; nothing when it is not ours or
// not allowed.
func (a *Adapter) options(ctx context.Context, c Chooser, cb slack.InteractionCallback) slack.OptionsResponse {
	out := slack.OptionsResponse{Options: []*slack.OptionBlockObject{}}
	if o := interactionOrigin(cb); !a.allowed(o) {
		a.refused(ctx, o, cb.User.ID, "options")
		return out
	}
	var meta formMeta
	if cb.View.CallbackID != formCallback || json.Unmarshal([]byte(cb.View.PrivateMetadata), &meta) != nil || cb.User.ID == "" {
		return out
	}
	ctx, cancel := context.WithTimeout(ctx, optionsTimeout)
	defer cancel()
	choices, err := c.ParamChoices(ctx, a.Name()+":"+cb.User.ID, meta.App, meta.Task, cb.ActionID, cb.Value)
	if err != nil {
		a.log.DebugContext(ctx, "slack options", "app", meta.App, "task", meta.Task, "param", cb.ActionID, "err", err)
		return out
	}
	for _, ch := range choices {
		if len(out.Options) == maxOptions {
			break
		}
		if len(ch.Value) > maxOptionValue {
			continue // a cut value would name something else
		}
		out.Options = append(out.Options, slack.NewOptionBlockObject(ch.Value, plain(cut(ch.Text(), maxOptionText)), nil))
	}
	return out
}

// FormChecker is the engine's check of a form's values, field by field
// (bot.Engine.CheckForm); a Handler without it has its forms closed on
// submit and answered in the channel.
type FormChecker interface {
	CheckForm(app, task string, values map[string]string) map[string]string
}

// submission is a view_submission of a day2bot form from an allowed
// workspace, read: what it was for and the values filled in.
type submission struct {
	meta   formMeta
	values map[string]string
}

// readSubmission reads cb as a form submission; ok is false for other
// views and for workspaces that are not allowed (logged as refused).
func (a *Adapter) readSubmission(ctx context.Context, cb slack.InteractionCallback) (s submission, ok bool) {
	if cb.Type != slack.InteractionTypeViewSubmission || cb.View.CallbackID != formCallback ||
		json.Unmarshal([]byte(cb.View.PrivateMetadata), &s.meta) != nil || s.meta.Channel == "" {
		a.log.DebugContext(ctx, "slack view submission ignored", "callback", cb.View.CallbackID)
		return submission{}, false
	}
	if o := interactionOrigin(cb); !a.allowed(o) {
		a.refused(ctx, o, cb.User.ID, "form")
		return submission{}, false
	}
	s.values = map[string]string{}
	for _, name := range s.meta.Fields {
		st := cb.View.State.Values["p:"+name][name]
		v := st.Value
		if st.SelectedOption.Value != "" {
			v = st.SelectedOption.Value
		}
		s.values[name] = v
	}
	return s, true
}

// formErrors is the ack that keeps a submitted form open with an error
// under each field the engine found wrong, or nil to accept it. Slack
// shows them only if they ride on the ack (response_action "errors",
// keyed by block id), so the check runs before acking: it is local
// (parameter schema, no AWS, no store), well inside Slack's 3 s.
func (a *Adapter) formErrors(ctx context.Context, h Handler, cb slack.InteractionCallback) *slack.ViewSubmissionResponse {
	fc, ok := h.(FormChecker)
	if !ok || cb.Type != slack.InteractionTypeViewSubmission || !a.allowed(interactionOrigin(cb)) {
		return nil // a refused workspace is logged once, by submitForm
	}
	s, ok := a.readSubmission(ctx, cb)
	if !ok {
		return nil
	}
	problems := fc.CheckForm(s.meta.App, s.meta.Task, s.values)
	if len(problems) == 0 {
		return nil
	}
	byBlock := make(map[string]string, len(problems))
	for name, msg := range problems {
		byBlock["p:"+name] = msg
	}
	a.log.DebugContext(ctx, "slack form returned with errors", "user", cb.User.ID, "app", s.meta.App, "task", s.meta.Task, "fields", len(byBlock))
	return slack.NewErrorsViewSubmissionResponse(byBlock)
}

// submitForm turns a view_submission into the command it stands for and
// hands it to h, answering in the channel the form was asked from. It
// reports whether it did.
func (a *Adapter) submitForm(ctx context.Context, h Handler, cb slack.InteractionCallback) bool {
	s, ok := a.readSubmission(ctx, cb)
	if !ok {
		return false
	}
	meta := s.meta
	f := bot.Form{App: meta.App, Task: meta.Task}
	for _, name := range meta.Fields {
		f.Fields = append(f.Fields, bot.FormField{Name: name})
	}
	text := bot.FormCommand(f, s.values)
	issued := a.now()
	ctx = context.WithoutCancel(ctx)
	a.inflight.Go(ctx, func(ctx context.Context) {
		name := a.displayName(ctx, cb.User.ID, cb.User.Name)
		a.log.DebugContext(ctx, "slack form submitted", "user", cb.User.ID, "channel", meta.Channel, "app", meta.App, "task", meta.Task)
		h.HandleCommand(ctx, bot.Command{
			Platform: a.Name(), Team: cb.Team.ID, User: cb.User.ID, UserName: name,
			Channel: meta.Channel, Text: text,
			Reply: a.newResponder("", meta.Channel, cb.User.ID, issued),
		})
	})
	return true
}
