package aws

import (
	"context"
	"fmt"
	"strings"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/tasks"
)

// Batched actions wait between batches until the batch is back: a rolling
// restart that sends its batches back to back takes every instance down at
// once. The pieces here are shared by every batched action (EC2 reboots,
// stops and starts today; cache node reboots, patch batches tomorrow): a
// Pace (how often to look, on which clock), the "wait" parameter that
// bounds the wait per task, and waitBack, which polls a check until the
// batch is back or the bound is reached.

// Pace is how batched actions wait for a batch to be back.
type Pace struct {
	// Settle is the wait after acting before the first check: AWS begins a
	// reboot seconds after it answers, and status and load balancer checks
	// lag further, so a check at once would find the batch still "up".
	// 0 means the default, 10s; negative means none.
	Settle time.Duration
	// Poll is the time between checks; 0 means 10s.
	Poll time.Duration
	// Sleep waits d or until ctx is done; nil means a real timer. Tests
	// pass one that advances a clock instead of sleeping.
	Sleep func(ctx context.Context, d time.Duration) error
}

const (
	defaultSettle = 10 * time.Second
	defaultPoll   = 10 * time.Second
	// defaultWait bounds the wait for one batch.
	defaultWait = 10 * time.Minute
)

func (p Pace) settle() time.Duration {
	switch {
	case p.Settle < 0:
		return 0
	case p.Settle == 0:
		return defaultSettle
	}
	return p.Settle
}

func (p Pace) poll() time.Duration {
	if p.Poll <= 0 {
		return defaultPoll
	}
	return p.Poll
}

