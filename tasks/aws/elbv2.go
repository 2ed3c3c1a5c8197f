package aws

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/tasks"
)

// ELBv2API is the part of the ELBv2 client the elbv2.* actions call.
type ELBv2API interface {
	DescribeTargetGroups(context.Context, *elb.DescribeTargetGroupsInput, ...func(*elb.Options)) (*elb.DescribeTargetGroupsOutput, error)
	DescribeTags(context.Context, *elb.DescribeTagsInput, ...func(*elb.Options)) (*elb.DescribeTagsOutput, error)
	DescribeTargetHealth(context.Context, *elb.DescribeTargetHealthInput, ...func(*elb.Options)) (*elb.DescribeTargetHealthOutput, error)
	DescribeLoadBalancers(context.Context, *elb.DescribeLoadBalancersInput, ...func(*elb.Options)) (*elb.DescribeLoadBalancersOutput, error)
}

var _ ELBv2API = (*elb.Client)(nil)

// ELBv2Client builds the client for one invocation's config.
type ELBv2Client func(awssdk.Config) ELBv2API

// SDKELBv2 is the production ELBv2Client.
func SDKELBv2(cfg awssdk.Config) ELBv2API { return elb.NewFromConfig(cfg) }

// ELBv2Actions are the elbv2.* actions.
func ELBv2Actions(client ELBv2Client) []tasks.Action {
	return []tasks.Action{&targetHealth{client}}
}

const (
	tgType = "elbv2:target-group"
	// tgMaxGroups bounds one task's target groups.
	tgMaxGroups = 100
	// tagBatch is DescribeTags' limit of ARNs per call.
	tagBatch = 20
)

type targetGroup struct {
	Name, ARN string
	// LBs are the ARNs of the load balancers in front of the group.
	LBs []string
}

// listTargetGroups resolves the selector by the tasks' rules: ids are
// ARNs (exact), names globs, tag values globs. Literal names and ARNs go to
// AWS (which fails the call for one that does not exist); a glob name or
// a tag-only selector lists every group, 400 a page; tags are matched
// with DescribeTags in batches of 20.
func listTargetGroups(ctx context.Context, c ELBv2API, sel tasks.Selector) ([]targetGroup, error) {
	if sel.Type != tgType {
		return nil, fmt.Errorf("select target groups: selector type %q, want %s", sel.Type, tgType)
	}
	if sel.Empty() {
		return nil, errs.E("select target groups", errs.Invalid, "the task's target selects no target groups: bind it by tag, name or ARN")
	}
	var groups []targetGroup
	list := func(in *elb.DescribeTargetGroupsInput) error {
		for p := elb.NewDescribeTargetGroupsPaginator(c, in); p.HasMorePages(); {
			page, err := p.NextPage(ctx)
			if err != nil {
				return fmt.Errorf("describe target groups: %w", err)
			}
			for _, g := range page.TargetGroups {
				tg := targetGroup{Name: awssdk.ToString(g.TargetGroupName), ARN: awssdk.ToString(g.TargetGroupArn), LBs: g.LoadBalancerArns}
				// Names and ids by the selection rules, whatever AWS
				// was asked.
				if selects(tasks.Selector{IDs: sel.IDs, Names: sel.Names}, tg.Name, tg.ARN, nil) {
					groups = append(groups, tg)
				}
			}
		}
		return nil
	}
	// AWS takes names or ARNs in one call, never both.
	var err error
	switch literal := !slices.ContainsFunc(sel.Names, tasks.HasGlob); {
	case !literal || (len(sel.IDs) == 0 && len(sel.Names) == 0):
		err = list(&elb.DescribeTargetGroupsInput{PageSize: awssdk.Int32(400)})
	case len(sel.IDs) > 0 && len(sel.Names) > 0:
		if err = list(&elb.DescribeTargetGroupsInput{TargetGroupArns: sel.IDs}); err == nil {
			err = list(&elb.DescribeTargetGroupsInput{Names: sel.Names})
		}
	case len(sel.IDs) > 0:
		err = list(&elb.DescribeTargetGroupsInput{TargetGroupArns: sel.IDs})
	default:
		err = list(&elb.DescribeTargetGroupsInput{Names: sel.Names})
	}
	if err != nil {
		return nil, err
	}
	if len(sel.Tags) > 0 {
		arns := make([]string, len(groups))
		for i, g := range groups {
			arns[i] = g.ARN
		}
		keep, err := taggedARNs(ctx, c, arns, sel.Tags)
		if err != nil {
			return nil, fmt.Errorf("describe target group tags: %w", err)
		}
		groups = slices.DeleteFunc(groups, func(g targetGroup) bool { return !keep[g.ARN] })
	}
	if len(groups) > tgMaxGroups {
		return nil, errs.E("select target groups", errs.Invalid, "the target selects %d target groups, more than %d; narrow it", len(groups), tgMaxGroups)
	}
	return groups, nil
}

