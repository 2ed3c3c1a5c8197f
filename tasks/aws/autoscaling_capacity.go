package aws

import (
	"context"
	"fmt"
	"slices"
	"strings"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/tasks"
)

// Auto Scaling processes and capacity: suspend or resume the group's
// scaling processes (during maintenance, an operator stops the group from
// replacing instances it is working on), and set min, max and desired
// together, checked against each other before anything is sent.

// asgProcesses are the scaling processes, each with what suspending it
// means, in the order operators reach for them.
var asgProcesses = []struct{ name, effect string }{
	{"Launch", "the group launches no instances: no scale-out, no replacements"},
	{"Terminate", "the group terminates no instances: no scale-in, unhealthy ones stay"},
	{"HealthCheck", "instances are no longer marked unhealthy"},
	{"ReplaceUnhealthy", "instances marked unhealthy are not replaced"},
	{"AZRebalance", "instances are not rebalanced across zones"},
	{"AlarmNotification", "scaling policies ignore their CloudWatch alarms"},
	{"ScheduledActions", "scheduled scaling actions are skipped"},
	{"AddToLoadBalancer", "new instances are not registered with the load balancer"},
	{"InstanceRefresh", "instance refreshes pause"},
}

// processParam is the process a task suspends or resumes, or all of them.
func processParam(verb string) tasks.Param {
	names := []string{"all"}
	for _, p := range asgProcesses {
		names = append(names, p.name)
	}
	return tasks.Param{Name: "process", Type: tasks.TypeEnum, Required: true, Enum: names,
		Description: "the scaling process to " + verb + " (Launch, Terminate, HealthCheck, ReplaceUnhealthy, AZRebalance, AlarmNotification, ScheduledActions, AddToLoadBalancer, InstanceRefresh), or all"}
}

// processesOf expands the process parameter.
func processesOf(v tasks.Values) ([]string, error) {
	p, err := stringValue(v, "process", "")
	if err != nil {
		return nil, err
	}
	if p == "" {
		return nil, errs.E(tasks.ParamOp("process"), errs.Invalid, "process is required: which scaling process, or all?")
	}
	if p != "all" {
		return []string{p}, nil
	}
	var all []string
	for _, x := range asgProcesses {
		all = append(all, x.name)
	}
	return all, nil
}

// processEffect says what suspending procs does.
func processEffect(procs []string) string {
	if len(procs) != 1 {
		return "every scaling process stops: the group keeps its instances as they are"
	}
	for _, p := range asgProcesses {
		if p.name == procs[0] {
			return p.effect
		}
	}
	return ""
}

func asgCapacityActions(newClient AutoScalingClient) []tasks.Action {
	read := []string{"autoscaling:DescribeAutoScalingGroups"}
	return forTarget(asgType,
		&stepAction{
			name: "autoscaling.suspend-processes", mutating: true, verb: "suspended processes of", noun: "groups",
			iam: append(slices.Clone(read), "autoscaling:SuspendProcesses"), params: []tasks.Param{processParam("suspend")},
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				return processPlan(ctx, newClient(inv.AWS), inv, true)
			},
		},
		&stepAction{
			name: "autoscaling.resume-processes", mutating: true, verb: "resumed processes of", noun: "groups",
			iam: append(slices.Clone(read), "autoscaling:ResumeProcesses"), params: []tasks.Param{processParam("resume")},
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				return processPlan(ctx, newClient(inv.AWS), inv, false)
			},
		},
		&stepAction{
			name: "autoscaling.set-capacity", mutating: true, verb: "set capacity of", noun: "groups",
			iam: append(slices.Clone(read), "autoscaling:UpdateAutoScalingGroup"),
			params: []tasks.Param{
				{Name: "min", Type: tasks.TypeInt, Required: true, Min: bound(0), Max: bound(1000), Description: "fewest instances the group may run"},
				{Name: "max", Type: tasks.TypeInt, Required: true, Min: bound(0), Max: bound(1000), Description: "most instances the group may run"},
				{Name: "desired", Type: tasks.TypeInt, Required: true, Min: bound(0), Max: bound(1000), Description: "instances the group should run now, between min and max"},
			},
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				return capacityPlan(ctx, newClient(inv.AWS), inv)
			},
		},
	)
}

func groupText(g group) string {
	s := fmt.Sprintf("desired %d (min %d, max %d), %d in service", g.Desired, g.Min, g.Max, g.InService)
	if len(g.Suspended) > 0 {
		s += ", suspended: " + strings.Join(g.Suspended, ", ")
	}
	return s
}

