package aws

import (
	"context"
	"strings"
	"testing"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"

	"github.com/day2bot/day2bot/internal/cfn"
	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/tasks"
	"github.com/day2bot/day2bot/tasks/emulator"
)

const testTemplate = `
Parameters:
  AppName: {Type: String, AllowedPattern: "[a-z][a-z0-9-]*", ConstraintDescription: lowercase}
  InstanceType: {Type: String, Default: t3.small, AllowedValues: [t3.micro, t3.small, t3.medium]}
  WebCpuThreshold: {Type: Number, Default: 90, MinValue: 50, MaxValue: 99}
Resources:
  WebSecurityGroup:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: !Sub "${AppName} web"
      Tags: [{Key: app, Value: !Ref AppName}]
  WebInstance:
    Type: AWS::EC2::Instance
    Properties:
      ImageId: ami-0fe8bec493a81c7da
      InstanceType: !Ref InstanceType
      SecurityGroupIds: [!GetAtt WebSecurityGroup.GroupId]
      Tags: [{Key: app, Value: !Ref AppName}, {Key: tier, Value: web}]
  WebCpuAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      AlarmName: !Sub "${AppName}-web-cpu-high"
      Namespace: AWS/EC2
      MetricName: CPUUtilization
      Dimensions: [{Name: InstanceId, Value: !Ref WebInstance}]
      Statistic: Average
      Period: 300
      EvaluationPeriods: 2
      Threshold: !Ref WebCpuThreshold
      ComparisonOperator: GreaterThanThreshold
      Tags: [{Key: app, Value: !Ref AppName}]
`

const dbResource = `
  DBInstance:
    Type: AWS::RDS::DBInstance
    DeletionPolicy: Retain
    Properties:
      Engine: postgres
      EngineVersion: "16.3"
      DBInstanceClass: db.t3.micro
      AllocatedStorage: 20
      StorageEncrypted: true
      DeletionProtection: true
      MasterUsername: app
      Tags: [{Key: app, Value: !Ref AppName}]
`

// stackFixture is one app's stack: the actions and the invocation of each.
type stackFixture struct {
	app, stack string
	actions    []tasks.Action
	sel        tasks.Selector
}

