package tasks_test

import (
	"encoding/json"
	"maps"
	"slices"
	"testing"

	"github.com/day2bot/day2bot/tasks"
)

func TestTargetTags(t *testing.T) {
	reboot := iamStub{stubAction{"ec2.reboot"}, []string{"ec2:DescribeInstances", "ec2:RebootInstances"}}
	stop := iamStub{stubAction{"ec2.stop"}, []string{"ec2:StopInstances"}}
	rdsReboot := iamStub{stubAction{"rds.reboot"}, []string{"rds:RebootDBInstance"}}
	web := tasks.Selector{Type: "ec2:instance", Tags: map[string]string{"app": "shop", "tier": "web"}}
	tests := []struct {
		name string
		ts   []tasks.Targeted
		want map[string]map[string]string
	}{
		{"one task: its target's tags; reads are not scoped", []tasks.Targeted{{reboot, web}},
			map[string]map[string]string{"ec2:RebootInstances": {"app": "shop", "tier": "web"}}},
		{"two tasks: the tags both select by, with equal values", []tasks.Targeted{
			{reboot, web},
			{reboot, tasks.Selector{Type: "ec2:instance", Tags: map[string]string{"app": "shop", "tier": "worker"}}},
			{stop, web}},
			map[string]map[string]string{"ec2:RebootInstances": {"app": "shop"}, "ec2:StopInstances": {"app": "shop", "tier": "web"}}},
		{"nothing in common: not scoped", []tasks.Targeted{
			{reboot, web},
			{reboot, tasks.Selector{Type: "ec2:instance", Tags: map[string]string{"team": "a"}}}},
			map[string]map[string]string{}},
		{"a target by id: not scoped, whatever comes after", []tasks.Targeted{
			{reboot, tasks.Selector{Type: "ec2:instance", IDs: []string{"i-1"}}},
			{reboot, web}},
			map[string]map[string]string{}},
		{"a target of another type: not scoped", []tasks.Targeted{
			{rdsReboot, tasks.Selector{Type: "rds:db-cluster", Tags: map[string]string{"app": "shop"}}},
			{rdsReboot, tasks.Selector{Type: "rds:db-instance", Tags: map[string]string{"app": "shop"}}}},
			map[string]map[string]string{}},
		{"globs are kept", []tasks.Targeted{{rdsReboot, tasks.Selector{Type: "rds:db-instance", Tags: map[string]string{"app": "shop-*"}}}},
			map[string]map[string]string{"rds:RebootDBInstance": {"app": "shop-*"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tasks.TargetTags(tt.ts)
			if !maps.EqualFunc(got, tt.want, maps.Equal) {
				t.Errorf("TargetTags = %v, want %v", got, tt.want)
			}
		})
	}
}

// The statements of scoped actions carry the condition each service
// documents; exact values are StringEquals, globs StringLike, a $ is
// escaped, and statements with different tag sets get distinct Sids.
func TestIAMPolicyTagConditions(t *testing.T) {
	got, err := tasks.IAMPolicyScoped([]tasks.Action{
		iamStub{stubAction{"ec2.reboot"}, []string{"ec2:DescribeInstances", "ec2:RebootInstances"}},
		iamStub{stubAction{"ec2.stop"}, []string{"ec2:StopInstances"}},
		iamStub{stubAction{"rds.reboot"}, []string{"rds:RebootDBInstance"}},
		iamStub{stubAction{"asg.capacity"}, []string{"autoscaling:SetDesiredCapacity"}},
		iamStub{stubAction{"s3.policy"}, []string{"s3:PutBucketPolicy"}},
	}, tasks.Scope{Region: "eu-west-1", Tags: map[string]map[string]string{
		"ec2:RebootInstances":            {"app": "shop", "tier": "web"},
		"ec2:StopInstances":              {"app": "shop"},
		"rds:RebootDBInstance":           {"app": "shop", "db": "main-*"},
		"autoscaling:SetDesiredCapacity": {"app": "co$t"},
		"s3:PutBucketPolicy":             {"app": "shop"}, // S3 is not scoped by tag
	}})
	if err != nil {
		t.Fatal(err)
	}
	var doc tasks.PolicyDocument
	if err := json.Unmarshal(got, &doc); err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		actions   []string
		condition map[string]map[string]string
	}{
		"Day2botEc2":                 {[]string{"ec2:DescribeInstances"}, nil},
		"Day2botEc2InstancesTagged":  {[]string{"ec2:StopInstances"}, map[string]map[string]string{"StringEquals": {"aws:ResourceTag/app": "shop"}}},
		"Day2botEc2InstancesTagged2": {[]string{"ec2:RebootInstances"}, map[string]map[string]string{"StringEquals": {"aws:ResourceTag/app": "shop", "aws:ResourceTag/tier": "web"}}},
		"Day2botRdsDatabasesTagged": {[]string{"rds:RebootDBInstance"}, map[string]map[string]string{
			"StringEquals": {"rds:db-tag/app": "shop"}, "StringLike": {"rds:db-tag/db": "main-*"}}},
		"Day2botAutoscalingGroupsTagged": {[]string{"autoscaling:SetDesiredCapacity"}, map[string]map[string]string{
			"StringEquals": {"autoscaling:ResourceTag/app": "co${$}t"}}},
		"Day2botS3Buckets": {[]string{"s3:PutBucketPolicy"}, nil},
	}
	if len(doc.Statement) != len(want) {
		t.Fatalf("%d statements, want %d:\n%s", len(doc.Statement), len(want), got)
	}
	for _, st := range doc.Statement {
		w, ok := want[st.Sid]
		if !ok {
			t.Errorf("unexpected statement %s:\n%s", st.Sid, got)
			continue
		}
		if !slices.Equal(st.Action, w.actions) || !maps.EqualFunc(st.Condition, w.condition, maps.Equal) {
			t.Errorf("%s: actions %v condition %v, want %v %v", st.Sid, st.Action, st.Condition, w.actions, w.condition)
		}
	}
}
