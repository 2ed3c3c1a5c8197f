package blueprints

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/day2bot/day2bot/internal/cfn"
	"github.com/day2bot/day2bot/tasks"
)

// A blueprint may carry a CloudFormation template (`template: FILE`, a file
// next to the blueprint). An app that says `stack: {}` is deployed from the
// templates of its blueprints, merged into one stack (day2-<app> unless
// named), and gets four more tasks: deploy, stack-status, detect-drift and
// teardown. Its resources can then be bound from the stack:
//
//	bindings:
//	  instances: {stack_resource: WebInstance}   # one logical id
//	  db: {from_stack: true}                     # every resource of the type

// StackConfig says how an app is deployed.
type StackConfig struct {
	// Name is the CloudFormation stack; empty means day2-<app>.
	Name string `yaml:"name,omitempty"`
	// RoleARN is the CloudFormation service role the stack is deployed
	// with (iam:PassRole), so day2bot's own role never holds create
	// permissions for every resource type.
	RoleARN string `yaml:"role_arn,omitempty"`
}

// Binding selects an app's real resources for a blueprint resource: by
// tags, names or ids, or from the app's stack.
type Binding struct {
	tasks.Selector `yaml:",inline"`
	// StackResource is a logical id in the app's stack template.
	StackResource string `yaml:"stack_resource,omitempty"`
	// FromStack takes every resource of the binding's type in the stack.
	FromStack bool `yaml:"from_stack,omitempty"`
}

// ResolvedStack is the stack an app is deployed as.
type ResolvedStack struct {
	Name     string
	RoleARN  string
	Template *cfn.Template // the blueprints' templates merged
	Params   []cfn.TaskParam
}

// Stack tag keys CloudFormation puts on every resource it creates.
const (
	TagStackName = "aws:cloudformation:stack-name"
	TagLogicalID = "aws:cloudformation:logical-id"
)

