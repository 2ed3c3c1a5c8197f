package aws

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/tasks"
)

// Security group ingress open to the whole internet (0.0.0.0/0 or ::/0):
// list it, and revoke one such rule. The revoke names the group, the
// protocol, a port and the range; the plan shows the exact rule AWS holds
// (its whole port range) and nothing else is touched.

// openRule is one ingress rule open to anywhere.
type openRule struct {
	proto    string // tcp, udp, icmp, -1
	from, to int32
	cidr     string // 0.0.0.0/0 or ::/0
	desc     string
}

func (r openRule) String() string {
	var s string
	switch {
	case r.proto == "-1":
		s = "all traffic"
	case r.from == r.to:
		s = fmt.Sprintf("%s %d", r.proto, r.from)
	case r.proto == "icmp":
		s = "icmp"
	default:
		s = fmt.Sprintf("%s %d-%d", r.proto, r.from, r.to)
	}
	s += " from " + r.cidr
	if r.desc != "" {
		s += " (" + r.desc + ")"
	}
	return s
}

// openRules are the group's ingress rules open to anywhere, one per range.
func openRules(g ec2types.SecurityGroup) []openRule {
	var out []openRule
	for _, p := range g.IpPermissions {
		base := openRule{proto: awssdk.ToString(p.IpProtocol), from: awssdk.ToInt32(p.FromPort), to: awssdk.ToInt32(p.ToPort)}
		for _, r := range p.IpRanges {
			if awssdk.ToString(r.CidrIp) == "0.0.0.0/0" {
				o := base
				o.cidr, o.desc = "0.0.0.0/0", awssdk.ToString(r.Description)
				out = append(out, o)
			}
		}
		for _, r := range p.Ipv6Ranges {
			if awssdk.ToString(r.CidrIpv6) == "::/0" {
				o := base
				o.cidr, o.desc = "::/0", awssdk.ToString(r.Description)
				out = append(out, o)
			}
		}
	}
	return out
}

func rulesText(rs []openRule) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = r.String()
	}
	return strings.Join(s, "; ")
}

func sgLabel(g ec2types.SecurityGroup) string {
	return awssdk.ToString(g.GroupId) + " (" + awssdk.ToString(g.GroupName) + ")"
}

// selectSecurityGroups lists the groups the selector binds; each group's
// tags, as AWS returns them, decide.
func selectSecurityGroups(ctx context.Context, c VPCAPI, sel tasks.Selector) ([]ec2types.SecurityGroup, error) {
	if err := checkSelector(sel); err != nil {
		return nil, err
	}
	in := &ec2.DescribeSecurityGroupsInput{Filters: ec2SelectorFilters(sel), MaxResults: awssdk.Int32(1000)}
	if len(sel.IDs) > 0 {
		in.Filters = append(in.Filters, ec2types.Filter{Name: awssdk.String("group-id"), Values: sel.IDs})
	}
	var out []ec2types.SecurityGroup
	p := ec2.NewDescribeSecurityGroupsPaginator(c, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe security groups: %w", err)
		}
		for _, g := range page.SecurityGroups {
			if sel.Matches(tasks.Candidate{ID: awssdk.ToString(g.GroupId), Name: awssdk.ToString(g.GroupName), Tags: ec2TagMap(g.Tags)}) {
				out = append(out, g)
			}
		}
	}
	return out, nil
}

