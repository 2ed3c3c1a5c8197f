// Package blueprints holds the schema of blueprints (reusable day-2
// operations for a kind of stack) and of the app config that binds them to
// real AWS resources, their validation, and the embedded library.
//
// A blueprint file looks like:
//
//	name: ec2-web
//	description: EC2 web tier behind an application load balancer
//	resources:
//	  instances: {type: "ec2:instance", select: {tags: {tier: web}}}
//	tasks:
//	  restart-web:
//	    action: ec2.reboot
//	    target: instances
//	    mutating: true
//	    params:
//	      - {name: batch, type: int, min: 1, max: 4, default: "1"}
//	health:
//	  metrics:
//	    - {name: cpu, namespace: AWS/EC2, metric: CPUUtilization, resource: instances, stat: Average, period: 5m, warn: 70, critical: 90}
//	  alarm_prefixes: ["{app}-web-"]
//	schedules:
//	  - {name: morning-digest, cron: "0 8 * * 1-5", digest: true}
//	remediations:
//	  - {alarm: "*-cpu-high", tasks: [restart-web]}
//
// Tasks are keyed by name in YAML; code that lists them uses sorted names so
// output is stable.
package blueprints

import (
	"slices"
	"time"

	"github.com/day2bot/day2bot/tasks"
)

// Blueprint is a reusable template of day-2 operations for one kind of stack.
type Blueprint struct {
	Name         string              `yaml:"name"`
	Description  string              `yaml:"description"`
	Resources    map[string]Resource `yaml:"resources"`
	Tasks        map[string]Task     `yaml:"tasks"`
	Health       Health              `yaml:"health,omitempty"`
	Schedules    []Schedule          `yaml:"schedules,omitempty"`
	Remediations []Remediation       `yaml:"remediations,omitempty"`
	// Template names a CloudFormation template file next to the blueprint
	// that deploys the stack the blueprint operates (stack.go).
	Template string `yaml:"template,omitempty"`

	// File is where the blueprint was read from, for error messages.
	File string `yaml:"-"`
	// TemplateBody is the template file's content.
	TemplateBody []byte `yaml:"-"`
}

// Resource is one kind of AWS resource the blueprint operates on. Select is
// the default selection; an app's binding of the same name replaces it.
type Resource struct {
	Type        string         `yaml:"type"`
	Description string         `yaml:"description,omitempty"`
	Select      tasks.Selector `yaml:"select,omitempty"`
}

// Task is one named, typed operation: an action applied to a resource with
// bounded parameters.
type Task struct {
	Action      string `yaml:"action"`
	Target      string `yaml:"target"`
	Description string `yaml:"description"`
	// Mutating must equal the action's own flag; it is repeated here so a
	// reader of the blueprint sees which tasks change things.
	Mutating bool `yaml:"mutating,omitempty"`
	// Confirm, when set, is shown to the user before a mutating task runs.
	Confirm string        `yaml:"confirm,omitempty"`
	Params  []tasks.Param `yaml:"params,omitempty"`
}

// Param returns the task's parameter named name.
func (t Task) Param(name string) (tasks.Param, bool) {
	i := slices.IndexFunc(t.Params, func(p tasks.Param) bool { return p.Name == name })
	if i < 0 {
		return tasks.Param{}, false
	}
	return t.Params[i], true
}

// Health is what a digest reports and what alerts are matched against.
type Health struct {
	Metrics []Metric `yaml:"metrics,omitempty"`
	// AlarmPrefixes select the CloudWatch alarms that belong to the app;
	// "{app}" is replaced by the app name.
	AlarmPrefixes []string `yaml:"alarm_prefixes,omitempty"`
}

// Metric is one CloudWatch metric with thresholds.
type Metric struct {
	Name      string `yaml:"name"`
	Namespace string `yaml:"namespace"`
	Metric    string `yaml:"metric"`
	// Resource names the blueprint resource whose members become the values
	// of Dimension (e.g. instance ids for InstanceId). Empty for metrics
	// that only use fixed Dimensions.
	Resource string `yaml:"resource,omitempty"`
	// Dimension is the CloudWatch dimension name for the resource's ids;
	// empty means the usual one for the resource type (DimensionFor).
	Dimension  string            `yaml:"dimension,omitempty"`
	Dimensions map[string]string `yaml:"dimensions,omitempty"`
	Stat       string            `yaml:"stat"`
	Period     time.Duration     `yaml:"period"`
	Unit       string            `yaml:"unit,omitempty"`
	// Comparison says which side is bad: "above" (default) or "below".
	Comparison string   `yaml:"comparison,omitempty"`
	Warn       *float64 `yaml:"warn,omitempty"`
	Critical   *float64 `yaml:"critical,omitempty"`
}

