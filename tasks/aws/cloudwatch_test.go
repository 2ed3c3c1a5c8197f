package aws

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/tasks"
	"github.com/day2bot/day2bot/tasks/emulator"
)

func cwAction(t *testing.T, name string) tasks.Action {
	t.Helper()
	return findAction(t, CloudWatchActions(SDKCloudWatch), name)
}

func TestCloudWatchListAlarmsPagesPastFifty(t *testing.T) {
	ctx := context.Background()
	app := uniq(t, "shop")
	for i := range 120 {
		state := "OK"
		if i%40 == 0 {
			state = "ALARM"
		}
		if err := emu.SeedAlarm(ctx, emulator.Alarm{Name: fmt.Sprintf("%s-cpu-%03d", app, i), Namespace: "AWS/EC2", Metric: "CPUUtilization", Threshold: 80, State: state}); err != nil {
			t.Fatal(err)
		}
	}
	if err := emu.SeedAlarm(ctx, emulator.Alarm{Name: "x" + app, Namespace: "AWS/EC2", Metric: "CPUUtilization", Threshold: 80}); err != nil {
		t.Fatal(err)
	}
	act := cwAction(t, "cloudwatch.list-alarms")
	sel := tasks.Selector{Type: "cloudwatch:alarm", Names: []string{app + "-*"}}

	before := callsMentioning("monitoring:DescribeAlarms", app)
	inv := invocation(t, sel, tasks.Values{"state": "any"})
	_, r := planAndRun(ctx, t, act, inv)
	if len(r.Resources) != 120 || r.Resources[0].Detail != "OK, CPUUtilization > 80 (Average 300s x1), actions enabled" && r.Resources[0].Detail != "ALARM, CPUUtilization > 80 (Average 300s x1), actions enabled" {
		t.Fatalf("got %d: %+v", len(r.Resources), r.Resources[:1])
	}
	// Plan and Run each read two pages of 100, by name prefix.
	if n := callsMentioning("monitoring:DescribeAlarms", app) - before; n != 4 {
		t.Fatalf("DescribeAlarms calls = %d, want 4", n)
	}

	r, err := act.Run(ctx, invocation(t, sel, tasks.Values{"state": "ALARM"}), nil)
	if err != nil || len(r.Resources) != 3 || !strings.HasPrefix(r.Resources[0].Detail, "ALARM") {
		t.Fatalf("ALARM only: %v %+v", err, r.Resources)
	}
	if _, err := act.Plan(ctx, invocation(t, tasks.Selector{Type: "cloudwatch:alarm", Tags: map[string]string{"app": app}}, nil)); err == nil {
		t.Fatal("tag selector for alarms must be refused")
	}
}

// putFullAlarm creates an alarm that uses nearly every setting.
func putFullAlarm(t *testing.T, name string) {
	t.Helper()
	_, err := cloudwatch.NewFromConfig(testConfig(t)).PutMetricAlarm(context.Background(), &cloudwatch.PutMetricAlarmInput{
		AlarmName: awssdk.String(name), AlarmDescription: awssdk.String("CPU of the web tier"), ActionsEnabled: awssdk.Bool(true),
		AlarmActions: []string{"arn:aws:sns:us-east-1:000000000000:page"}, OKActions: []string{"arn:aws:sns:us-east-1:000000000000:ok"},
		InsufficientDataActions: []string{"arn:aws:sns:us-east-1:000000000000:insufficient"},
		Namespace:               awssdk.String("AWS/EC2"), MetricName: awssdk.String("CPUUtilization"), Statistic: cwtypes.StatisticMaximum,
		Dimensions: []cwtypes.Dimension{{Name: awssdk.String("AutoScalingGroupName"), Value: awssdk.String("web")}},
		Period:     awssdk.Int32(60), EvaluationPeriods: awssdk.Int32(5), DatapointsToAlarm: awssdk.Int32(3), Threshold: awssdk.Float64(80),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold, TreatMissingData: awssdk.String("breaching"),
		Unit: cwtypes.StandardUnitPercent,
	})
	if err != nil {
		t.Fatal(err)
	}
}

func describeAlarm(t *testing.T, name string) cwtypes.MetricAlarm {
	t.Helper()
	out, err := cloudwatch.NewFromConfig(testConfig(t)).DescribeAlarms(context.Background(), &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{name}})
	if err != nil || len(out.MetricAlarms) != 1 {
		t.Fatalf("describe %s: %v", name, err)
	}
	return out.MetricAlarms[0]
}

