package aws

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/tasks"
)

// AutoScalingAPI is the part of the Auto Scaling client the autoscaling.*
// actions call.
type AutoScalingAPI interface {
	DescribeAutoScalingGroups(context.Context, *autoscaling.DescribeAutoScalingGroupsInput, ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error)
	SetDesiredCapacity(context.Context, *autoscaling.SetDesiredCapacityInput, ...func(*autoscaling.Options)) (*autoscaling.SetDesiredCapacityOutput, error)
	StartInstanceRefresh(context.Context, *autoscaling.StartInstanceRefreshInput, ...func(*autoscaling.Options)) (*autoscaling.StartInstanceRefreshOutput, error)
	DescribeInstanceRefreshes(context.Context, *autoscaling.DescribeInstanceRefreshesInput, ...func(*autoscaling.Options)) (*autoscaling.DescribeInstanceRefreshesOutput, error)
	SuspendProcesses(context.Context, *autoscaling.SuspendProcessesInput, ...func(*autoscaling.Options)) (*autoscaling.SuspendProcessesOutput, error)
	ResumeProcesses(context.Context, *autoscaling.ResumeProcessesInput, ...func(*autoscaling.Options)) (*autoscaling.ResumeProcessesOutput, error)
	UpdateAutoScalingGroup(context.Context, *autoscaling.UpdateAutoScalingGroupInput, ...func(*autoscaling.Options)) (*autoscaling.UpdateAutoScalingGroupOutput, error)
}

var _ AutoScalingAPI = (*autoscaling.Client)(nil)

// AutoScalingClient builds the client for one invocation's config.
type AutoScalingClient func(awssdk.Config) AutoScalingAPI

// SDKAutoScaling is the production AutoScalingClient.
func SDKAutoScaling(cfg awssdk.Config) AutoScalingAPI { return autoscaling.NewFromConfig(cfg) }

// AutoScalingActions are the autoscaling.* actions.
func AutoScalingActions(client AutoScalingClient) []tasks.Action {
	return append([]tasks.Action{&asgDescribe{client}, &asgSetDesired{client}, &asgRefresh{client}}, asgCapacityActions(client)...)
}

const (
	asgType = "autoscaling:group"
	// asgMaxGroups bounds what one task acts on or lists; an app with more
	// groups than this needs a narrower binding, not a longer chat message.
	asgMaxGroups = 100
)

// group is what the actions read of an Auto Scaling group.
type group struct {
	Name                         string
	Min, Max, Desired, InService int
	// Healthy are the InService instances Auto Scaling finds healthy.
	Healthy int
	// Suspended are the suspended processes, sorted.
	Suspended []string
}

// listGroups pages through the selected groups (names and ids are both
// group names: groups have no other id), at most asgMaxGroups. Auto
// Scaling matches names and tag filters literally, so only literal ones
// go to AWS; globs are matched here, by the selection rules.
func listGroups(ctx context.Context, c AutoScalingAPI, sel tasks.Selector) ([]group, error) {
	if sel.Type != asgType {
		return nil, fmt.Errorf("select groups: selector type %q, want %s", sel.Type, asgType)
	}
	if sel.Empty() {
		return nil, errs.E("select groups", errs.Invalid, "the task's target selects no Auto Scaling groups: bind it by tag or name")
	}
	in := &autoscaling.DescribeAutoScalingGroupsInput{MaxRecords: awssdk.Int32(100)}
	if !slices.ContainsFunc(sel.Names, tasks.HasGlob) {
		in.AutoScalingGroupNames = append(append(in.AutoScalingGroupNames, sel.Names...), sel.IDs...)
	}
	for _, k := range slices.Sorted(maps.Keys(sel.Tags)) {
		if !tasks.HasGlob(sel.Tags[k]) {
			in.Filters = append(in.Filters, astypes.Filter{Name: awssdk.String("tag:" + k), Values: []string{sel.Tags[k]}})
		}
	}
	var out []group
	for p := autoscaling.NewDescribeAutoScalingGroupsPaginator(c, in); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe auto scaling groups: %w", err)
		}
		for _, g := range page.AutoScalingGroups {
			// Trust the binding, not the server's filter: a group
			// without the app's tags is never the app's.
			tags := map[string]string{}
			for _, t := range g.Tags {
				tags[awssdk.ToString(t.Key)] = awssdk.ToString(t.Value)
			}
			if !sel.Matches(tasks.Candidate{ID: awssdk.ToString(g.AutoScalingGroupName), ARN: awssdk.ToString(g.AutoScalingGroupARN), Tags: tags}) {
				continue
			}
			if len(out) == asgMaxGroups {
				return nil, errs.E("select groups", errs.Invalid, "the target selects more than %d Auto Scaling groups; narrow it", asgMaxGroups)
			}
			gr := group{Name: awssdk.ToString(g.AutoScalingGroupName), Min: int(awssdk.ToInt32(g.MinSize)), Max: int(awssdk.ToInt32(g.MaxSize)), Desired: int(awssdk.ToInt32(g.DesiredCapacity))}
			for _, i := range g.Instances {
				if i.LifecycleState == astypes.LifecycleStateInService {
					gr.InService++
					if awssdk.ToString(i.HealthStatus) == "Healthy" {
						gr.Healthy++
					}
				}
			}
			for _, p := range g.SuspendedProcesses {
				gr.Suspended = append(gr.Suspended, awssdk.ToString(p.ProcessName))
			}
			slices.Sort(gr.Suspended)
			out = append(out, gr)
		}
	}
	return out, nil
}