// Below reports whether low values are bad.
func (m Metric) Below() bool { return m.Comparison == "below" }

// Level classifies a value against the thresholds: "critical", "warn" or "ok".
func (m Metric) Level(v float64) string {
	bad := func(t *float64) bool {
		if t == nil {
			return false
		}
		if m.Below() {
			return v <= *t
		}
		return v >= *t
	}
	switch {
	case bad(m.Critical):
		return "critical"
	case bad(m.Warn):
		return "warn"
	}
	return "ok"
}

// Schedule runs a task (or posts the health digest) on a cron spec.
type Schedule struct {
	Name string `yaml:"name"`
	// Cron is a standard 5-field spec, optionally CRON_TZ=Area/City
	// prefixed, or a descriptor such as @daily.
	Cron string `yaml:"cron"`
	// Task names the task to run; exactly one of Task and Digest is set.
	Task string `yaml:"task,omitempty"`
	// Digest posts the health digest instead of running a task.
	Digest bool              `yaml:"digest,omitempty"`
	Params map[string]string `yaml:"params,omitempty"`
	// CatchUp runs a run missed while the bot was down once at start-up.
	CatchUp bool `yaml:"catch_up,omitempty"`
	// OptIn schedules are offered by the blueprint but run only for apps
	// that list them under schedules.enabled: routines that change things
	// on a clock (the office-hours stop of dev/test instances) are the
	// app owner's choice, not a default.
	OptIn bool `yaml:"opt_in,omitempty"`
}

// Remediation suggests tasks when an alarm whose name matches the glob
// fires; "{app}" in Alarm is replaced by the app name.
type Remediation struct {
	Alarm string   `yaml:"alarm"`
	Tasks []string `yaml:"tasks"`
	// Params prefill the suggested tasks' parameters; "{alarm}" in a value
	// is replaced by the firing alarm's name. Every listed task must
	// declare every key.
	Params map[string]string `yaml:"params,omitempty"`
}

// TaskNames returns the task names, sorted.
func (b *Blueprint) TaskNames() []string { return sortedKeys(b.Tasks) }

// ResourceNames returns the resource names, sorted.
func (b *Blueprint) ResourceNames() []string { return sortedKeys(b.Resources) }

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// ResourceTypes are the resource types actions know how to select, with the
// CloudWatch dimension that carries their ids.
var resourceTypes = map[string]string{
	"ec2:instance":        "InstanceId",
	"elbv2:load-balancer": "LoadBalancer",
	"elbv2:target-group":  "TargetGroup",
	"autoscaling:group":   "AutoScalingGroupName",
	"rds:db-instance":     "DBInstanceIdentifier",
	"rds:db-cluster":      "DBClusterIdentifier",
	"lambda:function":     "FunctionName",
	"ecs:service":         "ServiceName",
	"s3:bucket":           "BucketName",
	"cloudwatch:alarm":    "",

	// Library I.
	"eks:cluster":   "ClusterName",
	"eks:nodegroup": "",
	// A group's metrics are its nodes', per member cluster (the digest
	// lists the members through the tasks' selection).
	"elasticache:replication-group": "CacheClusterId",
	"ec2:vpc":                       "",
	"ec2:security-group":            "",

	// Library II.
	"iam:user":             "",
	"ssm:managed-instance": "InstanceId",
	"dynamodb:table":       "TableName",
	"kms:key":              "",
	"cloudtrail:trail":     "",
	"opensearch:domain":    "DomainName",
	"emr:cluster":          "JobFlowId",
	"backup:vault":         "BackupVaultName",
	"config:recorder":      "",
	"config:rule":          "",

	// Library III.
	"sqs:queue":             "QueueName",
	"kinesis:stream":        "StreamName",
	"secretsmanager:secret": "",
	"ecr:repository":        "RepositoryName",
	"sfn:state-machine":     "StateMachineArn",
}

// ResourceTypes returns the known resource types, sorted.
func ResourceTypes() []string { return sortedKeys(resourceTypes) }

// DimensionFor returns the CloudWatch dimension name that carries the ids of
// resources of type typ, or "" when there is none.
func DimensionFor(typ string) string { return resourceTypes[typ] }