func TestCloudWatchSetThresholdKeepsEveryOtherField(t *testing.T) {
	ctx := context.Background()
	app := uniq(t, "shop")
	name := app + "-cpu-high"
	putFullAlarm(t, name)
	before := describeAlarm(t, name)

	act := cwAction(t, "cloudwatch.set-threshold")
	inv := invocation(t, tasks.Selector{Type: "cloudwatch:alarm", Names: []string{app + "-*"}}, tasks.Values{"alarm": name, "threshold": int64(90)})
	p, err := act.Plan(ctx, inv)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Changes) != 1 || p.Changes[0].Action != "set threshold 80 -> 90" || callsMentioning("monitoring:PutMetricAlarm", name) != 1 {
		t.Fatalf("plan %+v", p)
	}
	r, err := act.Run(ctx, inv, nil)
	if err != nil {
		t.Fatal(err)
	}
	assertPlanMatchesRun(t, p, r)
	after := describeAlarm(t, name)
	if awssdk.ToFloat64(after.Threshold) != 90 {
		t.Fatalf("threshold %v", after.Threshold)
	}
	want := alarmInput(before)
	want.Threshold = awssdk.Float64(90)
	if got := alarmInput(after); !reflect.DeepEqual(got, want) {
		t.Fatalf("settings changed:\n got %+v\nwant %+v", got, want)
	}
	if r2, err := act.Run(ctx, inv, nil); err != nil || r2.Resources[0].Status != tasks.StatusSkipped {
		t.Fatalf("same threshold again: %v %+v", err, r2)
	}
}

// TestAlarmInputCopiesEverySetting fails when the SDK grows an alarm setting
// that alarmInput does not copy back (PutMetricAlarm would reset it).
func TestAlarmInputCopiesEverySetting(t *testing.T) {
	var a cwtypes.MetricAlarm
	av := reflect.ValueOf(&a).Elem()
	in := reflect.TypeOf(cloudwatch.PutMetricAlarmInput{})
	for i := range in.NumField() {
		f := in.Field(i)
		if !f.IsExported() {
			continue
		}
		if af := av.FieldByName(f.Name); af.IsValid() && af.Type() == f.Type {
			fillNonZero(t, f.Name, af)
		}
	}
	got := reflect.ValueOf(alarmInput(a)).Elem()
	for i := range in.NumField() {
		f := in.Field(i)
		if af := av.FieldByName(f.Name); f.IsExported() && af.IsValid() && af.Type() == f.Type && got.Field(i).IsZero() {
			t.Errorf("alarmInput does not copy %s", f.Name)
		}
	}
}

func fillNonZero(t *testing.T, name string, v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
	case reflect.String:
		v.SetString("x")
	case reflect.Interface:
		// Unions: any member will do.
		switch v.Type() {
		case reflect.TypeFor[cwtypes.EvaluationCriteria]():
			v.Set(reflect.ValueOf(&cwtypes.EvaluationCriteriaMemberPromQLCriteria{}))
		case reflect.TypeFor[cwtypes.EvaluationWindow]():
			v.Set(reflect.ValueOf(&cwtypes.EvaluationWindowMemberSlidingWindow{}))
		default:
			t.Fatalf("cannot fill %s (%s)", name, v.Type())
		}
	default:
		t.Fatalf("cannot fill %s (%s)", name, v.Type())
	}
}

func TestCloudWatchMuteSchedulesUnmute(t *testing.T) {
	ctx := context.Background()
	app := uniq(t, "shop")
	name := app + "-5xx"
	putFullAlarm(t, name)
	sel := tasks.Selector{Type: "cloudwatch:alarm", Names: []string{app + "-*"}}
	mute := cwAction(t, "cloudwatch.mute-alarm")
	inv := invocation(t, sel, tasks.Values{"alarm": name, "duration": 2 * time.Hour})

	p, err := mute.Plan(ctx, inv)
	if err != nil {
		t.Fatal(err)
	}
	if p.Changes[0].Action != "disable actions for 2h (re-enabled at 2026-11-26 00:00 UTC)" || !awssdk.ToBool(describeAlarm(t, name).ActionsEnabled) {
		t.Fatalf("plan %+v", p.Changes)
	}
	r, err := mute.Run(ctx, inv, nil)
	if err != nil {
		t.Fatal(err)
	}
	assertPlanMatchesRun(t, p, r)
	if callsMentioning("monitoring:DisableAlarmActions", name) != 1 || awssdk.ToBool(describeAlarm(t, name).ActionsEnabled) {
		t.Fatal("actions not disabled")
	}
	want := []tasks.FollowUp{{After: 2 * time.Hour, Action: UnmuteAction, Values: tasks.Values{"alarm": name}, Reason: "end of a 2h mute"}}
	if !reflect.DeepEqual(r.FollowUps, want) {
		t.Fatalf("follow-ups %+v", r.FollowUps)
	}

	// The engine later runs the follow-up as given.
	unmute := cwAction(t, r.FollowUps[0].Action)
	r, err = unmute.Run(ctx, invocation(t, sel, r.FollowUps[0].Values), nil)
	if err != nil || r.Resources[0].Status != tasks.StatusOK || !awssdk.ToBool(describeAlarm(t, name).ActionsEnabled) {
		t.Fatalf("unmute: %v %+v", err, r)
	}
	r, err = unmute.Run(ctx, invocation(t, sel, tasks.Values{"alarm": name}), nil)
	if err != nil || r.Resources[0].Status != tasks.StatusSkipped || len(r.FollowUps) != 0 {
		t.Fatalf("second unmute: %v %+v", err, r)
	}
}

