package blueprints

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/day2bot/day2bot/tasks"
)

const baseConfig = `
apps:
  shop:
    blueprints: [ec2-web, rds, cloudwatch-alarms]
    account: {role_arn: "arn:aws:iam::123456789012:role/day2bot", external_id: shop-ops}
    region: eu-west-1
    bindings:
      instances: {tags: {app: shop, tier: web}}
      db: {ids: [shop-db]}
    owners: [slack:U0123, group:shop-ops]
    channels: [slack:C0123, discord:987654321]
    schedules:
      disabled: [target-health-check]
      add:
        - {name: nightly-snapshot, cron: "30 3 * * *", task: snapshot-db, params: {label: late}}
        - {name: weekly-reboot, cron: "0 4 * * 0", task: restart-web, params: {batch: "2"}}
  lab:
    blueprints: [s3-data]
    channels: ["shell:ops"]
blueprint_dirs: [./blueprints]
`

func loadConfig(t *testing.T) (Config, *Catalog) {
	t.Helper()
	cat, err := Library()
	if err != nil {
		t.Fatal(err)
	}
	c, err := ParseConfig("day2bot.yaml", []byte(baseConfig))
	if err != nil {
		t.Fatal(err)
	}
	return c, cat
}

func TestConfigValid(t *testing.T) {
	c, cat := loadConfig(t)
	if err := c.Validate("day2bot.yaml", cat, contractActions()); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if got := c.AppNames(); !reflect.DeepEqual(got, []string{"lab", "shop"}) {
		t.Errorf("AppNames = %v", got)
	}
	if !reflect.DeepEqual(c.BlueprintDirs, []string{"./blueprints"}) {
		t.Errorf("BlueprintDirs = %v", c.BlueprintDirs)
	}
}

func TestEveryLibraryBlueprintCombines(t *testing.T) {
	cat, err := Library()
	if err != nil {
		t.Fatal(err)
	}
	c := Config{Apps: map[string]App{"all": {Blueprints: cat.Names()}}}
	if err := c.Validate("all.yaml", cat, contractActions()); err != nil {
		t.Fatalf("an app with every library blueprint: %v", err)
	}
}

