package aws

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/tasks"
)

// CloudFormationAPI is the part of the CloudFormation client the
// cloudformation.* actions call.
type CloudFormationAPI interface {
	DescribeStacks(context.Context, *cloudformation.DescribeStacksInput, ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error)
	DescribeStackResources(context.Context, *cloudformation.DescribeStackResourcesInput, ...func(*cloudformation.Options)) (*cloudformation.DescribeStackResourcesOutput, error)
	DescribeStackEvents(context.Context, *cloudformation.DescribeStackEventsInput, ...func(*cloudformation.Options)) (*cloudformation.DescribeStackEventsOutput, error)
	GetTemplate(context.Context, *cloudformation.GetTemplateInput, ...func(*cloudformation.Options)) (*cloudformation.GetTemplateOutput, error)
	CreateChangeSet(context.Context, *cloudformation.CreateChangeSetInput, ...func(*cloudformation.Options)) (*cloudformation.CreateChangeSetOutput, error)
	DescribeChangeSet(context.Context, *cloudformation.DescribeChangeSetInput, ...func(*cloudformation.Options)) (*cloudformation.DescribeChangeSetOutput, error)
	DeleteChangeSet(context.Context, *cloudformation.DeleteChangeSetInput, ...func(*cloudformation.Options)) (*cloudformation.DeleteChangeSetOutput, error)
	ExecuteChangeSet(context.Context, *cloudformation.ExecuteChangeSetInput, ...func(*cloudformation.Options)) (*cloudformation.ExecuteChangeSetOutput, error)
	DeleteStack(context.Context, *cloudformation.DeleteStackInput, ...func(*cloudformation.Options)) (*cloudformation.DeleteStackOutput, error)
	DetectStackDrift(context.Context, *cloudformation.DetectStackDriftInput, ...func(*cloudformation.Options)) (*cloudformation.DetectStackDriftOutput, error)
	DescribeStackDriftDetectionStatus(context.Context, *cloudformation.DescribeStackDriftDetectionStatusInput, ...func(*cloudformation.Options)) (*cloudformation.DescribeStackDriftDetectionStatusOutput, error)
	DescribeStackResourceDrifts(context.Context, *cloudformation.DescribeStackResourceDriftsInput, ...func(*cloudformation.Options)) (*cloudformation.DescribeStackResourceDriftsOutput, error)
}

var _ CloudFormationAPI = (*cloudformation.Client)(nil)

// CloudFormationClient builds the client for one invocation's config.
type CloudFormationClient func(awssdk.Config) CloudFormationAPI

// SDKCloudFormation is the production CloudFormationClient.
func SDKCloudFormation(cfg awssdk.Config) CloudFormationAPI { return cloudformation.NewFromConfig(cfg) }

// StackTemplate is what one app's stack is deployed from.
type StackTemplate struct {
	App  string
	Body string // the template, as sent to CloudFormation
	// Params maps task parameter names to template parameter names.
	Params map[string]string
	// AppParam is the template parameter set to App ("" for none).
	AppParam string
	// RoleARN is the CloudFormation service role, "" for the caller's.
	RoleARN string
}

// StackTemplates are the deployable stacks by name. The composition root
// builds them from the apps' blueprints; an action asked about a stack not
// in here refuses.
type StackTemplates map[string]StackTemplate

const stackType = "cloudformation:stack"

// cfnBase is what the cloudformation.* actions share.
type cfnBase struct {
	client CloudFormationClient
	stacks StackTemplates
	// poll is the wait between status reads of work CloudFormation does
	// in the background (change sets, stack operations, drift detection).
	poll time.Duration
}

// CloudFormationActions are the cloudformation.* actions for stacks.
func CloudFormationActions(client CloudFormationClient, stacks StackTemplates) []tasks.Action {
	b := cfnBase{client: client, stacks: stacks, poll: 5 * time.Second}
	return []tasks.Action{&cfnDeploy{b}, &cfnStatus{b}, &cfnDrift{b}, &cfnTeardown{b}}
}