// cfnTypes maps CloudFormation resource types to day2bot's.
var stackNameRe = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{0,127}$`)

var cfnTypes = map[string]string{
	"AWS::EC2::Instance":                        "ec2:instance",
	"AWS::RDS::DBInstance":                      "rds:db-instance",
	"AWS::S3::Bucket":                           "s3:bucket",
	"AWS::CloudWatch::Alarm":                    "cloudwatch:alarm",
	"AWS::AutoScaling::AutoScalingGroup":        "autoscaling:group",
	"AWS::ElasticLoadBalancingV2::LoadBalancer": "elbv2:load-balancer",
	"AWS::ElasticLoadBalancingV2::TargetGroup":  "elbv2:target-group",
	"AWS::ECS::Service":                         "ecs:service",
}

// templateFile is how template files are told from blueprint files in a
// directory.
// IsTemplate reports whether a file name is a stack template that a
// blueprint names (template:), not a blueprint: NAME.cfn.yaml/yml/json.
func IsTemplate(name string) bool { return templateFile(name) }

func templateFile(name string) bool {
	for _, ext := range []string{".cfn.yaml", ".cfn.yml", ".cfn.json"} {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return false
}

// readTemplate loads the template a blueprint file names, from the
// blueprint's directory (read is os.ReadFile or the embedded library's).
func (b *Blueprint) readTemplate(read func(string) ([]byte, error)) error {
	if b.Template == "" {
		return nil
	}
	if filepath.Base(b.Template) != b.Template || !templateFile(b.Template) {
		return ValidationErrors{{File: b.File, Path: "template",
			Msg: fmt.Sprintf("%q must be a file name next to the blueprint ending in .cfn.yaml or .cfn.json", b.Template)}}.asError()
	}
	data, err := read(filepath.Join(filepath.Dir(b.File), b.Template))
	if err != nil {
		return ValidationErrors{{File: b.File, Path: "template", Msg: fmt.Sprintf("read %s: %v", b.Template, err)}}.asError()
	}
	b.TemplateBody = data
	return nil
}

// ParsedTemplate parses the blueprint's template (nil when it has none).
func (b *Blueprint) ParsedTemplate() (*cfn.Template, error) {
	if b.TemplateBody == nil {
		return nil, nil
	}
	return cfn.Parse(b.TemplateBody)
}

func (b *Blueprint) validateTemplate(c *collector) {
	t, err := b.ParsedTemplate()
	if err != nil {
		c.add("template", "%s: %v", b.Template, err)
		return
	}
	if t == nil {
		return
	}
	for _, p := range cfn.Check(t) {
		c.add("template", "%s: %s", b.Template, p)
	}
}

// resolveStack merges the app's templates and adds the stack tasks.
func resolveStack(ce *collector, p, name string, sc *StackConfig, bps []*Blueprint, ra *ResolvedApp) {
	var names []string
	var ts []*cfn.Template
	for _, b := range bps {
		t, err := b.ParsedTemplate()
		if err != nil {
			ce.add(join(p, "stack"), "blueprint %s: %v", b.Name, err)
			return
		}
		if t != nil {
			names, ts = append(names, b.Name), append(ts, t)
		}
	}
	if len(ts) == 0 {
		ce.add(join(p, "stack"), "none of the app's blueprints (%s) has a template to deploy", strings.Join(ra.Blueprints, ", "))
		return
	}
	merged, err := cfn.Merge(names, ts)
	if err != nil {
		ce.add(join(p, "stack"), "%v", err)
		return
	}
	params, err := cfn.TaskParams(merged)
	if err != nil {
		ce.add(join(p, "stack"), "%v", err)
		return
	}
	st := &ResolvedStack{Name: sc.Name, RoleARN: sc.RoleARN, Template: merged, Params: params}
	if st.Name == "" {
		st.Name = "day2-" + name
	}
	if !stackNameRe.MatchString(st.Name) {
		ce.add(join(p, "stack", "name"), "%q is not a stack name: a letter, then up to 127 letters, digits and dashes", st.Name)
	}
	if st.RoleARN != "" && !roleARNRe.MatchString(st.RoleARN) {
		ce.add(join(p, "stack", "role_arn"), "%q is not an IAM role ARN like arn:aws:iam::123456789012:role/day2bot-cloudformation", st.RoleARN)
	}
	ra.Stack = st
	target := tasks.Selector{Type: "cloudformation:stack", Names: []string{st.Name}}
	tps := make([]tasks.Param, len(params))
	for i, tp := range params {
		tps[i] = tp.Param
	}
	// A blueprint task of the same name is reported by resolve as defined
	// twice (by "stack" and the blueprint).
	for _, t := range []struct {
		name, action, desc string
		mutating           bool
		params             []tasks.Param
	}{
		{"deploy", "cloudformation.deploy", "Create or update the app's stack " + st.Name + " through a change set that approvers see", true, tps},
		{"stack-status", "cloudformation.stack-status", "Show the stack's status, outputs, last events and drift status", false, nil},
		{"detect-drift", "cloudformation.detect-drift", "Check the stack's resources against the template and list what drifted", false, nil},
		{"teardown", "cloudformation.teardown", "Delete the app's stack; resources with DeletionPolicy Retain are kept and listed first", true, nil},
	} {
		ra.Tasks[t.name] = ResolvedTask{Name: t.name, Blueprint: "stack", Target: target,
			Task: Task{Action: t.action, Target: "stack", Description: t.desc, Mutating: t.mutating, Params: t.params}}
	}
}

// bindFromStack turns a stack binding into the tag selector CloudFormation
// makes true: it tags what it creates with the stack name and logical id.
func bindFromStack(ce *collector, bp string, b Binding, typ string, st *ResolvedStack) (tasks.Selector, bool) {
	if b.StackResource == "" && !b.FromStack {
		return b.Selector, true
	}
	if b.StackResource != "" && b.FromStack {
		ce.add(bp, "give stack_resource or from_stack, not both")
		return tasks.Selector{}, false
	}
	if len(b.Tags) > 0 || len(b.Names) > 0 || len(b.IDs) > 0 {
		ce.add(bp, "a binding from the stack takes no tags, names or ids")
		return tasks.Selector{}, false
	}
	if st == nil {
		ce.add(bp, "binds from the stack, but the app has no stack: add `stack: {}` to deploy it from its blueprints' templates")
		return tasks.Selector{}, false
	}
	sel := tasks.Selector{Type: typ, Tags: map[string]string{TagStackName: st.Name}}
	if b.FromStack {
		return sel, true
	}
	r, ok := st.Template.Resources[b.StackResource]
	if !ok {
		ids := st.Template.ResourceNames()
		ce.add(join(bp, "stack_resource"), "the stack template has no resource %q; it has: %s", b.StackResource, strings.Join(ids, ", "))
		return tasks.Selector{}, false
	}
	if got := cfnTypes[r.Type]; got != typ {
		ce.add(join(bp, "stack_resource"), "%s is %s, but the resource is %s", b.StackResource, r.Type, typ)
		return tasks.Selector{}, false
	}
	sel.Tags[TagLogicalID] = b.StackResource
	return sel, true
}