func processPlan(ctx context.Context, c AutoScalingAPI, inv tasks.Invocation, suspend bool) (tasks.Plan, []step, error) {
	procs, err := processesOf(inv.Values)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	groups, err := listGroups(ctx, c, inv.Target)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	verb, none := "resume", "not suspended"
	if suspend {
		verb, none = "suspend", "already suspended"
	}
	label := strings.Join(procs, ", ")
	if len(procs) == len(asgProcesses) {
		label = "every process"
	}
	b := planBuilder{verb: verb + " " + label, noun: "groups"}
	for _, g := range groups {
		var todo []string
		for _, p := range procs {
			if slices.Contains(g.Suspended, p) != suspend {
				todo = append(todo, p)
			}
		}
		if len(todo) == 0 {
			b.add(g.Name, groupText(g), decision{Skip: label + " " + none})
			continue
		}
		detail := groupText(g)
		if suspend {
			detail += "; while suspended, " + processEffect(todo)
		}
		b.add(g.Name, detail, decision{Action: verb + " " + strings.Join(todo, ", "), Run: func(ctx context.Context) (string, error) {
			name := awssdk.String(g.Name)
			var err error
			if suspend {
				_, err = c.SuspendProcesses(ctx, &autoscaling.SuspendProcessesInput{AutoScalingGroupName: name, ScalingProcesses: todo})
			} else {
				_, err = c.ResumeProcesses(ctx, &autoscaling.ResumeProcessesInput{AutoScalingGroupName: name, ScalingProcesses: todo})
			}
			if err != nil {
				return "", err
			}
			now := slices.DeleteFunc(slices.Clone(g.Suspended), func(p string) bool { return slices.Contains(todo, p) })
			if suspend {
				now = append(now, todo...)
				slices.Sort(now)
			}
			if len(now) == 0 {
				return "every process runs", nil
			}
			return "suspended now: " + strings.Join(now, ", "), nil
		}})
	}
	return b.plan(), b.steps, nil
}

func capacityPlan(ctx context.Context, c AutoScalingAPI, inv tasks.Invocation) (tasks.Plan, []step, error) {
	lo, hi, want, err := capacityValues(inv.Values, "group")
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	groups, err := listGroups(ctx, c, inv.Target)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	to := fmt.Sprintf("%d/%d/%d", lo, hi, want)
	b := planBuilder{verb: "set min/max/desired to " + to + " on", noun: "groups"}
	for _, g := range groups {
		from := fmt.Sprintf("%d/%d/%d", g.Min, g.Max, g.Desired)
		if from == to {
			b.add(g.Name, groupText(g), decision{Skip: "already min/max/desired " + to})
			continue
		}
		b.add(g.Name, groupText(g), decision{Action: "set min/max/desired " + from + " -> " + to, Run: func(ctx context.Context) (string, error) {
			if _, err := c.UpdateAutoScalingGroup(ctx, &autoscaling.UpdateAutoScalingGroupInput{AutoScalingGroupName: awssdk.String(g.Name),
				MinSize: awssdk.Int32(int32(lo)), MaxSize: awssdk.Int32(int32(hi)), DesiredCapacity: awssdk.Int32(int32(want))}); err != nil {
				return "", err
			}
			return "min/max/desired " + from + " -> " + to, nil
		}})
	}
	return b.plan(), b.steps, nil
}

// capacityValues reads min, max and desired, all three required, and
// checks them against each other before anything is asked of AWS; what
// names the resource in the message ("group", "node group").
func capacityValues(v tasks.Values, what string) (lo, hi, want int, err error) {
	var n [3]int
	for i, k := range []string{"min", "max", "desired"} {
		if _, ok := v[k]; !ok {
			return 0, 0, 0, errs.E(tasks.ParamOp(k), errs.Invalid, "%s", "min, max and desired are required: the "+what+"'s new bounds and size")
		}
		if n[i], err = intValue(v, k, 0); err != nil {
			return 0, 0, 0, err
		}
	}
	lo, hi, want = n[0], n[1], n[2]
	switch {
	case lo > hi:
		return 0, 0, 0, errs.E("set capacity", errs.Invalid, "min %d is greater than max %d", lo, hi)
	case want < lo || want > hi:
		return 0, 0, 0, errs.E("set capacity", errs.Invalid, "desired %d must be between min %d and max %d", want, lo, hi)
	}
	return lo, hi, want, nil
}
