// Package slack is day2bot's Slack adapter: it receives slash commands and
// button clicks (HTTP with signed requests, or Socket Mode), acks them at
// once, hands platform-neutral Commands and Actions to the engine, and
// renders the engine's Messages as Block Kit. Slack types never leave this
// package.
//
// Where to look: verify.go checks signatures, http.go and socket.go
// receive, responder.go answers the caller, outbox.go paces posts per
// channel, render.go builds Block Kit, upload.go attaches files.
package slack

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/slack-go/slack"

	"github.com/day2bot/day2bot/bot"
	"github.com/day2bot/day2bot/internal/replay"
)

// Handler is what the adapter needs of the engine (*bot.Engine).
type Handler interface {
	HandleCommand(ctx context.Context, cmd bot.Command)
	HandleAction(ctx context.Context, a bot.Action)
}

// DefaultAPIURL is Slack's Web API base.
const DefaultAPIURL = "https://slack.com/api/"

// Options configure an Adapter. BotToken is required; SigningSecret is
// required for the HTTP handlers and AppToken for Socket Mode.
type Options struct {
	BotToken      string
	AppToken      string // xapp-…, Socket Mode
	SigningSecret string // HTTP mode
	// APIURL overrides the Web API base (SLACK_API_URL); a trailing "/"
	// is added if missing, as slack-go appends method names to it.
	APIURL     string
	HTTPClient *http.Client
	Logger     *slog.Logger
	// Metrics receives the adapter's collectors; nil keeps them private.
	Metrics prometheus.Registerer
	// Clock is used for response_url budgets, the user cache and replay
	// protection; default time.Now.
	Clock func() time.Time
	// PostInterval paces messages per channel; default 1s (Slack's limit).
	PostInterval time.Duration
	// After waits; default time.After. Tests inject it to observe
	// Retry-After waits without sleeping.
	After func(time.Duration) <-chan time.Time
	// QueueSize bounds the messages waiting per channel; default 100.
	QueueSize int
	// MaxBody bounds a request body; default 512 KiB.
	MaxBody int64
	// UserCacheTTL is how long a display name is reused; default 1h.
	UserCacheTTL time.Duration
	// Concurrency bounds the commands and clicks handed to the engine at
	// once; default 2×GOMAXPROCS. HandoverWait is how long one waits for
	// a slot before it runs anyway; default 5s. See handover.go.
	Concurrency  int
	HandoverWait time.Duration
	// AckWait bounds how long a click's acknowledgement waits for the
	// engine to record it (bot.WithAckGate); default 2s, inside Slack's
	// 3-second deadline.
	AckWait time.Duration
	// Replay remembers requests already served for their freshness
	// window; serve passes the store. Default: in process only.
	Replay ReplayMemory
	// Teams and Enterprises are the workspaces (T…) and Enterprise Grid
	// orgs (E…) allowed to use the bot (slack.teams, slack.enterprises).
	// Both empty: any workspace. A request from elsewhere gets one
	// private line and an audit entry; the engine never sees it.
	Teams       []string
	Enterprises []string
	// Auditor records refused requests; nil logs them only.
	Auditor Auditor
}

// Adapter is the Slack platform: bot.Platform for the engine, HTTP
// handlers and a Socket Mode runner for Slack.
type Adapter struct {
	opts    Options
	api     *slack.Client
	http    *http.Client
	log     *slog.Logger
	now     func() time.Time
	out     *outbox
	metrics metrics
	users   *userCache
	replay  ReplayMemory
	threads *threadMemo

	// inflight runs the dispatches handed to the engine, so shutdown can
	// wait for them.
	inflight *handover
}

var _ bot.Platform = (*Adapter)(nil)