func newStack(t *testing.T, body string) stackFixture {
	t.Helper()
	tmpl, err := cfn.Parse([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	params, err := cfn.TaskParams(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	f := stackFixture{app: uniq(t, "app"), stack: uniq(t, "day2")}
	st := StackTemplate{App: f.app, Body: tmpl.Body(), Params: map[string]string{}, AppParam: cfn.AppParameter}
	for _, p := range params {
		st.Params[p.Name] = p.Key
	}
	b := CloudFormationActions(SDKCloudFormation, StackTemplates{f.stack: st})
	for _, a := range b {
		// Against the emulator a poll never waits; a zero wait makes a
		// regression show as a busy loop, not a slow test.
		a.(interface{ setPoll() }).setPoll()
	}
	f.actions = b
	f.sel = tasks.Selector{Type: stackType, Names: []string{f.stack}}
	return f
}

func (f stackFixture) action(t *testing.T, name string) tasks.Action {
	return findAction(t, f.actions, "cloudformation."+name)
}

func (f stackFixture) inv(t *testing.T, vals tasks.Values) tasks.Invocation {
	return invocation(t, f.sel, vals)
}

// instance finds the stack's instance by the tags CloudFormation put on it.
func (f stackFixture) instance(ctx context.Context, t *testing.T, logical string) ec2types.Instance {
	t.Helper()
	out, err := ec2.NewFromConfig(testConfig(t)).DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{
		{Name: awssdk.String("tag:aws:cloudformation:stack-name"), Values: []string{f.stack}},
		{Name: awssdk.String("tag:aws:cloudformation:logical-id"), Values: []string{logical}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Reservations) != 1 || len(out.Reservations[0].Instances) != 1 {
		t.Fatalf("want one %s instance of %s, got %+v", logical, f.stack, out.Reservations)
	}
	return out.Reservations[0].Instances[0]
}

func rows(p tasks.Plan) string {
	var b strings.Builder
	for _, c := range p.Changes {
		b.WriteString(c.Action + " " + c.Resource + " " + c.Detail + "\n")
	}
	return b.String()
}

func TestDeployExecutesTheChangeSetShown(t *testing.T) {
	ctx := context.Background()
	f := newStack(t, testTemplate+dbResource)
	deploy := f.action(t, "deploy")

	inv := f.inv(t, tasks.Values{"instance_type": "t3.small", "web_cpu_threshold": int64(90)})
	plan, err := deploy.Plan(ctx, inv)
	if err != nil {
		t.Fatal(err)
	}
	if plan.Ref == "" || len(plan.Changes) != 4 {
		t.Fatalf("plan %+v", plan)
	}
	for _, c := range plan.Changes {
		if c.Action != "Add" {
			t.Errorf("change %+v: want Add", c)
		}
	}
	if !strings.HasPrefix(plan.Summary, "create stack "+f.stack+": 4 add") {
		t.Errorf("summary %q", plan.Summary)
	}
	creates := callsMentioning("cloudformation:CreateChangeSet", f.stack)

	inv.Approved = &plan
	res, err := deploy.Run(ctx, inv, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed() != 0 || len(res.Resources) != 4 || !strings.Contains(res.Summary, "create of stack "+f.stack+" complete") {
		t.Fatalf("result %+v", res)
	}
	if n := callsMentioning("cloudformation:CreateChangeSet", f.stack); n != creates {
		t.Errorf("the approved run created %d more change sets; it must execute the one shown", n-creates)
	}
	exec := emu.Requests("cloudformation:ExecuteChangeSet")
	if last := exec[len(exec)-1]; !strings.Contains(string(last.Body), strings.ReplaceAll(strings.ReplaceAll(plan.Ref, ":", "%3A"), "/", "%2F")) {
		t.Errorf("executed %s, want the change set shown (%s)", last.Body, plan.Ref)
	}
	in := f.instance(ctx, t, "WebInstance")
	tags := map[string]string{}
	for _, tg := range in.Tags {
		tags[awssdk.ToString(tg.Key)] = awssdk.ToString(tg.Value)
	}
	if in.InstanceType != "t3.small" || tags["app"] != f.app || tags["managed-by"] != "day2bot" {
		t.Errorf("instance %s tags %v", in.InstanceType, tags)
	}

	// An update shows a Modify row with its replacement, and executing it
	// changes the very instance.
	inv = f.inv(t, tasks.Values{"instance_type": "t3.medium", "web_cpu_threshold": int64(90)})
	plan, err = deploy.Plan(ctx, inv)
	if err != nil {
		t.Fatal(err)
	}
	want := "Modify WebInstance AWS::EC2::Instance · replacement False · " + awssdk.ToString(in.InstanceId) + " · InstanceType t3.small → t3.medium\n"
	if got := rows(plan); got != want {
		t.Fatalf("update rows:\n%s\nwant:\n%s", got, want)
	}
	inv.Approved = &plan
	if res, err = deploy.Run(ctx, inv, nil); err != nil || res.Failed() != 0 {
		t.Fatalf("update: %+v, %v", res, err)
	}
	if got := f.instance(ctx, t, "WebInstance"); got.InstanceType != "t3.medium" || awssdk.ToString(got.InstanceId) != awssdk.ToString(in.InstanceId) {
		t.Errorf("after update: %s %s", awssdk.ToString(got.InstanceId), got.InstanceType)
	}

	// Same values again: nothing to do, and it says so.
	plan, err = deploy.Plan(ctx, f.inv(t, tasks.Values{"instance_type": "t3.medium", "web_cpu_threshold": int64(90)}))
	if err != nil || len(plan.Changes) != 0 || !strings.HasPrefix(plan.Summary, "no changes") {
		t.Fatalf("unchanged plan %+v, %v", plan, err)
	}

	// Drift: someone changes the alarm's threshold outside the stack.
	drift := f.action(t, "detect-drift")
	if res, err = drift.Run(ctx, f.inv(t, nil), nil); err != nil || !strings.Contains(res.Summary, "IN_SYNC") {
		t.Fatalf("drift before: %+v, %v", res, err)
	}
	_, err = cloudwatch.NewFromConfig(testConfig(t)).PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
		AlarmName: awssdk.String(f.app + "-web-cpu-high"), Namespace: awssdk.String("AWS/EC2"), MetricName: awssdk.String("CPUUtilization"),
		Statistic: cwtypes.StatisticAverage, Period: awssdk.Int32(300), EvaluationPeriods: awssdk.Int32(2), Threshold: awssdk.Float64(80),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold})
	if err != nil {
		t.Fatal(err)
	}
	if res, err = drift.Run(ctx, f.inv(t, nil), nil); err != nil {
		t.Fatal(err)
	}
	if len(res.Resources) != 1 || res.Resources[0].Resource != "WebCpuAlarm" || !strings.Contains(res.Resources[0].Detail, "Threshold: template 90, actual 80") {
		t.Errorf("drift after: %+v", res)
	}
	status, err := f.action(t, "stack-status").Run(ctx, f.inv(t, nil), nil)
	if err != nil || !strings.Contains(status.Summary, "UPDATE_COMPLETE · drift DRIFTED") {
		t.Errorf("status %+v, %v", status, err)
	}

	// Teardown lists the retained database first and leaves it in place.
	teardown := f.action(t, "teardown")
	tp, err := teardown.Plan(ctx, f.inv(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	if tp.Changes[0].Resource != "DBInstance" || tp.Changes[0].Action != "retain" || len(tp.Changes) != 4 {
		t.Fatalf("teardown plan %+v", tp)
	}
	dbID := strings.Fields(tp.Changes[0].Detail)[1]
	tr, err := teardown.Run(ctx, f.inv(t, nil), nil)
	if err != nil || !strings.Contains(tr.Summary, "DELETE_COMPLETE") || tr.Resources[0].Status != tasks.StatusSkipped {
		t.Fatalf("teardown %+v, %v", tr, err)
	}
	if got := emu.InstanceState(awssdk.ToString(in.InstanceId)); got != "terminated" {
		t.Errorf("web instance %s after teardown", got)
	}
	if _, err := rds.NewFromConfig(testConfig(t)).DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: awssdk.String(dbID)}); err != nil {
		t.Errorf("retained database %s: %v", dbID, err)
	}
	if status, err = f.action(t, "stack-status").Run(ctx, f.inv(t, nil), nil); err != nil || !strings.Contains(status.Summary, "not deployed") {
		t.Errorf("status after teardown %+v, %v", status, err)
	}
}

func TestDeployRefusesAStaleChangeSet(t *testing.T) {
	ctx := context.Background()
	f := newStack(t, testTemplate)
	deploy := f.action(t, "deploy")
	small := f.inv(t, tasks.Values{"instance_type": "t3.small"})
	shown, err := deploy.Plan(ctx, small)
	if err != nil {
		t.Fatal(err)
	}
	// Meanwhile another deploy runs: CloudFormation deletes the stack's
	// other change sets when it executes one.
	other := f.inv(t, tasks.Values{"instance_type": "t3.micro"})
	other.Now = other.Now.Add(1)
	if res, err := deploy.Run(ctx, other, nil); err != nil || res.Failed() != 0 {
		t.Fatalf("other deploy: %+v, %v", res, err)
	}
	executed := emu.Count("cloudformation:ExecuteChangeSet")

	small.Approved = &shown
	_, err = deploy.Run(ctx, small, nil)
	csName, _, _ := strings.Cut(shown.Ref[strings.Index(shown.Ref, ":changeSet/")+len(":changeSet/"):], "/")
	wantErr(t, err, errs.Conflict, "not deployed: the change set the approvers saw ("+csName+") no longer exists: the stack changed since (another deploy or a teardown ran); request the deploy again to review the current changes")
	if n := emu.Count("cloudformation:ExecuteChangeSet"); n != executed {
		t.Errorf("%d change sets executed after the stale one was refused", n-executed)
	}
	if got := f.instance(ctx, t, "WebInstance").InstanceType; got != "t3.micro" {
		t.Errorf("instance type %s, want the other deploy's t3.micro", got)
	}

	// Approvers who saw no change set approve nothing.
	small.Approved = &tasks.Plan{}
	_, err = deploy.Run(ctx, small, nil)
	wantErr(t, err, errs.Conflict, "not deployed: the approvers saw no change set (its plan failed or was not ready yet); request the deploy again")
}

func TestDeployFailedCreateReportsResourceAndRollback(t *testing.T) {
	ctx := context.Background()
	f := newStack(t, testTemplate)
	emu.InjectFault("monitoring:PutMetricAlarm", emulator.Fault{Status: 400, Code: "LimitExceededFault", Message: "The maximum number of alarms for this account has been reached"})
	res, err := f.action(t, "deploy").Run(ctx, f.inv(t, tasks.Values{"instance_type": "t3.small"}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed() != len(res.Resources) || len(res.Resources) != 3 {
		t.Fatalf("every change must be reported failed: %+v", res)
	}
	first := res.Resources[0]
	if first.Resource != "WebCpuAlarm" || !strings.Contains(first.Detail, "CREATE_FAILED") || !strings.Contains(first.Detail, "maximum number of alarms") {
		t.Errorf("first row %+v: want the failing alarm and its reason", first)
	}
	if !strings.Contains(res.Summary, "failed and rolled back (ROLLBACK_COMPLETE): WebCpuAlarm CREATE_FAILED") {
		t.Errorf("summary %q", res.Summary)
	}
	for _, rr := range res.Resources[1:] {
		if !strings.HasPrefix(rr.Detail, "rolled back (DELETE_COMPLETE)") {
			t.Errorf("row %+v: want rolled back", rr)
		}
	}
	// The instance the rollback removed is gone; a new deploy is refused
	// until the stack is torn down.
	out, err := ec2.NewFromConfig(testConfig(t)).DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{
		{Name: awssdk.String("tag:aws:cloudformation:stack-name"), Values: []string{f.stack}},
		{Name: awssdk.String("instance-state-name"), Values: []string{"running", "pending", "stopped"}}}})
	if err != nil || len(out.Reservations) != 0 {
		t.Errorf("instances left after rollback: %+v, %v", out, err)
	}
	_, err = f.action(t, "deploy").Plan(ctx, f.inv(t, tasks.Values{}))
	wantErr(t, err, errs.Conflict, "stack "+f.stack+" is ROLLBACK_COMPLETE after a failed create; run teardown, then deploy again")
}
