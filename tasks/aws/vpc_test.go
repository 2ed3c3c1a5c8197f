package aws

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/tasks"
	"github.com/day2bot/day2bot/tasks/emulator"
)

func vpcAction(t *testing.T, name string) tasks.Action {
	t.Helper()
	return findAction(t, VPCActions(SDKVPC), name)
}

// seedNetwork creates a VPC tagged app with two subnets behind a NAT
// gateway, a web group open on 443 (IPv4 and IPv6) and 22 (IPv4), and a
// closed db group; plus another app's VPC with an open group.
func seedNetwork(t *testing.T, app string) (emulator.SeededVPC, emulator.SeededVPC) {
	t.Helper()
	ctx := context.Background()
	tags := map[string]string{"app": app}
	ours, err := emu.SeedVPC(ctx, emulator.VPCSpec{CIDR: "10.1.0.0/16", Tags: tags, Subnets: []string{"10.1.1.0/24", "10.1.2.0/24"}, NAT: true,
		SecurityGroups: []emulator.SecurityGroupSpec{
			{Name: app + "-web", Tags: tags, Ingress: []string{"tcp:443:0.0.0.0/0", "tcp:443:::/0", "tcp:22:0.0.0.0/0", "tcp:8080:10.0.0.0/8"}},
			{Name: app + "-db", Tags: tags, Ingress: []string{"tcp:5432:10.1.0.0/16"}},
		}})
	if err != nil {
		t.Fatal(err)
	}
	other := uniq(t, "other")
	theirs, err := emu.SeedVPC(ctx, emulator.VPCSpec{CIDR: "10.2.0.0/16", Tags: map[string]string{"app": other},
		SecurityGroups: []emulator.SecurityGroupSpec{{Name: other + "-web", Tags: map[string]string{"app": other}, Ingress: []string{"tcp:22:0.0.0.0/0"}}}})
	if err != nil {
		t.Fatal(err)
	}
	return ours, theirs
}

func TestVPCDescribeAndFlowLogs(t *testing.T) {
	ctx := context.Background()
	app := uniq(t, "net")
	ours, _ := seedNetwork(t, app)
	sel := tasks.Selector{Type: "ec2:vpc", Tags: map[string]string{"app": app}}
	_, r := planAndRun(ctx, t, vpcAction(t, "vpc.describe"), invocation(t, sel, nil))
	d := r.Resources[0].Detail
	if len(r.Resources) != 1 || r.Resources[0].Resource != ours.VPC || !strings.HasPrefix(d, "10.1.0.0/16; 2 subnets: "+ours.Subnets[0]+" 10.1.1.0/24 us-east-1a (") ||
		!strings.Contains(d, "route tables: "+ours.RouteTable+" ["+ours.Subnets[0]+", "+ours.Subnets[1]+"]: ") || !strings.Contains(d, "0.0.0.0/0 -> "+ours.NAT) ||
		!strings.Contains(d, "NAT gateways: "+ours.NAT+" available in "+ours.Subnets[0]) || !strings.HasSuffix(d, "flow logs: none") {
		t.Fatalf("describe %+v", r.Resources)
	}

	act := vpcAction(t, "vpc.enable-flow-logs")
	role := "arn:aws:iam::123456789012:role/app-flow-logs"
	inv := invocation(t, sel, tasks.Values{"log_group": "/vpc/" + app, "role_arn": role, "traffic": "REJECT"})
	p, err := act.Plan(ctx, inv)
	if err != nil || p.Changes[0].Action != "send REJECT traffic flow logs to log group /vpc/"+app || len(emu.FlowLogsOf(ours.VPC)) != 0 {
		t.Fatalf("plan %v %+v", err, p.Changes)
	}
	r, err = act.Run(ctx, inv, nil)
	if err != nil {
		t.Fatal(err)
	}
	assertPlanMatchesRun(t, p, r)
	if !slices.Equal(emu.FlowLogsOf(ours.VPC), []string{"/vpc/" + app + " (REJECT)"}) || !strings.HasSuffix(r.Resources[0].Detail, "sends REJECT traffic to /vpc/"+app) {
		t.Fatalf("flow logs %v, result %+v", emu.FlowLogsOf(ours.VPC), r.Resources)
	}
	// Enabled already: skipped, and describe shows it.
	p, _ = planAndRun(ctx, t, act, inv)
	if p.Changes[0].Action != "skip" || !strings.HasPrefix(p.Changes[0].Detail, "already sends flow logs: fl-") {
		t.Fatalf("again %+v", p.Changes)
	}
	// A refused call fails with AWS's reason.
	other := invocation(t, sel, tasks.Values{"log_group": "/vpc/other-" + app, "role_arn": role})
	emu.InjectFault("ec2:CreateFlowLogs", emulator.Fault{Status: 400, Code: "InvalidParameter", Message: "Access denied for LogDestination"})
	_, r = planAndRun(ctx, t, act, other)
	if r.Failed() != 1 || !strings.Contains(r.Resources[0].Detail, "Access denied for LogDestination") {
		t.Fatalf("refused %+v", r.Resources)
	}
}

