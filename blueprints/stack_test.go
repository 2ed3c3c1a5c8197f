package blueprints

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/day2bot/day2bot/tasks"
)

func TestResolveStackApp(t *testing.T) {
	cat, err := Library()
	if err != nil {
		t.Fatal(err)
	}
	app := App{Blueprints: []string{"ec2-web", "rds", "cloudwatch-alarms"}, Stack: &StackConfig{},
		Bindings: map[string]Binding{"instances": {StackResource: "WebInstance"}, "db": {FromStack: true}}}
	ra, err := ResolveApp(cat, "blog", app)
	if err != nil {
		t.Fatal(err)
	}
	if ra.Stack == nil || ra.Stack.Name != "day2-blog" {
		t.Fatalf("stack %+v", ra.Stack)
	}
	if got := strings.Join(ra.Stack.Template.ResourceNames(), " "); got != "DBCpuAlarm DBInstance WebCpuAlarm WebInstance WebSecurityGroup" {
		t.Errorf("merged resources %s", got)
	}
	deploy, err := ra.Task("deploy")
	if err != nil {
		t.Fatal(err)
	}
	var params []string
	for _, p := range deploy.Params() {
		params = append(params, p.String())
	}
	want := []string{
		"db_allocated_storage: int 20..500 (default 20)",
		"db_instance_class: enum db.t3.micro|db.t3.small|db.t3.medium|db.m6g.large (default db.t3.micro)",
		"image_id: string, an AMI id like ami-0abc1234 (default ami-0fe8bec493a81c7da)",
		"instance_type: enum t3.micro|t3.small|t3.medium|t3.large (default t3.small)",
		"web_cpu_threshold: int 50..99 (default 90)",
	}
	if !reflect.DeepEqual(params, want) {
		t.Errorf("deploy params:\n%s\nwant:\n%s", strings.Join(params, "\n"), strings.Join(want, "\n"))
	}
	if !deploy.Task.Mutating || deploy.Task.Action != "cloudformation.deploy" || deploy.Target.Names[0] != "day2-blog" {
		t.Errorf("deploy task %+v", deploy)
	}
	for _, n := range []string{"stack-status", "detect-drift", "teardown"} {
		if _, err := ra.Task(n); err != nil {
			t.Error(err)
		}
	}
	wantSel := tasks.Selector{Type: "ec2:instance", Tags: map[string]string{TagStackName: "day2-blog", TagLogicalID: "WebInstance"}}
	if got := ra.Resources["instances"].Select; !reflect.DeepEqual(got, wantSel) {
		t.Errorf("instances bound to %+v", got)
	}
	if got := ra.Resources["db"].Select; !reflect.DeepEqual(got, tasks.Selector{Type: "rds:db-instance", Tags: map[string]string{TagStackName: "day2-blog"}}) {
		t.Errorf("db bound to %+v", got)
	}
	// Without stack: the same blueprints get no stack tasks.
	ra, err = ResolveApp(cat, "shop", App{Blueprints: []string{"ec2-web"}})
	if err != nil || ra.Stack != nil {
		t.Fatalf("%+v %v", ra.Stack, err)
	}
	if _, err := ra.Task("deploy"); err == nil {
		t.Error("an app without stack has a deploy task")
	}
}

func TestStackBindingErrors(t *testing.T) {
	cat, err := Library()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		app  App
		want string
	}{
		{"no stack", App{Blueprints: []string{"ec2-web"}, Bindings: map[string]Binding{"instances": {StackResource: "WebInstance"}}},
			"apps.x.bindings.instances: binds from the stack, but the app has no stack"},
		{"unknown logical id", App{Blueprints: []string{"ec2-web"}, Stack: &StackConfig{}, Bindings: map[string]Binding{"instances": {StackResource: "Web"}}},
			`apps.x.bindings.instances.stack_resource: the stack template has no resource "Web"; it has: WebCpuAlarm, WebInstance, WebSecurityGroup`},
		{"wrong type", App{Blueprints: []string{"ec2-web"}, Stack: &StackConfig{}, Bindings: map[string]Binding{"instances": {StackResource: "WebCpuAlarm"}}},
			"apps.x.bindings.instances.stack_resource: WebCpuAlarm is AWS::CloudWatch::Alarm, but the resource is ec2:instance"},
		{"no template", App{Blueprints: []string{"s3-data"}, Stack: &StackConfig{}},
			"apps.x.stack: none of the app's blueprints (s3-data) has a template to deploy"},
		{"bad role", App{Blueprints: []string{"rds"}, Stack: &StackConfig{RoleARN: "cfn-role"}},
			`apps.x.stack.role_arn: "cfn-role" is not an IAM role ARN`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ResolveApp(cat, "x", tc.app)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want %q", err, tc.want)
			}
		})
	}
}

func TestTemplateValidation(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("web.yaml", strings.Replace(baseBlueprint, "name: web", "name: web\ntemplate: web.cfn.yaml", 1))
	write("web.cfn.yaml", "Parameters:\n  Size: {Type: String}\nResources:\n  B: {Type: AWS::S3::Bucket}\n")
	bps, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(bps) != 1 {
		t.Fatalf("the template file was read as a blueprint: %d blueprints", len(bps))
	}
	err = bps[0].Validate(nil)
	for _, want := range []string{
		"template: web.cfn.yaml: Parameters.Size: a String needs AllowedValues",
		"template: web.cfn.yaml: Parameters.AppName: required",
		"template: web.cfn.yaml: Resources.B.Properties.Tags: must include {Key: app, Value: !Ref AppName}",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("validate: %v\nwant %q", err, want)
		}
	}
}
