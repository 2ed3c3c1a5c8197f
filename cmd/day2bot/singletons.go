package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/day2bot/day2bot/bot"
	"github.com/day2bot/day2bot/bot/routines"
	"github.com/day2bot/day2bot/internal/clock"
)

// Singletons: with several replicas on one Postgres database, the
// schedules, the alarm watcher, the recovery of runs whose replica stopped
// and the Discord gateway run on the replica holding the lease
// (servedStore.lease); the others serve Slack and Discord over HTTP and
// Socket Mode, run what they are asked, and wait to take the lease over.

// takeoverGrace is how late a fire time may run on the replica that takes
// the schedules over (the lease moves within about leaseRetry, a dead
// holder's session ends within the server's TCP timeouts).
const takeoverGrace = 30 * time.Second

// singletons runs under the lease until ctx ends and waits for what it
// started once the lease is gone.
type singletons struct {
	rt      *routines.Routines
	engine  *bot.Engine
	discord *discordSetup // nil, or its gateway is held here
	log     *slog.Logger
	every   time.Duration // how often runs of stopped replicas are looked for
	clock   clock.Clock
	held    prometheus.Gauge
}

// leaseGauge is day2bot_lease_held: 1 on the replica holding the
// singletons' lease, 0 on the others.
func leaseGauge(reg prometheus.Registerer) prometheus.Gauge {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "day2bot_lease_held",
		Help: "1 while this replica holds the lease of the schedules, alarm watcher, recovery and Discord gateway.",
	})
	reg.MustRegister(g)
	return g
}

// start holds the lease in the background; wait returns once ctx has ended
// and everything started under the lease has stopped.
func (s *singletons) start(ctx context.Context, st *servedStore) (wait func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		st.lease.Hold(ctx, s.hold)
	}()
	return func() { <-done }
}

// hold is one term of holding the lease: ctx ends when the lease is lost.
func (s *singletons) hold(ctx context.Context) {
	s.log.InfoContext(ctx, "running singletons: schedules, alarms, recovery")
	s.held.Set(1)
	defer s.held.Set(0)
	s.rt.CatchUpWithin(takeoverGrace)
	if err := s.rt.Start(ctx, s.engine); err != nil {
		s.log.ErrorContext(ctx, "start schedules and alarms", "err", err)
	}
	defer s.rt.Wait()
	if s.discord != nil {
		if err := s.discord.adapter.ConnectGateway(ctx, s.engine); err != nil {
			s.log.ErrorContext(ctx, "connect discord gateway", "err", err)
		}
	}
	for {
		if err := s.engine.RecoverOrphans(ctx); err != nil && ctx.Err() == nil {
			s.log.ErrorContext(ctx, "recover runs of stopped replicas", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-s.clock.After(s.every):
		}
	}
}