func TestConfigErrors(t *testing.T) {
	// The library grows; the "available" lists are its names plus the
	// test's own "clash" blueprint.
	lib, err := Library()
	if err != nil {
		t.Fatal(err)
	}
	available := strings.Join(slices.Sorted(slices.Values(append(lib.Names(), "clash"))), ", ")
	for _, tc := range []struct {
		name   string
		mutate func(c *Config)
		want   string
	}{
		{"unknown binding", func(c *Config) {
			c.Apps["shop"].Bindings["web"] = Binding{Selector: tasks.Selector{Tags: map[string]string{"a": "b"}}}
		},
			`day2bot.yaml: apps.shop.bindings.web: unknown resource "web"; blueprints ec2-web, rds, cloudwatch-alarms have: alarms, db, instances, load-balancer, office-hours, target-groups`},
		{"unknown binding one blueprint", func(c *Config) {
			c.Apps["lab"] = App{Blueprints: []string{"s3-data"}, Bindings: map[string]Binding{"bucket": {Selector: tasks.Selector{Names: []string{"x"}}}}}
		},
			`day2bot.yaml: apps.lab.bindings.bucket: unknown resource "bucket"; blueprint s3-data has: buckets; did you mean "buckets"?`},
		{"binding selects nothing", func(c *Config) { c.Apps["shop"].Bindings["db"] = Binding{} },
			"day2bot.yaml: apps.shop.bindings.db: selects nothing: give tags, names or ids"},
		{"binding type mismatch", func(c *Config) {
			c.Apps["shop"].Bindings["db"] = Binding{Selector: tasks.Selector{Type: "ec2:instance", IDs: []string{"i-1"}}}
		},
			`day2bot.yaml: apps.shop.bindings.db.type: "ec2:instance" differs from the resource type rds:db-instance; leave it out`},
		{"unknown blueprint", func(c *Config) { setApp(c, "shop", func(a *App) { a.Blueprints = []string{"ec2web"} }) },
			`day2bot.yaml: apps.shop.blueprints[0]: unknown blueprint "ec2web"; available: ` + available + `; did you mean "ec2-web"?`},
		{"no blueprints", func(c *Config) { setApp(c, "shop", func(a *App) { a.Blueprints = nil }) },
			"day2bot.yaml: apps.shop.blueprints: at least one blueprint is required; available: " + available},
		{"duplicate blueprint", func(c *Config) { setApp(c, "lab", func(a *App) { a.Blueprints = []string{"s3-data", "s3-data"} }) },
			`day2bot.yaml: apps.lab.blueprints[1]: blueprint "s3-data" is listed twice`},
		{"bad app name", func(c *Config) { c.Apps["Shop App"] = c.Apps["lab"] },
			`day2bot.yaml: apps.Shop App: "Shop App" is not a valid app name`},
		{"bad role", func(c *Config) { setApp(c, "shop", func(a *App) { a.Account.RoleARN = "arn:aws:iam::123:user/bob" }) },
			`day2bot.yaml: apps.shop.account.role_arn: "arn:aws:iam::123:user/bob" is not an IAM role ARN like arn:aws:iam::123456789012:role/day2bot`},
		{"external id without role", func(c *Config) { setApp(c, "lab", func(a *App) { a.Account.ExternalID = "x1" }) },
			"day2bot.yaml: apps.lab.account.external_id: needs role_arn"},
		{"bad region", func(c *Config) { setApp(c, "shop", func(a *App) { a.Region = "Ireland" }) },
			`day2bot.yaml: apps.shop.region: "Ireland" is not an AWS region like eu-west-1`},
		{"bad channel", func(c *Config) { setApp(c, "shop", func(a *App) { a.Channels = []string{"teams:abc"} }) },
			`day2bot.yaml: apps.shop.channels[0]: "teams:abc" is not a channel; use PLATFORM:ID with platform slack, discord, shell, e.g. slack:C0123`},
		{"bad alarm prefix", func(c *Config) { setApp(c, "shop", func(a *App) { a.AlarmPrefixes = []string{"shop-*"} }) },
			`day2bot.yaml: apps.shop.alarm_prefixes[0]: "shop-*" is not an alarm name prefix`},
		{"bad owner", func(c *Config) { setApp(c, "shop", func(a *App) { a.Owners = []string{"alice smith"} }) },
			`day2bot.yaml: apps.shop.owners[0]: "alice smith" is not an owner`},
		{"task clash", func(c *Config) { setApp(c, "lab", func(a *App) { a.Blueprints = []string{"s3-data", "clash"} }) },
			`day2bot.yaml: apps.lab.blueprints: task "describe-buckets" is defined by both s3-data and clash; task names must be unique within an app`},
		{"disabled unknown schedule", func(c *Config) { setApp(c, "shop", func(a *App) { a.Schedules.Disabled = []string{"morning-digets"} }) },
			`day2bot.yaml: apps.shop.schedules.disabled[0]: no default schedule "morning-digets"; the app's blueprints have: alarms-firing, morning-digest, nightly-snapshot, office-hours-start, office-hours-stop, target-health-check; did you mean "morning-digest"?`},
		{"enabled unknown schedule", func(c *Config) {
			setApp(c, "shop", func(a *App) { a.Schedules.Enabled = []string{"office-hours-stp"} })
		},
			`day2bot.yaml: apps.shop.schedules.enabled[0]: no opt-in schedule "office-hours-stp"; the app's blueprints offer: office-hours-start, office-hours-stop; did you mean "office-hours-stop"?`},
		{"added schedule unknown task", func(c *Config) { c.Apps["shop"].Schedules.Add[1].Task = "restart" },
			`day2bot.yaml: apps.shop.schedules.add[1].task: unknown task "restart"; available: change-type, create-ami, describe-db, describe-web, list-alarms`},
		{"added schedule param out of bounds", func(c *Config) { c.Apps["shop"].Schedules.Add[1].Params = map[string]string{"batch": "12"} },
			"day2bot.yaml: apps.shop.schedules.add[1].params: batch must be between 1 and 4, got 12"},
		{"no apps", func(c *Config) { c.Apps = nil }, "day2bot.yaml: apps: at least one app is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, cat := loadConfig(t)
			clash := &Blueprint{Name: "clash", Description: "clashes", File: "clash.yaml",
				Resources: map[string]Resource{"buckets": {Type: "s3:bucket", Select: tasks.Selector{Tags: map[string]string{"app": "{app}"}}}},
				Tasks:     map[string]Task{"describe-buckets": {Action: "s3.describe", Target: "buckets", Description: "d"}}}
			cat, err := cat.With(clash)
			if err != nil {
				t.Fatal(err)
			}
			tc.mutate(&c)
			err = c.Validate("day2bot.yaml", cat, contractActions())
			var ve ValidationErrors
			if !errors.As(err, &ve) {
				t.Fatalf("Validate = %v, want ValidationErrors", err)
			}
			for _, e := range ve {
				if strings.HasPrefix(e.Error(), tc.want) {
					return
				}
			}
			t.Errorf("no error starts with\n  %s\ngot:\n%s", tc.want, err)
		})
	}
}