func (b cfnBase) TargetType() string    { return stackType }
func (b cfnBase) Params() []tasks.Param { return nil }

// stackName reads the one stack a task targets.
func stackName(sel tasks.Selector) (string, error) {
	if sel.Type != stackType || len(sel.Names) != 1 || sel.Names[0] == "" {
		return "", fmt.Errorf("select stack: want one %s name, got %+v", stackType, sel)
	}
	return sel.Names[0], nil
}

// wait sleeps between polls; a production wait, never reached against the
// emulator, which finishes its work before it answers.
func (b cfnBase) wait(ctx context.Context) error {
	t := time.NewTimer(b.poll)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}

// describeStack returns the stack, or nil when it does not exist.
func describeStack(ctx context.Context, c CloudFormationAPI, name string) (*cfntypes.Stack, error) {
	out, err := c.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: awssdk.String(name)})
	if err != nil {
		if notFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("describe stack %s: %w", name, err)
	}
	if len(out.Stacks) == 0 {
		return nil, nil
	}
	return &out.Stacks[0], nil
}

// waitStack polls the stack (by id: a deleted stack is still found by id)
// until its status is no longer in progress, reporting each new event.
func (b cfnBase) waitStack(ctx context.Context, c CloudFormationAPI, id, token string, seen map[string]bool, report func(cfntypes.StackEvent)) (*cfntypes.Stack, error) {
	for {
		st, err := describeStack(ctx, c, id)
		if err != nil {
			return nil, err
		}
		evs, err := stackEvents(ctx, c, id, token)
		if err != nil {
			return nil, err
		}
		for _, ev := range evs {
			if eid := awssdk.ToString(ev.EventId); !seen[eid] {
				seen[eid] = true
				report(ev)
			}
		}
		if st == nil || !strings.HasSuffix(string(st.StackStatus), "_IN_PROGRESS") || st.StackStatus == cfntypes.StackStatusReviewInProgress {
			return st, nil
		}
		if err := b.wait(ctx); err != nil {
			return nil, fmt.Errorf("wait for stack %s: %w", id, err)
		}
	}
}

// stackEvents returns the stack's events caused by token ("" for all),
// oldest first.
func stackEvents(ctx context.Context, c CloudFormationAPI, stack, token string) ([]cfntypes.StackEvent, error) {
	var out []cfntypes.StackEvent
	in := &cloudformation.DescribeStackEventsInput{StackName: awssdk.String(stack)}
	for {
		page, err := c.DescribeStackEvents(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("describe stack events of %s: %w", stack, err)
		}
		for _, ev := range page.StackEvents {
			if token == "" || awssdk.ToString(ev.ClientRequestToken) == token {
				out = append(out, ev)
			}
		}
		if page.NextToken == nil || *page.NextToken == "" || (token != "" && len(out) > 0 && !tokenOn(page.StackEvents, token)) {
			break
		}
		in.NextToken = page.NextToken
	}
	slices.Reverse(out) // AWS lists newest first
	return out, nil
}

// tokenOn reports whether the page's oldest event is still the token's: if
// not, older pages hold only earlier operations.
func tokenOn(evs []cfntypes.StackEvent, token string) bool {
	return len(evs) > 0 && awssdk.ToString(evs[len(evs)-1].ClientRequestToken) == token
}

func eventText(ev cfntypes.StackEvent) string {
	s := awssdk.ToString(ev.LogicalResourceId) + " " + string(ev.ResourceStatus)
	if r := awssdk.ToString(ev.ResourceStatusReason); r != "" {
		s += ": " + r
	}
	return s
}

// cfnStatus is cloudformation.stack-status.
type cfnStatus struct{ cfnBase }

func (a *cfnStatus) Name() string   { return "cloudformation.stack-status" }
func (a *cfnStatus) Mutating() bool { return false }
func (a *cfnStatus) IAMActions() []string {
	return []string{"cloudformation:DescribeStacks", "cloudformation:DescribeStackResources", "cloudformation:DescribeStackEvents"}
}