type asgDescribe struct{ client AutoScalingClient }

var _ tasks.Action = (*asgDescribe)(nil)

func (a *asgDescribe) Name() string          { return "autoscaling.describe" }
func (a *asgDescribe) Params() []tasks.Param { return nil }
func (a *asgDescribe) Mutating() bool        { return false }
func (a *asgDescribe) IAMActions() []string {
	return []string{"autoscaling:DescribeAutoScalingGroups"}
}

func (a *asgDescribe) Plan(context.Context, tasks.Invocation) (tasks.Plan, error) {
	return tasks.Plan{Summary: "read-only: lists the target's Auto Scaling groups"}, nil
}

func (a *asgDescribe) Run(ctx context.Context, inv tasks.Invocation, _ func(tasks.Progress)) (tasks.Result, error) {
	groups, err := listGroups(ctx, a.client(inv.AWS), inv.Target)
	if err != nil {
		return tasks.Result{}, Classify(err, a.IAMActions())
	}
	res := tasks.Result{Summary: fmt.Sprintf("%d Auto Scaling groups", len(groups))}
	for _, g := range groups {
		detail := fmt.Sprintf("desired %d (min %d, max %d), %d in service", g.Desired, g.Min, g.Max, g.InService)
		if len(g.Suspended) > 0 {
			detail += ", suspended: " + strings.Join(g.Suspended, ", ")
		}
		res.Resources = append(res.Resources, tasks.ResourceResult{Resource: g.Name, Status: tasks.StatusOK, Detail: detail})
	}
	return res, nil
}

type asgSetDesired struct{ client AutoScalingClient }

var _ tasks.Action = (*asgSetDesired)(nil)

func (a *asgSetDesired) Name() string { return "autoscaling.set-desired" }
func (a *asgSetDesired) Params() []tasks.Param {
	return []tasks.Param{{Name: "desired", Type: tasks.TypeInt, Description: "desired capacity (also bounded by each group's own min and max)", Required: true, Min: bound(0), Max: bound(1000)}}
}
func (a *asgSetDesired) Mutating() bool { return true }
func (a *asgSetDesired) IAMActions() []string {
	return []string{"autoscaling:DescribeAutoScalingGroups", "autoscaling:SetDesiredCapacity"}
}

