package blueprints

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/day2bot/day2bot/internal/suggest"
)

// Config is the apps part of day2bot.yaml. The command's full config embeds
// it inline next to its own keys (slack, discord, database, listen), so this
// type only knows about apps and blueprint directories.
type Config struct {
	Apps map[string]App `yaml:"apps"`
	// BlueprintDirs hold user blueprints added to the embedded library.
	BlueprintDirs []string `yaml:"blueprint_dirs,omitempty"`
}

// App binds blueprints to one running application.
type App struct {
	// Blueprints are combined: their task names must be unique across them.
	Blueprints []string `yaml:"blueprints"`
	Account    Account  `yaml:"account,omitempty"`
	// Region is the AWS region; empty means the SDK's default.
	Region string `yaml:"region,omitempty"`
	// Bindings map a blueprint resource name to the selector of the app's
	// real resources, replacing the blueprint's default selection.
	Bindings map[string]Binding `yaml:"bindings,omitempty"`
	// Stack, when set, deploys the app from its blueprints' templates
	// (`stack: {}` for the defaults); see stack.go.
	Stack *StackConfig `yaml:"stack,omitempty"`
	// Owners are the people or groups answerable for the app, e.g.
	// "slack:U0123", "group:shop-ops"; policies can refer to them.
	Owners []string `yaml:"owners,omitempty"`
	// Channels get approvals, results, digests and alerts:
	// "slack:C0123", "discord:123456789", "shell:ops".
	Channels  []string     `yaml:"channels,omitempty"`
	Schedules AppSchedules `yaml:"schedules,omitempty"`
	// AlarmPrefixes add CloudWatch alarm name prefixes to the blueprints'
	// own, for teams whose alarm naming predates day2bot (e.g. "shop-").
	AlarmPrefixes []string `yaml:"alarm_prefixes,omitempty"`
}

// Account says which AWS credentials the app's tasks use.
type Account struct {
	// RoleARN is assumed (with the caller as SourceIdentity); empty means
	// the default credential chain.
	RoleARN    string `yaml:"role_arn,omitempty"`
	ExternalID string `yaml:"external_id,omitempty"`
}

// AppSchedules adjusts the blueprints' default schedules for one app.
type AppSchedules struct {
	// Add are extra schedules; one with a default schedule's name replaces it.
	Add []Schedule `yaml:"add,omitempty"`
	// Disabled names default schedules the app does not want.
	Disabled []string `yaml:"disabled,omitempty"`
	// Enabled names the blueprints' opt-in schedules the app wants.
	Enabled []string `yaml:"enabled,omitempty"`
}

// ChannelPlatforms are the platforms a channel may name.
var ChannelPlatforms = []string{"slack", "discord", "shell"}

var (
	roleARNRe = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$`)
	regionRe  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]$`)
	// externalIDRe is what STS accepts for ExternalId.
	externalIDRe = regexp.MustCompile(`^[A-Za-z0-9+=,.@:/-]+$`)
)

// ParseConfig strictly decodes a file that holds only a Config. The command
// decodes its full config itself and calls Validate.
func ParseConfig(file string, data []byte) (Config, error) {
	var c Config
	if err := decodeStrict(data, &c); err != nil {
		return Config{}, yamlError(file, err)
	}
	return c, nil
}

// AppNames returns the app names, sorted.
func (c Config) AppNames() []string { return sortedKeys(c.Apps) }

// Validate checks every app against the catalog (and, when lookup is not
// nil, the catalog's blueprints used by apps against the actions) and
// returns ValidationErrors naming file and path, e.g.
// "day2bot.yaml: apps.shop.bindings.web: unknown resource ...".
func (c Config) Validate(file string, cat *Catalog, lookup ActionLookup) error {
	ce := &collector{file: file}
	if len(c.Apps) == 0 {
		ce.add("apps", "at least one app is required")
	}
	used := map[string]bool{}
	for _, name := range c.AppNames() {
		app := c.Apps[name]
		validateApp(ce, cat, name, app)
		for _, bn := range app.Blueprints {
			used[bn] = true
		}
	}
	if lookup != nil {
		for _, bn := range sortedKeys(used) {
			b, ok := cat.Get(bn)
			if !ok {
				continue // reported per app
			}
			if err := b.Validate(lookup); err != nil {
				var ve ValidationErrors
				if errors.As(err, &ve) {
					ce.list = append(ce.list, ve...)
				} else {
					return fmt.Errorf("validate blueprint %s: %w", bn, err)
				}
			}
		}
	}
	return ce.err()
}

