package aws

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/tasks"
)

// SFNAPI is the part of the Step Functions API the sfn.* actions call.
type SFNAPI interface {
	ListStateMachines(context.Context, *sfn.ListStateMachinesInput, ...func(*sfn.Options)) (*sfn.ListStateMachinesOutput, error)
	ListTagsForResource(context.Context, *sfn.ListTagsForResourceInput, ...func(*sfn.Options)) (*sfn.ListTagsForResourceOutput, error)
	ListExecutions(context.Context, *sfn.ListExecutionsInput, ...func(*sfn.Options)) (*sfn.ListExecutionsOutput, error)
	DescribeExecution(context.Context, *sfn.DescribeExecutionInput, ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error)
	StartExecution(context.Context, *sfn.StartExecutionInput, ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error)
	RedriveExecution(context.Context, *sfn.RedriveExecutionInput, ...func(*sfn.Options)) (*sfn.RedriveExecutionOutput, error)
}

var _ SFNAPI = (*sfn.Client)(nil)

// SFNClient builds the client for one invocation's config.
type SFNClient func(awssdk.Config) SFNAPI

// SDKSFN is the production SFNClient.
func SDKSFN(cfg awssdk.Config) SFNAPI { return sfn.NewFromConfig(cfg) }

// failedStatuses are the ends of an execution that did not succeed.
var failedStatuses = []sfntypes.ExecutionStatus{sfntypes.ExecutionStatusFailed, sfntypes.ExecutionStatusTimedOut, sfntypes.ExecutionStatusAborted}

// maxFailedRead caps the failed executions read per status and state
// machine: a storm of failures is summarized, not read to the end.
const maxFailedRead = 1000

// SFNActions returns the sfn.* actions.
func SFNActions(newClient SFNClient) []tasks.Action {
	read := []string{"states:ListStateMachines", "states:ListTagsForResource"}
	windowParam := tasks.Param{Name: "window", Type: tasks.TypeDuration, Default: "24h", Min: bound(15 * 60), Max: bound(14 * 86400),
		Description: "how far back to look for executions that ended"}
	return forTarget("sfn:state-machine",
		&stepAction{
			name: "sfn.failed-executions", verb: "checked", noun: "state machines",
			iam: append(slices.Clone(read), "states:ListExecutions", "states:DescribeExecution"),
			params: []tasks.Param{windowParam, {Name: "show", Type: tasks.TypeInt, Default: "3", Min: bound(0), Max: bound(10),
				Description: "how many of the newest failures to show with their error"}},
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				c := newClient(inv.AWS)
				window, err := durationValue(inv.Values, "window", 24*time.Hour)
				if err != nil {
					return tasks.Plan{}, nil, err
				}
				show, err := intValue(inv.Values, "show", 3)
				if err != nil {
					return tasks.Plan{}, nil, err
				}
				ms, err := selectStateMachines(ctx, c, inv.Target)
				if err != nil {
					return tasks.Plan{}, nil, err
				}
				b := planBuilder{verb: "check", noun: "state machines"}
				for _, m := range ms {
					b.add(awssdk.ToString(m.Name), "", decision{Run: func(ctx context.Context) (string, error) {
						return failureSummary(ctx, c, m, inv.Now.Add(-window), window, show)
					}})
				}
				return b.plan(), b.steps, nil
			},
		},
		&stepAction{
			name: "sfn.redrive", mutating: true, verb: "redrove", noun: "executions",
			iam: append(slices.Clone(read), "states:ListExecutions", "states:DescribeExecution", "states:RedriveExecution"),
			params: []tasks.Param{{Name: "execution", Type: tasks.TypeString, Required: true, Pattern: `^[A-Za-z0-9_.*?-]{1,80}$`,
				Format:      "an execution name, or a pattern such as order-* (* is any run of characters; * alone is every one)",
				Description: "the failed executions to redrive"},
				windowParam,
				{Name: "max", Type: tasks.TypeInt, Default: "10", Min: bound(1), Max: bound(100), Description: "refuse when more executions than this match"}},
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				return redrivePlanSFN(ctx, newClient(inv.AWS), inv)
			},
		},
		&stepAction{
			name: "sfn.restart", mutating: true, verb: "restarted", noun: "executions",
			iam: append(slices.Clone(read), "states:DescribeExecution", "states:StartExecution"),
			params: []tasks.Param{{Name: "execution", Type: tasks.TypeString, Required: true, Pattern: `^[A-Za-z0-9_.-]{1,80}$`,
				Format: "an execution name: up to 80 letters, digits, dots, dashes or underscores", Description: "the execution to start again with the same input"}},
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				return restartPlan(ctx, newClient(inv.AWS), inv)
			},
		},
	)
}

