package aws

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/tasks"
)

// VPCAPI is the part of the EC2 API the vpc.* actions call.
type VPCAPI interface {
	DescribeVpcs(context.Context, *ec2.DescribeVpcsInput, ...func(*ec2.Options)) (*ec2.DescribeVpcsOutput, error)
	DescribeSubnets(context.Context, *ec2.DescribeSubnetsInput, ...func(*ec2.Options)) (*ec2.DescribeSubnetsOutput, error)
	DescribeRouteTables(context.Context, *ec2.DescribeRouteTablesInput, ...func(*ec2.Options)) (*ec2.DescribeRouteTablesOutput, error)
	DescribeNatGateways(context.Context, *ec2.DescribeNatGatewaysInput, ...func(*ec2.Options)) (*ec2.DescribeNatGatewaysOutput, error)
	DescribeFlowLogs(context.Context, *ec2.DescribeFlowLogsInput, ...func(*ec2.Options)) (*ec2.DescribeFlowLogsOutput, error)
	CreateFlowLogs(context.Context, *ec2.CreateFlowLogsInput, ...func(*ec2.Options)) (*ec2.CreateFlowLogsOutput, error)
	DescribeSecurityGroups(context.Context, *ec2.DescribeSecurityGroupsInput, ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error)
	RevokeSecurityGroupIngress(context.Context, *ec2.RevokeSecurityGroupIngressInput, ...func(*ec2.Options)) (*ec2.RevokeSecurityGroupIngressOutput, error)
}

var _ VPCAPI = (*ec2.Client)(nil)

// VPCClient builds the client for one invocation's config.
type VPCClient func(awssdk.Config) VPCAPI

// SDKVPC is the production VPCClient.
func SDKVPC(cfg awssdk.Config) VPCAPI { return ec2.NewFromConfig(cfg) }

// VPCActions returns the vpc.* actions.
func VPCActions(newClient VPCClient) []tasks.Action {
	return append(forTarget("ec2:vpc",
		&stepAction{
			name: "vpc.describe", verb: "described", noun: "VPCs",
			iam: []string{"ec2:DescribeVpcs", "ec2:DescribeSubnets", "ec2:DescribeRouteTables", "ec2:DescribeNatGateways", "ec2:DescribeFlowLogs"},
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				c := newClient(inv.AWS)
				return vpcPlan(ctx, c, inv, "describe", func(v ec2types.Vpc) decision {
					return decision{Run: func(ctx context.Context) (string, error) { return describeVPC(ctx, c, v) }}
				})
			},
		},
		&stepAction{
			name: "vpc.enable-flow-logs", mutating: true, verb: "enabled flow logs of", noun: "VPCs",
			iam: []string{"ec2:DescribeVpcs", "ec2:DescribeFlowLogs", "ec2:CreateFlowLogs", "iam:PassRole"},
			params: []tasks.Param{
				{Name: "log_group", Type: tasks.TypeString, Default: "vpc-flow-logs", Pattern: `^[.\-_/#A-Za-z0-9]{1,512}$`,
					Format: "a CloudWatch Logs group name: letters, digits and . - _ / #", Description: "the CloudWatch Logs group the flow logs go to (created if missing)"},
				{Name: "role_arn", Type: tasks.TypeString, Required: true, Pattern: flowLogsRolePattern,
					Format: "the ARN of an IAM role whose name contains flow-logs (the only roles day2bot may pass)", Description: "the role VPC Flow Logs writes to CloudWatch Logs with"},
				{Name: "traffic", Type: tasks.TypeEnum, Default: "ALL", Enum: []string{"ALL", "ACCEPT", "REJECT"}, Description: "which traffic is logged: all, accepted or rejected"},
			},
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				return flowLogsPlan(ctx, newClient(inv.AWS), inv)
			},
		},
	), securityGroupActions(newClient)...)
}

// flowLogsRolePattern admits role ARNs whose name contains flow-logs,
// matching the iam:PassRole resource the generated policy allows.
const flowLogsRolePattern = `^arn:aws[a-z-]*:iam::[0-9]{12}:role/([A-Za-z0-9+=,.@_-]+/)*[A-Za-z0-9+=,.@_-]*flow-logs[A-Za-z0-9+=,.@_-]*$`

// ec2SelectorFilters turns a selector's tags into EC2 tag filters; the
// results are still checked against the binding (servers differ in what
// filters they honour).
func ec2SelectorFilters(sel tasks.Selector) []ec2types.Filter {
	var fs []ec2types.Filter
	for _, k := range slices.Sorted(maps.Keys(sel.Tags)) {
		fs = append(fs, ec2types.Filter{Name: awssdk.String("tag:" + k), Values: []string{sel.Tags[k]}})
	}
	return fs
}

func ec2TagMap(tags []ec2types.Tag) map[string]string {
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[awssdk.ToString(t.Key)] = awssdk.ToString(t.Value)
	}
	return m
}

