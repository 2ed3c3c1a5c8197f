package aws

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

	"github.com/day2bot/day2bot/internal/cfn"
	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/tasks"
)

// The deploy goes through a change set: Plan creates it and shows its rows
// (that is what approvers see), Run executes exactly the change set of the
// approved plan (Invocation.Approved.Ref) and never a new one, so what was
// approved is what happens. A change set that can no longer be executed
// (the stack changed meanwhile and CloudFormation deleted or obsoleted it)
// is refused as stale. A run that needed no approval makes its own change
// set and executes it.

// cfnDeploy is cloudformation.deploy.
type cfnDeploy struct{ cfnBase }

func (a *cfnDeploy) Name() string   { return "cloudformation.deploy" }
func (a *cfnDeploy) Mutating() bool { return true }
func (a *cfnDeploy) IAMActions() []string {
	return []string{"cloudformation:DescribeStacks", "cloudformation:CreateChangeSet", "cloudformation:DescribeChangeSet",
		"cloudformation:DeleteChangeSet", "cloudformation:ExecuteChangeSet", "cloudformation:DescribeStackEvents"}
}

// changeSet is a created change set as the deploy reads it.
type changeSet struct {
	id, name, stack, stackID string
	create                   bool
	status, exec, reason     string
	changes                  []cfntypes.ResourceChange
}

// noChanges reports CloudFormation's "nothing to do" failure.
func (cs *changeSet) noChanges() bool {
	return cs.status == string(cfntypes.ChangeSetStatusFailed) &&
		(strings.Contains(cs.reason, "didn't contain changes") || strings.Contains(cs.reason, "No updates"))
}

func (cs *changeSet) plan() tasks.Plan {
	verb := "update"
	if cs.create {
		verb = "create"
	}
	counts := map[string]int{}
	var rows []tasks.Change
	for _, rc := range cs.changes {
		counts[string(rc.Action)]++
		rows = append(rows, tasks.Change{Resource: awssdk.ToString(rc.LogicalResourceId), Action: string(rc.Action), Detail: changeDetail(rc)})
	}
	var parts []string
	for _, k := range []string{"Add", "Modify", "Remove"} {
		if counts[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[k], strings.ToLower(k)))
		}
	}
	return tasks.Plan{Summary: fmt.Sprintf("%s stack %s: %s (change set %s)", verb, cs.stack, strings.Join(parts, ", "), cs.name),
		Changes: rows, Ref: cs.id}
}

// changeDetail is one change-set row: type, replacement and what changes.
func changeDetail(rc cfntypes.ResourceChange) string {
	d := awssdk.ToString(rc.ResourceType)
	if rc.Action == cfntypes.ChangeActionModify {
		d += " · replacement " + string(rc.Replacement)
	}
	if p := awssdk.ToString(rc.PhysicalResourceId); p != "" {
		d += " · " + p
	}
	var props []string
	for _, det := range rc.Details {
		t := det.Target
		if t == nil || t.Name == nil {
			continue
		}
		s := awssdk.ToString(t.Name)
		if t.BeforeValue != nil || t.AfterValue != nil {
			s += " " + awssdk.ToString(t.BeforeValue) + " → " + awssdk.ToString(t.AfterValue)
		}
		if !slices.Contains(props, s) {
			props = append(props, s)
		}
	}
	if len(props) > 0 {
		d += " · " + strings.Join(props, ", ")
	}
	return d
}

// template finds what the targeted stack is deployed from.
func (a *cfnDeploy) template(inv tasks.Invocation) (string, StackTemplate, error) {
	name, err := stackName(inv.Target)
	if err != nil {
		return "", StackTemplate{}, err
	}
	st, ok := a.stacks[name]
	if !ok {
		return "", StackTemplate{}, fmt.Errorf("deploy %s: no template is configured for this stack", name)
	}
	return name, st, nil
}

// parameters are the template parameter values for the task's values.
func parameters(st StackTemplate, vals tasks.Values) []cfntypes.Parameter {
	var out []cfntypes.Parameter
	if st.AppParam != "" {
		out = append(out, cfntypes.Parameter{ParameterKey: awssdk.String(st.AppParam), ParameterValue: awssdk.String(st.App)})
	}
	for _, k := range slices.Sorted(maps.Keys(st.Params)) {
		v, ok := vals[k]
		if !ok {
			continue // the template's default applies
		}
		s := fmt.Sprint(v)
		if n, ok := v.(int64); ok {
			s = strconv.FormatInt(n, 10)
		}
		out = append(out, cfntypes.Parameter{ParameterKey: awssdk.String(st.Params[k]), ParameterValue: awssdk.String(s)})
	}
	return out
}

