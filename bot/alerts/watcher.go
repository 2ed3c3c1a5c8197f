// Package alerts watches each app's CloudWatch alarms (selected by the
// blueprints' alarm prefixes) and posts an alert to the app's channels when
// one goes to ALARM, with the reason, a console link and buttons for the
// blueprint's remediation tasks. When the alarm is OK again the same
// message is updated. The state of every alarm and the messages posted
// about it are kept in the store, so a restart neither reposts nor loses
// an alert.
//
// The watcher polls DescribeAlarms (one call per prefix and page of 100).
// A feed of the alarms' SNS topic through SQS (feed.go) only makes it look
// sooner: the state CloudWatch reports is always the truth.
//
// An alert's remediations, with their prefilled parameters, are saved in
// the store; a button's id is "ra:ID:INDEX" (alarm names do not fit
// Discord's 100-byte ids). The engine treats a press exactly like the typed
// command `APP TASK k=v …` from the person who pressed, policy check and
// approval included. Messages from before still carry "rm:APP:TASK".
package alerts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/day2bot/day2bot/blueprints"
	"github.com/day2bot/day2bot/bot"
	"github.com/day2bot/day2bot/internal/clock"
	"github.com/day2bot/day2bot/policies/store"
)

// CloudWatchAPI is the CloudWatch call the watcher makes.
type CloudWatchAPI interface {
	DescribeAlarms(ctx context.Context, in *cloudwatch.DescribeAlarmsInput, opts ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error)
}

var _ CloudWatchAPI = (*cloudwatch.Client)(nil)

// State persists what was last seen and posted per alarm, and the
// remediations an alert offers, which its buttons name by a short id
// (*store.Store implements it).
type State interface {
	AlarmState(ctx context.Context, alarm string) (state, msgRef string, err error)
	SetAlarmState(ctx context.Context, alarm, state, msgRef string) error
	SaveAlertActions(ctx context.Context, app, alarm string, actions []store.AlertAction) (id string, err error)
}

var _ State = (*store.Store)(nil)

// Clock is the watcher's time source; tests pass one they advance.
type Clock = clock.Clock

// Options configure a Watcher. Apps, Clients, State and Platforms are
// required.
type Options struct {
	Apps []*blueprints.ResolvedApp
	// Clients returns the CloudWatch client of an app (credentials of
	// scheduler:<app>).
	Clients   func(ctx context.Context, app *blueprints.ResolvedApp) (CloudWatchAPI, error)
	State     State
	Platforms map[string]bot.Platform
	// Clock; default the real one.
	Clock Clock
	// Every is the polling interval; default 1m.
	Every  time.Duration
	Logger *slog.Logger
}

// Watcher polls alarms and posts alerts. Poll is safe to call from several
// goroutines (the loop, a feed, a sandbox command); polls are serialised.
type Watcher struct {
	opts Options
	mu   sync.Mutex // one poll at a time: two would both see a change
	wg   sync.WaitGroup
}