// selectVPCs lists the VPCs the selector binds, checked tag by tag.
func selectVPCs(ctx context.Context, c VPCAPI, sel tasks.Selector) ([]ec2types.Vpc, error) {
	if err := checkSelector(sel); err != nil {
		return nil, err
	}
	in := &ec2.DescribeVpcsInput{Filters: ec2SelectorFilters(sel)}
	if len(sel.IDs) > 0 {
		in.Filters = append(in.Filters, ec2types.Filter{Name: awssdk.String("vpc-id"), Values: sel.IDs})
	}
	var out []ec2types.Vpc
	p := ec2.NewDescribeVpcsPaginator(c, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe vpcs: %w", err)
		}
		for _, v := range page.Vpcs {
			tags := ec2TagMap(v.Tags)
			if sel.Matches(tasks.Candidate{ID: awssdk.ToString(v.VpcId), Name: tags["Name"], Tags: tags}) {
				out = append(out, v)
			}
		}
	}
	return out, nil
}

func vpcPlan(ctx context.Context, c VPCAPI, inv tasks.Invocation, verb string, decide func(ec2types.Vpc) decision) (tasks.Plan, []step, error) {
	vpcs, err := selectVPCs(ctx, c, inv.Target)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	b := planBuilder{verb: verb, noun: "VPCs"}
	for _, v := range vpcs {
		b.add(awssdk.ToString(v.VpcId), awssdk.ToString(v.CidrBlock), decide(v))
	}
	return b.plan(), b.steps, nil
}

func vpcFilter(id string) []ec2types.Filter {
	return []ec2types.Filter{{Name: awssdk.String("vpc-id"), Values: []string{id}}}
}

func describeVPC(ctx context.Context, c VPCAPI, v ec2types.Vpc) (string, error) {
	id := awssdk.ToString(v.VpcId)
	parts := []string{awssdk.ToString(v.CidrBlock)}
	if awssdk.ToBool(v.IsDefault) {
		parts[0] += " (the default VPC)"
	}
	var subnets []string
	var all []ec2types.Subnet
	sp := ec2.NewDescribeSubnetsPaginator(c, &ec2.DescribeSubnetsInput{Filters: vpcFilter(id)})
	for sp.HasMorePages() {
		page, err := sp.NextPage(ctx)
		if err != nil {
			return "", fmt.Errorf("describe subnets of %s: %w", id, err)
		}
		all = append(all, page.Subnets...)
	}
	slices.SortFunc(all, func(a, b ec2types.Subnet) int {
		return cmp.Compare(awssdk.ToString(a.AvailabilityZone)+awssdk.ToString(a.CidrBlock), awssdk.ToString(b.AvailabilityZone)+awssdk.ToString(b.CidrBlock))
	})
	for _, s := range all {
		if awssdk.ToString(s.VpcId) != id {
			continue
		}
		txt := fmt.Sprintf("%s %s %s (%d addresses free)", awssdk.ToString(s.SubnetId), awssdk.ToString(s.CidrBlock), awssdk.ToString(s.AvailabilityZone), awssdk.ToInt32(s.AvailableIpAddressCount))
		if awssdk.ToBool(s.MapPublicIpOnLaunch) {
			txt += " public IPs on launch"
		}
		subnets = append(subnets, txt)
	}
	parts = append(parts, fmt.Sprintf("%d subnets: %s", len(subnets), cmp.Or(strings.Join(subnets, ", "), "none")))
	var tables []string
	rp := ec2.NewDescribeRouteTablesPaginator(c, &ec2.DescribeRouteTablesInput{Filters: vpcFilter(id)})
	for rp.HasMorePages() {
		page, err := rp.NextPage(ctx)
		if err != nil {
			return "", fmt.Errorf("describe route tables of %s: %w", id, err)
		}
		for _, rt := range page.RouteTables {
			if awssdk.ToString(rt.VpcId) != id {
				continue
			}
			var routes, assoc []string
			for _, r := range rt.Routes {
				target := cmp.Or(awssdk.ToString(r.NatGatewayId)+awssdk.ToString(r.GatewayId)+awssdk.ToString(r.TransitGatewayId)+
					awssdk.ToString(r.VpcPeeringConnectionId)+awssdk.ToString(r.NetworkInterfaceId), "none")
				dest := awssdk.ToString(r.DestinationCidrBlock) + awssdk.ToString(r.DestinationIpv6CidrBlock) + awssdk.ToString(r.DestinationPrefixListId)
				s := dest + " -> " + target
				if r.State == ec2types.RouteStateBlackhole {
					s += " (blackhole)"
				}
				routes = append(routes, s)
			}
			for _, a := range rt.Associations {
				switch {
				case awssdk.ToBool(a.Main):
					assoc = append(assoc, "main")
				case a.SubnetId != nil:
					assoc = append(assoc, awssdk.ToString(a.SubnetId))
				}
			}
			tables = append(tables, fmt.Sprintf("%s [%s]: %s", awssdk.ToString(rt.RouteTableId), strings.Join(assoc, ", "), strings.Join(routes, ", ")))
		}
	}
	parts = append(parts, "route tables: "+cmp.Or(strings.Join(tables, "; "), "none"))
	var nats []string
	np := ec2.NewDescribeNatGatewaysPaginator(c, &ec2.DescribeNatGatewaysInput{Filter: vpcFilter(id)})
	for np.HasMorePages() {
		page, err := np.NextPage(ctx)
		if err != nil {
			return "", fmt.Errorf("describe nat gateways of %s: %w", id, err)
		}
		for _, n := range page.NatGateways {
			if awssdk.ToString(n.VpcId) == id {
				nats = append(nats, fmt.Sprintf("%s %s in %s", awssdk.ToString(n.NatGatewayId), n.State, awssdk.ToString(n.SubnetId)))
			}
		}
	}
	parts = append(parts, "NAT gateways: "+cmp.Or(strings.Join(nats, ", "), "none"))
	flows, err := flowLogsOf(ctx, c, id)
	if err != nil {
		return "", err
	}
	var fl []string
	for _, f := range flows {
		fl = append(fl, flowLogText(f))
	}
	parts = append(parts, "flow logs: "+cmp.Or(strings.Join(fl, ", "), "none"))
	return strings.Join(parts, "; "), nil
}

