package emulator

import (
	"cmp"
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// VPCSpec is what SeedVPC creates over the wire: a VPC (kumo) with
// subnets, one route table associated with them whose default route goes
// to a NAT gateway in the first subnet (when NAT), and security groups
// (the front) with ingress rules written "proto:port:cidr", e.g.
// "tcp:22:0.0.0.0/0" or "tcp:443:::/0".
type VPCSpec struct {
	CIDR           string // default 10.0.0.0/16
	Tags           map[string]string
	Subnets        []string // CIDRs, zones us-east-1a, -b…
	NAT            bool
	SecurityGroups []SecurityGroupSpec
}

// SecurityGroupSpec is one security group of a VPCSpec.
type SecurityGroupSpec struct {
	Name    string
	Tags    map[string]string
	Ingress []string
}

// SeededVPC names what SeedVPC created.
type SeededVPC struct {
	VPC, RouteTable, NAT string
	Subnets              []string
	Groups               map[string]string // name -> id
}

func tagSpec(rt ec2types.ResourceType, tags map[string]string) []ec2types.TagSpecification {
	if len(tags) == 0 {
		return nil
	}
	var ts []ec2types.Tag
	for _, k := range sortedKeys(tags) {
		ts = append(ts, ec2types.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	return []ec2types.TagSpecification{{ResourceType: rt, Tags: ts}}
}

// SeedVPC creates spec.
func (s *Server) SeedVPC(ctx context.Context, spec VPCSpec) (SeededVPC, error) {
	c := ec2.NewFromConfig(s.seedConfig())
	out := SeededVPC{Groups: map[string]string{}}
	v, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String(cmp.Or(spec.CIDR, "10.0.0.0/16")), TagSpecifications: tagSpec(ec2types.ResourceTypeVpc, spec.Tags)})
	if err != nil {
		return out, fmt.Errorf("seed vpc: %w", err)
	}
	out.VPC = aws.ToString(v.Vpc.VpcId)
	for i, cidr := range spec.Subnets {
		sn, err := c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: v.Vpc.VpcId, CidrBlock: aws.String(cidr), AvailabilityZone: aws.String(fmt.Sprintf("us-east-1%c", 'a'+i%3))})
		if err != nil {
			return out, fmt.Errorf("seed subnet %s: %w", cidr, err)
		}
		out.Subnets = append(out.Subnets, aws.ToString(sn.Subnet.SubnetId))
	}
	if len(out.Subnets) > 0 {
		rt, err := c.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: v.Vpc.VpcId})
		if err != nil {
			return out, fmt.Errorf("seed route table: %w", err)
		}
		out.RouteTable = aws.ToString(rt.RouteTable.RouteTableId)
		for _, sn := range out.Subnets {
			if _, err := c.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: rt.RouteTable.RouteTableId, SubnetId: aws.String(sn)}); err != nil {
				return out, fmt.Errorf("seed route table association: %w", err)
			}
		}
		if spec.NAT {
			ngw, err := c.CreateNatGateway(ctx, &ec2.CreateNatGatewayInput{SubnetId: aws.String(out.Subnets[0])})
			if err != nil {
				return out, fmt.Errorf("seed nat gateway: %w", err)
			}
			out.NAT = aws.ToString(ngw.NatGateway.NatGatewayId)
			if _, err := c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: rt.RouteTable.RouteTableId, DestinationCidrBlock: aws.String("0.0.0.0/0"), NatGatewayId: ngw.NatGateway.NatGatewayId}); err != nil {
				return out, fmt.Errorf("seed nat route: %w", err)
			}
		}
	}
	for _, g := range spec.SecurityGroups {
		sg, err := c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String(g.Name), Description: aws.String("seeded"), VpcId: v.Vpc.VpcId,
			TagSpecifications: tagSpec(ec2types.ResourceTypeSecurityGroup, g.Tags)})
		if err != nil {
			return out, fmt.Errorf("seed security group %s: %w", g.Name, err)
		}
		out.Groups[g.Name] = aws.ToString(sg.GroupId)
		for _, rule := range g.Ingress {
			proto, rest, _ := strings.Cut(rule, ":")
			port, cidr, _ := strings.Cut(rest, ":")
			n, err := strconv.Atoi(port)
			if err != nil {
				return out, fmt.Errorf("seed rule %q: port: %w", rule, err)
			}
			perm := ec2types.IpPermission{IpProtocol: aws.String(proto)}
			if proto != "-1" {
				perm.FromPort, perm.ToPort = aws.Int32(int32(n)), aws.Int32(int32(n))
			}
			if strings.Contains(cidr, ":") {
				perm.Ipv6Ranges = []ec2types.Ipv6Range{{CidrIpv6: aws.String(cidr)}}
			} else {
				perm.IpRanges = []ec2types.IpRange{{CidrIp: aws.String(cidr)}}
			}
			if _, err := c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: sg.GroupId, IpPermissions: []ec2types.IpPermission{perm}}); err != nil {
				return out, fmt.Errorf("seed rule %q: %w", rule, err)
			}
		}
	}
	return out, nil
}
