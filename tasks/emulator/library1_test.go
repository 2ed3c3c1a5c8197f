package emulator

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	"github.com/aws/smithy-go"
)

func apiCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

// EKS lists page by maxResults; a second update of a node group in flight
// is refused; a version newer than the cluster's is refused.
func TestEKSPagingAndUpdates(t *testing.T) {
	s := New()
	defer s.Close()
	ctx := context.Background()
	var ngs []EKSNodegroup
	for i := range 3 {
		ngs = append(ngs, EKSNodegroup{Name: fmt.Sprintf("ng-%d", i), Version: "1.29", Min: 1, Max: 3, Desired: 1})
	}
	if err := s.SeedEKSCluster(ctx, EKSCluster{Name: "k", Version: "1.30", Nodegroups: ngs}); err != nil {
		t.Fatal(err)
	}
	c := eks.NewFromConfig(s.seedConfig())
	var names []string
	p := eks.NewListNodegroupsPaginator(c, &eks.ListNodegroupsInput{ClusterName: aws.String("k"), MaxResults: aws.Int32(2)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, page.Nodegroups...)
	}
	if fmt.Sprint(names) != "[ng-0 ng-1 ng-2]" || s.Count("eks:ListNodegroups") != 2 {
		t.Fatalf("names %v over %d calls", names, s.Count("eks:ListNodegroups"))
	}
	s.SetEKSUpdateReads("k", "ng-0", 5, false)
	if _, err := c.UpdateNodegroupVersion(ctx, &eks.UpdateNodegroupVersionInput{ClusterName: aws.String("k"), NodegroupName: aws.String("ng-0")}); err != nil {
		t.Fatal(err)
	}
	_, err := c.UpdateNodegroupVersion(ctx, &eks.UpdateNodegroupVersionInput{ClusterName: aws.String("k"), NodegroupName: aws.String("ng-0")})
	if apiCode(err) != "ResourceInUseException" {
		t.Fatalf("second update: %v", err)
	}
	_, err = c.UpdateNodegroupVersion(ctx, &eks.UpdateNodegroupVersionInput{ClusterName: aws.String("k"), NodegroupName: aws.String("ng-1"), Version: aws.String("1.31")})
	if apiCode(err) != "InvalidParameterException" {
		t.Fatalf("newer than the cluster: %v", err)
	}
	if _, err := c.DescribeNodegroup(ctx, &eks.DescribeNodegroupInput{ClusterName: aws.String("k"), NodegroupName: aws.String("nope")}); apiCode(err) != "ResourceNotFoundException" {
		t.Fatalf("missing node group: %v", err)
	}
}

// ElastiCache answers tags by ARN and pages replication groups by Marker.
func TestElastiCacheTagsAndPaging(t *testing.T) {
	s := New()
	defer s.Close()
	ctx := context.Background()
	for i := range 25 {
		if err := s.SeedRedisGroup(ctx, RedisGroup{ID: fmt.Sprintf("rg-%02d", i), Tags: map[string]string{"app": "shop"}}); err != nil {
			t.Fatal(err)
		}
	}
	c := elasticache.NewFromConfig(s.seedConfig())
	n := 0
	p := elasticache.NewDescribeReplicationGroupsPaginator(c, &elasticache.DescribeReplicationGroupsInput{MaxRecords: aws.Int32(20)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n += len(page.ReplicationGroups)
	}
	if n != 25 || s.Count("elasticache:DescribeReplicationGroups") != 2 {
		t.Fatalf("%d groups over %d calls", n, s.Count("elasticache:DescribeReplicationGroups"))
	}
	out, err := c.ListTagsForResource(ctx, &elasticache.ListTagsForResourceInput{ResourceName: aws.String(ecARN + "replicationgroup:rg-03")})
	if err != nil || len(out.TagList) != 1 || aws.ToString(out.TagList[0].Value) != "shop" {
		t.Fatalf("tags %v %+v", err, out)
	}
	if _, err := c.TestFailover(ctx, &elasticache.TestFailoverInput{ReplicationGroupId: aws.String("rg-03"), NodeGroupId: aws.String("0001")}); apiCode(err) != "TestFailoverNotAvailableFault" {
		t.Fatalf("failover without automatic failover: %v", err)
	}
}

// Security groups keep IPv6 ranges, filter by vpc-id and tags, and refuse
// revoking a rule they do not hold.
func TestSecurityGroupsIPv6FiltersAndRevoke(t *testing.T) {
	s := New()
	defer s.Close()
	ctx := context.Background()
	v, err := s.SeedVPC(ctx, VPCSpec{SecurityGroups: []SecurityGroupSpec{
		{Name: "web", Tags: map[string]string{"app": "shop"}, Ingress: []string{"tcp:443:::/0", "tcp:22:0.0.0.0/0"}},
		{Name: "db", Tags: map[string]string{"app": "lab"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	c := ec2.NewFromConfig(s.seedConfig())
	out, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []ec2types.Filter{
		{Name: aws.String("vpc-id"), Values: []string{v.VPC}}, {Name: aws.String("tag:app"), Values: []string{"sh*"}}}})
	if err != nil || len(out.SecurityGroups) != 1 {
		t.Fatalf("describe %v %+v", err, out)
	}
	g := out.SecurityGroups[0]
	if len(g.IpPermissions) != 2 || aws.ToString(g.IpPermissions[0].Ipv6Ranges[0].CidrIpv6) != "::/0" || aws.ToInt32(g.IpPermissions[1].FromPort) != 22 {
		t.Fatalf("permissions %+v", g.IpPermissions)
	}
	_, err = c.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: g.GroupId, IpPermissions: []ec2types.IpPermission{
		{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(80), ToPort: aws.Int32(80), IpRanges: []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}})
	if apiCode(err) != "InvalidPermission.NotFound" {
		t.Fatalf("revoke of a missing rule: %v", err)
	}
}
