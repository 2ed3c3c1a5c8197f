package digest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/day2bot/day2bot/tasks"
)

// ECS services: up is the running tasks, expected the desired ones. AWS/ECS
// publishes a service's metrics under ClusterName and ServiceName together,
// and a service name is unique only within its cluster, so each member is
// "CLUSTER/SERVICE" with both dimensions stated (members.dims).

// ECSAPI is the ECS calls a digest makes.
type ECSAPI interface {
	ListClusters(ctx context.Context, in *ecs.ListClustersInput, opts ...func(*ecs.Options)) (*ecs.ListClustersOutput, error)
	ListServices(ctx context.Context, in *ecs.ListServicesInput, opts ...func(*ecs.Options)) (*ecs.ListServicesOutput, error)
	DescribeServices(ctx context.Context, in *ecs.DescribeServicesInput, opts ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error)
}

var _ ECSAPI = (*ecs.Client)(nil)

// ecsDescribeBatch is how many services DescribeServices takes at once.
const ecsDescribeBatch = 10

// countServices reads the selected services. Service ARNs name their
// cluster (arn:aws:ecs:REGION:ACCOUNT:service/CLUSTER/NAME), so a selector
// of ARNs alone needs only DescribeServices; names and tags need every
// cluster's service list.
func countServices(ctx context.Context, c ECSAPI, name string, sel tasks.Selector, dims map[string]map[string]string) (ResourceCount, []string, error) {
	rc := ResourceCount{Name: name, Type: sel.Type}
	if len(sel.Tags) == 0 && len(sel.Names) == 0 && len(sel.IDs) == 0 {
		return rc, nil, nil
	}
	byCluster, clusters, err := serviceARNs(ctx, c, sel)
	if err != nil {
		return rc, nil, err
	}
	var ids []string
	for _, cl := range clusters {
		for chunk := range slices.Chunk(byCluster[cl], ecsDescribeBatch) {
			out, err := c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cl), Services: chunk,
				Include: []ecstypes.ServiceField{ecstypes.ServiceFieldTags}})
			if err != nil {
				return rc, ids, fmt.Errorf("describe ecs services: %w", err)
			}
			for _, s := range out.Services {
				if !serviceSelected(sel, s) {
					continue
				}
				cluster, svc := lastPart(aws.ToString(s.ClusterArn)), aws.ToString(s.ServiceName)
				id := cluster + "/" + svc
				ids = append(ids, id)
				dims[id] = map[string]string{"ClusterName": cluster, "ServiceName": svc}
				rc.Up += int(s.RunningCount)
				rc.Expected += int(s.DesiredCount)
				if s.RunningCount < s.DesiredCount && len(rc.Down) < maxDownListed {
					rc.Down = append(rc.Down, fmt.Sprintf("%s %d of %d running", id, s.RunningCount, s.DesiredCount))
				}
			}
		}
	}
	return rc, ids, nil
}

// serviceARNs groups the candidate services by cluster, clusters in the
// order first seen.
func serviceARNs(ctx context.Context, c ECSAPI, sel tasks.Selector) (map[string][]string, []string, error) {
	byCluster := map[string][]string{}
	var clusters []string
	add := func(cluster, svc string) {
		if _, ok := byCluster[cluster]; !ok {
			clusters = append(clusters, cluster)
		}
		byCluster[cluster] = append(byCluster[cluster], svc)
	}
	arnsOnly := len(sel.Names) == 0 && len(sel.Tags) == 0
	for _, id := range sel.IDs {
		if _, _, ok := serviceARNParts(id); !ok {
			arnsOnly = false
		}
	}
	if arnsOnly {
		for _, id := range sel.IDs {
			cluster, _, _ := serviceARNParts(id)
			add(cluster, id)
		}
		return byCluster, clusters, nil
	}
	in := &ecs.ListClustersInput{MaxResults: aws.Int32(100)}
	for {
		page, err := c.ListClusters(ctx, in)
		if err != nil {
			return nil, nil, fmt.Errorf("list ecs clusters: %w", err)
		}
		for _, cl := range page.ClusterArns {
			sin := &ecs.ListServicesInput{Cluster: aws.String(cl), MaxResults: aws.Int32(100)}
			for {
				sv, err := c.ListServices(ctx, sin)
				if err != nil {
					return nil, nil, fmt.Errorf("list ecs services of %s: %w", cl, err)
				}
				for _, arn := range sv.ServiceArns {
					add(cl, arn)
				}
				if aws.ToString(sv.NextToken) == "" {
					break
				}
				sin.NextToken = sv.NextToken
			}
		}
		if aws.ToString(page.NextToken) == "" {
			return byCluster, clusters, nil
		}
		in.NextToken = page.NextToken
	}
}

// serviceSelected applies the selector: ids and names match the service's
// ARN, its name or "CLUSTER/NAME"; every tag must be present.
func serviceSelected(sel tasks.Selector, s ecstypes.Service) bool {
	arn, svc := aws.ToString(s.ServiceArn), aws.ToString(s.ServiceName)
	full := lastPart(aws.ToString(s.ClusterArn)) + "/" + svc
	if refs := append(slices.Clone(sel.IDs), sel.Names...); len(refs) > 0 &&
		!slices.Contains(refs, arn) && !slices.Contains(refs, svc) && !slices.Contains(refs, full) {
		return false
	}
	has := make(map[string]string, len(s.Tags))
	for _, t := range s.Tags {
		has[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	for _, k := range slices.Sorted(maps.Keys(sel.Tags)) {
		if v, ok := has[k]; !ok || v != sel.Tags[k] {
			return false
		}
	}
	return true
}

// serviceARNParts splits arn:aws:ecs:REGION:ACCOUNT:service/CLUSTER/NAME.
// (Old-format ARNs, service/NAME, do not name the cluster.)
func serviceARNParts(arn string) (cluster, name string, ok bool) {
	_, rest, found := strings.Cut(arn, ":service/")
	if !found || !strings.HasPrefix(arn, "arn:") {
		return "", "", false
	}
	cluster, name, ok = strings.Cut(rest, "/")
	return cluster, name, ok && cluster != "" && name != ""
}

// lastPart is what follows the last "/" (a cluster ARN's name).
func lastPart(s string) string { return s[strings.LastIndex(s, "/")+1:] }