// createChangeSet makes the change set for the task's values and waits
// until CloudFormation has computed it.
func (a *cfnDeploy) createChangeSet(ctx context.Context, c CloudFormationAPI, inv tasks.Invocation) (*changeSet, error) {
	name, st, err := a.template(inv)
	if err != nil {
		return nil, err
	}
	stack, err := describeStack(ctx, c, name)
	if err != nil {
		return nil, err
	}
	create := stack == nil || stack.StackStatus == cfntypes.StackStatusReviewInProgress
	if stack != nil {
		switch s := stack.StackStatus; {
		case s == cfntypes.StackStatusRollbackComplete || s == cfntypes.StackStatusRollbackFailed:
			return nil, errs.E("create change set", errs.Conflict, "stack %s is %s after a failed create; run teardown, then deploy again", name, s)
		case s != cfntypes.StackStatusReviewInProgress && strings.HasSuffix(string(s), "_IN_PROGRESS"):
			return nil, errs.E("create change set", errs.Conflict, "stack %s is busy (%s); try again when it has finished", name, s)
		}
	}
	params := parameters(st, inv.Values)
	h := sha256.New()
	h.Write([]byte(st.Body))
	for _, p := range params {
		fmt.Fprintf(h, "\x00%s=%s", awssdk.ToString(p.ParameterKey), awssdk.ToString(p.ParameterValue))
	}
	csName := "day2-" + inv.Now.UTC().Format("20060102-150405") + "-" + hex.EncodeToString(h.Sum(nil))[:8]
	in := &cloudformation.CreateChangeSetInput{
		StackName: awssdk.String(name), ChangeSetName: awssdk.String(csName), TemplateBody: awssdk.String(st.Body),
		Parameters: params, ChangeSetType: cfntypes.ChangeSetTypeUpdate,
		Description: awssdk.String("day2bot deploy of " + st.App),
		// Stack tags reach every resource CloudFormation can tag.
		Tags: []cfntypes.Tag{{Key: awssdk.String("app"), Value: awssdk.String(st.App)}, {Key: awssdk.String("managed-by"), Value: awssdk.String("day2bot")}},
	}
	if create {
		in.ChangeSetType = cfntypes.ChangeSetTypeCreate
	}
	if st.RoleARN != "" {
		in.RoleARN = awssdk.String(st.RoleARN)
	}
	out, err := c.CreateChangeSet(ctx, in)
	id := csName
	switch {
	case err != nil && ErrorCode(err) == "AlreadyExistsException":
		// The same values planned twice in one second: that change set
		// is this plan.
	case err != nil:
		return nil, fmt.Errorf("create change set: %w", err)
	default:
		id = awssdk.ToString(out.Id)
	}
	for {
		cs, err := describeChangeSet(ctx, c, name, id)
		if err != nil {
			return nil, err
		}
		cs.create = create
		if cs.status != string(cfntypes.ChangeSetStatusCreatePending) && cs.status != string(cfntypes.ChangeSetStatusCreateInProgress) {
			if cs.status == string(cfntypes.ChangeSetStatusFailed) && !cs.noChanges() {
				return nil, errs.E("create change set", errs.Invalid, "CloudFormation refused the change set for %s: %s", name, cs.reason)
			}
			return cs, nil
		}
		if err := a.wait(ctx); err != nil {
			return nil, fmt.Errorf("wait for change set: %w", err)
		}
	}
}

func describeChangeSet(ctx context.Context, c CloudFormationAPI, stack, id string) (*changeSet, error) {
	in := &cloudformation.DescribeChangeSetInput{ChangeSetName: awssdk.String(id), StackName: awssdk.String(stack), IncludePropertyValues: awssdk.Bool(true)}
	var cs *changeSet
	for {
		out, err := c.DescribeChangeSet(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("describe change set: %w", err)
		}
		if cs == nil {
			cs = &changeSet{id: awssdk.ToString(out.ChangeSetId), name: awssdk.ToString(out.ChangeSetName), stack: awssdk.ToString(out.StackName),
				stackID: awssdk.ToString(out.StackId), status: string(out.Status), exec: string(out.ExecutionStatus), reason: awssdk.ToString(out.StatusReason)}
		}
		for _, ch := range out.Changes {
			if ch.ResourceChange != nil {
				cs.changes = append(cs.changes, *ch.ResourceChange)
			}
		}
		if out.NextToken == nil || *out.NextToken == "" {
			return cs, nil
		}
		in.NextToken = out.NextToken
	}
}

