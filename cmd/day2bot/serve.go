package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/day2bot/day2bot/blueprints"
	"github.com/day2bot/day2bot/bot"
	"github.com/day2bot/day2bot/bot/discord"
	"github.com/day2bot/day2bot/bot/slack"
	"github.com/day2bot/day2bot/bot/web"
	"github.com/day2bot/day2bot/internal/clock"
	"github.com/day2bot/day2bot/policies/store"
	awsactions "github.com/day2bot/day2bot/tasks/aws"
)

// serveOptions are serve's flags plus what tests inject.
type serveOptions struct {
	ConfigPath string
	Listen     string
	DBPath     string // "" keeps the config's database
	// AWS overrides the AWS provider (tests: the emulator); nil loads the
	// default credential chain.
	AWS bot.AWSProvider
	// Ready, if set, is told the address serve listens on.
	Ready func(addr string)
	// SlackPace is the least time between two Slack posts to one channel;
	// 0 is Slack's own limit (one a second). Tests against the Slack fake
	// pass a millisecond instead of waiting a second a message.
	SlackPace time.Duration
	// Pace is how batched actions (a rolling restart) wait for a batch to
	// be back; zero is what AWS needs (a 10 s settle after acting). Tests
	// against the emulator, whose checks are current at once, pass a
	// millisecond instead of waiting 10 s a batch.
	Pace awsactions.Pace
	// ShutdownGrace bounds the wait for in-flight work on SIGTERM.
	ShutdownGrace time.Duration
}