// New builds an adapter. It does no I/O.
func New(opts Options) (*Adapter, error) {
	if opts.BotToken == "" {
		return nil, errors.New("new slack adapter: no bot token (SLACK_BOT_TOKEN)")
	}
	opts.APIURL = NormalizeAPIURL(opts.APIURL)
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.PostInterval <= 0 {
		opts.PostInterval = time.Second
	}
	if opts.After == nil {
		opts.After = time.After
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = 100
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = 512 << 10
	}
	if opts.UserCacheTTL <= 0 {
		opts.UserCacheTTL = time.Hour
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 2 * runtime.GOMAXPROCS(0)
	}
	if opts.HandoverWait <= 0 {
		opts.HandoverWait = 5 * time.Second
	}
	if opts.AckWait <= 0 {
		opts.AckWait = 2 * time.Second
	}
	if opts.Replay == nil {
		opts.Replay = replay.NewMemory(opts.Clock)
	}
	m, err := newMetrics(opts.Metrics)
	if err != nil {
		return nil, fmt.Errorf("new slack adapter: %w", err)
	}
	clientOpts := []slack.Option{slack.OptionAPIURL(opts.APIURL), slack.OptionHTTPClient(opts.HTTPClient)}
	if opts.AppToken != "" {
		clientOpts = append(clientOpts, slack.OptionAppLevelToken(opts.AppToken))
	}
	a := &Adapter{
		opts:    opts,
		api:     slack.New(opts.BotToken, clientOpts...),
		http:    opts.HTTPClient,
		log:     opts.Logger,
		now:     opts.Clock,
		out:     newOutbox(opts.PostInterval, opts.QueueSize, opts.After),
		metrics: m,
		users:   newUserCache(opts.UserCacheTTL),
		replay:  opts.Replay,
		threads: &threadMemo{seen: map[bot.MessageRef][sha256.Size]byte{}},

		inflight: newHandover(opts.Concurrency, opts.HandoverWait),
	}
	a.out.onLimit = func(channel string, wait time.Duration) {
		a.log.Warn("slack rate limited; retrying", "channel", channel, "retry_after", wait)
	}
	return a, nil
}

// NormalizeAPIURL returns the Web API base with exactly one trailing "/".
func NormalizeAPIURL(u string) string {
	u = strings.TrimSpace(u)
	if u == "" {
		return DefaultAPIURL
	}
	return strings.TrimRight(u, "/") + "/"
}

// Name is the principal prefix of Slack users.
func (a *Adapter) Name() string { return "slack" }

// Post publishes m in channel. A long message continues as thread replies
// of the first one; the returned ref is the first message.
func (a *Adapter) Post(ctx context.Context, channel string, m bot.Message) (bot.MessageRef, error) {
	m = withFullTable(m)
	msgs := render(m)
	ts, err := a.postMessage(ctx, channel, "", msgs[0])
	if err != nil {
		return bot.MessageRef{}, err
	}
	ref := bot.MessageRef{Platform: a.Name(), Channel: channel, ID: ts}
	a.threads.changed(ref, msgs[1:], m.Attachment)
	if err := a.postRest(ctx, ref, msgs[1:], m.Attachment); err != nil {
		return ref, err
	}
	return ref, nil
}

// Update replaces a message posted earlier. A body too long for one
// message keeps its first part in place and continues in the thread.
func (a *Adapter) Update(ctx context.Context, ref bot.MessageRef, m bot.Message) error {
	m = withFullTable(m)
	msgs := render(m)
	err := a.out.do(ctx, ref.Channel, func(ctx context.Context) error {
		_, _, _, err := a.api.UpdateMessageContext(ctx, ref.Channel, ref.ID,
			slack.MsgOptionText(msgs[0].Text, false), slack.MsgOptionBlocks(msgs[0].Blocks...))
		return a.apiErr("chat.update", err)
	})
	if err != nil {
		return fmt.Errorf("update slack message %s in %s: %w", ref.ID, ref.Channel, err)
	}
	// A message updated several times (approval, progress, result) must
	// not repeat the same continuation or file in its thread.
	if !a.threads.changed(ref, msgs[1:], m.Attachment) {
		return nil
	}
	return a.postRest(ctx, ref, msgs[1:], m.Attachment)
}

// postRest posts the continuation of a split message and its attachment
// as replies in the thread of ref.
func (a *Adapter) postRest(ctx context.Context, ref bot.MessageRef, rest []rendered, file *bot.File) error {
	for _, r := range rest {
		if _, err := a.postMessage(ctx, ref.Channel, ref.ID, r); err != nil {
			return err
		}
	}
	if file != nil && len(file.Content) > 0 {
		if err := a.upload(ctx, ref.Channel, ref.ID, *file); err != nil {
			return err
		}
	}
	return nil
}