// taggedARNs reports which of arns (load balancers or target groups)
// carry every tag of want with a value its glob matches, asking
// DescribeTags 20 ARNs at a time.
func taggedARNs(ctx context.Context, c ELBv2API, arns []string, want map[string]string) (map[string]bool, error) {
	keep := make(map[string]bool, len(arns))
	for chunk := range slices.Chunk(arns, tagBatch) {
		resp, err := c.DescribeTags(ctx, &elb.DescribeTagsInput{ResourceArns: chunk})
		if err != nil {
			return nil, err
		}
		for _, d := range resp.TagDescriptions {
			m := map[string]string{}
			for _, t := range d.Tags {
				m[awssdk.ToString(t.Key)] = awssdk.ToString(t.Value)
			}
			keep[awssdk.ToString(d.ResourceArn)] = selects(tasks.Selector{Tags: want}, "", "", m)
		}
	}
	return keep, nil
}

type targetHealth struct{ client ELBv2Client }

var _ tasks.Action = (*targetHealth)(nil)

func (a *targetHealth) Name() string          { return "elbv2.target-health" }
func (a *targetHealth) Params() []tasks.Param { return nil }
func (a *targetHealth) Mutating() bool        { return false }
func (a *targetHealth) IAMActions() []string {
	return []string{"elasticloadbalancing:DescribeTags", "elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetHealth"}
}

func (a *targetHealth) Plan(context.Context, tasks.Invocation) (tasks.Plan, error) {
	return tasks.Plan{Summary: "read-only: reports the health of the target groups' targets"}, nil
}

// Run lists every target of every selected group; one resource per
// target ("group/target"), so an unhealthy one is named in the result.
func (a *targetHealth) Run(ctx context.Context, inv tasks.Invocation, progress func(tasks.Progress)) (tasks.Result, error) {
	c := a.client(inv.AWS)
	groups, err := listTargetGroups(ctx, c, inv.Target)
	if err != nil {
		return tasks.Result{}, classifyFor(err, a.IAMActions(), inv.Target)
	}
	var res tasks.Result
	states := map[string]int{}
	for i, g := range groups {
		out, err := c.DescribeTargetHealth(ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: awssdk.String(g.ARN)})
		if err != nil {
			err = ClassifyOn(err, a.IAMActions(), g.Name)
			if awsDenied(err) {
				return res, err
			}
			res.Resources = append(res.Resources, Failure(g.Name, err))
			continue
		}
		if len(out.TargetHealthDescriptions) == 0 {
			res.Resources = append(res.Resources, tasks.ResourceResult{Resource: g.Name, Status: tasks.StatusOK, Detail: "no registered targets"})
		}
		for _, d := range out.TargetHealthDescriptions {
			var state, detail string
			if d.TargetHealth != nil {
				state = string(d.TargetHealth.State)
				detail = state
				if d.TargetHealth.Reason != "" {
					detail += " (" + string(d.TargetHealth.Reason)
					if desc := awssdk.ToString(d.TargetHealth.Description); desc != "" {
						detail += ": " + desc
					}
					detail += ")"
				}
			}
			states[state]++
			var id string
			if d.Target != nil {
				id = awssdk.ToString(d.Target.Id)
			}
			res.Resources = append(res.Resources, tasks.ResourceResult{Resource: g.Name + "/" + id, Status: tasks.StatusOK, Detail: detail})
		}
		if progress != nil {
			progress(tasks.Progress{Done: i + 1, Total: len(groups), Message: g.Name})
		}
	}
	var parts []string
	for _, s := range slices.Sorted(maps.Keys(states)) {
		parts = append(parts, fmt.Sprintf("%d %s", states[s], s))
	}
	res.Summary = fmt.Sprintf("%d target groups", len(groups))
	if len(parts) > 0 {
		res.Summary += ": " + strings.Join(parts, ", ")
	}
	if n := res.Failed(); n > 0 {
		res.Summary += fmt.Sprintf(" (%d groups could not be read)", n)
	}
	return res, nil
}
