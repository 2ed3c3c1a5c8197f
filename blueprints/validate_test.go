package blueprints

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/day2bot/day2bot/tasks"
)

const baseBlueprint = `
name: web
description: test web tier
resources:
  instances:
    type: ec2:instance
    select: {tags: {app: "{app}"}}
  alarms:
    type: cloudwatch:alarm
    select: {names: ["{app}-*"]}
tasks:
  restart-web:
    action: ec2.reboot
    target: instances
    mutating: true
    description: reboot in batches
    params:
      - {name: batch, type: int, min: 1, max: 4, default: "1"}
  describe:
    action: ec2.describe
    target: instances
    description: list instances
  mute:
    action: cloudwatch.mute-alarm
    target: alarms
    mutating: true
    description: mute an alarm
    params:
      - {name: alarm, type: string, required: true}
      - {name: duration, type: duration, min: 5m, max: 24h, default: 1h}
  alarms:
    action: cloudwatch.list-alarms
    target: alarms
    description: list alarms
    params:
      - {name: state, type: enum, enum: [ALARM, OK], default: ALARM}
health:
  metrics:
    - {name: cpu, namespace: AWS/EC2, metric: CPUUtilization, resource: instances, stat: Average, period: 5m, warn: 70, critical: 90}
  alarm_prefixes: ["{app}-web-"]
schedules:
  - {name: nightly, cron: "0 2 * * *", task: restart-web, params: {batch: "2"}}
  - {name: digest, cron: "@daily", digest: true}
remediations:
  - {alarm: "*-cpu-high", tasks: [restart-web]}
  - {alarm: "{app}-*", tasks: [mute], params: {alarm: "{alarm}", duration: 2h}}
`