// New checks opts.
func New(opts Options) (*Watcher, error) {
	if opts.Clients == nil || opts.State == nil || opts.Platforms == nil {
		return nil, errors.New("new alert watcher: Clients, State and Platforms are required")
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.Every <= 0 {
		opts.Every = time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Watcher{opts: opts}, nil
}

// Start polls every Every until ctx ends. Wait waits for the loop.
func (w *Watcher) Start(ctx context.Context) {
	w.wg.Go(func() {
		for {
			if err := w.Poll(ctx); err != nil && ctx.Err() == nil {
				w.opts.Logger.WarnContext(ctx, "poll alarms", "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-w.opts.Clock.After(w.opts.Every):
			}
		}
	})
}

// Wait blocks until the loop started by Start has returned.
func (w *Watcher) Wait() { w.wg.Wait() }

// Poll checks every app's alarms once and acts on changes. An app whose
// alarms cannot be read is skipped (and reported in the error); the others
// are still handled.
func (w *Watcher) Poll(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	var errs []error
	for _, app := range w.opts.Apps {
		if err := w.pollApp(ctx, app, nil); err != nil {
			errs = append(errs, fmt.Errorf("app %s: %w", app.Name, err))
		}
	}
	return errors.Join(errs...)
}

// PollAlarm checks the apps that own alarm (a feed saw it change).
func (w *Watcher) PollAlarm(ctx context.Context, alarm string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	var errs []error
	for _, app := range w.opts.Apps {
		if app.OwnsAlarm(alarm) {
			if err := w.pollApp(ctx, app, []string{alarm}); err != nil {
				errs = append(errs, fmt.Errorf("app %s: %w", app.Name, err))
			}
		}
	}
	return errors.Join(errs...)
}

func (w *Watcher) pollApp(ctx context.Context, app *blueprints.ResolvedApp, names []string) error {
	if len(app.AlarmPrefixes) == 0 {
		return nil
	}
	c, err := w.opts.Clients(ctx, app)
	if err != nil {
		return fmt.Errorf("cloudwatch client: %w", err)
	}
	alarms, err := listAlarms(ctx, c, app.AlarmPrefixes, names)
	if err != nil {
		return err
	}
	var errs []error
	for _, a := range alarms {
		if err := w.observe(ctx, app, a); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// listAlarms reads the metric alarms under each prefix (100 a page), or
// the named ones.
func listAlarms(ctx context.Context, c CloudWatchAPI, prefixes, names []string) ([]cwtypes.MetricAlarm, error) {
	var ins []*cloudwatch.DescribeAlarmsInput
	if len(names) > 0 {
		ins = append(ins, &cloudwatch.DescribeAlarmsInput{AlarmNames: names})
	}
	for _, p := range prefixes {
		if len(names) == 0 {
			ins = append(ins, &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String(p)})
		}
	}
	seen := map[string]bool{}
	var out []cwtypes.MetricAlarm
	for _, in := range ins {
		in.AlarmTypes = []cwtypes.AlarmType{cwtypes.AlarmTypeMetricAlarm}
		in.MaxRecords = aws.Int32(100)
		for {
			page, err := c.DescribeAlarms(ctx, in)
			if err != nil {
				return out, fmt.Errorf("describe alarms: %w", err)
			}
			for _, a := range page.MetricAlarms {
				if n := aws.ToString(a.AlarmName); !seen[n] {
					seen[n] = true
					out = append(out, a)
				}
			}
			if aws.ToString(page.NextToken) == "" {
				break
			}
			in.NextToken = page.NextToken
		}
	}
	slices.SortFunc(out, func(a, b cwtypes.MetricAlarm) int {
		return strings.Compare(aws.ToString(a.AlarmName), aws.ToString(b.AlarmName))
	})
	return out, nil
}

// stateKey keeps alarm state per app: the same alarm may concern two apps
// whose prefixes overlap, each with its own channels.
func stateKey(app, alarm string) string { return app + "/" + alarm }

// observe compares an alarm with what was last seen and acts on a change:
// to ALARM posts an alert, from ALARM to anything else updates it, and
// every change is recorded. The state is written after the post: a crash
// between the two reposts once, which beats never alerting.
func (w *Watcher) observe(ctx context.Context, app *blueprints.ResolvedApp, a cwtypes.MetricAlarm) error {
	name, cur := aws.ToString(a.AlarmName), string(a.StateValue)
	key := stateKey(app.Name, name)
	prev, rawRefs, err := w.opts.State.AlarmState(ctx, key)
	if err != nil {
		return fmt.Errorf("read alarm state: %w", err)
	}
	if prev == cur {
		return nil
	}
	refs := decodeRefs(rawRefs)
	switch {
	case cur == string(cwtypes.StateValueAlarm):
		refs = w.post(ctx, app, alertMessage(app, a, w.saveActions(ctx, app, name)))
		w.opts.Logger.InfoContext(ctx, "alarm", "app", app.Name, "alarm", name, "from", prev, "posted", len(refs))
	case prev == string(cwtypes.StateValueAlarm):
		m := resolvedMessage(app, a)
		for _, ref := range refs {
			w.update(ctx, ref, m)
		}
		w.opts.Logger.InfoContext(ctx, "alarm resolved", "app", app.Name, "alarm", name, "to", cur)
	}
	if err := w.opts.State.SetAlarmState(ctx, key, cur, encodeRefs(refs)); err != nil {
		return fmt.Errorf("record alarm state: %w", err)
	}
	return nil
}

// saveActions keeps the alarm's remediations for the alert's buttons and
// returns their id; "" if there are none or they could not be saved (the
// alert then offers the commands to type, still worth posting).
func (w *Watcher) saveActions(ctx context.Context, app *blueprints.ResolvedApp, alarm string) string {
	var acts []store.AlertAction
	for _, s := range app.RemediationsFor(alarm) {
		acts = append(acts, store.AlertAction{Task: s.Task, Params: s.Params})
	}
	if len(acts) == 0 {
		return ""
	}
	id, err := w.opts.State.SaveAlertActions(ctx, app.Name, alarm, acts)
	if err != nil {
		w.opts.Logger.ErrorContext(ctx, "save alert actions", "app", app.Name, "alarm", alarm, "err", err)
		return ""
	}
	return id
}

// post sends m to every channel of the app and returns where it landed.
func (w *Watcher) post(ctx context.Context, app *blueprints.ResolvedApp, m bot.Message) []bot.MessageRef {
	var refs []bot.MessageRef
	for _, ch := range app.Channels {
		plat, id, ok := strings.Cut(ch, ":")
		p, known := w.opts.Platforms[plat]
		if !ok || !known {
			w.opts.Logger.WarnContext(ctx, "alert channel on a platform not connected", "app", app.Name, "channel", ch)
			continue
		}
		ref, err := p.Post(ctx, id, m)
		if err != nil {
			w.opts.Logger.ErrorContext(ctx, "post alert", "app", app.Name, "channel", ch, "err", err)
			continue
		}
		if ref.Platform == "" {
			ref.Platform = plat
		}
		refs = append(refs, ref)
	}
	return refs
}

func (w *Watcher) update(ctx context.Context, ref bot.MessageRef, m bot.Message) {
	p, ok := w.opts.Platforms[ref.Platform]
	if !ok {
		return
	}
	if err := p.Update(ctx, ref, m); err != nil {
		w.opts.Logger.WarnContext(ctx, "update alert", "platform", ref.Platform, "id", ref.ID, "err", err)
	}
}

func encodeRefs(refs []bot.MessageRef) string {
	if len(refs) == 0 {
		return ""
	}
	b, _ := json.Marshal(refs) // plain strings: cannot fail
	return string(b)
}

func decodeRefs(s string) []bot.MessageRef {
	var refs []bot.MessageRef
	if s != "" {
		_ = json.Unmarshal([]byte(s), &refs) // a damaged ref only costs the update
	}
	return refs
}