func securityGroupActions(newClient VPCClient) []tasks.Action {
	read := []string{"ec2:DescribeSecurityGroups"}
	return forTarget("ec2:security-group",
		&stepAction{
			name: "vpc.list-open-ingress", verb: "checked", noun: "security groups", iam: read,
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				groups, err := selectSecurityGroups(ctx, newClient(inv.AWS), inv.Target)
				if err != nil {
					return tasks.Plan{}, nil, err
				}
				b := planBuilder{verb: "check ingress of", noun: "security groups"}
				for _, g := range groups {
					open := openRules(g)
					if len(open) == 0 {
						b.add(sgLabel(g), "", decision{Skip: "no ingress open to 0.0.0.0/0 or ::/0"})
						continue
					}
					b.add(sgLabel(g), awssdk.ToString(g.VpcId), decision{Run: func(context.Context) (string, error) {
						return fmt.Sprintf("%d open to anywhere: %s", len(open), rulesText(open)), nil
					}})
				}
				return b.plan(), b.steps, nil
			},
		},
		&stepAction{
			name: "vpc.revoke-open-ingress", mutating: true, verb: "revoked open ingress of", noun: "security groups",
			iam: append(slices.Clone(read), "ec2:RevokeSecurityGroupIngress"),
			params: []tasks.Param{
				{Name: "group", Type: tasks.TypeString, Required: true, Pattern: `^sg-[0-9a-f]{8,17}$`, Format: "a security group id like sg-0123456789abcdef0",
					Description: "the security group (one of the app's)"},
				{Name: "protocol", Type: tasks.TypeEnum, Required: true, Enum: []string{"tcp", "udp", "icmp", "all"}, Description: "the rule's protocol; all means every protocol"},
				{Name: "port", Type: tasks.TypeInt, Default: "0", Min: bound(0), Max: bound(65535), Description: "a port the rule opens (ignored for all and icmp)"},
				{Name: "cidr", Type: tasks.TypeEnum, Required: true, Enum: []string{"0.0.0.0/0", "::/0"}, Description: "the range open to anywhere: 0.0.0.0/0 (IPv4) or ::/0 (IPv6)"},
			},
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				return revokePlan(ctx, newClient(inv.AWS), inv)
			},
		},
	)
}

func revokePlan(ctx context.Context, c VPCAPI, inv tasks.Invocation) (tasks.Plan, []step, error) {
	var vals [3]string
	for i, k := range []string{"group", "protocol", "cidr"} {
		v, err := stringValue(inv.Values, k, "")
		if err != nil {
			return tasks.Plan{}, nil, err
		}
		if v == "" {
			return tasks.Plan{}, nil, errs.E(tasks.ParamOp(k), errs.Invalid, "group, protocol and cidr are required: which rule to revoke")
		}
		vals[i] = v
	}
	id, proto, cidr := vals[0], vals[1], vals[2]
	port, err := intValue(inv.Values, "port", 0)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	groups, err := selectSecurityGroups(ctx, c, inv.Target)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	gi := slices.IndexFunc(groups, func(g ec2types.SecurityGroup) bool { return awssdk.ToString(g.GroupId) == id })
	if gi < 0 {
		return tasks.Plan{}, nil, errs.E("revoke ingress", errs.NotFound, "%s is not one of the app's security groups (%s)", id, bindingText(inv.Target))
	}
	g := groups[gi]
	open := openRules(g)
	want := proto
	if want == "all" {
		want = "-1"
	}
	ri := slices.IndexFunc(open, func(r openRule) bool {
		if r.proto != want || r.cidr != cidr {
			return false
		}
		return want == "-1" || want == "icmp" || (int32(port) >= r.from && int32(port) <= r.to)
	})
	if ri < 0 {
		what := fmt.Sprintf("%s port %d", proto, port)
		if want == "-1" || want == "icmp" {
			what = proto
		}
		return tasks.Plan{}, nil, errs.E("revoke ingress", errs.NotFound, "%s has no ingress rule for %s from %s; open to anywhere: %s", sgLabel(g), what, cidr, cmp.Or(rulesText(open), "none"))
	}
	r := open[ri]
	rest := slices.Delete(slices.Clone(open), ri, ri+1)
	detail := awssdk.ToString(g.VpcId) + "; still open after: " + cmp.Or(rulesText(rest), "none")
	b := planBuilder{verb: "revoke ingress " + r.String() + " of", noun: "security groups"}
	b.add(sgLabel(g), detail, decision{Action: "revoke ingress " + r.String(), Run: func(ctx context.Context) (string, error) {
		perm := ec2types.IpPermission{IpProtocol: awssdk.String(r.proto)}
		if r.proto != "-1" {
			perm.FromPort, perm.ToPort = awssdk.Int32(r.from), awssdk.Int32(r.to)
		}
		if r.cidr == "::/0" {
			perm.Ipv6Ranges = []ec2types.Ipv6Range{{CidrIpv6: awssdk.String(r.cidr)}}
		} else {
			perm.IpRanges = []ec2types.IpRange{{CidrIp: awssdk.String(r.cidr)}}
		}
		out, err := c.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: g.GroupId, IpPermissions: []ec2types.IpPermission{perm}})
		if err != nil {
			return "", err
		}
		if len(out.UnknownIpPermissions) > 0 {
			return "", errs.E("revoke ingress", errs.NotFound, "%s", "AWS did not find the rule "+r.String()+" any more")
		}
		return "revoked " + r.String(), nil
	}})
	return b.plan(), b.steps, nil
}