func validateApp(ce *collector, cat *Catalog, name string, app App) {
	p := join("apps", name)
	if !nameRe.MatchString(name) {
		ce.add(p, "%q is not a valid app name: use %s", name, nameRule)
	}
	if len(app.Blueprints) == 0 {
		ce.add(join(p, "blueprints"), "at least one blueprint is required; available: %s", strings.Join(cat.Names(), ", "))
	}
	if app.Account.RoleARN != "" && !roleARNRe.MatchString(app.Account.RoleARN) {
		ce.add(join(p, "account", "role_arn"), "%q is not an IAM role ARN like arn:aws:iam::123456789012:role/day2bot", app.Account.RoleARN)
	}
	if app.Account.ExternalID != "" {
		if app.Account.RoleARN == "" {
			ce.add(join(p, "account", "external_id"), "needs role_arn: an external id only applies when assuming a role")
		} else if n := len(app.Account.ExternalID); n < 2 || n > 1224 || !externalIDRe.MatchString(app.Account.ExternalID) {
			ce.add(join(p, "account", "external_id"), "must be 2-1224 characters of letters, digits and +=,.@:/-")
		}
	}
	switch {
	case app.Region == "":
	case !regionRe.MatchString(app.Region):
		ce.add(join(p, "region"), "%q is not an AWS region like eu-west-1", app.Region)
	case !knownRegion(app.Region):
		ce.add(join(p, "region"), "%q is not an AWS region day2bot knows%s (a region newer than day2bot: leave region empty and set AWS_REGION)",
			app.Region, suggest.DidYouMean(app.Region, awsRegions))
	}
	for i, o := range app.Owners {
		if strings.TrimSpace(o) == "" || strings.ContainsAny(o, " \t\n") {
			ce.add(join(p, "owners", idx(i)), "%q is not an owner: use a handle or principal without spaces, e.g. slack:U0123 or group:ops", o)
		}
	}
	for i, ch := range app.Channels {
		plat, id, ok := strings.Cut(ch, ":")
		if !ok || id == "" || !slices.Contains(ChannelPlatforms, plat) || strings.ContainsAny(id, " \t\n") {
			ce.add(join(p, "channels", idx(i)), "%q is not a channel; use PLATFORM:ID with platform %s, e.g. slack:C0123",
				ch, strings.Join(ChannelPlatforms, ", "))
		}
	}
	for i, a := range app.AlarmPrefixes {
		if strings.TrimSpace(a) == "" || strings.ContainsAny(a, " \t\n*?") {
			ce.add(join(p, "alarm_prefixes", idx(i)), "%q is not an alarm name prefix: use the literal start of alarm names, e.g. shop-", a)
		}
	}
	var bps []*Blueprint
	for i, bn := range app.Blueprints {
		b, ok := cat.Get(bn)
		if !ok {
			ce.add(join(p, "blueprints", idx(i)), "unknown blueprint %q; available: %s%s",
				bn, strings.Join(cat.Names(), ", "), suggest.DidYouMean(bn, cat.Names()))
			continue
		}
		if slices.ContainsFunc(bps, func(x *Blueprint) bool { return x.Name == bn }) {
			ce.add(join(p, "blueprints", idx(i)), "blueprint %q is listed twice", bn)
			continue
		}
		bps = append(bps, b)
	}
	if len(bps) > 0 && len(bps) == len(app.Blueprints) {
		// Only resolve a complete app: a missing blueprint would show up
		// again as unknown resources and tasks.
		resolve(ce, p, name, app, bps)
	}
}

// Catalog returns the embedded library plus the blueprints in the config's
// blueprint_dirs; relative dirs are taken from baseDir (the directory of
// the config file), so the bot finds them wherever it is started.
func (c Config) Catalog(baseDir string) (*Catalog, error) {
	cat, err := Library()
	if err != nil {
		return nil, err
	}
	for _, d := range c.BlueprintDirs {
		if !filepath.IsAbs(d) {
			d = filepath.Join(baseDir, d)
		}
		bps, err := LoadDir(d)
		if err != nil {
			return nil, err
		}
		if cat, err = cat.With(bps...); err != nil {
			return nil, err
		}
	}
	return cat, nil
}

// ResolveAll resolves every app; call Validate first for errors that name
// the config file.
func (c Config) ResolveAll(cat *Catalog) (map[string]*ResolvedApp, error) {
	out := make(map[string]*ResolvedApp, len(c.Apps))
	for _, name := range c.AppNames() {
		ra, err := ResolveApp(cat, name, c.Apps[name])
		if err != nil {
			return nil, fmt.Errorf("resolve app %s: %w", name, err)
		}
		out[name] = ra
	}
	return out, nil
}