func (p Pace) sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	if p.Sleep != nil {
		return p.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// waitParam bounds the wait for each batch; a blueprint task may narrow it.
var waitParam = tasks.Param{Name: "wait", Type: tasks.TypeDuration, Default: "10m", Min: bound(60), Max: bound(3600),
	Description: "longest wait for a batch to be back (status checks ok, targets healthy) before the next one"}

// backCheck reports which resources of a batch are not back yet, each
// with why ("i-1: instance status initializing"); none means back.
type backCheck func(ctx context.Context) (notBack []string, err error)

// NotBackError says which batch did not come back within its bound; the
// batches after it were not started. waitBack returns it as the cause of a
// Conflict *errs.Error with the same message.
type NotBackError struct {
	Batch, Batches int
	Wait           time.Duration
	NotBack        []string
}

// Error names the batch, the bound and what was still down.
func (e *NotBackError) Error() string {
	msg := fmt.Sprintf("batch %d of %d was not back within %s (%s)", e.Batch, e.Batches, tasks.FormatDuration(e.Wait), strings.Join(e.NotBack, "; "))
	if e.Batch < e.Batches {
		msg += fmt.Sprintf("; batches %d to %d were not started", e.Batch+1, e.Batches)
	}
	return msg
}

// waitBack polls check (after the pace's settle time, then every poll)
// until the batch is back, the bound is reached (a Conflict error whose
// cause is a *NotBackError) or ctx ends. show reports the wait as
// progress. Elapsed time is the sum of the waits, so an injected Sleep
// makes it exact without a clock.
func (p Pace) waitBack(ctx context.Context, bound time.Duration, batch, batches int, check backCheck, show func(string)) error {
	waited := p.settle()
	if err := p.sleep(ctx, waited); err != nil {
		return err
	}
	for {
		notBack, err := check(ctx)
		if err != nil {
			return err
		}
		if len(notBack) == 0 {
			return nil
		}
		if waited >= bound {
			nb := &NotBackError{Batch: batch, Batches: batches, Wait: bound, NotBack: notBack}
			return errs.Wrap("wait for batch", errs.Conflict, nb, "%s", nb.Error())
		}
		if show != nil {
			show(fmt.Sprintf("waiting for batch %d of %d to be back (%s of %s): %s", batch, batches,
				tasks.FormatDuration(waited), tasks.FormatDuration(bound), strings.Join(notBack, "; ")))
		}
		d := min(p.poll(), bound-waited)
		if err := p.sleep(ctx, d); err != nil {
			return err
		}
		waited += d
	}
}

// ec2Back checks that instances are back: in state want and, when want is
// running, passing both status checks and healthy in every target group
// of the app they are registered in. The groups are listed once.
func ec2Back(c EC2API, elbc ELBv2API, related []tasks.Selector, want string) func(ctx context.Context, ids []string) (backCheck, error) {
	var groups []targetGroup
	listed := false
	return func(ctx context.Context, ids []string) (backCheck, error) {
		if want == "running" && !listed && elbc != nil {
			for _, sel := range related {
				if sel.Type != tgType || sel.Empty() {
					continue
				}
				gs, err := listTargetGroups(ctx, elbc, sel)
				if err != nil {
					return nil, fmt.Errorf("list the app's target groups: %w", err)
				}
				groups = append(groups, gs...)
			}
			listed = true
		}
		return func(ctx context.Context) ([]string, error) {
			notBack, err := instancesNotBack(ctx, c, ids, want)
			if err != nil || want != "running" {
				return notBack, err
			}
			for _, g := range groups {
				nb, err := targetsNotHealthy(ctx, elbc, g, ids)
				if err != nil {
					return nil, err
				}
				notBack = append(notBack, nb...)
			}
			return notBack, nil
		}, nil
	}
}

// instancesNotBack reads DescribeInstanceStatus for ids (all states
// included, so a stopped or pending one is reported, not left out).
func instancesNotBack(ctx context.Context, c EC2API, ids []string, want string) ([]string, error) {
	out, err := c.DescribeInstanceStatus(ctx, &ec2.DescribeInstanceStatusInput{InstanceIds: ids, IncludeAllInstances: awssdk.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("describe instance status: %w", err)
	}
	seen := map[string]bool{}
	var notBack []string
	for _, s := range out.InstanceStatuses {
		id := awssdk.ToString(s.InstanceId)
		seen[id] = true
		state := ""
		if s.InstanceState != nil {
			state = string(s.InstanceState.Name)
		}
		switch {
		case state != want:
			notBack = append(notBack, id+": "+state)
		case want != "running":
		case s.InstanceStatus == nil || s.InstanceStatus.Status != ec2types.SummaryStatusOk:
			notBack = append(notBack, id+": instance status "+summary(s.InstanceStatus))
		case s.SystemStatus == nil || s.SystemStatus.Status != ec2types.SummaryStatusOk:
			notBack = append(notBack, id+": system status "+summary(s.SystemStatus))
		}
	}
	for _, id := range ids {
		if !seen[id] {
			notBack = append(notBack, id+": no status yet")
		}
	}
	return notBack, nil
}

func summary(s *ec2types.InstanceStatusSummary) string {
	if s == nil {
		return "unknown"
	}
	return string(s.Status)
}

// targetsNotHealthy asks g about ids; ids not registered in g are not its
// business.
func targetsNotHealthy(ctx context.Context, c ELBv2API, g targetGroup, ids []string) ([]string, error) {
	in := &elb.DescribeTargetHealthInput{TargetGroupArn: awssdk.String(g.ARN)}
	for _, id := range ids {
		in.Targets = append(in.Targets, elbtypes.TargetDescription{Id: awssdk.String(id)})
	}
	out, err := c.DescribeTargetHealth(ctx, in)
	if err != nil {
		return nil, onResource(g.Name, fmt.Errorf("describe target health of %s: %w", g.Name, err))
	}
	var notBack []string
	for _, d := range out.TargetHealthDescriptions {
		if d.TargetHealth == nil || d.Target == nil {
			continue
		}
		h := d.TargetHealth
		if h.State == elbtypes.TargetHealthStateEnumHealthy || h.Reason == elbtypes.TargetHealthReasonEnumNotRegistered {
			continue
		}
		why := awssdk.ToString(d.Target.Id) + ": target " + string(h.State) + " in " + g.Name
		if h.Reason != "" {
			why += " (" + string(h.Reason) + ")"
		}
		notBack = append(notBack, why)
	}
	return notBack, nil
}