func (a *cfnStatus) Plan(context.Context, tasks.Invocation) (tasks.Plan, error) {
	return tasks.Plan{Summary: "read-only: reads the stack's status, resources, outputs and last events"}, nil
}

// statusEvents is how many of the last events stack-status shows.
const statusEvents = 5

func (a *cfnStatus) Run(ctx context.Context, inv tasks.Invocation, _ func(tasks.Progress)) (tasks.Result, error) {
	name, err := stackName(inv.Target)
	if err != nil {
		return tasks.Result{}, err
	}
	c := a.client(inv.AWS)
	st, err := describeStack(ctx, c, name)
	if err != nil {
		return tasks.Result{}, Classify(err, a.IAMActions())
	}
	if st == nil {
		return tasks.Result{Summary: fmt.Sprintf("stack %s is not deployed; deploy creates it", name)}, nil
	}
	sum := fmt.Sprintf("%s %s", name, st.StackStatus)
	if r := awssdk.ToString(st.StackStatusReason); r != "" {
		sum += " (" + r + ")"
	}
	if d := st.DriftInformation; d != nil && d.StackDriftStatus != "" {
		sum += " · drift " + string(d.StackDriftStatus)
		if d.LastCheckTimestamp != nil {
			sum += " (checked " + d.LastCheckTimestamp.UTC().Format("2006-01-02 15:04") + ")"
		}
	}
	var res tasks.Result
	rs, err := c.DescribeStackResources(ctx, &cloudformation.DescribeStackResourcesInput{StackName: awssdk.String(name)})
	if err != nil {
		return tasks.Result{}, Classify(fmt.Errorf("describe stack resources: %w", err), a.IAMActions())
	}
	for _, r := range rs.StackResources {
		s := tasks.StatusOK
		if strings.HasSuffix(string(r.ResourceStatus), "_FAILED") {
			s = tasks.StatusFailed
		}
		res.Resources = append(res.Resources, tasks.ResourceResult{Resource: awssdk.ToString(r.LogicalResourceId), Status: s,
			Detail: fmt.Sprintf("%s %s %s", awssdk.ToString(r.ResourceType), awssdk.ToString(r.PhysicalResourceId), r.ResourceStatus)})
	}
	for _, o := range st.Outputs {
		res.Resources = append(res.Resources, tasks.ResourceResult{Resource: "output " + awssdk.ToString(o.OutputKey), Status: tasks.StatusOK, Detail: awssdk.ToString(o.OutputValue)})
	}
	evs, err := stackEvents(ctx, c, name, "")
	if err != nil {
		return tasks.Result{}, Classify(err, a.IAMActions())
	}
	for _, ev := range evs[max(0, len(evs)-statusEvents):] {
		res.Resources = append(res.Resources, tasks.ResourceResult{Resource: "event " + awssdk.ToTime(ev.Timestamp).UTC().Format("15:04:05"),
			Status: tasks.StatusOK, Detail: eventText(ev)})
	}
	res.Summary = sum
	return res, nil
}

// cfnDrift is cloudformation.detect-drift.
type cfnDrift struct{ cfnBase }

func (a *cfnDrift) Name() string   { return "cloudformation.detect-drift" }
func (a *cfnDrift) Mutating() bool { return false }
func (a *cfnDrift) IAMActions() []string {
	return []string{"cloudformation:DetectStackDrift", "cloudformation:DescribeStackDriftDetectionStatus", "cloudformation:DescribeStackResourceDrifts"}
}

func (a *cfnDrift) Plan(context.Context, tasks.Invocation) (tasks.Plan, error) {
	return tasks.Plan{Summary: "read-only: compares the stack's resources with its template"}, nil
}