func (a *cfnDeploy) Plan(ctx context.Context, inv tasks.Invocation) (tasks.Plan, error) {
	c := a.client(inv.AWS)
	cs, err := a.createChangeSet(ctx, c, inv)
	if err != nil {
		return tasks.Plan{}, Classify(err, a.IAMActions())
	}
	if cs.noChanges() {
		a.dropChangeSet(ctx, c, cs)
		return tasks.Plan{Summary: fmt.Sprintf("no changes: stack %s already matches the template and values", cs.stack)}, nil
	}
	return cs.plan(), nil
}

// dropChangeSet deletes a change set nobody will execute. Failing to is
// harmless (CloudFormation keeps it until the next execution), so it is
// not an error.
func (a *cfnDeploy) dropChangeSet(ctx context.Context, c CloudFormationAPI, cs *changeSet) {
	_, _ = c.DeleteChangeSet(ctx, &cloudformation.DeleteChangeSetInput{ChangeSetName: awssdk.String(cs.id), StackName: awssdk.String(cs.stack)})
}

func (a *cfnDeploy) Run(ctx context.Context, inv tasks.Invocation, progress func(tasks.Progress)) (tasks.Result, error) {
	c := a.client(inv.AWS)
	var cs *changeSet
	if inv.Approved != nil {
		var err error
		if cs, err = a.approved(ctx, c, inv); err != nil {
			return tasks.Result{}, Classify(err, a.IAMActions())
		}
	} else {
		var err error
		if cs, err = a.createChangeSet(ctx, c, inv); err != nil {
			return tasks.Result{}, Classify(err, a.IAMActions())
		}
		if cs.noChanges() {
			a.dropChangeSet(ctx, c, cs)
			return tasks.Result{Summary: fmt.Sprintf("no changes: stack %s already matches the template and values", cs.stack)}, nil
		}
	}
	token := cs.name // every event of this execution carries it
	if _, err := c.ExecuteChangeSet(ctx, &cloudformation.ExecuteChangeSetInput{ChangeSetName: awssdk.String(cs.id),
		StackName: awssdk.String(cs.stack), ClientRequestToken: awssdk.String(token)}); err != nil {
		if notFound(err) || ErrorCode(err) == "InvalidChangeSetStatus" {
			return tasks.Result{}, staleChangeSet(cs.name, "can no longer be executed ("+ErrorCode(err)+")", err)
		}
		return tasks.Result{}, Classify(fmt.Errorf("execute change set: %w", err), a.IAMActions())
	}
	done, total := 0, len(cs.changes)
	var events []cfntypes.StackEvent
	st, err := a.waitStack(ctx, c, cs.stackID, token, map[string]bool{}, func(ev cfntypes.StackEvent) {
		events = append(events, ev)
		if awssdk.ToString(ev.PhysicalResourceId) == cs.stackID || !strings.HasSuffix(string(ev.ResourceStatus), "_COMPLETE") {
			return
		}
		done++
		if progress != nil {
			progress(tasks.Progress{Done: min(done, total), Total: total, Message: eventText(ev)})
		}
	})
	if err != nil {
		return tasks.Result{}, Classify(err, a.IAMActions())
	}
	return deployResult(cs, st, events), nil
}

// approved finds the approved change set and checks it can still run.
func (a *cfnDeploy) approved(ctx context.Context, c CloudFormationAPI, inv tasks.Invocation) (*changeSet, error) {
	ref := inv.Approved.Ref
	if ref == "" {
		return nil, errs.E("execute change set", errs.Conflict, "not deployed: the approvers saw no change set (its plan failed or was not ready yet); request the deploy again")
	}
	name, _, err := a.template(inv)
	if err != nil {
		return nil, err
	}
	short := ref[strings.LastIndexByte(ref, '/')+1:]
	if i := strings.Index(ref, ":changeSet/"); i >= 0 {
		short, _, _ = strings.Cut(ref[i+len(":changeSet/"):], "/")
	}
	cs, err := describeChangeSet(ctx, c, name, ref)
	if err != nil {
		if notFound(err) {
			return nil, staleChangeSet(short, "no longer exists: the stack changed since (another deploy or a teardown ran)", err)
		}
		return nil, err
	}
	if cs.exec != string(cfntypes.ExecutionStatusAvailable) {
		return nil, staleChangeSet(cs.name, fmt.Sprintf("is %s, not executable", cs.exec), nil)
	}
	stack, err := describeStack(ctx, c, name)
	if err != nil {
		return nil, err
	}
	cs.create = stack == nil || stack.StackStatus == cfntypes.StackStatusReviewInProgress
	return cs, nil
}