func flowLogsOf(ctx context.Context, c VPCAPI, resource string) ([]ec2types.FlowLog, error) {
	var out []ec2types.FlowLog
	p := ec2.NewDescribeFlowLogsPaginator(c, &ec2.DescribeFlowLogsInput{Filter: []ec2types.Filter{{Name: awssdk.String("resource-id"), Values: []string{resource}}}})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe flow logs of %s: %w", resource, err)
		}
		for _, f := range page.FlowLogs {
			if awssdk.ToString(f.ResourceId) == resource {
				out = append(out, f)
			}
		}
	}
	return out, nil
}

func flowLogText(f ec2types.FlowLog) string {
	dest := awssdk.ToString(f.LogGroupName)
	if dest == "" {
		dest = awssdk.ToString(f.LogDestination)
	}
	return fmt.Sprintf("%s %s to %s (%s)", awssdk.ToString(f.FlowLogId), f.TrafficType, dest, awssdk.ToString(f.FlowLogStatus))
}

func flowLogsPlan(ctx context.Context, c VPCAPI, inv tasks.Invocation) (tasks.Plan, []step, error) {
	group, err := stringValue(inv.Values, "log_group", "vpc-flow-logs")
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	role, err := stringValue(inv.Values, "role_arn", "")
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	if role == "" {
		return tasks.Plan{}, nil, errs.E(tasks.ParamOp("role_arn"), errs.Invalid, "role_arn is required: the role VPC Flow Logs writes to CloudWatch Logs with")
	}
	traffic, err := stringValue(inv.Values, "traffic", "ALL")
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	verb := fmt.Sprintf("send %s traffic flow logs to log group %s from", traffic, group)
	vpcs, err := selectVPCs(ctx, c, inv.Target)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	b := planBuilder{verb: verb, noun: "VPCs"}
	for _, v := range vpcs {
		id := awssdk.ToString(v.VpcId)
		flows, err := flowLogsOf(ctx, c, id)
		if err != nil {
			return tasks.Plan{}, nil, err
		}
		i := slices.IndexFunc(flows, func(f ec2types.FlowLog) bool {
			return awssdk.ToString(f.LogGroupName) == group && (string(f.TrafficType) == traffic || f.TrafficType == ec2types.TrafficTypeAll)
		})
		if i >= 0 {
			b.add(id, awssdk.ToString(v.CidrBlock), decision{Skip: "already sends flow logs: " + flowLogText(flows[i])})
			continue
		}
		b.add(id, awssdk.ToString(v.CidrBlock), decision{Action: fmt.Sprintf("send %s traffic flow logs to log group %s", traffic, group), Run: func(ctx context.Context) (string, error) {
			out, err := c.CreateFlowLogs(ctx, &ec2.CreateFlowLogsInput{ResourceIds: []string{id}, ResourceType: ec2types.FlowLogsResourceTypeVpc,
				TrafficType: ec2types.TrafficType(traffic), LogDestinationType: ec2types.LogDestinationTypeCloudWatchLogs,
				LogGroupName: awssdk.String(group), DeliverLogsPermissionArn: awssdk.String(role)})
			if err != nil {
				return "", err
			}
			if len(out.Unsuccessful) > 0 {
				u := out.Unsuccessful[0]
				if u.Error != nil {
					return "", errs.E("create flow log", codeKind(awssdk.ToString(u.Error.Code), awssdk.ToString(u.Error.Message)), "flow logs refused: %s: %s", awssdk.ToString(u.Error.Code), awssdk.ToString(u.Error.Message))
				}
			}
			return fmt.Sprintf("flow log %s sends %s traffic to %s", strings.Join(out.FlowLogIds, ", "), traffic, group), nil
		}})
	}
	return b.plan(), b.steps, nil
}
