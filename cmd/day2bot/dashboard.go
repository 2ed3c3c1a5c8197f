package main

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/day2bot/day2bot/bot"
	"github.com/day2bot/day2bot/bot/web"
)

// DashboardConfig is the non-secret part of the per-app page (bot/web).
// The signing key is a secret: DAY2BOT_DASHBOARD_KEY.
type DashboardConfig struct {
	// URL is where people reach serve's HTTP listener, e.g.
	// https://day2bot.example.com; links are made under it. Empty: no
	// dashboard.
	URL string `yaml:"url,omitempty"`
}

// dashboardKey is the links' signing key: the secret from the environment,
// or, when it is unset, a random one. A random key is fine for one process
// (the sandbox, a single replica) but its links die with it and other
// replicas refuse them, so serve warns.
func dashboardKey(secret string, log *slog.Logger) ([]byte, error) {
	if secret != "" {
		if len(secret) < 32 {
			return nil, usageError("DAY2BOT_DASHBOARD_KEY is %d bytes; use at least 32 random bytes (e.g. openssl rand -hex 32)", len(secret))
		}
		return []byte(secret), nil
	}
	if log != nil {
		log.Warn("DAY2BOT_DASHBOARD_KEY is not set: dashboard links are signed with a random key and stop working on restart and on other replicas")
	}
	k := make([]byte, 32)
	_, _ = rand.Read(k) // never fails (Go ≥ 1.24)
	return k, nil
}

// dashboardParts are built in two steps around the engine: the links
// before (the engine hands them out), the server after (it needs the
// engine).
type dashboardParts struct {
	links  *web.Links
	digest func(ctx context.Context, app string) (bot.Message, error)
	log    *slog.Logger
}

func newDashboardLinks(key []byte, baseURL string) (*web.Links, error) {
	l, err := web.NewLinks(key, baseURL, 15*time.Minute, nil)
	if err != nil {
		return nil, usageError("dashboard: %w", err)
	}
	return l, nil
}

// handler is the dashboard's HTTP handler for engine e.
func (d dashboardParts) handler(e *bot.Engine) (http.Handler, error) {
	s, err := web.New(web.Options{Engine: e, Links: d.links, Digest: d.digest, Logger: d.log})
	if err != nil {
		return nil, err
	}
	return s.Handler(), nil
}

// serveDashboard serves h on ln until ctx ends: the sandbox's own small
// listener (serve mounts the routes on its main listener instead).
func serveDashboard(ctx context.Context, ln net.Listener, h http.Handler, log *slog.Logger) func() {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("dashboard stopped", "err", err)
		}
	}()
	return func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		<-done
	}
}