func parseBase(t *testing.T) *Blueprint {
	t.Helper()
	b, err := Parse("web.yaml", []byte(baseBlueprint))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBaseBlueprintIsValid(t *testing.T) {
	b := parseBase(t)
	if err := b.Validate(contractActions()); err != nil {
		t.Fatalf("base blueprint: %v", err)
	}
	if got := b.Health.Metrics[0].Period; got != 5*time.Minute {
		t.Errorf("period = %v", got)
	}
	if p, _ := b.Tasks["mute"].Param("duration"); *p.Max != 86400 {
		t.Errorf("duration max = %v seconds, want 86400", *p.Max)
	}
}

// TestValidateErrors checks that each mistake is reported with the file, the
// YAML path and what is allowed.
func TestValidateErrors(t *testing.T) {
	task := func(b *Blueprint, name string, f func(*Task)) {
		tk := b.Tasks[name]
		f(&tk)
		b.Tasks[name] = tk
	}
	for _, tc := range []struct {
		name   string
		mutate func(b *Blueprint)
		want   string
	}{
		{"bad blueprint name", func(b *Blueprint) { b.Name = "Web Tier" },
			`web.yaml: name: "Web Tier" is not a valid blueprint name: use lowercase letters, digits and single dashes, e.g. restart-web`},
		{"missing description", func(b *Blueprint) { b.Description = " " },
			"web.yaml: description: required"},
		{"unknown resource type", func(b *Blueprint) { b.Resources["instances"] = Resource{Type: "ec2:instances"} },
			// The allowed list grows with the library; it is the sorted known types.
			`web.yaml: resources.instances.type: unknown resource type "ec2:instances"; allowed: ` + strings.Join(ResourceTypes(), ", ") + `; did you mean "ec2:instance"?`},
		{"select type mismatch", func(b *Blueprint) {
			b.Resources["instances"] = Resource{Type: "ec2:instance", Select: tasks.Selector{Type: "s3:bucket"}}
		}, `web.yaml: resources.instances.select.type: "s3:bucket" differs from the resource type "ec2:instance"; leave it out`},
		{"bad task name", func(b *Blueprint) { b.Tasks["Restart_Web"] = b.Tasks["restart-web"] },
			`web.yaml: tasks.Restart_Web: "Restart_Web" is not a valid task name`},
		{"unknown action", func(b *Blueprint) { task(b, "restart-web", func(t *Task) { t.Action = "ec2.rebot" }) },
			`web.yaml: tasks.restart-web.action: unknown action "ec2.rebot"; did you mean "ec2.reboot"?`},
		{"missing action", func(b *Blueprint) { task(b, "describe", func(t *Task) { t.Action = "" }) },
			"web.yaml: tasks.describe.action: required: the action this task runs, e.g. ec2.reboot"},
		{"unknown target", func(b *Blueprint) { task(b, "describe", func(t *Task) { t.Target = "instance" }) },
			`web.yaml: tasks.describe.target: unknown resource "instance"; blueprint web has: alarms, instances; did you mean "instances"?`},
		{"missing target", func(b *Blueprint) { task(b, "describe", func(t *Task) { t.Target = "" }) },
			"web.yaml: tasks.describe.target: required: the resource the task acts on; blueprint web has: alarms, instances"},
		{"target of wrong type", func(b *Blueprint) { task(b, "describe", func(t *Task) { t.Target = "alarms" }) },
			`web.yaml: tasks.describe.target: action ec2.describe acts on ec2:instance, but resource "alarms" is cloudwatch:alarm`},
		{"mutating flag missing", func(b *Blueprint) { task(b, "restart-web", func(t *Task) { t.Mutating = false }) },
			"web.yaml: tasks.restart-web.mutating: must be true: action ec2.reboot changes resources"},
		{"mutating flag on read-only", func(b *Blueprint) { task(b, "describe", func(t *Task) { t.Mutating = true }) },
			"web.yaml: tasks.describe.mutating: must be false: action ec2.describe is read-only"},
		{"missing task description", func(b *Blueprint) { task(b, "describe", func(t *Task) { t.Description = "" }) },
			"web.yaml: tasks.describe.description: required"},
		{"param unknown to action", func(b *Blueprint) {
			task(b, "restart-web", func(t *Task) { t.Params[0].Name = "batches" })
		}, `web.yaml: tasks.restart-web.params[0].name: action ec2.reboot has no parameter "batches"; allowed: batch; did you mean "batch"?`},
		{"param on action without params", func(b *Blueprint) {
			task(b, "describe", func(t *Task) { t.Params = []tasks.Param{{Name: "verbose", Type: tasks.TypeBool}} })
		}, `web.yaml: tasks.describe.params[0].name: action ec2.describe has no parameter "verbose"; allowed: none`},
		{"param type differs", func(b *Blueprint) {
			task(b, "restart-web", func(t *Task) { t.Params = []tasks.Param{{Name: "batch", Type: tasks.TypeString}} })
		}, "web.yaml: tasks.restart-web.params[0].type: must be int like action ec2.reboot's batch"},
		{"min below action's", func(b *Blueprint) { task(b, "restart-web", func(t *Task) { t.Params[0].Min = fp(0) }) },
			"web.yaml: tasks.restart-web.params[0].min: must be at least 1, action ec2.reboot's minimum"},
		{"min dropped", func(b *Blueprint) { task(b, "restart-web", func(t *Task) { t.Params[0].Min = nil }) },
			"web.yaml: tasks.restart-web.params[0].min: must be at least 1, action ec2.reboot's minimum"},
		{"schema: min above max", func(b *Blueprint) { task(b, "restart-web", func(t *Task) { t.Params[0].Min = fp(6) }) },
			"web.yaml: tasks.restart-web.params[0]: batch: min 6 is greater than max 4"},
		{"schema: default out of bounds", func(b *Blueprint) { task(b, "restart-web", func(t *Task) { t.Params[0].Default = "9" }) },
			`web.yaml: tasks.restart-web.params[0]: batch: default "9" is invalid: batch must be between 1 and 4, got 9`},
		{"duplicate param", func(b *Blueprint) {
			task(b, "restart-web", func(t *Task) { t.Params = append(t.Params, t.Params[0]) })
		}, `web.yaml: tasks.restart-web.params[1].name: duplicate parameter "batch"`},
		{"enum outside action's", func(b *Blueprint) {
			task(b, "alarms", func(t *Task) { t.Params[0].Enum = []string{"ALARM", "FIRING"} })
		}, `web.yaml: tasks.alarms.params[0].enum: "FIRING" is not allowed by action cloudwatch.list-alarms; allowed: ALARM, OK, INSUFFICIENT_DATA, any`},
		{"required action param not exposed", func(b *Blueprint) {
			task(b, "mute", func(t *Task) { t.Params = t.Params[1:] })
		}, "web.yaml: tasks.mute.params: action cloudwatch.mute-alarm requires alarm: declare it required or give it a default"},
		{"metric unknown resource", func(b *Blueprint) { b.Health.Metrics[0].Resource = "instanses" },
			`web.yaml: health.metrics[0].resource: unknown resource "instanses"; blueprint web has: alarms, instances; did you mean "instances"?`},
		{"metric bad stat", func(b *Blueprint) { b.Health.Metrics[0].Stat = "Avg" },
			`web.yaml: health.metrics[0].stat: "Avg" is not a statistic; allowed: Average, Sum, Minimum, Maximum, SampleCount or a percentile like p99`},
		{"metric period", func(b *Blueprint) { b.Health.Metrics[0].Period = 90 * time.Second },
			"web.yaml: health.metrics[0].period: must be a whole number of minutes, at least 1m (got 1m30s)"},
		{"metric thresholds inverted", func(b *Blueprint) { b.Health.Metrics[0].Warn = fp(95) },
			"web.yaml: health.metrics[0].warn: must not be above critical (90) when high values are bad"},
		{"metric thresholds inverted below", func(b *Blueprint) { b.Health.Metrics[0].Comparison = "below" },
			"web.yaml: health.metrics[0].warn: must not be below critical (90) when low values are bad"},
		{"metric comparison", func(b *Blueprint) { b.Health.Metrics[0].Comparison = "over" },
			`web.yaml: health.metrics[0].comparison: "over" is not allowed; use above or below`},
		{"metric no thresholds", func(b *Blueprint) { b.Health.Metrics[0].Warn, b.Health.Metrics[0].Critical = nil, nil },
			"web.yaml: health.metrics[0]: at least one of warn and critical is required"},
		{"metric no dimension source", func(b *Blueprint) { b.Health.Metrics[0].Resource = "" },
			"web.yaml: health.metrics[0].resource: required: a resource whose ids become dimensions, or fixed dimensions"},
		{"metric resource without dimension", func(b *Blueprint) { b.Health.Metrics[0].Resource = "alarms" },
			"web.yaml: health.metrics[0].dimension: required: resources of type cloudwatch:alarm have no default CloudWatch dimension"},
		{"bad cron", func(b *Blueprint) { b.Schedules[0].Cron = "every night" },
			`web.yaml: schedules[0].cron: "every night" is not a cron spec`},
		{"schedule unknown task", func(b *Blueprint) { b.Schedules[0].Task = "restart" },
			`web.yaml: schedules[0].task: unknown task "restart"; available: alarms, describe, mute, restart-web; did you mean "restart-web"?`},
		{"schedule bad params", func(b *Blueprint) { b.Schedules[0].Params = map[string]string{"batch": "9"} },
			"web.yaml: schedules[0].params: batch must be between 1 and 4, got 9"},
		{"schedule task and digest", func(b *Blueprint) { b.Schedules[0].Digest = true },
			"web.yaml: schedules[0]: set either task or digest, not both"},
		{"schedule neither", func(b *Blueprint) { b.Schedules[0].Task = "" },
			"web.yaml: schedules[0].task: required: the task to run (or digest: true)"},
		{"duplicate schedule", func(b *Blueprint) { b.Schedules[1].Name = "nightly" },
			`web.yaml: schedules[1].name: duplicate schedule name "nightly"`},
		{"remediation unknown task", func(b *Blueprint) { b.Remediations[0].Tasks = []string{"restart-wbe"} },
			`web.yaml: remediations[0].tasks[0]: unknown task "restart-wbe"; available: alarms, describe, mute, restart-web; did you mean "restart-web"?`},
		{"remediation param unknown", func(b *Blueprint) { b.Remediations[0].Params = map[string]string{"size": "2"} },
			`web.yaml: remediations[0].params.size: task restart-web has no parameter "size"`},
		{"remediation param invalid", func(b *Blueprint) { b.Remediations[1].Params["duration"] = "3d" },
			"web.yaml: remediations[1].params.duration: duration must be between 5m and 24h, got 3d"},
		{"remediation empty glob", func(b *Blueprint) { b.Remediations[0].Alarm = "" },
			"web.yaml: remediations[0].alarm: required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := parseBase(t)
			tc.mutate(b)
			err := b.Validate(contractActions())
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

func TestValidateWithoutLookupChecksStructureOnly(t *testing.T) {
	b := parseBase(t)
	task := b.Tasks["describe"]
	task.Action = "no.such-action"
	b.Tasks["describe"] = task
	if err := b.Validate(nil); err != nil {
		t.Fatalf("Validate(nil) = %v; actions are only checked with a lookup", err)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
	}{
		{"unknown key", "name: x\ndescripton: y\n", `x.yaml:2: field descripton not found in type blueprints.Blueprint`},
		{"unknown param key", "name: x\ntasks:\n  t:\n    params:\n      - {name: a, type: int, maxx: 3}\n",
			`x.yaml:5: unknown parameter field "maxx"`},
		{"bad period", "name: x\nhealth:\n  metrics:\n    - {name: a, period: soon}\n", "x.yaml:4: cannot unmarshal !!str `soon`"},
		{"syntax", "name: [x\n", "x.yaml:"},
		{"empty", "", "x.yaml: file is empty"},
		{"two documents", "name: x\n---\nname: y\n", "x.yaml: only one YAML document is allowed per file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("x.yaml", []byte(tc.src))
			var ve ValidationErrors
			if !errors.As(err, &ve) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse = %v, want ValidationErrors containing %q", err, tc.want)
			}
		})
	}
}