func (a *cfnDrift) Run(ctx context.Context, inv tasks.Invocation, _ func(tasks.Progress)) (tasks.Result, error) {
	name, err := stackName(inv.Target)
	if err != nil {
		return tasks.Result{}, err
	}
	c := a.client(inv.AWS)
	det, err := c.DetectStackDrift(ctx, &cloudformation.DetectStackDriftInput{StackName: awssdk.String(name)})
	if err != nil {
		if notFound(err) {
			return tasks.Result{}, errs.Wrap("detect drift", errs.NotFound, err, "stack %s is not deployed; there is nothing to compare", name)
		}
		return tasks.Result{}, Classify(fmt.Errorf("detect stack drift: %w", err), a.IAMActions())
	}
	var st *cloudformation.DescribeStackDriftDetectionStatusOutput
	for {
		st, err = c.DescribeStackDriftDetectionStatus(ctx, &cloudformation.DescribeStackDriftDetectionStatusInput{StackDriftDetectionId: det.StackDriftDetectionId})
		if err != nil {
			return tasks.Result{}, Classify(fmt.Errorf("read drift detection: %w", err), a.IAMActions())
		}
		if st.DetectionStatus != cfntypes.StackDriftDetectionStatusDetectionInProgress {
			break
		}
		if err := a.wait(ctx); err != nil {
			return tasks.Result{}, fmt.Errorf("wait for drift detection: %w", err)
		}
	}
	if st.DetectionStatus == cfntypes.StackDriftDetectionStatusDetectionFailed && st.StackDriftStatus == "" {
		return tasks.Result{}, errs.E("detect drift", errs.Internal, "%s", "drift detection failed: "+awssdk.ToString(st.DetectionStatusReason))
	}
	in := &cloudformation.DescribeStackResourceDriftsInput{StackName: awssdk.String(name),
		StackResourceDriftStatusFilters: []cfntypes.StackResourceDriftStatus{cfntypes.StackResourceDriftStatusModified, cfntypes.StackResourceDriftStatusDeleted}}
	var res tasks.Result
	for {
		page, err := c.DescribeStackResourceDrifts(ctx, in)
		if err != nil {
			return tasks.Result{}, Classify(fmt.Errorf("describe resource drifts: %w", err), a.IAMActions())
		}
		for _, d := range page.StackResourceDrifts {
			detail := string(d.StackResourceDriftStatus) + " " + awssdk.ToString(d.ResourceType) + " " + awssdk.ToString(d.PhysicalResourceId)
			for _, p := range d.PropertyDifferences {
				detail += fmt.Sprintf("; %s: template %s, actual %s", strings.TrimPrefix(awssdk.ToString(p.PropertyPath), "/"),
					awssdk.ToString(p.ExpectedValue), awssdk.ToString(p.ActualValue))
			}
			// A drift is a finding, not a failure of the check.
			res.Resources = append(res.Resources, tasks.ResourceResult{Resource: awssdk.ToString(d.LogicalResourceId), Status: tasks.StatusOK, Detail: detail})
		}
		if page.NextToken == nil || *page.NextToken == "" {
			break
		}
		in.NextToken = page.NextToken
	}
	res.Summary = fmt.Sprintf("%s %s: %d resources drifted", name, st.StackDriftStatus, awssdk.ToInt32(st.DriftedStackResourceCount))
	if st.StackDriftStatus == cfntypes.StackDriftStatusInSync {
		res.Summary = fmt.Sprintf("%s IN_SYNC: every resource matches the template", name)
	}
	return res, nil
}

// staleChangeSet is the Conflict of a change set approvers saw that can no
// longer be executed (why says how): nothing is executed in its place. err
// is the AWS answer that said so, if any.
func staleChangeSet(changeSet, why string, err error) error {
	return errs.Wrap("execute change set", errs.Conflict, err,
		"not deployed: the change set the approvers saw (%s) %s; request the deploy again to review the current changes", changeSet, why)
}

// notFound reports a CloudFormation "does not exist" answer.
func notFound(err error) bool {
	code := ErrorCode(err)
	return code == "ChangeSetNotFound" || code == "ChangeSetNotFoundException" ||
		(code == "ValidationError" && strings.Contains(err.Error(), "does not exist"))
}
