package main

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/day2bot/day2bot/blueprints"
	"github.com/day2bot/day2bot/bot"
	"github.com/day2bot/day2bot/internal/clock"
	"github.com/day2bot/day2bot/policies/store"
	"github.com/day2bot/day2bot/tasks"
	"github.com/day2bot/day2bot/tasks/awsclient"
)

// engineDeps is what newEngine wires together; serve, shell and sandbox
// each build one.
type engineDeps struct {
	Store     *store.Store
	Catalog   *blueprints.Catalog
	Apps      map[string]blueprints.App
	Registry  *tasks.Registry
	AWS       bot.AWSProvider
	Platforms []bot.Platform
	Admins    []string
	Logger    *slog.Logger
	Metrics   prometheus.Registerer // nil: counters stay unregistered
	Clock     clock.Clock           // nil: clock.Real
	Workers   int
	Digest    func(ctx context.Context, app string) (bot.Message, error)
	Cost      func(ctx context.Context, app string) (bot.Message, error)
	CostRows  func(ctx context.Context, app string, from, to time.Time) ([]bot.CostRow, error)
	Schedules func(ctx context.Context, app string) (bot.Message, error)
	// DigestEvery throttles on-demand digests per app; 0: the engine's default.
	DigestEvery time.Duration
	// DashboardLink makes `dashboard APP` links (bot/web); nil: no dashboard.
	DashboardLink func(platform, user, app string) (string, time.Duration)
	// Replica and Shared: see bot.Options (several replicas on Postgres).
	Replica string
	Shared  bool
}

// newEngine resolves the apps against the blueprint catalog and builds the
// engine. The caller starts it.
func newEngine(d engineDeps) (*bot.Engine, error) {
	apps, err := resolveApps(d.Catalog, d.Apps)
	if err != nil {
		return nil, err
	}
	platforms := map[string]bot.Platform{}
	for _, p := range d.Platforms {
		platforms[p.Name()] = p
	}
	e, err := bot.New(bot.Options{
		Store: d.Store, Apps: apps, Registry: d.Registry, AWS: d.AWS, Platforms: platforms,
		Clock: d.Clock, Logger: d.Logger, Workers: d.Workers, Admins: d.Admins, Metrics: d.Metrics,
		Digest: d.Digest, Cost: d.Cost, CostRows: d.CostRows, Schedules: d.Schedules, DigestEvery: d.DigestEvery, DashboardLink: d.DashboardLink,
		Replica: d.Replica, Shared: d.Shared,
	})
	if err != nil {
		return nil, fmt.Errorf("build engine: %w", err)
	}
	return e, nil
}

// resolvedApps resolves every configured app against the catalog.
func resolvedApps(cat *blueprints.Catalog, cfg map[string]blueprints.App) (map[string]*blueprints.ResolvedApp, error) {
	out := make(map[string]*blueprints.ResolvedApp, len(cfg))
	for name, app := range cfg {
		ra, err := blueprints.ResolveApp(cat, name, app)
		if err != nil {
			return nil, fmt.Errorf("resolve app %s: %w", name, err)
		}
		out[name] = ra
	}
	return out, nil
}

// resolveApps turns the configured apps into the engine's view: blueprint
// tasks bound to each app's resources.
func resolveApps(cat *blueprints.Catalog, cfg map[string]blueprints.App) ([]bot.App, error) {
	apps, err := resolvedApps(cat, cfg)
	if err != nil {
		return nil, err
	}
	var out []bot.App
	for _, name := range slices.Sorted(maps.Keys(apps)) {
		out = append(out, engineApp(apps[name]))
	}
	return out, nil
}

func engineApp(ra *blueprints.ResolvedApp) bot.App {
	a := bot.App{
		Name: ra.Name, Blueprints: ra.Blueprints, Account: ra.Account.RoleARN, Region: ra.Region,
		Owners: ra.Owners, Channels: ra.Channels,
	}
	for _, tn := range slices.Sorted(maps.Keys(ra.Tasks)) {
		t := ra.Tasks[tn]
		a.Tasks = append(a.Tasks, bot.Task{
			Name: tn, Description: t.Task.Description, Blueprint: t.Blueprint, Action: t.Task.Action,
			Target: t.Target, Params: t.Params(), Related: related(ra), Confirm: t.Task.Confirm,
		})
	}
	return a
}

// related lists the app's resources in name order (the target's own
// among them: harmless), for actions that look at them.
func related(ra *blueprints.ResolvedApp) []tasks.Selector {
	var out []tasks.Selector
	for _, n := range slices.Sorted(maps.Keys(ra.Resources)) {
		out = append(out, ra.Resources[n].Select)
	}
	return out
}

// appAccounts adapts the AWS provider to the engine's view of an app's
// account (its role ARN), adding each role's external id from the config.
func appAccounts(p *awsclient.Provider, apps map[string]blueprints.App) bot.AWSProvider {
	ext := map[string]string{}
	for _, a := range apps {
		if a.Account.RoleARN != "" && a.Account.ExternalID != "" {
			ext[a.Account.RoleARN] = a.Account.ExternalID
		}
	}
	return awsclient.ByRole{Provider: p, ExternalIDs: ext}
}

// staticAWS hands every app the same config, pointed at one endpoint: the
// sandbox's emulator. Real deployments use tasks/awsclient.
type staticAWS struct{ cfg aws.Config }

func (s staticAWS) Config(_ context.Context, _, region, _ string) (aws.Config, error) {
	c := s.cfg.Copy()
	if region != "" {
		c.Region = region
	}
	return c, nil
}
