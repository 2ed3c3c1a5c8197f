package aws

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/tasks"
	"github.com/day2bot/day2bot/tasks/emulator"
)

func TestTargetHealthByTags(t *testing.T) {
	ctx := context.Background()
	app, ids := seedApp(t, 3)
	// 25 groups, so the tag lookup takes two DescribeTags batches; only
	// the ones tagged with this app are selected.
	var arns []string
	for i := range 25 {
		tags := map[string]string{"app": app, "tier": "web"}
		if i%2 == 1 {
			tags["tier"] = "api"
		}
		arn, err := emu.SeedTargetGroup(ctx, emulator.TargetGroup{Name: fmt.Sprintf("tg%d-%d", uniqSeq.Add(1), i), Tags: tags, Targets: ids})
		if err != nil {
			t.Fatal(err)
		}
		arns = append(arns, arn)
	}
	emu.SetInstanceState(ids[1], "stopped")
	emu.SetTargetHealth(arns[0], ids[2], "unhealthy", "Target.FailedHealthChecks", "Health checks failed with these codes: [502]")

	tagsBefore, healthBefore := emu.Count("elasticloadbalancing:DescribeTags"), emu.Count("elasticloadbalancing:DescribeTargetHealth")
	inv := tasks.Invocation{AWS: testConfig(t), Target: tasks.Selector{Type: "elbv2:target-group", Tags: map[string]string{"app": app, "tier": "web"}}}
	res, err := coverIAM(t, ELBv2Actions(SDKELBv2)[0]).Run(ctx, inv, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Summary != "13 target groups: 25 healthy, 1 unhealthy, 13 unused" {
		t.Fatalf("summary %q", res.Summary)
	}
	if n := emu.Count("elasticloadbalancing:DescribeTargetHealth") - healthBefore; n != 13 {
		t.Fatalf("DescribeTargetHealth calls %d", n)
	}
	if n := emu.Count("elasticloadbalancing:DescribeTags") - tagsBefore; n < 2 {
		t.Fatalf("DescribeTags calls %d, want batches of 20", n)
	}
	first := res.Resources[2]
	if !strings.HasSuffix(first.Resource, "/"+ids[2]) || first.Detail != "unhealthy (Target.FailedHealthChecks: Health checks failed with these codes: [502])" {
		t.Fatalf("unhealthy target %+v", first)
	}
	if d := res.Resources[1].Detail; d != "unused (Target.InvalidState: Target is in the stopped state)" {
		t.Fatalf("stopped target %q", d)
	}
}

func TestTargetHealthByNameAndPartialFailure(t *testing.T) {
	ctx := context.Background()
	_, ids := seedApp(t, 1)
	name := fmt.Sprintf("tgn-%d", uniqSeq.Add(1))
	other := fmt.Sprintf("tgn-%d", uniqSeq.Add(1))
	for _, n := range []string{name, other} {
		if _, err := emu.SeedTargetGroup(ctx, emulator.TargetGroup{Name: n, Targets: ids}); err != nil {
			t.Fatal(err)
		}
	}
	inv := tasks.Invocation{AWS: testConfig(t), Target: tasks.Selector{Type: "elbv2:target-group", Names: []string{name, other}}}
	emu.InjectFault("elasticloadbalancing:DescribeTargetHealth", emulator.Fault{Status: 400, Code: "HealthUnavailable", Message: "health is unavailable"})
	res, err := coverIAM(t, ELBv2Actions(SDKELBv2)[0]).Run(ctx, inv, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed() != 1 || res.Resources[0].Resource != name || res.Resources[1].Resource != other+"/"+ids[0] {
		t.Fatalf("result %+v", res)
	}
	if res.Summary != "2 target groups: 1 healthy (1 groups could not be read)" {
		t.Fatalf("summary %q", res.Summary)
	}

	inv.Target.Names = []string{"no-such-group"}
	_, err = coverIAM(t, ELBv2Actions(SDKELBv2)[0]).Run(ctx, inv, nil)
	wantErr(t, err, errs.NotFound, "DescribeTargetGroups on elbv2:target-group names no-such-group: TargetGroupNotFound: One or more target groups not found (HTTP 400 Bad Request)")
}
