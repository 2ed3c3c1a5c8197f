package aws

import (
	"context"
	"fmt"
	"slices"
	"strings"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/tasks"
)

// ECSAPI is the part of the ECS API the ecs.* actions call.
type ECSAPI interface {
	ListClusters(context.Context, *ecs.ListClustersInput, ...func(*ecs.Options)) (*ecs.ListClustersOutput, error)
	ListServices(context.Context, *ecs.ListServicesInput, ...func(*ecs.Options)) (*ecs.ListServicesOutput, error)
	DescribeServices(context.Context, *ecs.DescribeServicesInput, ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error)
	UpdateService(context.Context, *ecs.UpdateServiceInput, ...func(*ecs.Options)) (*ecs.UpdateServiceOutput, error)
	ListTaskDefinitions(context.Context, *ecs.ListTaskDefinitionsInput, ...func(*ecs.Options)) (*ecs.ListTaskDefinitionsOutput, error)
}

var _ ECSAPI = (*ecs.Client)(nil)

// ECSClient builds the client for one invocation's config.
type ECSClient func(awssdk.Config) ECSAPI

// SDKECS is the production ECSClient.
func SDKECS(cfg awssdk.Config) ECSAPI { return ecs.NewFromConfig(cfg) }

// ECSActionsWith are the ecs.* actions with the pace a rollback waits for
// its deployment at.
func ECSActionsWith(newClient ECSClient, pace Pace) []tasks.Action {
	read := []string{"ecs:ListClusters", "ecs:ListServices", "ecs:DescribeServices"}
	return forTarget("ecs:service",
		&stepAction{
			name: "ecs.describe", iam: read, verb: "described", noun: "services",
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				return ecsPlan(ctx, newClient(inv.AWS), inv, "describe", func(s ecstypes.Service) decision {
					return decision{Run: func(context.Context) (string, error) { return ecsDeployments(s), nil }}
				})
			},
		},
		&stepAction{
			name: "ecs.scale", mutating: true, verb: "scaled", noun: "services",
			iam:    append(slices.Clip(read), "ecs:UpdateService"),
			params: []tasks.Param{{Name: "desired", Type: tasks.TypeInt, Required: true, Min: bound(0), Description: "tasks the service should run"}},
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				c := newClient(inv.AWS)
				desired, err := intValue(inv.Values, "desired", -1)
				if err != nil {
					return tasks.Plan{}, nil, err
				}
				n := int32(desired)
				if n < 0 {
					return tasks.Plan{}, nil, errs.E(tasks.ParamOp("desired"), errs.Invalid, "desired is required: how many tasks should the service run?")
				}
				return ecsPlan(ctx, c, inv, "scale", func(s ecstypes.Service) decision {
					if s.DesiredCount == n {
						return decision{Skip: fmt.Sprintf("desired is already %d", n)}
					}
					return decision{Action: fmt.Sprintf("set desired %d -> %d", s.DesiredCount, n), Run: func(ctx context.Context) (string, error) {
						out, err := c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: s.ClusterArn, Service: s.ServiceArn, DesiredCount: awssdk.Int32(n)})
						if err != nil {
							return "", err
						}
						return fmt.Sprintf("desired %d, running %d", out.Service.DesiredCount, out.Service.RunningCount), nil
					}}
				})
			},
		},
		&stepAction{
			name: "ecs.force-deployment", mutating: true, verb: "redeployed", noun: "services",
			iam: append(slices.Clip(read), "ecs:UpdateService"),
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				c := newClient(inv.AWS)
				return ecsPlan(ctx, c, inv, "force new deployment", func(s ecstypes.Service) decision {
					return decision{Run: func(ctx context.Context) (string, error) {
						out, err := c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: s.ClusterArn, Service: s.ServiceArn, ForceNewDeployment: true})
						if err != nil {
							return "", err
						}
						for _, d := range out.Service.Deployments {
							if awssdk.ToString(d.Status) == "PRIMARY" {
								return fmt.Sprintf("deployment %s %s (%s)", awssdk.ToString(d.Id), d.RolloutState, awssdk.ToString(d.TaskDefinition)), nil
							}
						}
						return "new deployment started", nil
					}}
				})
			},
		},
		ecsRollback(newClient, pace, read),
	)
}

