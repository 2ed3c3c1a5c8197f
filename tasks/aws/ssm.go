package aws

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/tasks"
)

// SSMAPI is the part of Systems Manager the ssm.* actions call.
type SSMAPI interface {
	DescribeInstanceInformation(context.Context, *ssm.DescribeInstanceInformationInput, ...func(*ssm.Options)) (*ssm.DescribeInstanceInformationOutput, error)
	DescribeInstancePatchStates(context.Context, *ssm.DescribeInstancePatchStatesInput, ...func(*ssm.Options)) (*ssm.DescribeInstancePatchStatesOutput, error)
	DescribeInstancePatches(context.Context, *ssm.DescribeInstancePatchesInput, ...func(*ssm.Options)) (*ssm.DescribeInstancePatchesOutput, error)
	SendCommand(context.Context, *ssm.SendCommandInput, ...func(*ssm.Options)) (*ssm.SendCommandOutput, error)
	ListCommandInvocations(context.Context, *ssm.ListCommandInvocationsInput, ...func(*ssm.Options)) (*ssm.ListCommandInvocationsOutput, error)
}

var _ SSMAPI = (*ssm.Client)(nil)

// SSMClient builds the clients for one invocation's config: SSM, and EC2
// to find the app's instances by their tags.
type SSMClient func(awssdk.Config) (SSMAPI, EC2API)

// SDKSSM is the production SSMClient.
func SDKSSM(cfg awssdk.Config) (SSMAPI, EC2API) {
	return ssm.NewFromConfig(cfg), ec2.NewFromConfig(cfg)
}

// SSMDocuments are the only documents ssm.run-document sends: AWS-owned,
// reviewed, with no free-form input (docs/library.md says why there is no
// AWS-RunShellScript). A blueprint may narrow the list, never widen it.
var SSMDocuments = []string{"AWS-UpdateSSMAgent", "AWS-GatherSoftwareInventory", "AWS-RefreshAssociation"}

const patchDocument = "AWS-RunPatchBaseline"

var (
	concurrencyParam = tasks.Param{Name: "concurrency", Type: tasks.TypeInt, Default: "1", Min: bound(1), Max: bound(50),
		Description: "instances that run the command at the same time (SSM's MaxConcurrency)"}
	maxErrorsParam = tasks.Param{Name: "max_errors", Type: tasks.TypeInt, Default: "0", Min: bound(0), Max: bound(50),
		Description: "failed instances tolerated; one more and SSM stops sending the command to the rest (MaxErrors)"}
	commandWaitParam = tasks.Param{Name: "wait", Type: tasks.TypeDuration, Default: "1h", Min: bound(300), Max: bound(3 * 3600),
		Description: "longest wait for the command to finish on every instance before reporting what is still running"}
)

// SSMActions returns the ssm.* actions; pace is how the run commands poll
// their invocations.
func SSMActions(newClient SSMClient, pace Pace) []tasks.Action {
	read := []string{"ec2:DescribeInstances", "ssm:DescribeInstanceInformation"}
	send := append(slices.Clone(read), "ssm:SendCommand", "ssm:ListCommandInvocations")
	return []tasks.Action{
		&stepAction{
			name: "ssm.patch-compliance", target: ec2Type, verb: "read patch compliance of", noun: "instances",
			iam: append(slices.Clone(read), "ssm:DescribeInstancePatchStates", "ssm:DescribeInstancePatches"),
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				c, e := newClient(inv.AWS)
				ms, err := managedInstances(ctx, c, e, inv.Target)
				if err != nil {
					return tasks.Plan{}, nil, err
				}
				b := planBuilder{verb: "read patch compliance of", noun: "instances"}
				for _, m := range ms {
					b.add(m.id, m.state, m.decide(func(ctx context.Context) (string, error) { return patchCompliance(ctx, c, m.id) }))
				}
				return b.plan(), b.steps, nil
			},
		},
		&ssmCommandAction{
			name: "ssm.run-patch-baseline", iam: send, pace: pace, newClient: newClient,
			params: []tasks.Param{
				{Name: "operation", Type: tasks.TypeEnum, Enum: []string{"Scan", "Install"}, Default: "Scan",
					Description: "Scan only reports missing patches; Install installs them"},
				{Name: "reboot", Type: tasks.TypeBool, Default: "true",
					Description: "after Install, reboot an instance when a patch needs it; false leaves the reboot to you"},
				concurrencyParam, maxErrorsParam, commandWaitParam,
			},
			document: func(v tasks.Values) (string, map[string][]string, error) {
				op, err := stringValue(v, "operation", "Scan")
				if err != nil {
					return "", nil, err
				}
				reboot, err := boolValue(v, "reboot", true)
				if err != nil {
					return "", nil, err
				}
				opt := "RebootIfNeeded"
				if !reboot || op == "Scan" {
					opt = "NoReboot"
				}
				return patchDocument, map[string][]string{"Operation": {op}, "RebootOption": {opt}}, nil
			},
		},
		&ssmCommandAction{
			name: "ssm.run-document", iam: send, pace: pace, newClient: newClient,
			params: []tasks.Param{
				{Name: "document", Type: tasks.TypeEnum, Enum: SSMDocuments, Required: true,
					Description: "the SSM document to run (named, reviewed documents only: no shell)"},
				concurrencyParam, maxErrorsParam, commandWaitParam,
			},
			document: func(v tasks.Values) (string, map[string][]string, error) {
				doc, err := stringValue(v, "document", "")
				if err != nil {
					return "", nil, err
				}
				if !slices.Contains(SSMDocuments, doc) { // the engine checks the enum; a follow-up or a test may not
					return "", nil, errs.E(tasks.ParamOp("document"), errs.Invalid, "document %s is not one of %s", doc, strings.Join(SSMDocuments, ", "))
				}
				return doc, nil, nil
			},
		},
	}
}