// selectStateMachines lists the account's state machines, keeps the
// candidates the ids and names allow, and reads each one's tags: the tags
// AWS reports decide whether it is the app's.
func selectStateMachines(ctx context.Context, c SFNAPI, sel tasks.Selector) ([]sfntypes.StateMachineListItem, error) {
	if err := checkSelector(sel); err != nil {
		return nil, err
	}
	var out []sfntypes.StateMachineListItem
	p := sfn.NewListStateMachinesPaginator(c, &sfn.ListStateMachinesInput{MaxResults: 1000})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list state machines: %w", err)
		}
		for _, m := range page.StateMachines {
			name, arn := awssdk.ToString(m.Name), awssdk.ToString(m.StateMachineArn)
			if !selects(tasks.Selector{IDs: sel.IDs, Names: sel.Names}, name, arn, nil) {
				continue
			}
			tags, err := c.ListTagsForResource(ctx, &sfn.ListTagsForResourceInput{ResourceArn: m.StateMachineArn})
			if ErrorCode(err) == "ResourceNotFound" {
				continue // deleted since the listing
			}
			if err != nil {
				return nil, fmt.Errorf("list tags of state machine %s: %w", name, err)
			}
			t := map[string]string{}
			for _, tag := range tags.Tags {
				t[awssdk.ToString(tag.Key)] = awssdk.ToString(tag.Value)
			}
			if selects(sel, name, arn, t) {
				out = append(out, m)
			}
		}
	}
	slices.SortFunc(out, func(a, b sfntypes.StateMachineListItem) int {
		return strings.Compare(awssdk.ToString(a.Name), awssdk.ToString(b.Name))
	})
	return out, nil
}

// endedSince lists the executions of m that ended with status since a
// time, newest first (at most maxFailedRead).
func endedSince(ctx context.Context, c SFNAPI, m sfntypes.StateMachineListItem, status sfntypes.ExecutionStatus, since time.Time) ([]sfntypes.ExecutionListItem, error) {
	var out []sfntypes.ExecutionListItem
	p := sfn.NewListExecutionsPaginator(c, &sfn.ListExecutionsInput{StateMachineArn: m.StateMachineArn, StatusFilter: status, MaxResults: 1000})
	for read := 0; p.HasMorePages() && read < maxFailedRead; {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list %s executions of %s: %w", status, awssdk.ToString(m.Name), err)
		}
		for _, e := range page.Executions {
			read++
			if e.StopDate != nil && !e.StopDate.Before(since) {
				out = append(out, e)
			}
		}
	}
	return out, nil
}

// failedSince is endedSince for every failed status, newest end first.
func failedSince(ctx context.Context, c SFNAPI, m sfntypes.StateMachineListItem, since time.Time) (map[sfntypes.ExecutionStatus]int, []sfntypes.ExecutionListItem, error) {
	counts := map[sfntypes.ExecutionStatus]int{}
	var all []sfntypes.ExecutionListItem
	for _, st := range failedStatuses {
		es, err := endedSince(ctx, c, m, st, since)
		if err != nil {
			return nil, nil, err
		}
		counts[st] = len(es)
		all = append(all, es...)
	}
	slices.SortStableFunc(all, func(a, b sfntypes.ExecutionListItem) int { return b.StopDate.Compare(*a.StopDate) })
	return counts, all, nil
}

func failureSummary(ctx context.Context, c SFNAPI, m sfntypes.StateMachineListItem, since time.Time, window time.Duration, show int) (string, error) {
	if m.Type == sfntypes.StateMachineTypeExpress {
		return "express workflow: Step Functions keeps no list of its executions; they are in its CloudWatch Logs", nil
	}
	counts, all, err := failedSince(ctx, c, m, since)
	if err != nil {
		return "", err
	}
	s := fmt.Sprintf("%d failed, %d timed out, %d aborted in the last %s", counts[sfntypes.ExecutionStatusFailed],
		counts[sfntypes.ExecutionStatusTimedOut], counts[sfntypes.ExecutionStatusAborted], tasks.FormatDuration(window))
	for _, e := range all[:min(show, len(all))] {
		d, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: e.ExecutionArn})
		if err != nil {
			return "", fmt.Errorf("describe execution %s: %w", awssdk.ToString(e.Name), err)
		}
		s += fmt.Sprintf("; %s %s at %s", awssdk.ToString(e.Name), e.Status, e.StopDate.UTC().Format("01-02 15:04 UTC"))
		if why := awssdk.ToString(d.Error); why != "" {
			s += ": " + why
		}
		if cause := awssdk.ToString(d.Cause); cause != "" {
			s += " (" + tasks.QuoteInput(cause) + ")"
		}
	}
	return s, nil
}