func ecsPlan(ctx context.Context, c ECSAPI, inv tasks.Invocation, verb string, decide func(ecstypes.Service) decision) (tasks.Plan, []step, error) {
	svcs, err := selectServices(ctx, c, inv.Target)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	b := planBuilder{verb: verb, noun: "services"}
	for _, s := range svcs {
		b.add(ecsName(s), fmt.Sprintf("desired %d, running %d, pending %d", s.DesiredCount, s.RunningCount, s.PendingCount), decide(s))
	}
	return b.plan(), b.steps, nil
}

// selectServices finds the selected services. Service ARNs name their
// cluster, so an ARN-only selector is one DescribeServices per cluster;
// names and tags need the listing of every cluster's services.
func selectServices(ctx context.Context, c ECSAPI, sel tasks.Selector) ([]ecstypes.Service, error) {
	if err := checkSelector(sel); err != nil {
		return nil, err
	}
	byCluster := map[string][]string{} // cluster ARN or name -> service ARNs
	var clusters []string
	add := func(cluster, svc string) {
		if _, ok := byCluster[cluster]; !ok {
			clusters = append(clusters, cluster)
		}
		byCluster[cluster] = append(byCluster[cluster], svc)
	}
	arnsOnly := len(sel.Names) == 0 && len(sel.Tags) == 0 && len(sel.IDs) > 0
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
	} else {
		cp := ecs.NewListClustersPaginator(c, &ecs.ListClustersInput{MaxResults: awssdk.Int32(100)})
		for cp.HasMorePages() {
			page, err := cp.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("list ecs clusters: %w", err)
			}
			for _, cl := range page.ClusterArns {
				sp := ecs.NewListServicesPaginator(c, &ecs.ListServicesInput{Cluster: awssdk.String(cl), MaxResults: awssdk.Int32(100)})
				for sp.HasMorePages() {
					sv, err := sp.NextPage(ctx)
					if err != nil {
						return nil, fmt.Errorf("list ecs services of %s: %w", cl, err)
					}
					for _, arn := range sv.ServiceArns {
						add(cl, arn)
					}
				}
			}
		}
	}
	var out []ecstypes.Service
	for _, cl := range clusters {
		for chunk := range slices.Chunk(byCluster[cl], 10) {
			d, err := c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: awssdk.String(cl), Services: chunk, Include: []ecstypes.ServiceField{ecstypes.ServiceFieldTags}})
			if err != nil {
				return nil, fmt.Errorf("describe ecs services: %w", err)
			}
			for _, s := range d.Services {
				tags := map[string]string{}
				for _, t := range s.Tags {
					tags[awssdk.ToString(t.Key)] = awssdk.ToString(t.Value)
				}
				// A service name is unique only within its cluster:
				// "CLUSTER/NAME" names it too (as id or name glob).
				arn := awssdk.ToString(s.ServiceArn)
				if selects(sel, awssdk.ToString(s.ServiceName), arn, tags) || selects(sel, ecsName(s), arn, tags) {
					out = append(out, s)
				}
			}
		}
	}
	return out, nil
}

// serviceARNParts splits arn:aws:ecs:REGION:ACCOUNT:service/CLUSTER/NAME.
func serviceARNParts(arn string) (cluster, name string, ok bool) {
	_, rest, found := strings.Cut(arn, ":service/")
	if !found || !strings.HasPrefix(arn, "arn:") {
		return "", "", false
	}
	cluster, name, ok = strings.Cut(rest, "/")
	return cluster, name, ok && cluster != "" && name != ""
}

// ecsName is cluster/service, what operators call a service.
func ecsName(s ecstypes.Service) string {
	cluster := awssdk.ToString(s.ClusterArn)
	if i := strings.LastIndex(cluster, "/"); i >= 0 {
		cluster = cluster[i+1:]
	}
	return cluster + "/" + awssdk.ToString(s.ServiceName)
}

func ecsDeployments(s ecstypes.Service) string {
	parts := []string{fmt.Sprintf("desired %d, running %d, pending %d", s.DesiredCount, s.RunningCount, s.PendingCount)}
	for _, d := range s.Deployments {
		parts = append(parts, fmt.Sprintf("%s %s %s %d/%d (%s)", awssdk.ToString(d.Status), awssdk.ToString(d.Id), d.RolloutState,
			d.RunningCount, d.DesiredCount, awssdk.ToString(d.TaskDefinition)))
	}
	return strings.Join(parts, "; ")
}
