package aws

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/tasks"
)

// ecs.rollback puts a service back on the task definition revision before
// the one it runs (the newest ACTIVE revision of the same family older than
// it), then waits until the new deployment has settled: the only one left,
// COMPLETED, every task running. A deployment that FAILED, or is still
// rolling when the wait runs out, fails that service.

var ecsSettleParam = tasks.Param{Name: "wait", Type: tasks.TypeDuration, Default: "10m", Min: bound(60), Max: bound(3600),
	Description: "longest wait for the rolled-back deployment to settle (completed, every task running)"}

func ecsRollback(newClient ECSClient, pace Pace, read []string) *stepAction {
	return &stepAction{
		name: "ecs.rollback", mutating: true, verb: "rolled back", noun: "services",
		iam:    append(slices.Clip(read), "ecs:ListTaskDefinitions", "ecs:UpdateService"),
		params: []tasks.Param{ecsSettleParam},
		plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
			c := newClient(inv.AWS)
			wait, err := durationValue(inv.Values, "wait", defaultWait)
			if err != nil {
				return tasks.Plan{}, nil, err
			}
			svcs, err := selectServices(ctx, c, inv.Target)
			if err != nil {
				return tasks.Plan{}, nil, err
			}
			b := planBuilder{verb: "roll back", noun: "services"}
			for _, s := range svcs {
				detail := fmt.Sprintf("desired %d, running %d, pending %d", s.DesiredCount, s.RunningCount, s.PendingCount)
				cur := awssdk.ToString(s.TaskDefinition)
				fam, rev, ok := taskDefParts(cur)
				if !ok {
					b.add(ecsName(s), detail, decision{Skip: "runs " + cur + ", which names no revision"})
					continue
				}
				prev, err := previousRevision(ctx, c, fam, rev)
				if err != nil {
					return tasks.Plan{}, nil, err
				}
				if prev == "" {
					b.add(ecsName(s), detail, decision{Skip: fmt.Sprintf("no ACTIVE revision of %s older than %d", fam, rev)})
					continue
				}
				_, prevRev, _ := taskDefParts(prev)
				b.add(ecsName(s), detail, decision{
					Action: fmt.Sprintf("roll back %s:%d -> %s:%d", fam, rev, fam, prevRev),
					Run: func(ctx context.Context) (string, error) {
						out, err := c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: s.ClusterArn, Service: s.ServiceArn, TaskDefinition: awssdk.String(prev)})
						if err != nil {
							return "", err
						}
						id := primaryDeployment(out.Service.Deployments)
						check := func(ctx context.Context) ([]string, error) { return deploymentNotSettled(ctx, c, s, id) }
						if err := pace.waitBack(ctx, wait, 1, 1, check, nil); err != nil {
							var nb *NotBackError
							if errors.As(err, &nb) {
								return "", errs.Wrap("roll back service", errs.Conflict, err, "%s:%d is deployed, but the deployment did not settle within %s: %s",
									fam, prevRev, tasks.FormatDuration(wait), strings.Join(nb.NotBack, "; "))
							}
							return "", err
						}
						return fmt.Sprintf("%s:%d -> %s:%d, deployment %s completed", fam, rev, fam, prevRev, id), nil
					}})
			}
			return b.plan(), b.steps, nil
		},
	}
}

// taskDefParts splits arn:…:task-definition/FAMILY:REV or FAMILY:REV.
func taskDefParts(ref string) (family string, revision int, ok bool) {
	if i := strings.LastIndex(ref, "task-definition/"); i >= 0 {
		ref = ref[i+len("task-definition/"):]
	}
	fam, rev, found := strings.Cut(ref, ":")
	n, err := strconv.Atoi(rev)
	if !found || fam == "" || err != nil || n < 1 {
		return "", 0, false
	}
	return fam, n, true
}

// previousRevision is the ARN of the newest ACTIVE revision of family
// older than rev, "" if there is none. ListTaskDefinitions matches a
// prefix, so other families starting with the same letters are skipped.
func previousRevision(ctx context.Context, c ECSAPI, family string, rev int) (string, error) {
	p := ecs.NewListTaskDefinitionsPaginator(c, &ecs.ListTaskDefinitionsInput{FamilyPrefix: awssdk.String(family),
		Status: ecstypes.TaskDefinitionStatusActive, Sort: ecstypes.SortOrderDesc, MaxResults: awssdk.Int32(100)})
	best, bestRev := "", 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return "", fmt.Errorf("list task definitions of %s: %w", family, err)
		}
		for _, arn := range page.TaskDefinitionArns {
			f, n, ok := taskDefParts(arn)
			if ok && f == family && n < rev && n > bestRev {
				best, bestRev = arn, n
			}
		}
	}
	return best, nil
}

// primaryDeployment is the id of the PRIMARY deployment.
func primaryDeployment(ds []ecstypes.Deployment) string {
	for _, d := range ds {
		if awssdk.ToString(d.Status) == "PRIMARY" {
			return awssdk.ToString(d.Id)
		}
	}
	return ""
}

// deploymentNotSettled reads the service: nothing when deployment id is
// the only one, COMPLETED with every task running; an error when it
// FAILED or was replaced.
func deploymentNotSettled(ctx context.Context, c ECSAPI, s ecstypes.Service, id string) ([]string, error) {
	out, err := c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: s.ClusterArn, Services: []string{awssdk.ToString(s.ServiceArn)}})
	if err != nil {
		return nil, fmt.Errorf("describe ecs service %s: %w", ecsName(s), err)
	}
	if len(out.Services) == 0 {
		return nil, errs.E("check deployment", errs.NotFound, "%s", ecsName(s)+" is gone")
	}
	svc := out.Services[0]
	for _, d := range svc.Deployments {
		if awssdk.ToString(d.Id) != id {
			continue
		}
		switch {
		case d.RolloutState == ecstypes.DeploymentRolloutStateFailed:
			return nil, errs.E("check deployment", errs.Conflict, "deployment %s FAILED: %s", id, cmp.Or(awssdk.ToString(d.RolloutStateReason), "no reason given"))
		case d.RolloutState == ecstypes.DeploymentRolloutStateCompleted && len(svc.Deployments) == 1 && d.RunningCount == d.DesiredCount:
			return nil, nil
		}
		return []string{fmt.Sprintf("%s: deployment %s %s, %d of %d running, %d deployments", ecsName(s), id, d.RolloutState,
			d.RunningCount, d.DesiredCount, len(svc.Deployments))}, nil
	}
	return nil, errs.E("check deployment", errs.Conflict, "deployment %s of %s was replaced by another deployment", id, ecsName(s))
}