// managed is one of the app's instances as SSM sees it.
type managed struct {
	id, state string
	ping      string // "" when SSM does not manage the instance
}

// decide skips an instance SSM cannot reach.
func (m managed) decide(run step) decision {
	switch m.ping {
	case "":
		return decision{Skip: "not managed by SSM (no agent, or no instance profile allowing it)"}
	case string(ssmtypes.PingStatusOnline):
		return decision{Run: run}
	}
	return decision{Skip: "SSM agent is " + m.ping}
}

// managedInstances lists the app's running instances, by the tags EC2
// reports, with SSM's view of each: only those ids are ever sent to SSM.
func managedInstances(ctx context.Context, c SSMAPI, e EC2API, sel tasks.Selector) ([]managed, error) {
	ins, _, err := listInstances(ctx, e, sel, ec2PageSize)
	if err != nil {
		return nil, err
	}
	var out []managed
	var ids []string
	for _, in := range ins {
		if in.State == "running" {
			out = append(out, managed{id: in.ID, state: in.Type + " " + in.AZ})
			ids = append(ids, in.ID)
		}
	}
	ping := map[string]string{}
	for chunk := range slices.Chunk(ids, 50) {
		p := ssm.NewDescribeInstanceInformationPaginator(c, &ssm.DescribeInstanceInformationInput{
			Filters: []ssmtypes.InstanceInformationStringFilter{{Key: awssdk.String("InstanceIds"), Values: chunk}}})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("describe instance information: %w", err)
			}
			for _, i := range page.InstanceInformationList {
				ping[awssdk.ToString(i.InstanceId)] = string(i.PingStatus)
			}
		}
	}
	for i := range out {
		out[i].ping = ping[out[i].id]
	}
	return out, nil
}

// severityOrder lists MSRC/vendor severities, worst first.
var severityOrder = []string{"Critical", "Important", "High", "Medium", "Moderate", "Low", "Unspecified"}

// patchCompliance is one instance's patch state: counts by state and, for
// missing and installed patches, by severity.
func patchCompliance(ctx context.Context, c SSMAPI, id string) (string, error) {
	st, err := c.DescribeInstancePatchStates(ctx, &ssm.DescribeInstancePatchStatesInput{InstanceIds: []string{id}})
	if err != nil {
		return "", fmt.Errorf("describe patch state of %s: %w", id, err)
	}
	if len(st.InstancePatchStates) == 0 {
		return "never scanned: run patch operation=Scan", nil
	}
	s := st.InstancePatchStates[0]
	bySev := map[string]map[string]int{} // state -> severity -> count
	p := ssm.NewDescribeInstancePatchesPaginator(c, &ssm.DescribeInstancePatchesInput{InstanceId: awssdk.String(id), MaxResults: awssdk.Int32(100)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return "", fmt.Errorf("describe patches of %s: %w", id, err)
		}
		for _, pt := range page.Patches {
			state := string(pt.State)
			if bySev[state] == nil {
				bySev[state] = map[string]int{}
			}
			bySev[state][cmp.Or(awssdk.ToString(pt.Severity), "Unspecified")]++
		}
	}
	return fmt.Sprintf("missing %d%s; installed %d%s; failed %d; last %s %s", s.MissingCount, severities(bySev["Missing"]),
		s.InstalledCount, severities(bySev["Installed"]), s.FailedCount, s.Operation,
		awssdk.ToTime(s.OperationEndTime).UTC().Format("2006-01-02 15:04 UTC")), nil
}