// changes checks desired against every group's own bounds: one group out
// of bounds refuses the whole task, before anything changes.
func (a *asgSetDesired) changes(ctx context.Context, inv tasks.Invocation) (desired int, act, same []group, err error) {
	if _, ok := inv.Values["desired"]; !ok {
		return 0, nil, nil, errs.E(tasks.ParamOp("desired"), errs.Invalid, "desired is required")
	}
	desired, err = intValue(inv.Values, "desired", 0)
	if err != nil {
		return 0, nil, nil, err
	}
	groups, err := listGroups(ctx, a.client(inv.AWS), inv.Target)
	if err != nil {
		return 0, nil, nil, Classify(err, a.IAMActions())
	}
	if len(groups) == 0 {
		return 0, nil, nil, errs.E("set desired capacity", errs.NotFound, "the target matches no Auto Scaling groups")
	}
	for _, g := range groups {
		if desired < g.Min || desired > g.Max {
			return 0, nil, nil, errs.E("set desired capacity", errs.Invalid, "desired %d is outside group %s's own bounds: min %d, max %d", desired, g.Name, g.Min, g.Max)
		}
		if g.Desired == desired {
			same = append(same, g)
		} else {
			act = append(act, g)
		}
	}
	return desired, act, same, nil
}

func (a *asgSetDesired) Plan(ctx context.Context, inv tasks.Invocation) (tasks.Plan, error) {
	desired, act, same, err := a.changes(ctx, inv)
	if err != nil {
		return tasks.Plan{}, err
	}
	p := tasks.Plan{Summary: fmt.Sprintf("set desired capacity to %d on %d groups", desired, len(act))}
	if len(same) > 0 {
		p.Summary += fmt.Sprintf("; %d already at %d", len(same), desired)
	}
	for _, g := range act {
		p.Changes = append(p.Changes, tasks.Change{Resource: g.Name, Action: fmt.Sprintf("set desired %d -> %d", g.Desired, desired), Detail: fmt.Sprintf("min %d, max %d, %d in service", g.Min, g.Max, g.InService)})
	}
	return p, nil
}

func (a *asgSetDesired) Run(ctx context.Context, inv tasks.Invocation, progress func(tasks.Progress)) (tasks.Result, error) {
	desired, act, same, err := a.changes(ctx, inv)
	if err != nil {
		return tasks.Result{}, err
	}
	c := a.client(inv.AWS)
	var res tasks.Result
	for _, g := range same {
		res.Resources = append(res.Resources, tasks.ResourceResult{Resource: g.Name, Status: tasks.StatusSkipped, Detail: fmt.Sprintf("already at %d", desired)})
	}
	err = forEachGroup(ctx, act, progress, &res, a.IAMActions(), func(g group) (string, error) {
		_, err := c.SetDesiredCapacity(ctx, &autoscaling.SetDesiredCapacityInput{AutoScalingGroupName: awssdk.String(g.Name), DesiredCapacity: awssdk.Int32(int32(desired))})
		return fmt.Sprintf("desired %d -> %d", g.Desired, desired), err
	})
	res.Summary = Summarize(fmt.Sprintf("set desired capacity to %d on", desired), "groups", res.Resources)
	return res, err
}

// forEachGroup runs op per group, recording per-group results and
// progress. Access denied stops the run (the rest are skipped) and is
// returned when nothing succeeded, so the user sees the permission.
func forEachGroup(ctx context.Context, groups []group, progress func(tasks.Progress), res *tasks.Result, iam []string, op func(group) (string, error)) error {
	var denied error
	ok := 0
	for i, g := range groups {
		if denied != nil || ctx.Err() != nil {
			why := "not attempted: run deadline reached"
			if denied != nil {
				why = "not attempted: access denied"
			}
			res.Resources = append(res.Resources, tasks.ResourceResult{Resource: g.Name, Status: tasks.StatusSkipped, Detail: why})
			continue
		}
		detail, err := op(g)
		if err != nil {
			err = Classify(err, iam)
			if awsDenied(err) {
				denied = err
			}
			res.Resources = append(res.Resources, Failure(g.Name, err))
		} else {
			ok++
			res.Resources = append(res.Resources, tasks.ResourceResult{Resource: g.Name, Status: tasks.StatusOK, Detail: detail})
		}
		if progress != nil {
			progress(tasks.Progress{Done: i + 1, Total: len(groups), Message: g.Name})
		}
	}
	if ok == 0 && denied != nil {
		return denied
	}
	return nil
}

type asgRefresh struct{ client AutoScalingClient }

var _ tasks.Action = (*asgRefresh)(nil)

