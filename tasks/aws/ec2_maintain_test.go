package aws

import (
	"context"
	"strings"
	"testing"

	"github.com/day2bot/day2bot/tasks"
	"github.com/day2bot/day2bot/tasks/emulator"
)

func ec2Action(t *testing.T, name string) tasks.Action {
	t.Helper()
	return findAction(t, EC2Actions(SDKEC2), name)
}

// Only stopped instances change type; a running one is refused in the
// plan with what to do, one already of the type is skipped, a refused call
// fails its instance only, and another app's instance is never touched.
func TestEC2ChangeTypeStoppedOnly(t *testing.T) {
	ctx := context.Background()
	app, ids := seedApp(t, 4)
	_, foreign := seedApp(t, 1)
	for _, id := range append(ids[1:], foreign...) {
		emu.SetInstanceState(id, "stopped")
	}
	act := ec2Action(t, "ec2.change-type")
	// ids[0] running; ids[1..3] stopped; make ids[3] already t3.large.
	planAndRun(ctx, t, act, tasks.Invocation{AWS: testConfig(t), Values: tasks.Values{"type": "t3.large"},
		Target: tasks.Selector{Type: "ec2:instance", IDs: []string{ids[3]}, Tags: map[string]string{"app": app}}})

	inv := ec2Inv(t, app, tasks.Values{"type": "t3.large"})
	p, err := act.Plan(ctx, inv)
	if err != nil {
		t.Fatal(err)
	}
	if p.Summary != "change type to t3.large of 2 of 4 instances" || p.Changes[0].Action != "skip" ||
		p.Changes[0].Detail != "is running: the type changes only while stopped; stop it first, then start it after" ||
		p.Changes[1].Action != "change type t3.micro -> t3.large" || p.Changes[3].Detail != "is already t3.large" {
		t.Fatalf("plan %q %+v", p.Summary, p.Changes)
	}
	emu.InjectFault("ec2:ModifyInstanceAttribute", emulator.Fault{Status: 400, Code: "Unsupported", Message: "The requested configuration is currently not supported."})
	r, err := act.Run(ctx, inv, nil)
	if err != nil {
		t.Fatal(err)
	}
	assertPlanMatchesRun(t, p, r)
	if r.Failed() != 1 || !strings.Contains(r.Resources[1].Detail, "Unsupported") || r.Resources[2].Detail != "t3.micro -> t3.large (still stopped)" {
		t.Fatalf("run %+v", r.Resources)
	}
	if emu.InstanceType(ids[0]) != "t3.micro" || emu.InstanceType(ids[1]) != "t3.micro" || emu.InstanceType(ids[2]) != "t3.large" {
		t.Fatalf("types %s %s %s", emu.InstanceType(ids[0]), emu.InstanceType(ids[1]), emu.InstanceType(ids[2]))
	}

	// Binding: another app's stopped instance named by id, with the app's
	// tag also required, is not planned.
	sel := tasks.Selector{Type: "ec2:instance", IDs: foreign, Tags: map[string]string{"app": app}}
	p, err = act.Plan(ctx, tasks.Invocation{AWS: testConfig(t), Target: sel, Values: tasks.Values{"type": "t3.large"}})
	if err != nil || p.Summary != "no instances match the target" || emu.InstanceType(foreign[0]) != "t3.micro" {
		t.Fatalf("foreign: %v %q", err, p.Summary)
	}
}

// The AMI is made without a reboot by default and named after the
// instance, tagged like it; no_reboot=false reboots a running instance
// (the plan says so); a duplicate name fails that instance only.
func TestEC2CreateAMI(t *testing.T) {
	ctx := context.Background()
	app, ids := seedApp(t, 2)
	emu.SetInstanceState(ids[1], "stopping")
	act := ec2Action(t, "ec2.create-ami")
	inv := ec2Inv(t, app, tasks.Values{"label": "before-upgrade"})
	inv.Now = testNow
	p, r := planAndRun(ctx, t, act, inv)
	name := "web-before-upgrade-20261125-2200"
	if p.Changes[0].Action != "create AMI "+name+" without reboot" || p.Changes[1].Detail != "is stopping; an image needs a running or stopped instance" {
		t.Fatalf("plan %+v", p.Changes)
	}
	imgs := emu.ImagesOf(ids[0])
	if len(imgs) != 1 || imgs[0].Name != name || !imgs[0].NoReboot || imgs[0].Tags["app"] != app || imgs[0].Tags["day2bot:source-instance"] != ids[0] ||
		emu.RebootCount(ids[0]) != 0 || r.Resources[0].Detail != imgs[0].ID+" "+name+" pending" {
		t.Fatalf("images %+v, result %+v", imgs, r.Resources)
	}

	// The same name again is refused by AWS; with another label and
	// no_reboot=false the running instance is rebooted for the image.
	_, r = planAndRun(ctx, t, act, inv)
	if r.Failed() != 1 || !strings.Contains(r.Resources[0].Detail, "InvalidAMIName.Duplicate") {
		t.Fatalf("duplicate %+v", r.Resources)
	}
	p, _ = planAndRun(ctx, t, act, ec2Inv(t, app, tasks.Values{"label": "consistent", "no_reboot": false}))
	if !strings.HasPrefix(p.Changes[0].Action, "reboot, then create AMI web-consistent-") || emu.RebootCount(ids[0]) != 1 {
		t.Fatalf("reboot plan %+v, reboots %d", p.Changes, emu.RebootCount(ids[0]))
	}
}