// deployResult turns the execution's events into one row per change: on
// success what each resource became; on failure the failing resource and
// its reason first, every other change rolled back.
func deployResult(cs *changeSet, st *cfntypes.Stack, events []cfntypes.StackEvent) tasks.Result {
	status := cfntypes.StackStatus("DELETED")
	if st != nil {
		status = st.StackStatus
	}
	last := map[string]cfntypes.StackEvent{}
	var failed *cfntypes.StackEvent
	for i, ev := range events {
		id := awssdk.ToString(ev.LogicalResourceId)
		if awssdk.ToString(ev.PhysicalResourceId) == cs.stackID || id == cs.stack {
			continue
		}
		last[id] = ev
		if failed == nil && strings.HasSuffix(string(ev.ResourceStatus), "_FAILED") {
			failed = &events[i]
		}
	}
	ok := status == cfntypes.StackStatusCreateComplete || status == cfntypes.StackStatusUpdateComplete
	var res tasks.Result
	if !ok && failed != nil {
		res.Resources = append(res.Resources, tasks.ResourceResult{Resource: awssdk.ToString(failed.LogicalResourceId), Status: tasks.StatusFailed,
			Detail: fmt.Sprintf("%s %s: %s", awssdk.ToString(failed.ResourceType), failed.ResourceStatus, awssdk.ToString(failed.ResourceStatusReason))})
	}
	for _, rc := range cs.changes {
		id := awssdk.ToString(rc.LogicalResourceId)
		if failed != nil && !ok && id == awssdk.ToString(failed.LogicalResourceId) {
			continue
		}
		ev, seen := last[id]
		rr := tasks.ResourceResult{Resource: id, Status: tasks.StatusOK}
		switch {
		case !ok && seen:
			rr.Status, rr.Detail = tasks.StatusFailed, "rolled back ("+string(ev.ResourceStatus)+")"
		case !ok:
			rr.Status, rr.Detail = tasks.StatusFailed, "not changed: the stack rolled back"
		default:
			rr.Detail = strings.ToLower(string(rc.Action)) + " " + string(ev.ResourceStatus)
			if p := awssdk.ToString(ev.PhysicalResourceId); p != "" {
				rr.Detail += " " + p
			}
		}
		res.Resources = append(res.Resources, rr)
	}
	verb := "update"
	if cs.create {
		verb = "create"
	}
	if ok {
		res.Summary = fmt.Sprintf("%s of stack %s complete: %d changes (change set %s)", verb, cs.stack, len(cs.changes), cs.name)
		return res
	}
	res.Summary = fmt.Sprintf("%s of stack %s failed and rolled back (%s)", verb, cs.stack, status)
	if failed != nil {
		res.Summary += fmt.Sprintf(": %s %s: %s", awssdk.ToString(failed.LogicalResourceId), failed.ResourceStatus, awssdk.ToString(failed.ResourceStatusReason))
	}
	return res
}

// cfnTeardown is cloudformation.teardown.
type cfnTeardown struct{ cfnBase }

func (a *cfnTeardown) Name() string   { return "cloudformation.teardown" }
func (a *cfnTeardown) Mutating() bool { return true }
func (a *cfnTeardown) IAMActions() []string {
	return []string{"cloudformation:DescribeStacks", "cloudformation:GetTemplate", "cloudformation:DescribeStackResources",
		"cloudformation:DeleteStack", "cloudformation:DescribeStackEvents"}
}