func TestVPCListAndRevokeOpenIngress(t *testing.T) {
	ctx := context.Background()
	app := uniq(t, "net")
	ours, theirs := seedNetwork(t, app)
	web, db := ours.Groups[app+"-web"], ours.Groups[app+"-db"]
	sel := tasks.Selector{Type: "ec2:security-group", Tags: map[string]string{"app": app}}
	_, r := planAndRun(ctx, t, vpcAction(t, "vpc.list-open-ingress"), invocation(t, sel, nil))
	if len(r.Resources) != 2 || r.Resources[0].Resource != web+" ("+app+"-web)" ||
		r.Resources[0].Detail != "3 open to anywhere: tcp 443 from 0.0.0.0/0; tcp 443 from ::/0; tcp 22 from 0.0.0.0/0" ||
		r.Resources[1].Status != tasks.StatusSkipped || r.Resources[1].Detail != "no ingress open to 0.0.0.0/0 or ::/0" {
		t.Fatalf("list %+v", r.Resources)
	}

	act := vpcAction(t, "vpc.revoke-open-ingress")
	inv := invocation(t, sel, tasks.Values{"group": web, "protocol": "tcp", "port": int64(443), "cidr": "::/0"})
	p, err := act.Plan(ctx, inv)
	if err != nil || len(p.Changes) != 1 || p.Changes[0].Action != "revoke ingress tcp 443 from ::/0" ||
		p.Changes[0].Detail != ours.VPC+"; still open after: tcp 443 from 0.0.0.0/0; tcp 22 from 0.0.0.0/0" || len(emu.SecurityGroupIngress(web)) != 4 {
		t.Fatalf("plan %v %+v", err, p.Changes)
	}
	r, err = act.Run(ctx, inv, nil)
	if err != nil {
		t.Fatal(err)
	}
	assertPlanMatchesRun(t, p, r)
	want := []string{"tcp 22-22 0.0.0.0/0", "tcp 443-443 0.0.0.0/0", "tcp 8080-8080 10.0.0.0/8"}
	if got := emu.SecurityGroupIngress(web); !slices.Equal(got, want) || r.Resources[0].Detail != "revoked tcp 443 from ::/0" {
		t.Fatalf("rules %v, result %+v", got, r.Resources)
	}

	// A rule that is not open to anywhere, or gone, is refused by name.
	_, err = act.Plan(ctx, invocation(t, sel, tasks.Values{"group": db, "protocol": "tcp", "port": int64(5432), "cidr": "0.0.0.0/0"}))
	wantErr(t, err, errs.NotFound, db+" ("+app+"-db) has no ingress rule for tcp port 5432 from 0.0.0.0/0; open to anywhere: none")
	// Binding: another app's group is refused, and its rule stays.
	theirGroup := theirs.Groups[firstKey(theirs.Groups)]
	_, err = act.Plan(ctx, invocation(t, sel, tasks.Values{"group": theirGroup, "protocol": "tcp", "port": int64(22), "cidr": "0.0.0.0/0"}))
	wantErr(t, err, errs.NotFound, theirGroup+" is not one of the app's security groups (ec2:security-group tag app="+app+")")
	if len(emu.SecurityGroupIngress(theirGroup)) != 1 {
		t.Fatal("another app's rule changed")
	}
	// A revoke AWS refuses fails the group with the reason.
	emu.InjectFault("ec2:RevokeSecurityGroupIngress", emulator.Fault{Status: 400, Code: "UnauthorizedOperation", Message: "not authorized"})
	_, r = planAndRun(ctx, t, act, invocation(t, sel, tasks.Values{"group": web, "protocol": "tcp", "port": int64(22), "cidr": "0.0.0.0/0"}))
	if r.Failed() != 1 || len(emu.SecurityGroupIngress(web)) != 3 {
		t.Fatalf("refused revoke %+v", r.Resources)
	}
}

func firstKey(m map[string]string) string {
	for k := range m {
		return k
	}
	return ""
}