func TestCloudWatchRefusesAlarmsOutsideTheApp(t *testing.T) {
	ctx := context.Background()
	app := uniq(t, "shop")
	other := uniq(t, "billing") + "-cpu"
	putFullAlarm(t, other)
	sel := tasks.Selector{Type: "cloudwatch:alarm", Names: []string{app + "-*"}}
	for _, tc := range []struct{ alarm, want string }{
		{other, `alarm "` + other + `" is not one of this app's alarms (names ` + app + `-*)`},
		{app + "-missing", `there is no metric alarm named "` + app + `-missing"`},
	} {
		_, err := cwAction(t, "cloudwatch.mute-alarm").Plan(ctx, invocation(t, sel, tasks.Values{"alarm": tc.alarm, "duration": time.Hour}))
		wantErr(t, err, errs.NotFound, tc.want)
	}
	if callsMentioning("monitoring:DisableAlarmActions", other) != 0 {
		t.Fatal("refused alarm was muted")
	}
}

func TestCloudWatchThrottlingRetriedAndAccessDeniedNamed(t *testing.T) {
	ctx := context.Background()
	app := uniq(t, "shop")
	name := app + "-cpu"
	putFullAlarm(t, name)
	sel := tasks.Selector{Type: "cloudwatch:alarm", IDs: []string{name}}

	emu.InjectFault("monitoring:DisableAlarmActions", emulator.Fault{Status: 400, Code: "Throttling", Message: "Rate exceeded"})
	r, err := cwAction(t, "cloudwatch.mute-alarm").Run(ctx, invocation(t, sel, tasks.Values{"alarm": name, "duration": time.Hour}), nil)
	if err != nil || r.Resources[0].Status != tasks.StatusOK || callsMentioning("monitoring:DisableAlarmActions", name) != 2 {
		t.Fatalf("throttled mute: %v %+v", err, r)
	}

	emu.InjectFault("monitoring:DescribeAlarms", emulator.Fault{Status: 403, Code: "AccessDenied", Message: "not authorized"})
	_, err = cwAction(t, "cloudwatch.set-threshold").Plan(ctx, invocation(t, sel, tasks.Values{"alarm": name, "threshold": int64(70)}))
	wantErr(t, err, errs.Permission, `AWS denied DescribeAlarms: the app's IAM role needs permission "cloudwatch:DescribeAlarms"`)
	if a := errs.IAMActionOf(err); a != "cloudwatch:DescribeAlarms" {
		t.Fatalf("IAM action %q", a)
	}
}

func TestCloudWatchMuteLeavesDisabledAlarmAlone(t *testing.T) {
	ctx := context.Background()
	app := uniq(t, "shop")
	name := app + "-disk"
	putFullAlarm(t, name)
	if _, err := cloudwatch.NewFromConfig(testConfig(t)).DisableAlarmActions(ctx, &cloudwatch.DisableAlarmActionsInput{AlarmNames: []string{name}}); err != nil {
		t.Fatal(err)
	}
	r, err := cwAction(t, "cloudwatch.mute-alarm").Run(ctx, invocation(t, tasks.Selector{Type: "cloudwatch:alarm", IDs: []string{name}}, tasks.Values{"alarm": name, "duration": time.Hour}), nil)
	if err != nil || r.Resources[0].Status != tasks.StatusSkipped || len(r.FollowUps) != 0 || callsMentioning("monitoring:DisableAlarmActions", name) != 1 {
		t.Fatalf("%v %+v", err, r)
	}
}