// redrivePlanSFN redrives the app's executions whose name matches and that
// ended without success within the window. AWS's own verdict
// (DescribeExecution's redriveStatus) decides which can be.
func redrivePlanSFN(ctx context.Context, c SFNAPI, inv tasks.Invocation) (tasks.Plan, []step, error) {
	pattern, err := stringValue(inv.Values, "execution", "")
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	window, err := durationValue(inv.Values, "window", 24*time.Hour)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	most, err := intValue(inv.Values, "max", 10)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	ms, err := selectStateMachines(ctx, c, inv.Target)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	b := planBuilder{verb: "redrive", noun: "executions"}
	for _, m := range ms {
		if m.Type == sfntypes.StateMachineTypeExpress {
			continue // AWS neither lists nor redrives express executions
		}
		_, all, err := failedSince(ctx, c, m, inv.Now.Add(-window))
		if err != nil {
			return tasks.Plan{}, nil, err
		}
		for _, e := range all {
			if !globMatch(pattern, awssdk.ToString(e.Name)) {
				continue
			}
			if len(b.changes) == most {
				return tasks.Plan{}, nil, errs.E("redrive executions", errs.Invalid, "more than %d executions match %s in the last %s: narrow execution= or raise max (up to 100)",
					most, tasks.QuoteInput(pattern), tasks.FormatDuration(window))
			}
			id := awssdk.ToString(m.Name) + "/" + awssdk.ToString(e.Name)
			d, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: e.ExecutionArn})
			if err != nil {
				return tasks.Plan{}, nil, onResource(id, fmt.Errorf("describe execution %s: %w", id, err))
			}
			detail := fmt.Sprintf("%s at %s", e.Status, e.StopDate.UTC().Format("01-02 15:04 UTC"))
			if why := awssdk.ToString(d.Error); why != "" {
				detail += ": " + why
			}
			if d.RedriveStatus == sfntypes.ExecutionRedriveStatusNotRedrivable {
				b.add(id, detail, decision{Skip: "AWS will not redrive it: " + awssdk.ToString(d.RedriveStatusReason)})
				continue
			}
			b.add(id, detail, decision{Run: func(ctx context.Context) (string, error) {
				if _, err := c.RedriveExecution(ctx, &sfn.RedriveExecutionInput{ExecutionArn: e.ExecutionArn}); err != nil {
					return "", err
				}
				return fmt.Sprintf("redriven from the failed state (redrive %d); failed-executions shows how it ends", awssdk.ToInt32(d.RedriveCount)+1), nil
			}})
		}
	}
	if len(b.changes) == 0 {
		return tasks.Plan{}, nil, errs.E("redrive executions", errs.NotFound, "no execution of this app's state machines matching %s ended without success in the last %s",
			tasks.QuoteInput(pattern), tasks.FormatDuration(window))
	}
	return b.plan(), b.steps, nil
}

// restartPlan starts a finished execution again, as a new execution with
// the same input, named after the old one and the time.
func restartPlan(ctx context.Context, c SFNAPI, inv tasks.Invocation) (tasks.Plan, []step, error) {
	name, err := stringValue(inv.Values, "execution", "")
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	ms, err := selectStateMachines(ctx, c, inv.Target)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	b := planBuilder{verb: "start again", noun: "executions"}
	for _, m := range ms {
		if m.Type == sfntypes.StateMachineTypeExpress {
			continue // express executions cannot be described
		}
		arn := strings.Replace(awssdk.ToString(m.StateMachineArn), ":stateMachine:", ":execution:", 1) + ":" + name
		d, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: awssdk.String(arn)})
		if ErrorCode(err) == "ExecutionDoesNotExist" {
			continue
		}
		if err != nil {
			return tasks.Plan{}, nil, fmt.Errorf("describe execution %s: %w", name, err)
		}
		id := awssdk.ToString(m.Name) + "/" + name
		if d.Status == sfntypes.ExecutionStatusRunning || d.Status == sfntypes.ExecutionStatusPendingRedrive {
			b.add(id, string(d.Status), decision{Skip: "is still running"})
			continue
		}
		newName := restartName(name, inv.Now)
		detail := fmt.Sprintf("%s; the new execution %s gets the same input (%d bytes)", d.Status, newName, len(awssdk.ToString(d.Input)))
		b.add(id, detail, decision{Run: func(ctx context.Context) (string, error) {
			if _, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: m.StateMachineArn, Name: awssdk.String(newName), Input: d.Input}); err != nil {
				return "", err
			}
			return "started " + newName + " with the same input", nil
		}})
	}
	if len(b.changes) == 0 {
		return tasks.Plan{}, nil, errs.E("restart execution", errs.NotFound, "no state machine of this app has an execution %s (%s)", tasks.QuoteInput(name), bindingText(inv.Target))
	}
	return b.plan(), b.steps, nil
}

// restartName is the old name (cut to fit) and the time, within AWS's 80
// characters: order-17 restarted at 11-25 22:00:05 is order-17-r1125220005.
func restartName(old string, now time.Time) string {
	return old[:min(len(old), 68)] + "-r" + now.UTC().Format("0102150405")
}