// severities renders " (Critical 1, Important 2)", worst first.
func severities(n map[string]int) string {
	if len(n) == 0 {
		return ""
	}
	keys := slices.SortedFunc(maps.Keys(n), func(a, b string) int {
		ia, ib := slices.Index(severityOrder, a), slices.Index(severityOrder, b)
		if ia < 0 {
			ia = len(severityOrder)
		}
		if ib < 0 {
			ib = len(severityOrder)
		}
		return cmp.Or(cmp.Compare(ia, ib), strings.Compare(a, b))
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, n[k])
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// ssmCommandAction sends one SSM document to the app's managed instances in
// a single SendCommand: SSM itself keeps MaxConcurrency instances busy and
// stops after MaxErrors failures, so the batching cannot be lost by a
// restart of day2bot. The run follows the command's invocations for
// progress and reports each instance's outcome.
type ssmCommandAction struct {
	name      string
	params    []tasks.Param
	iam       []string
	pace      Pace
	newClient SSMClient
	// document returns the document and its parameters for the values.
	document func(tasks.Values) (string, map[string][]string, error)
}

var _ tasks.Action = (*ssmCommandAction)(nil)

func (a *ssmCommandAction) Name() string          { return a.name }
func (a *ssmCommandAction) TargetType() string    { return ec2Type }
func (a *ssmCommandAction) Params() []tasks.Param { return a.params }
func (a *ssmCommandAction) Mutating() bool        { return true }
func (a *ssmCommandAction) IAMActions() []string  { return a.iam }

// command is a planned SendCommand.
type command struct {
	doc                    string
	params                 map[string][]string
	concurrency, maxErrors int
	wait                   time.Duration
	plan                   tasks.Plan
	send                   []string // instance ids, plan order
}

func (a *ssmCommandAction) prepare(ctx context.Context, inv tasks.Invocation) (command, SSMAPI, error) {
	c, e := a.newClient(inv.AWS)
	var cmd command
	var err error
	if cmd.doc, cmd.params, err = a.document(inv.Values); err != nil {
		return cmd, nil, err
	}
	if cmd.concurrency, err = intValue(inv.Values, "concurrency", 1); err != nil {
		return cmd, nil, err
	}
	if cmd.maxErrors, err = intValue(inv.Values, "max_errors", 0); err != nil {
		return cmd, nil, err
	}
	if cmd.wait, err = durationValue(inv.Values, "wait", time.Hour); err != nil {
		return cmd, nil, err
	}
	ms, err := managedInstances(ctx, c, e, inv.Target)
	if err != nil {
		return cmd, nil, classifyFor(err, a.iam, inv.Target)
	}
	verb := "run " + cmd.doc
	if op := cmd.params["Operation"]; len(op) > 0 {
		verb += " (" + op[0] + ", " + strings.ToLower(cmd.params["RebootOption"][0]) + ")"
	}
	b := planBuilder{verb: verb, noun: "instances"}
	for _, m := range ms {
		d := m.decide(func(context.Context) (string, error) { return "", nil })
		if d.Run != nil {
			d.Detail = fmt.Sprintf("%d at a time, stop after %d failed", cmd.concurrency, cmd.maxErrors+1)
			cmd.send = append(cmd.send, m.id)
		}
		b.add(m.id, m.state, d)
	}
	cmd.plan = b.plan()
	return cmd, c, nil
}

func (a *ssmCommandAction) Plan(ctx context.Context, inv tasks.Invocation) (tasks.Plan, error) {
	cmd, _, err := a.prepare(ctx, inv)
	return cmd.plan, err
}

func (a *ssmCommandAction) Run(ctx context.Context, inv tasks.Invocation, progress func(tasks.Progress)) (tasks.Result, error) {
	cmd, c, err := a.prepare(ctx, inv)
	if err != nil {
		return tasks.Result{}, err
	}
	outcome := map[string]tasks.ResourceResult{}
	if len(cmd.send) > 0 {
		outcome, err = a.send(ctx, c, cmd, progress)
		if err != nil {
			return tasks.Result{}, classifyFor(err, a.iam, inv.Target)
		}
	}
	var res tasks.Result
	for _, ch := range cmd.plan.Changes {
		rr, ok := outcome[ch.Resource]
		switch {
		case ch.Action == "skip":
			rr = tasks.ResourceResult{Resource: ch.Resource, Status: tasks.StatusSkipped, Detail: ch.Detail}
		case !ok:
			rr = tasks.ResourceResult{Resource: ch.Resource, Status: tasks.StatusFailed, Detail: "SSM reported no invocation for the instance"}
		}
		res.Resources = append(res.Resources, rr)
	}
	res.Summary = Summarize("ran "+cmd.doc+" on", "instances", res.Resources)
	if len(res.Resources) == 0 {
		res.Summary = cmd.plan.Summary
	}
	return res, nil
}

// send sends the command and follows its invocations until each is done
// or the wait is over.
func (a *ssmCommandAction) send(ctx context.Context, c SSMAPI, cmd command, progress func(tasks.Progress)) (map[string]tasks.ResourceResult, error) {
	out, err := c.SendCommand(ctx, &ssm.SendCommandInput{
		DocumentName: awssdk.String(cmd.doc), InstanceIds: cmd.send, Parameters: cmd.params,
		MaxConcurrency: awssdk.String(strconv.Itoa(cmd.concurrency)), MaxErrors: awssdk.String(strconv.Itoa(cmd.maxErrors)),
		Comment: awssdk.String("day2bot " + a.name),
	})
	if err != nil {
		return nil, fmt.Errorf("send command %s: %w", cmd.doc, err)
	}
	id := awssdk.ToString(out.Command.CommandId)
	var waited time.Duration
	for {
		invs, err := commandInvocations(ctx, c, id)
		if err != nil {
			return nil, err
		}
		done, failed := 0, 0
		for _, s := range invs {
			if commandDone(s.Status) {
				done++
			}
			if s.Status == ssmtypes.CommandInvocationStatusFailed || s.Status == ssmtypes.CommandInvocationStatusTimedOut {
				failed++
			}
		}
		if progress != nil {
			progress(tasks.Progress{Done: done, Total: len(cmd.send), Message: fmt.Sprintf("%s: %d of %d instances done, %d failed (command %s)", cmd.doc, done, len(cmd.send), failed, id)})
		}
		if done == len(cmd.send) || waited >= cmd.wait {
			return invocationResults(invs, id, failed > cmd.maxErrors, cmd), nil
		}
		d := min(a.pace.poll(), cmd.wait-waited)
		if err := a.pace.sleep(ctx, d); err != nil {
			return invocationResults(invs, id, false, cmd), nil
		}
		waited += d
	}
}

func commandDone(s ssmtypes.CommandInvocationStatus) bool {
	switch s {
	case ssmtypes.CommandInvocationStatusSuccess, ssmtypes.CommandInvocationStatusFailed,
		ssmtypes.CommandInvocationStatusTimedOut, ssmtypes.CommandInvocationStatusCancelled:
		return true
	}
	return false
}

func commandInvocations(ctx context.Context, c SSMAPI, id string) (map[string]ssmtypes.CommandInvocation, error) {
	out := map[string]ssmtypes.CommandInvocation{}
	p := ssm.NewListCommandInvocationsPaginator(c, &ssm.ListCommandInvocationsInput{CommandId: awssdk.String(id), MaxResults: awssdk.Int32(50)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list invocations of command %s: %w", id, err)
		}
		for _, i := range page.CommandInvocations {
			out[awssdk.ToString(i.InstanceId)] = i
		}
	}
	return out, nil
}

// invocationResults turns invocations into per-instance results; stopped
// says SSM stopped the command at the error threshold.
func invocationResults(invs map[string]ssmtypes.CommandInvocation, id string, stopped bool, cmd command) map[string]tasks.ResourceResult {
	out := map[string]tasks.ResourceResult{}
	for inst, i := range invs {
		detail := fmt.Sprintf("%s (command %s)", cmp.Or(awssdk.ToString(i.StatusDetails), string(i.Status)), id)
		rr := tasks.ResourceResult{Resource: inst, Status: tasks.StatusFailed, Detail: detail}
		switch {
		case i.Status == ssmtypes.CommandInvocationStatusSuccess:
			rr.Status = tasks.StatusOK
		case i.Status == ssmtypes.CommandInvocationStatusCancelled && stopped:
			rr.Detail = fmt.Sprintf("not run: SSM stopped the command after more than %d failed (command %s)", cmd.maxErrors, id)
		case !commandDone(i.Status):
			rr.Detail = fmt.Sprintf("still %s after %s; the command goes on in AWS (command %s)", i.Status, tasks.FormatDuration(cmd.wait), id)
		}
		out[inst] = rr
	}
	return out
}
