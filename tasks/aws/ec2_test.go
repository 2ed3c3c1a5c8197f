package aws

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/tasks"
	"github.com/day2bot/day2bot/tasks/emulator"
)

// seedApp launches n instances tagged app=<unique> and returns the app tag
// value and the ids.
func seedApp(t *testing.T, n int) (string, []string) {
	t.Helper()
	app := uniq(t, "app")
	ids, err := emu.SeedInstances(context.Background(), n, emulator.InstanceSpec{Tags: map[string]string{"app": app, "Name": "web"}})
	if err != nil {
		t.Fatal(err)
	}
	return app, ids
}

func ec2Inv(t *testing.T, app string, vals tasks.Values) tasks.Invocation {
	return tasks.Invocation{AWS: testConfig(t), Target: tasks.Selector{Type: "ec2:instance", Tags: map[string]string{"app": app}}, Values: vals}
}

// form decodes a recorded ec2Query request body.
func form(t *testing.T, r emulator.Request) url.Values {
	t.Helper()
	v, err := url.ParseQuery(string(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// requestsSince returns the calls of op recorded after the first n.
func requestsSince(op string, n int) []emulator.Request { return emu.Requests(op)[n:] }

func resourcesWith(rs []tasks.ResourceResult, s tasks.Status) []string {
	var out []string
	for _, r := range rs {
		if r.Status == s {
			out = append(out, r.Resource)
		}
	}
	slices.Sort(out)
	return out
}

func TestEC2DescribePagesAndLoadsNoMoreThanAsked(t *testing.T) {
	app, ids := seedApp(t, 2100)
	act := coverIAM(t, NewEC2Describe(SDKEC2))
	ctx := context.Background()

	before := emu.Count("ec2:DescribeInstances")
	res, err := act.Run(ctx, ec2Inv(t, app, tasks.Values{"limit": int64(1500)}), nil)
	if err != nil {
		t.Fatal(err)
	}
	reqs := requestsSince("ec2:DescribeInstances", before)
	if len(res.Resources) != 1500 || len(reqs) != 2 {
		t.Fatalf("got %d resources in %d calls, want 1500 in 2", len(res.Resources), len(reqs))
	}
	first, second := form(t, reqs[0]), form(t, reqs[1])
	if first.Get("MaxResults") != "1000" || second.Get("MaxResults") != "500" || second.Get("NextToken") == "" {
		t.Fatalf("page requests: %v / %v", first, second)
	}
	if first.Get("Filter.1.Name") != "tag:app" || first.Get("Filter.1.Value.1") != app {
		t.Fatalf("selector filter not sent: %v", first)
	}
	if !strings.Contains(res.Summary, "1500 instances: 1500 running") || !strings.Contains(res.Summary, "more may exist") {
		t.Fatalf("summary %q", res.Summary)
	}
	if res.Resources[0].Resource != ids[0] || !strings.Contains(res.Resources[0].Detail, "Name=web app="+app) {
		t.Fatalf("first resource %+v", res.Resources[0])
	}

	before = emu.Count("ec2:DescribeInstances")
	res, err = act.Run(ctx, ec2Inv(t, app, tasks.Values{"limit": int64(10000)}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := resourcesWith(res.Resources, tasks.StatusOK); len(got) != 2100 || emu.Count("ec2:DescribeInstances")-before != 3 {
		t.Fatalf("all: %d resources in %d calls", len(got), emu.Count("ec2:DescribeInstances")-before)
	}
	if strings.Contains(res.Summary, "more") {
		t.Fatalf("summary %q", res.Summary)
	}
}

func TestEC2RebootPlanThenRunAgree(t *testing.T) {
	app, ids := seedApp(t, 5)
	emu.SetInstanceState(ids[4], "stopped")
	act := coverIAM(t, instant(NewEC2Reboot(SDKEC2)))
	inv := ec2Inv(t, app, tasks.Values{"batch": int64(2)})
	ctx := context.Background()

	before := emu.Count("ec2:RebootInstances")
	plan, err := act.Plan(ctx, inv)
	if err != nil {
		t.Fatal(err)
	}
	if emu.Count("ec2:RebootInstances") != before {
		t.Fatal("Plan rebooted something")
	}
	var planned []string
	for _, c := range plan.Changes {
		planned = append(planned, c.Resource)
		if c.Action != "reboot" {
			t.Fatalf("change %+v", c)
		}
	}
	slices.Sort(planned)
	if !slices.Equal(planned, ids[:4]) || plan.Summary != "reboot 4 instances in 2 batches of up to 2; 1 skipped (not running); each batch must be back (status checks ok, targets healthy) before the next starts (at most 10m)" {
		t.Fatalf("plan %q %v", plan.Summary, planned)
	}

	var progress []tasks.Progress
	res, err := act.Run(ctx, inv, func(p tasks.Progress) { progress = append(progress, p) })
	if err != nil {
		t.Fatal(err)
	}
	if got := resourcesWith(res.Resources, tasks.StatusOK); !slices.Equal(got, planned) {
		t.Fatalf("run changed %v, plan said %v", got, planned)
	}
	if got := resourcesWith(res.Resources, tasks.StatusSkipped); !slices.Equal(got, ids[4:]) {
		t.Fatalf("skipped %v", got)
	}
	reqs := requestsSince("ec2:RebootInstances", before)
	if len(reqs) != 2 {
		t.Fatalf("RebootInstances calls = %d, want 2 batches", len(reqs))
	}
	for i, r := range reqs {
		f := form(t, r)
		if got := []string{f.Get("InstanceId.1"), f.Get("InstanceId.2")}; !slices.Equal(got, ids[2*i:2*i+2]) || f.Has("InstanceId.3") {
			t.Fatalf("batch %d sent %v", i, f)
		}
	}
	for _, id := range ids[:4] {
		if emu.RebootCount(id) != 1 {
			t.Fatalf("%s rebooted %d times", id, emu.RebootCount(id))
		}
	}
	if emu.RebootCount(ids[4]) != 0 {
		t.Fatal("stopped instance rebooted")
	}
	if len(progress) != 2 || progress[1] != (tasks.Progress{Done: 4, Total: 4, Message: "rebooted batch 2 of 2"}) {
		t.Fatalf("progress %+v", progress)
	}
	if res.Summary != "rebooted 4 of 5 instances, 1 skipped" {
		t.Fatalf("summary %q", res.Summary)
	}
}

// stopAfterDescribe stops one instance between the action's listing and
// its reboot calls, as a concurrent console user would.
type stopAfterDescribe struct {
	EC2API
	id string
}

func (s stopAfterDescribe) DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, o ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	out, err := s.EC2API.DescribeInstances(ctx, in, o...)
	emu.SetInstanceState(s.id, "stopped")
	return out, err
}

func TestEC2RebootPartialFailure(t *testing.T) {
	app, ids := seedApp(t, 4)
	act := instant(NewEC2Reboot(func(cfg awssdk.Config) EC2API { return stopAfterDescribe{SDKEC2(cfg), ids[1]} }))
	before := emu.Count("ec2:RebootInstances")
	res, err := act.Run(context.Background(), ec2Inv(t, app, tasks.Values{"batch": int64(2)}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed() != 1 || res.Summary != "rebooted 3 of 4 instances, 1 failed" {
		t.Fatalf("result %+v", res)
	}
	for _, r := range res.Resources {
		if r.Resource == ids[1] && (r.Status != tasks.StatusFailed || !strings.Contains(r.Detail, "not in a state from which it can be rebooted")) {
			t.Fatalf("failed resource %+v", r)
		}
	}
	// The failed batch did nothing in AWS; its instances were retried alone.
	if n := emu.Count("ec2:RebootInstances") - before; n != 4 {
		t.Fatalf("RebootInstances calls = %d, want 4 (batch, 2 singles, batch)", n)
	}
	if emu.RebootCount(ids[0]) != 1 || emu.RebootCount(ids[1]) != 0 || emu.RebootCount(ids[3]) != 1 {
		t.Fatal("wrong instances rebooted")
	}
}

func TestEC2RebootRetriesThrottling(t *testing.T) {
	app, ids := seedApp(t, 1)
	before := emu.Count("ec2:RebootInstances")
	emu.InjectFault("ec2:RebootInstances", emulator.Fault{Status: 503, Code: "RequestLimitExceeded", Message: "Request limit exceeded."})
	res, err := coverIAM(t, instant(NewEC2Reboot(SDKEC2))).Run(context.Background(), ec2Inv(t, app, nil), nil)
	if err != nil || res.Failed() != 0 {
		t.Fatalf("run: %v %+v", err, res)
	}
	if n := emu.Count("ec2:RebootInstances") - before; n != 2 {
		t.Fatalf("RebootInstances calls = %d, want 2 (throttled, then retried)", n)
	}
	if emu.RebootCount(ids[0]) != 1 {
		t.Fatal("not rebooted")
	}
}

func TestEC2RebootAccessDenied(t *testing.T) {
	app, ids := seedApp(t, 2)
	emu.InjectFault("ec2:RebootInstances", emulator.Fault{Status: 403, Code: "UnauthorizedOperation", Message: "You are not authorized to perform this operation. Encoded authorization failure message: xyz"})
	res, err := coverIAM(t, instant(NewEC2Reboot(SDKEC2))).Run(context.Background(), ec2Inv(t, app, nil), nil)
	wantErr(t, err, errs.Permission, `AWS denied RebootInstances: the app's IAM role needs permission "ec2:RebootInstances"`)
	if a := errs.IAMActionOf(err); a != "ec2:RebootInstances" {
		t.Fatalf("IAM action %q", a)
	}
	if got := resourcesWith(res.Resources, tasks.StatusSkipped); !slices.Equal(got, ids[1:]) {
		t.Fatalf("after denial the rest must not be attempted: %+v", res.Resources)
	}
}

func TestEC2StopThenStart(t *testing.T) {
	app, ids := seedApp(t, 3)
	ctx := context.Background()
	stopBefore, startBefore := emu.Count("ec2:StopInstances"), emu.Count("ec2:StartInstances")
	res, err := coverIAM(t, instant(NewEC2Stop(SDKEC2))).Run(ctx, ec2Inv(t, app, tasks.Values{"batch": int64(3)}), nil)
	if err != nil || res.Summary != "stopped 3 of 3 instances" {
		t.Fatalf("stop: %v %+v", err, res)
	}
	for _, id := range ids {
		if emu.InstanceState(id) != "stopped" {
			t.Fatalf("%s is %s", id, emu.InstanceState(id))
		}
	}
	plan, err := coverIAM(t, instant(NewEC2Stop(SDKEC2))).Plan(ctx, ec2Inv(t, app, nil))
	if err != nil || len(plan.Changes) != 0 {
		t.Fatalf("stopping stopped instances plans %+v %v", plan, err)
	}
	res, err = coverIAM(t, instant(NewEC2Start(SDKEC2))).Run(ctx, ec2Inv(t, app, nil), nil)
	if err != nil || res.Summary != "started 3 of 3 instances" {
		t.Fatalf("start: %v %+v", err, res)
	}
	if emu.Count("ec2:StopInstances")-stopBefore != 1 || emu.Count("ec2:StartInstances")-startBefore != 3 {
		t.Fatalf("calls stop=%d start=%d", emu.Count("ec2:StopInstances")-stopBefore, emu.Count("ec2:StartInstances")-startBefore)
	}
	if emu.InstanceState(ids[2]) != "running" {
		t.Fatal("not started")
	}
}

func TestEC2Selector(t *testing.T) {
	tests := []struct {
		name    string
		sel     tasks.Selector
		want    string // filters as name=values;...
		wantErr string
	}{
		{name: "tags names ids", sel: tasks.Selector{Type: "ec2:instance", Tags: map[string]string{"b": "2", "a": "1"}, Names: []string{"web"}, IDs: []string{"i-1"}},
			want: "tag:a=1;tag:b=2;tag:Name=web;instance-id=i-1"},
		{name: "wrong type", sel: tasks.Selector{Type: "rds:db-instance", IDs: []string{"x"}}, wantErr: "selector type"},
		{name: "empty selects all", sel: tasks.Selector{Type: "ec2:instance"}, wantErr: "selects no instances"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs, err := ec2Filters(tc.sel)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v", err)
				}
				return
			}
			var parts []string
			for _, f := range fs {
				parts = append(parts, *f.Name+"="+strings.Join(f.Values, ","))
			}
			if got := strings.Join(parts, ";"); got != tc.want {
				t.Fatalf("got %s", got)
			}
		})
	}
}

// A digest of 1,000 instances costs one DescribeInstances call.
func TestEC2DescribeThousandInOneCall(t *testing.T) {
	app, _ := seedApp(t, 1000)
	before := emu.Count("ec2:DescribeInstances")
	res, err := coverIAM(t, NewEC2Describe(SDKEC2)).Run(context.Background(), ec2Inv(t, app, nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Resources) != 1000 || emu.Count("ec2:DescribeInstances")-before != 1 || strings.Contains(res.Summary, "more") {
		t.Fatalf("%d instances in %d calls, summary %q", len(res.Resources), emu.Count("ec2:DescribeInstances")-before, res.Summary)
	}
}

// BenchmarkEC2Describe1000 is the AWS side of a digest of a 1,000-instance
// app: one page over HTTP from the emulator, decoded by the SDK.
func BenchmarkEC2Describe1000(b *testing.B) {
	app := fmt.Sprintf("bench-%d", uniqSeq.Add(1))
	if _, err := emu.SeedInstances(context.Background(), 1000, emulator.InstanceSpec{Tags: map[string]string{"app": app}}); err != nil {
		b.Fatal(err)
	}
	act := NewEC2Describe(SDKEC2)
	inv := tasks.Invocation{AWS: testConfig(b), Target: tasks.Selector{Type: "ec2:instance", Tags: map[string]string{"app": app}}}
	b.ResetTimer()
	for b.Loop() {
		if _, err := act.Run(context.Background(), inv, nil); err != nil {
			b.Fatal(err)
		}
	}
}