func (a *asgRefresh) Name() string { return "autoscaling.instance-refresh" }
func (a *asgRefresh) Params() []tasks.Param {
	return []tasks.Param{{Name: "min_healthy", Type: tasks.TypeInt, Description: "percent of capacity kept healthy during the refresh", Default: "90", Min: bound(0), Max: bound(100)}}
}
func (a *asgRefresh) Mutating() bool { return true }
func (a *asgRefresh) IAMActions() []string {
	return []string{"autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeInstanceRefreshes", "autoscaling:StartInstanceRefresh"}
}

// targets lists the groups and splits off those with a refresh already
// running (AWS would refuse a second one).
func (a *asgRefresh) targets(ctx context.Context, c AutoScalingAPI, sel tasks.Selector) (act []group, busy map[string]string, err error) {
	groups, err := listGroups(ctx, c, sel)
	if err != nil {
		return nil, nil, Classify(err, a.IAMActions())
	}
	busy = map[string]string{}
	for _, g := range groups {
		out, err := c.DescribeInstanceRefreshes(ctx, &autoscaling.DescribeInstanceRefreshesInput{AutoScalingGroupName: awssdk.String(g.Name), MaxRecords: awssdk.Int32(1)})
		if err != nil {
			return nil, nil, Classify(fmt.Errorf("describe instance refreshes of %s: %w", g.Name, err), a.IAMActions())
		}
		if len(out.InstanceRefreshes) > 0 {
			r := out.InstanceRefreshes[0]
			switch r.Status {
			case astypes.InstanceRefreshStatusPending, astypes.InstanceRefreshStatusInProgress, astypes.InstanceRefreshStatusCancelling,
				astypes.InstanceRefreshStatusRollbackInProgress, astypes.InstanceRefreshStatusBaking:
				busy[g.Name] = fmt.Sprintf("refresh %s already %s (%d%%)", awssdk.ToString(r.InstanceRefreshId), r.Status, awssdk.ToInt32(r.PercentageComplete))
				continue
			}
		}
		act = append(act, g)
	}
	return act, busy, nil
}

func (a *asgRefresh) Plan(ctx context.Context, inv tasks.Invocation) (tasks.Plan, error) {
	minHealthy, err := intValue(inv.Values, "min_healthy", 90)
	if err != nil {
		return tasks.Plan{}, err
	}
	act, busy, err := a.targets(ctx, a.client(inv.AWS), inv.Target)
	if err != nil {
		return tasks.Plan{}, err
	}
	p := tasks.Plan{Summary: fmt.Sprintf("start an instance refresh on %d groups keeping %d%% healthy", len(act), minHealthy)}
	if len(busy) > 0 {
		p.Summary += fmt.Sprintf("; %d skipped (refresh already running)", len(busy))
	}
	for _, g := range act {
		p.Changes = append(p.Changes, tasks.Change{Resource: g.Name, Action: "instance refresh", Detail: fmt.Sprintf("replaces %d instances, min healthy %d%%", g.InService, minHealthy)})
	}
	return p, nil
}

func (a *asgRefresh) Run(ctx context.Context, inv tasks.Invocation, progress func(tasks.Progress)) (tasks.Result, error) {
	minHealthy, err := intValue(inv.Values, "min_healthy", 90)
	if err != nil {
		return tasks.Result{}, err
	}
	c := a.client(inv.AWS)
	act, busy, err := a.targets(ctx, c, inv.Target)
	if err != nil {
		return tasks.Result{}, err
	}
	var res tasks.Result
	for _, name := range slices.Sorted(maps.Keys(busy)) {
		res.Resources = append(res.Resources, tasks.ResourceResult{Resource: name, Status: tasks.StatusSkipped, Detail: busy[name]})
	}
	err = forEachGroup(ctx, act, progress, &res, a.IAMActions(), func(g group) (string, error) {
		out, err := c.StartInstanceRefresh(ctx, &autoscaling.StartInstanceRefreshInput{
			AutoScalingGroupName: awssdk.String(g.Name),
			Preferences:          &astypes.RefreshPreferences{MinHealthyPercentage: awssdk.Int32(int32(minHealthy))},
		})
		if err != nil {
			return "", err
		}
		return "refresh " + awssdk.ToString(out.InstanceRefreshId) + " started", nil
	})
	res.Summary = Summarize("started an instance refresh on", "groups", res.Resources)
	return res, err
}
