package aws

import (
	"context"
	"strings"
	"testing"

	"github.com/day2bot/day2bot/tasks"
	"github.com/day2bot/day2bot/tasks/emulator"
)

func govAction(t *testing.T, name string) tasks.Action {
	t.Helper()
	return findAction(t, GovernanceActions(SDKGovernance), name)
}

func TestCloudTrailCheckFindsStoppedAndSingleRegionTrails(t *testing.T) {
	ctx := context.Background()
	app := uniq(t, "gov")
	for _, tr := range []emulator.Trail{
		{Name: app + "-main", MultiRegion: true, Validation: true, Logging: true, Tags: map[string]string{"app": app}},
		{Name: app + "-stopped", Validation: false, Logging: false, Tags: map[string]string{"app": app}},
		{Name: app + "-foreign", Logging: true, Tags: map[string]string{"app": "other"}},
	} {
		if err := emu.SeedTrail(ctx, tr); err != nil {
			t.Fatal(err)
		}
	}
	act := govAction(t, "cloudtrail.check-trails")
	if act.Mutating() {
		t.Fatal("the trail check must be read-only")
	}
	_, r := planAndRun(ctx, t, act, invocation(t, tasks.Selector{Type: "cloudtrail:trail", Tags: map[string]string{"app": app}}, nil))
	if len(r.Resources) != 2 || r.Resources[0].Detail != "logging, multi-region, log file validation on" ||
		r.Resources[1].Detail != "ATTENTION: NOT logging; single-region (events of other regions are not recorded); log file validation off (tampering would go unnoticed)" {
		t.Fatalf("trails %+v", r.Resources)
	}
}

func TestConfigRecorderAndNonCompliantRules(t *testing.T) {
	ctx := context.Background()
	app := uniq(t, "gov")
	emu.SeedConfigRecorder(emulator.ConfigRecorder{Name: app + "-rec", AllSupported: true, Recording: true})
	emu.SeedConfigRecorder(emulator.ConfigRecorder{Name: app + "-off", Recording: false})
	_, r := planAndRun(ctx, t, govAction(t, "config.recorder-status"), invocation(t, tasks.Selector{Type: "config:recorder", Names: []string{app + "-*"}}, nil))
	if len(r.Resources) != 2 || r.Resources[0].Detail != "ATTENTION: NOT recording: changes to resources go unrecorded and rules are not evaluated" ||
		r.Resources[1].Detail != "recording all supported resource types, last status SUCCESS" {
		t.Fatalf("recorders %+v", r.Resources)
	}

	emu.SeedConfigRule(emulator.ConfigRule{Name: app + "-s3-versioning", NonCompliant: []emulator.ConfigResource{{Type: "AWS::S3::Bucket", ID: app + "-logs"}, {Type: "AWS::S3::Bucket", ID: app + "-raw"}},
		Compliant: []emulator.ConfigResource{{Type: "AWS::S3::Bucket", ID: app + "-data"}}})
	emu.SeedConfigRule(emulator.ConfigRule{Name: app + "-encrypted-volumes", Compliant: []emulator.ConfigResource{{Type: "AWS::EC2::Volume", ID: "vol-1"}}})
	emu.SeedConfigRule(emulator.ConfigRule{Name: "other-rule", NonCompliant: []emulator.ConfigResource{{Type: "AWS::S3::Bucket", ID: "x"}}})
	act := govAction(t, "config.noncompliant-rules")
	_, r = planAndRun(ctx, t, act, invocation(t, tasks.Selector{Type: "config:rule", Names: []string{app + "-*"}}, tasks.Values{"limit": int64(1)}))
	if len(r.Resources) != 2 || r.Resources[0].Detail != "ATTENTION: NON_COMPLIANT (first 1): AWS::S3::Bucket "+app+"-logs" || r.Resources[1].Detail != "COMPLIANT" {
		t.Fatalf("rules %+v", r.Resources)
	}
	// Config rule listings carry no tags: a tag binding is refused, not
	// taken to mean every rule.
	if _, err := act.Plan(ctx, invocation(t, tasks.Selector{Type: "config:rule", Tags: map[string]string{"app": app}}, nil)); err == nil || !strings.Contains(err.Error(), "bind the rules by name") {
		t.Fatalf("tag binding: %v", err)
	}
	// AWS refusing a read is an error of the run, with the permission named.
	emu.InjectFault("config:DescribeConfigRules", emulator.Fault{Status: 400, Code: "AccessDeniedException", Message: "not authorized"})
	if _, err := act.Plan(ctx, invocation(t, tasks.Selector{Type: "config:rule", Names: []string{app + "-*"}}, nil)); err == nil || !strings.Contains(err.Error(), "config:DescribeConfigRules") {
		t.Fatalf("denied: %v", err)
	}
}