func setApp(c *Config, name string, f func(*App)) {
	a := c.Apps[name]
	f(&a)
	c.Apps[name] = a
}

func TestConfigReportsBrokenBlueprints(t *testing.T) {
	c, cat := loadConfig(t)
	actions := contractActions()
	delete(actions, "rds.snapshot")
	err := c.Validate("day2bot.yaml", cat, actions)
	if err == nil || !strings.Contains(err.Error(), `library/rds.yaml: tasks.snapshot-db.action: unknown action "rds.snapshot"`) {
		t.Fatalf("Validate = %v, want the blueprint's own error", err)
	}
}

func TestParseConfigStrict(t *testing.T) {
	_, err := ParseConfig("day2bot.yaml", []byte("apps:\n  shop:\n    blueprint: [rds]\n"))
	if err == nil || !strings.Contains(err.Error(), "day2bot.yaml:3: field blueprint not found") {
		t.Fatalf("ParseConfig = %v", err)
	}
}

func TestCatalogDuplicateName(t *testing.T) {
	cat, err := Library()
	if err != nil {
		t.Fatal(err)
	}
	_, err = cat.With(&Blueprint{Name: "rds", File: "mine/rds.yaml"})
	if err == nil || err.Error() != `mine/rds.yaml: name: blueprint "rds" is already defined in library/rds.yaml; pick another name` {
		t.Fatalf("With duplicate = %v", err)
	}
}

func TestConfigCatalogAndResolveAll(t *testing.T) {
	base := t.TempDir()
	if err := os.Mkdir(filepath.Join(base, "bp"), 0o700); err != nil {
		t.Fatal(err)
	}
	body := strings.Replace(baseBlueprint, "name: web", "name: custom-web", 1)
	if err := os.WriteFile(filepath.Join(base, "bp", "custom.yaml"), []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	c := Config{
		BlueprintDirs: []string{"bp"},
		Apps: map[string]App{
			"shop": {Blueprints: []string{"custom-web"}},
			"lab":  {Blueprints: []string{"s3-data"}},
		},
	}
	cat, err := c.Catalog(base)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate("day2bot.yaml", cat, contractActions()); err != nil {
		t.Fatal(err)
	}
	apps, err := c.ResolveAll(cat)
	if err != nil {
		t.Fatal(err)
	}
	if rt, err := apps["shop"].Task("restart-web"); err != nil || rt.Blueprint != "custom-web" || rt.Target.Tags["app"] != "shop" {
		t.Errorf("shop restart-web = %+v, %v", rt, err)
	}
	if _, err := apps["lab"].Task("grant-read"); err != nil {
		t.Error(err)
	}
	c.BlueprintDirs = []string{"missing"}
	if _, err := c.Catalog(base); err == nil {
		t.Error("Catalog with a missing dir succeeded")
	}
	c.Apps["bad"] = App{Blueprints: []string{"nope"}}
	if _, err := c.ResolveAll(cat); err == nil || !strings.Contains(err.Error(), "resolve app bad") {
		t.Errorf("ResolveAll with a bad app = %v", err)
	}
}
