package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/day2bot/day2bot/blueprints"
	"github.com/day2bot/day2bot/bot"
	"github.com/day2bot/day2bot/bot/routines"
	"github.com/day2bot/day2bot/policies/store"
	"github.com/day2bot/day2bot/tasks"
	awsactions "github.com/day2bot/day2bot/tasks/aws"
	"github.com/day2bot/day2bot/tasks/awsclient"
)

// assembly is what serve, shell and sandbox tell assemble: where their
// database is, which apps, AWS and chat they have, and what differs.
type assembly struct {
	// DB is a SQLite file's path or a postgres:// URL.
	DB      string
	Logger  *slog.Logger
	Catalog *blueprints.Catalog
	Apps    map[string]blueprints.App
	// Pace is how the batched AWS actions wait for a batch to be back;
	// zero is AWS's own.
	Pace awsactions.Pace
	// AWS hands out the apps' configs; nil is the default credential
	// chain, assuming each app's role.
	AWS bot.AWSProvider
	// Platforms are built once the store is open: serve's adapters keep
	// their replay memory in it.
	Platforms func(st *store.Store) ([]bot.Platform, error)
	Admins    []string
	// Routines is the config's `routines:`; CostTag its default tag.
	Routines routines.Config
	CostTag  string
	Metrics  prometheus.Registerer // nil: counters stay unregistered
	// DashboardLink makes `dashboard APP` links (bot/web); nil: no dashboard.
	DashboardLink func(platform, user, app string) (string, time.Duration)
	// Replica is serve's id among replicas: on a Postgres database the
	// engine then shares the store with the other replicas. "" for one
	// process (shell, sandbox).
	Replica string
}

// assembled is the bot put together: its store, routines and engine. The
// caller starts the engine (and, in serve, the routines); close closes
// the engine and then the store.
type assembled struct {
	store     *servedStore
	platforms []bot.Platform
	routines  *routines.Routines
	engine    *bot.Engine
}

// assemble opens the store and builds the platforms, the actions, the
// routines and the engine, the same way for every subcommand. Errors in
// what the config says are usage errors.
func assemble(ctx context.Context, a assembly) (_ *assembled, err error) {
	st, err := openServeStore(ctx, a.DB, a.Logger, store.WithLogger(a.Logger))
	if err != nil {
		return nil, err
	}
	out := &assembled{store: st}
	defer func() {
		if err != nil {
			err = errors.Join(err, out.close())
		}
	}()
	if a.Platforms != nil {
		if out.platforms, err = a.Platforms(st.Store); err != nil {
			return nil, err
		}
	}
	awsp := a.AWS
	if awsp == nil {
		p, err := awsclient.New(ctx, awsclient.Options{})
		if err != nil {
			return nil, err
		}
		awsp = appAccounts(p, a.Apps)
	}
	apps, err := resolvedApps(a.Catalog, a.Apps)
	if err != nil {
		return nil, usageError("%w", err)
	}
	reg, err := actionRegistry(awsactions.AllWith(awsactions.Options{Pace: a.Pace}), apps)
	if err != nil {
		return nil, err
	}
	out.routines, err = routines.New(routines.Options{Store: st.Store, Apps: apps, AWS: awsp, Platforms: out.platforms,
		Logger: a.Logger, CostTag: a.CostTag, Config: a.Routines})
	if err != nil {
		return nil, usageError("%w", err)
	}
	digestEvery, err := a.Routines.DigestInterval()
	if err != nil {
		return nil, usageError("%w", err)
	}
	platforms := map[string]bot.Platform{}
	for _, p := range out.platforms {
		platforms[p.Name()] = p
	}
	rt := out.routines
	out.engine, err = bot.New(bot.Options{
		Store: st.Store, Apps: engineApps(apps), Registry: reg, AWS: awsp, Platforms: platforms,
		Logger: a.Logger, Admins: a.Admins, Metrics: a.Metrics,
		Digest: rt.Digest, Cost: rt.Cost, CostRows: rt.CostRows, Schedules: rt.Schedules, DigestEvery: digestEvery,
		DashboardLink: a.DashboardLink, Replica: a.Replica, Shared: a.Replica != "" && st.shared(),
	})
	if err != nil {
		return nil, usageError("build engine: %w", err)
	}
	return out, nil
}

// platformsOf is assembly.Platforms for platforms that keep nothing in
// the store (the terminal).
func platformsOf(ps ...bot.Platform) func(*store.Store) ([]bot.Platform, error) {
	return func(*store.Store) ([]bot.Platform, error) { return ps, nil }
}

// close closes the engine, if built, and the store.
func (a *assembled) close() error {
	if a.engine != nil {
		a.engine.Close()
	}
	return a.store.Close()
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

// engineApps are the resolved apps as the engine sees them, by name:
// blueprint tasks bound to each app's resources.
func engineApps(apps map[string]*blueprints.ResolvedApp) []bot.App {
	var out []bot.App
	for _, name := range slices.Sorted(maps.Keys(apps)) {
		out = append(out, engineApp(apps[name]))
	}
	return out
}

func engineApp(ra *blueprints.ResolvedApp) bot.App {
	a := bot.App{
		Name: ra.Name, Blueprints: ra.Blueprints, Account: ra.Account.RoleARN, Region: ra.Region,
		Owners: ra.Owners, Channels: ra.Channels,
	}
	rel := related(ra)
	for _, tn := range slices.Sorted(maps.Keys(ra.Tasks)) {
		t := ra.Tasks[tn]
		a.Tasks = append(a.Tasks, bot.Task{
			Name: tn, Description: t.Task.Description, Blueprint: t.Blueprint, Action: t.Task.Action,
			Target: t.Target, Params: t.Params(), Related: rel, Confirm: t.Task.Confirm,
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