// threadMemo remembers, per message, a digest of what was last posted in
// its thread, so updates only post a continuation or file that changed.
// It forgets everything when it grows past maxThreadMemo entries; the cost
// is one repeated continuation.
type threadMemo struct {
	mu   sync.Mutex
	seen map[bot.MessageRef][sha256.Size]byte
}

const maxThreadMemo = 10000

// changed records what goes in ref's thread now and reports whether it
// differs from what was posted there before.
func (t *threadMemo) changed(ref bot.MessageRef, rest []rendered, file *bot.File) bool {
	if len(rest) == 0 && (file == nil || len(file.Content) == 0) {
		return false
	}
	h := sha256.New()
	_ = json.NewEncoder(h).Encode(rest)
	if file != nil {
		fmt.Fprintf(h, "%s\x00%s\x00", file.Name, file.Type)
		h.Write(file.Content)
	}
	var sum [sha256.Size]byte
	copy(sum[:], h.Sum(nil))
	t.mu.Lock()
	defer t.mu.Unlock()
	if prev, ok := t.seen[ref]; ok && prev == sum {
		return false
	}
	if len(t.seen) >= maxThreadMemo {
		clear(t.seen)
	}
	t.seen[ref] = sum
	return true
}

// postMessage sends one rendered message through the channel's queue.
func (a *Adapter) postMessage(ctx context.Context, channel, threadTS string, r rendered) (string, error) {
	var ts string
	err := a.out.do(ctx, channel, func(ctx context.Context) error {
		opts := []slack.MsgOption{slack.MsgOptionText(r.Text, false), slack.MsgOptionBlocks(r.Blocks...)}
		if threadTS != "" {
			opts = append(opts, slack.MsgOptionTS(threadTS))
		}
		var err error
		_, ts, err = a.api.PostMessageContext(ctx, channel, opts...)
		return a.apiErr("chat.postMessage", err)
	})
	if err != nil {
		return "", fmt.Errorf("post slack message in %s: %w", channel, err)
	}
	return ts, nil
}

// apiErr counts a failed Web API call by method and Slack's error code.
func (a *Adapter) apiErr(method string, err error) error {
	if err != nil {
		a.metrics.apiErrors.WithLabelValues(method, errorCode(err)).Inc()
	}
	return err
}

// errorCode is Slack's error string ("channel_not_found"), "ratelimited",
// or "transport" for anything that never got an answer.
func errorCode(err error) string {
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		return "ratelimited"
	}
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		return se.Err
	}
	var sc slack.StatusCodeError
	if errors.As(err, &sc) {
		return fmt.Sprintf("http_%d", sc.Code)
	}
	return "transport"
}

// notInChannel reports the errors Slack gives when the bot cannot post in
// a channel: a private channel it was not invited to looks like a channel
// that does not exist.
func notInChannel(err error) bool {
	switch errorCode(err) {
	case "channel_not_found", "not_in_channel":
		return true
	}
	return false
}

// Wait returns once every command and click acked so far has been handed
// to the engine, or ctx ends. Serve calls it after the HTTP server and
// Socket Mode stopped, before draining the engine.
func (a *Adapter) Wait(ctx context.Context) error {
	select {
	case <-doneWhen(a.inflight.Wait):
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait for slack handovers: %w", ctx.Err())
	}
}

// GiveUpAt makes the adapter drop what it has not sent yet, and fail
// every caller still waiting on a paced channel, once ctx ends. Serve
// passes its shutdown deadline so a long backlog (one message per second
// per channel) cannot hold the process past it.
func (a *Adapter) GiveUpAt(ctx context.Context) { a.out.abortWhen(ctx) }

// Close waits for handovers (Wait), then stops accepting posts and waits
// until queued messages are sent, or ctx ends. Call it after the engine
// has finished, so its last messages still go out.
func (a *Adapter) Close(ctx context.Context) error {
	return errors.Join(a.Wait(ctx), a.out.close(ctx))
}