func newServeCmd(g *globals) *cobra.Command {
	o := serveOptions{}
	c := &cobra.Command{
		Use:   "serve",
		Short: "Run the bot for Slack and Discord, with /healthz and /metrics",
		Long: `serve runs day2bot against the apps in the config file.

Slack: Socket Mode when SLACK_APP_TOKEN (xapp-…) is set — no public URL is
needed; otherwise HTTP mode on POST /slack/commands, /slack/interactions
and /slack/options when SLACK_SIGNING_SECRET is set (slack.mode in the config forces one).
SLACK_BOT_TOKEN is needed in both. Discord: see DISCORD_* in the README.
GET /healthz answers ok; GET /metrics is Prometheus. Logs are JSON on stderr.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cmd.Flags().Changed("db") {
				o.DBPath = g.DBPath
			}
			return runServe(cmd.Context(), g, o)
		},
	}
	c.Flags().StringVar(&o.ConfigPath, "config", "day2bot.yaml", "path of the config file")
	c.Flags().StringVar(&o.Listen, "listen", "", "HTTP listen address (default: the config's listen, else :8080)")
	return c
}

// runServe builds config, store, platforms and engine, serves HTTP and
// Socket Mode until ctx ends (SIGTERM), then shuts down in order: stop
// taking requests, let the adapters hand over what they acked, let the
// engine finish, flush queued messages, close the store.
func runServe(ctx context.Context, g *globals, o serveOptions) (err error) {
	cfg, err := loadConfig(o.ConfigPath, g.Getenv)
	if err != nil {
		return usageError("%w", err)
	}
	log := slog.New(slog.NewJSONHandler(g.Stderr, nil))
	reg := newMetricsRegistry()

	replica := bot.NewReplicaID()
	log = log.With("replica", replica)
	a := assembly{
		DB: cmp.Or(o.DBPath, cfg.Database, "day2bot.db"), Logger: log, Catalog: cfg.Catalog, Apps: cfg.Apps,
		Pace: o.Pace, AWS: o.AWS, Admins: cfg.Admins, Routines: cfg.Routines, Metrics: reg, Replica: replica,
	}
	var slk *slackSetup
	var dsc *discordSetup
	a.Platforms = func(st *store.Store) ([]bot.Platform, error) {
		var err error
		if slk, err = newSlack(cfg, log, reg, st, o.SlackPace); err != nil {
			return nil, usageError("%w", err)
		}
		if dsc, err = newDiscord(cfg, log, st); err != nil {
			return nil, usageError("%w", err)
		}
		if slk == nil && dsc == nil {
			return nil, usageError("serve: no chat platform configured: set SLACK_BOT_TOKEN with SLACK_APP_TOKEN or SLACK_SIGNING_SECRET, or the DISCORD_* variables")
		}
		for _, w := range cfg.openToAll(slk != nil, dsc != nil) {
			log.WarnContext(ctx, "no allow-list", "warning", w)
		}
		var platforms []bot.Platform
		if slk != nil {
			platforms = append(platforms, slk.adapter)
		}
		if dsc != nil {
			platforms = append(platforms, dsc.Platform())
		}
		return platforms, nil
	}
	var links *web.Links
	if cfg.Dashboard.URL != "" {
		key, err := dashboardKey(cfg.Secrets.DashboardKey, log)
		if err != nil {
			return err
		}
		if links, err = newDashboardLinks(key, cfg.Dashboard.URL); err != nil {
			return err
		}
		a.DashboardLink = links.Link
	}
	// The store, the adapters (they keep their replay memory in it), the
	// schedules, digests and alerts (bot/routines: started below, after
	// the engine) and the engine.
	b, err := assemble(ctx, a)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, b.close()) }()
	sst, rt, e := b.store, b.routines, b.engine
	var dash *dashboardParts
	if links != nil {
		dash = &dashboardParts{links: links, digest: rt.Digest, log: log}
	}
	// Listen before the engine starts: starting announces runs the last
	// process left interrupted, and however slow the chat API is, the
	// port (and /healthz) must not wait for it. Connections made until
	// the routes are mounted below wait in the listen backlog.
	addr := cmp.Or(o.Listen, cfg.Listen, ":8080")
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	defer ln.Close()
	if err := e.Start(ctx); err != nil {
		return err
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The singletons: on SQLite here, the one process always holds the
	// lease; on Postgres under the lease (singletons.go), in the background.
	waitSingletons := rt.Wait
	if sst.shared() {
		sg := &singletons{rt: rt, engine: e, log: log, every: 5 * time.Second, clock: clock.Real{}, held: leaseGauge(reg)}
		if dsc != nil && dsc.transport == "gateway" {
			sg.discord, dsc.leased = dsc, true
		}
		waitSingletons = sg.start(ctx, sst)
	} else if err := rt.Start(ctx, e); err != nil {
		cancel()
		return errors.Join(err, shutdownEngine(e, o))
	}
	mux := http.NewServeMux()
	for _, r := range baseRoutes(reg) {
		mux.Handle(r.pattern, r.handler)
	}
	if dash != nil {
		h, err := dash.handler(e)
		if err != nil {
			cancel()
			return errors.Join(err, shutdownEngine(e, o))
		}
		for _, p := range []string{"/login", "/logout", "/apps/", "/static/"} {
			mux.Handle(p, h)
		}
	}
	// Long-running parts (Socket Mode, Discord gateway) report here; the
	// first failure stops serve.
	fail := make(chan error, 2)
	var bg []func() // waits for the long-running parts after cancel
	if slk != nil {
		routes, wait := slk.start(ctx, e, fail)
		for _, r := range routes {
			mux.Handle(r.pattern, r.handler)
		}
		bg = append(bg, wait)
	}
	if dsc != nil {
		// Discord (serve_discord.go): registers /day2, then mounts its
		// interactions route or connects the gateway.
		wait, err := dsc.start(ctx, e, mux)
		bg = append(bg, wait)
		if err != nil {
			cancel()
			wait()
			return errors.Join(err, shutdownEngine(e, o))
		}
	}

	srv := &http.Server{
		// Bodies are read before their signature can be checked: bound
		// the bytes held at once (metrics.go) and the header size.
		Handler:           newBodyBudget(reg).Limit(mux),
		MaxHeaderBytes:    64 << 10,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fail <- fmt.Errorf("serve http: %w", err)
		}
	}()
	log.InfoContext(ctx, "serving", "addr", ln.Addr().String(), "slack", slk.mode(), "discord", dsc != nil)
	if o.Ready != nil {
		o.Ready(ln.Addr().String())
	}

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-fail:
		log.ErrorContext(ctx, "stopping", "err", runErr)
	}
	cancel()
	log.Info("shutting down")
	grace := cmp.Or(o.ShutdownGrace, 30*time.Second)
	sctx, scancel := context.WithTimeout(context.Background(), grace)
	defer scancel()
	if slk != nil {
		// Past the grace period, unsent Slack messages are given up.
		slk.adapter.GiveUpAt(sctx)
	}
	errs := []error{runErr, srv.Shutdown(sctx)}
	waitSingletons() // schedules and alerts stop with ctx; a scheduled run in flight is queued in the engine
	for _, wait := range bg {
		wait()
	}
	if slk != nil {
		// Hand over what was acked before the engine stops taking work.
		errs = append(errs, slk.adapter.Wait(sctx))
	}
	errs = append(errs, e.Drain(sctx), e.Close())
	if slk != nil {
		// The engine's last messages are queued: send them.
		errs = append(errs, slk.adapter.Close(sctx))
	}
	return errors.Join(errs...)
}

func shutdownEngine(e *bot.Engine, o serveOptions) error {
	ctx, cancel := context.WithTimeout(context.Background(), cmp.Or(o.ShutdownGrace, 30*time.Second))
	defer cancel()
	return errors.Join(e.Drain(ctx), e.Close())
}

// loadCatalog is the embedded blueprint library plus the blueprints in
// dirs (blueprint_dirs in the config).
func loadCatalog(dirs []string) (*blueprints.Catalog, error) {
	cat, err := blueprints.Library()
	if err != nil {
		return nil, fmt.Errorf("load blueprint library: %w", err)
	}
	for _, d := range dirs {
		bps, err := blueprints.LoadDir(d)
		if err != nil {
			return nil, err
		}
		if cat, err = cat.With(bps...); err != nil {
			return nil, err
		}
	}
	return cat, nil
}

// route is one HTTP endpoint of serve.
type route struct {
	pattern string
	handler http.Handler
}

// baseRoutes are the endpoints serve has whatever the platforms.
func baseRoutes(reg *prometheus.Registry) []route {
	return []route{
		{"GET /healthz", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			_, _ = io.WriteString(w, "ok\n")
		})},
		{"GET /metrics", metricsHandler(reg)},
	}
}

// The store is the adapters' replay memory.
var (
	_ slack.ReplayMemory   = (*store.Store)(nil)
	_ discord.ReplayMemory = (*store.Store)(nil)
)

// slackSetup is Slack's part of serve.
type slackSetup struct {
	adapter   *slack.Adapter
	transport string // "socket" or "http"
	log       *slog.Logger
}

// newSlack builds the Slack adapter, or returns nil when no Slack secret
// is set at all. The mode is slack.mode, else socket when SLACK_APP_TOKEN
// is set, else http when SLACK_SIGNING_SECRET is set.
func newSlack(cfg *Config, log *slog.Logger, reg prometheus.Registerer, st *store.Store, pace time.Duration) (*slackSetup, error) {
	s := cfg.Secrets
	if s.SlackBotToken == "" && s.SlackAppToken == "" && s.SlackSigningSecret == "" {
		return nil, nil
	}
	mode := cfg.Slack.Mode
	if mode == "" {
		switch {
		case s.SlackAppToken != "":
			mode = "socket"
		case s.SlackSigningSecret != "":
			mode = "http"
		}
	}
	var missing []error
	if s.SlackBotToken == "" {
		missing = append(missing, errors.New("SLACK_BOT_TOKEN is not set (xoxb-…, needed to post in both modes)"))
	}
	switch mode {
	case "socket":
		if s.SlackAppToken == "" {
			missing = append(missing, errors.New("SLACK_APP_TOKEN is not set (xapp-…, needed for slack.mode socket)"))
		}
	case "http":
		if s.SlackSigningSecret == "" {
			missing = append(missing, errors.New("SLACK_SIGNING_SECRET is not set (needed for slack.mode http)"))
		}
	default:
		missing = append(missing, errors.New("set SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode)"))
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("configure slack: %w", errors.Join(missing...))
	}
	opts := slack.Options{
		BotToken:      s.SlackBotToken,
		AppToken:      s.SlackAppToken,
		SigningSecret: s.SlackSigningSecret,
		APIURL:        s.SlackAPIURL,
		Logger:        log,
		Metrics:       reg,
		Teams:         cfg.Slack.Teams,
		Enterprises:   cfg.Slack.Enterprises,
		PostInterval:  pace,
	}
	if st != nil {
		opts.Replay, opts.Auditor = st, st
	}
	a, err := slack.New(opts)
	if err != nil {
		return nil, fmt.Errorf("configure slack: %w", err)
	}
	return &slackSetup{adapter: a, transport: mode, log: log}, nil
}

// slackHandler is the engine as Slack needs it: commands, clicks, the
// options of forms and the check of a submitted form.
type slackHandler interface {
	slack.Handler
	slack.Chooser
	slack.FormChecker
}

func (s *slackSetup) mode() string {
	if s == nil {
		return "off"
	}
	return s.transport
}

// start returns the HTTP routes (HTTP mode) or connects Socket Mode in the
// background (socket mode); wait returns once that has stopped.
func (s *slackSetup) start(ctx context.Context, h slackHandler, fail chan<- error) (routes []route, wait func()) {
	if s.transport == "http" {
		return []route{
			{"POST /slack/commands", s.adapter.CommandsHandler(h)},
			{"POST /slack/interactions", s.adapter.InteractionsHandler(h)},
			{"POST /slack/options", s.adapter.OptionsHandler(h)},
		}, func() {}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := s.adapter.RunSocketMode(ctx, h); err != nil {
			fail <- err
		}
	}()
	return nil, func() { <-done }
}