// teardownPlan lists the stack's resources, retained ones first.
func (a *cfnTeardown) teardownPlan(ctx context.Context, c CloudFormationAPI, name string) (*cfntypes.Stack, tasks.Plan, error) {
	st, err := describeStack(ctx, c, name)
	if err != nil {
		return nil, tasks.Plan{}, err
	}
	if st == nil {
		return nil, tasks.Plan{}, errs.E("tear down stack", errs.NotFound, "stack %s is not deployed; there is nothing to tear down", name)
	}
	tpl, err := c.GetTemplate(ctx, &cloudformation.GetTemplateInput{StackName: awssdk.String(name)})
	if err != nil {
		return nil, tasks.Plan{}, fmt.Errorf("get template of %s: %w", name, err)
	}
	t, err := cfn.Parse([]byte(awssdk.ToString(tpl.TemplateBody)))
	if err != nil {
		return nil, tasks.Plan{}, fmt.Errorf("read template of %s: %w", name, err)
	}
	rs, err := c.DescribeStackResources(ctx, &cloudformation.DescribeStackResourcesInput{StackName: awssdk.String(name)})
	if err != nil {
		return nil, tasks.Plan{}, fmt.Errorf("describe stack resources: %w", err)
	}
	var keep, del []tasks.Change
	for _, r := range rs.StackResources {
		id := awssdk.ToString(r.LogicalResourceId)
		detail := awssdk.ToString(r.ResourceType) + " " + awssdk.ToString(r.PhysicalResourceId)
		if t.Resources[id].Retained() {
			keep = append(keep, tasks.Change{Resource: id, Action: "retain", Detail: detail + " · DeletionPolicy " + t.Resources[id].DeletionPolicy + ": kept, no longer managed by the stack"})
			continue
		}
		del = append(del, tasks.Change{Resource: id, Action: "delete", Detail: detail})
	}
	p := tasks.Plan{Summary: fmt.Sprintf("delete stack %s: %d resources deleted, %d retained", name, len(del), len(keep)), Changes: append(keep, del...)}
	return st, p, nil
}

func (a *cfnTeardown) Plan(ctx context.Context, inv tasks.Invocation) (tasks.Plan, error) {
	name, err := stackName(inv.Target)
	if err != nil {
		return tasks.Plan{}, err
	}
	_, p, err := a.teardownPlan(ctx, a.client(inv.AWS), name)
	if err != nil {
		return tasks.Plan{}, Classify(err, a.IAMActions())
	}
	return p, nil
}

func (a *cfnTeardown) Run(ctx context.Context, inv tasks.Invocation, progress func(tasks.Progress)) (tasks.Result, error) {
	name, err := stackName(inv.Target)
	if err != nil {
		return tasks.Result{}, err
	}
	c := a.client(inv.AWS)
	st, p, err := a.teardownPlan(ctx, c, name)
	if err != nil {
		return tasks.Result{}, Classify(err, a.IAMActions())
	}
	token := "day2-teardown-" + inv.Now.UTC().Format("20060102-150405")
	in := &cloudformation.DeleteStackInput{StackName: st.StackId, ClientRequestToken: awssdk.String(token)}
	if tmpl, ok := a.stacks[name]; ok && tmpl.RoleARN != "" {
		in.RoleARN = awssdk.String(tmpl.RoleARN)
	}
	if _, err := c.DeleteStack(ctx, in); err != nil {
		return tasks.Result{}, Classify(fmt.Errorf("delete stack %s: %w", name, err), a.IAMActions())
	}
	last := map[string]cfntypes.StackEvent{}
	done := 0
	final, err := a.waitStack(ctx, c, awssdk.ToString(st.StackId), token, map[string]bool{}, func(ev cfntypes.StackEvent) {
		last[awssdk.ToString(ev.LogicalResourceId)] = ev
		if s := string(ev.ResourceStatus); (s == "DELETE_COMPLETE" || s == "DELETE_SKIPPED") && progress != nil {
			done++
			progress(tasks.Progress{Done: min(done, len(p.Changes)), Total: len(p.Changes), Message: eventText(ev)})
		}
	})
	if err != nil {
		return tasks.Result{}, Classify(err, a.IAMActions())
	}
	var res tasks.Result
	for _, ch := range p.Changes {
		ev := last[ch.Resource]
		rr := tasks.ResourceResult{Resource: ch.Resource, Status: tasks.StatusOK, Detail: "deleted"}
		switch ev.ResourceStatus {
		case cfntypes.ResourceStatusDeleteSkipped:
			rr.Status, rr.Detail = tasks.StatusSkipped, "retained: "+ch.Detail
		case cfntypes.ResourceStatusDeleteFailed:
			rr.Status, rr.Detail = tasks.StatusFailed, awssdk.ToString(ev.ResourceStatusReason)
		case cfntypes.ResourceStatusDeleteComplete:
		default:
			rr.Status, rr.Detail = tasks.StatusFailed, "not deleted ("+string(ev.ResourceStatus)+")"
		}
		res.Resources = append(res.Resources, rr)
	}
	status := "DELETE_COMPLETE"
	if final != nil {
		status = string(final.StackStatus)
	}
	res.Summary = fmt.Sprintf("stack %s %s: %s", name, status, Summarize("deleted", "resources", res.Resources))
	return res, nil
}
