package aws

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/tasks"
)

// EC2API is the part of the EC2 client the ec2.* actions call.
type EC2API interface {
	DescribeInstances(context.Context, *ec2.DescribeInstancesInput, ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
	RebootInstances(context.Context, *ec2.RebootInstancesInput, ...func(*ec2.Options)) (*ec2.RebootInstancesOutput, error)
	StopInstances(context.Context, *ec2.StopInstancesInput, ...func(*ec2.Options)) (*ec2.StopInstancesOutput, error)
	StartInstances(context.Context, *ec2.StartInstancesInput, ...func(*ec2.Options)) (*ec2.StartInstancesOutput, error)
	DescribeInstanceStatus(context.Context, *ec2.DescribeInstanceStatusInput, ...func(*ec2.Options)) (*ec2.DescribeInstanceStatusOutput, error)
	ModifyInstanceAttribute(context.Context, *ec2.ModifyInstanceAttributeInput, ...func(*ec2.Options)) (*ec2.ModifyInstanceAttributeOutput, error)
	CreateImage(context.Context, *ec2.CreateImageInput, ...func(*ec2.Options)) (*ec2.CreateImageOutput, error)
}

var _ EC2API = (*ec2.Client)(nil)

// EC2Client builds the client for one invocation's config.
type EC2Client func(awssdk.Config) EC2API

// SDKEC2 is the production EC2Client.
func SDKEC2(cfg awssdk.Config) EC2API { return ec2.NewFromConfig(cfg) }

const (
	ec2Type = "ec2:instance"
	// ec2PageSize is DescribeInstances' maximum page: 1,000 instances cost
	// one call.
	ec2PageSize = 1000
	// ec2DescribeLimit caps what ec2.describe loads by default.
	ec2DescribeLimit = 1000
)

// NewEC2Describe lists the target's instances with state, type, AZ and tags.
func NewEC2Describe(client EC2Client) tasks.Action { return &ec2Describe{client: client} }

// NewEC2Reboot reboots the target's running instances in batches.
func NewEC2Reboot(client EC2Client) tasks.Action {
	return &ec2Change{name: "ec2.reboot", verb: "reboot", past: "rebooted", iam: "ec2:RebootInstances", back: "running",
		from: []ec2types.InstanceStateName{ec2types.InstanceStateNameRunning}, client: client,
		call: func(ctx context.Context, c EC2API, ids []string) error {
			_, err := c.RebootInstances(ctx, &ec2.RebootInstancesInput{InstanceIds: ids})
			return err
		}}
}

// NewEC2Stop stops the target's running instances in batches.
func NewEC2Stop(client EC2Client) tasks.Action {
	return &ec2Change{name: "ec2.stop", verb: "stop", past: "stopped", iam: "ec2:StopInstances", back: "stopped",
		from: []ec2types.InstanceStateName{ec2types.InstanceStateNameRunning, ec2types.InstanceStateNamePending}, client: client,
		call: func(ctx context.Context, c EC2API, ids []string) error {
			_, err := c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: ids})
			return err
		}}
}

// NewEC2Start starts the target's stopped instances in batches.
func NewEC2Start(client EC2Client) tasks.Action {
	return &ec2Change{name: "ec2.start", verb: "start", past: "started", iam: "ec2:StartInstances", back: "running",
		from: []ec2types.InstanceStateName{ec2types.InstanceStateNameStopped}, client: client,
		call: func(ctx context.Context, c EC2API, ids []string) error {
			_, err := c.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: ids})
			return err
		}}
}

// instance is what the actions read of an EC2 instance.
type instance struct {
	ID, State, Type, AZ string
	Tags                map[string]string
}

func (in instance) describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s", in.State, in.Type, in.AZ)
	for _, k := range slices.Sorted(maps.Keys(in.Tags)) {
		fmt.Fprintf(&b, " %s=%s", k, in.Tags[k])
	}
	return b.String()
}

// ec2Filters turns a selector into DescribeInstances filters. Ids go in an
// instance-id filter, not InstanceIds: AWS fails the whole call for one
// stale id there, and rejects MaxResults with it.
func ec2Filters(sel tasks.Selector) ([]ec2types.Filter, error) {
	if sel.Type != ec2Type {
		return nil, fmt.Errorf("select instances: selector type %q, want %s", sel.Type, ec2Type)
	}
	if len(sel.Tags) == 0 && len(sel.Names) == 0 && len(sel.IDs) == 0 {
		// An empty selector would act on every instance in the account.
		return nil, errs.E("select instances", errs.Invalid, "the task's target selects no instances: bind it by tag, name or id")
	}
	fs := ec2SelectorFilters(sel)
	if len(sel.Names) > 0 {
		fs = append(fs, ec2types.Filter{Name: awssdk.String("tag:Name"), Values: sel.Names})
	}
	if len(sel.IDs) > 0 {
		fs = append(fs, ec2types.Filter{Name: awssdk.String("instance-id"), Values: sel.IDs})
	}
	return fs, nil
}

// listInstances pages through the selected instances (terminated ones
// left out), loading at most limit: each page asks for no more than is
// still wanted. more reports that AWS has further instances.
func listInstances(ctx context.Context, c EC2API, sel tasks.Selector, limit int) (out []instance, more bool, err error) {
	fs, err := ec2Filters(sel)
	if err != nil {
		return nil, false, err
	}
	fs = append(fs, ec2types.Filter{Name: awssdk.String("instance-state-name"),
		Values: []string{"pending", "running", "stopping", "stopped", "shutting-down"}})
	in := &ec2.DescribeInstancesInput{Filters: fs}
	for {
		// AWS accepts 5..1000; a page of 5 for the last 2 wanted is
		// cut below.
		in.MaxResults = awssdk.Int32(int32(min(ec2PageSize, max(limit-len(out), 5))))
		page, err := c.DescribeInstances(ctx, in)
		if err != nil {
			return out, false, fmt.Errorf("describe instances: %w", err)
		}
		for _, r := range page.Reservations {
			for _, i := range r.Instances {
				in := fromSDKInstance(i)
				// Trust the binding, not the server's filter: an endpoint
				// that ignores filters (or a filter that means less than
				// the binding) must not put an instance in the plan.
				if !sel.Matches(tasks.Candidate{ID: in.ID, Name: in.Tags["Name"], Tags: in.Tags}) {
					continue
				}
				if len(out) == limit {
					return out, true, nil
				}
				out = append(out, in)
			}
		}
		if page.NextToken == nil || *page.NextToken == "" {
			return out, false, nil
		}
		if len(out) == limit {
			return out, true, nil
		}
		in.NextToken = page.NextToken
	}
}

func fromSDKInstance(i ec2types.Instance) instance {
	in := instance{ID: awssdk.ToString(i.InstanceId), Type: string(i.InstanceType), Tags: make(map[string]string, len(i.Tags))}
	for _, t := range i.Tags {
		in.Tags[awssdk.ToString(t.Key)] = awssdk.ToString(t.Value)
	}
	if i.Placement != nil {
		in.AZ = awssdk.ToString(i.Placement.AvailabilityZone)
	}
	if i.State != nil {
		in.State = string(i.State.Name)
	}
	return in
}

type ec2Describe struct{ client EC2Client }

var _ tasks.Action = (*ec2Describe)(nil)

func (a *ec2Describe) Name() string { return "ec2.describe" }
func (a *ec2Describe) Params() []tasks.Param {
	return []tasks.Param{{Name: "limit", Type: tasks.TypeInt, Description: "most instances to list", Default: "1000", Min: bound(1), Max: bound(10000)}}
}
func (a *ec2Describe) Mutating() bool       { return false }
func (a *ec2Describe) IAMActions() []string { return []string{"ec2:DescribeInstances"} }

// Plan of a read-only action changes nothing; it says what would be read.
func (a *ec2Describe) Plan(ctx context.Context, inv tasks.Invocation) (tasks.Plan, error) {
	return tasks.Plan{Summary: "read-only: lists the target's instances"}, nil
}

func (a *ec2Describe) Run(ctx context.Context, inv tasks.Invocation, _ func(tasks.Progress)) (tasks.Result, error) {
	limit, err := intValue(inv.Values, "limit", ec2DescribeLimit)
	if err != nil {
		return tasks.Result{}, err
	}
	ins, more, err := listInstances(ctx, a.client(inv.AWS), inv.Target, limit)
	if err != nil {
		return tasks.Result{}, classifyFor(err, a.IAMActions(), inv.Target)
	}
	res := tasks.Result{}
	states := map[string]int{}
	for _, in := range ins {
		states[in.State]++
		res.Resources = append(res.Resources, tasks.ResourceResult{Resource: in.ID, Status: tasks.StatusOK, Detail: in.describe()})
	}
	var parts []string
	for _, s := range slices.Sorted(maps.Keys(states)) {
		parts = append(parts, fmt.Sprintf("%d %s", states[s], s))
	}
	res.Summary = fmt.Sprintf("%d instances", len(ins))
	if len(parts) > 0 {
		res.Summary += ": " + strings.Join(parts, ", ")
	}
	if more {
		res.Summary += fmt.Sprintf(" (first %d shown; more may exist)", limit)
	}
	return res, nil
}

// ec2Change is a mutating action over instances in given states, called
// in batches; between batches it waits until the batch is back (in state
// back, and for "running" passing its checks and healthy behind the app's
// target groups).
type ec2Change struct {
	name, verb, past, iam string
	from                  []ec2types.InstanceStateName
	back                  string
	client                EC2Client
	call                  func(context.Context, EC2API, []string) error
	// elb reads the app's target groups; nil means SDKELBv2.
	elb  ELBv2Client
	pace Pace
}

var _ tasks.Action = (*ec2Change)(nil)

func (a *ec2Change) Name() string { return a.name }
func (a *ec2Change) Params() []tasks.Param {
	return []tasks.Param{{Name: "batch", Type: tasks.TypeInt, Description: "instances per batch", Default: "1", Min: bound(1), Max: bound(1000)}, waitParam}
}
func (a *ec2Change) Mutating() bool { return true }
func (a *ec2Change) IAMActions() []string {
	iam := []string{"ec2:DescribeInstances", a.iam, "ec2:DescribeInstanceStatus"}
	if a.back == "running" {
		iam = append(iam, "elasticloadbalancing:DescribeTags", "elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetHealth")
	}
	return iam
}

// maxChange bounds one run: acting on more instances than this is not a
// day-2 chat operation.
const maxChange = 5000

// select splits the target into instances to change and ones to skip.
func (a *ec2Change) targets(ctx context.Context, c EC2API, sel tasks.Selector) (act, skip []instance, err error) {
	ins, more, err := listInstances(ctx, c, sel, maxChange)
	if err != nil {
		return nil, nil, classifyFor(err, a.IAMActions(), sel)
	}
	if more {
		return nil, nil, errs.E("select instances", errs.Invalid, "the target selects more than %d instances; narrow it", maxChange)
	}
	for _, in := range ins {
		if slices.Contains(a.from, ec2types.InstanceStateName(in.State)) {
			act = append(act, in)
		} else {
			skip = append(skip, in)
		}
	}
	return act, skip, nil
}

func (a *ec2Change) Plan(ctx context.Context, inv tasks.Invocation) (tasks.Plan, error) {
	batch, err := intValue(inv.Values, "batch", 1)
	if err != nil {
		return tasks.Plan{}, err
	}
	act, skip, err := a.targets(ctx, a.client(inv.AWS), inv.Target)
	if err != nil {
		return tasks.Plan{}, err
	}
	p := tasks.Plan{Summary: fmt.Sprintf("%s %d instances in %d batches of up to %d", a.verb, len(act), batches(len(act), batch), max(batch, 1))}
	if len(skip) > 0 {
		p.Summary += fmt.Sprintf("; %d skipped (not %s)", len(skip), a.fromText())
	}
	if batches(len(act), batch) > 1 {
		wait, err := durationValue(inv.Values, "wait", defaultWait)
		if err != nil {
			return tasks.Plan{}, err
		}
		p.Summary += fmt.Sprintf("; each batch %s before the next starts (at most %s)", a.backText(), tasks.FormatDuration(wait))
	}
	for i, in := range act {
		p.Changes = append(p.Changes, tasks.Change{Resource: in.ID, Action: a.verb, Detail: fmt.Sprintf("batch %d: %s", i/max(batch, 1)+1, in.describe())})
	}
	return p, nil
}

func (a *ec2Change) Run(ctx context.Context, inv tasks.Invocation, progress func(tasks.Progress)) (tasks.Result, error) {
	batch, err := intValue(inv.Values, "batch", 1)
	if err != nil {
		return tasks.Result{}, err
	}
	batch = max(batch, 1)
	wait, err := durationValue(inv.Values, "wait", defaultWait)
	if err != nil {
		return tasks.Result{}, err
	}
	c := a.client(inv.AWS)
	act, skip, err := a.targets(ctx, c, inv.Target)
	if err != nil {
		return tasks.Result{}, err
	}
	newELB := a.elb
	if newELB == nil {
		newELB = SDKELBv2
	}
	backOf := ec2Back(c, newELB(inv.AWS), inv.Related, a.back)
	total := batches(len(act), batch)
	var stopped error // a batch that did not come back stops the rest
	var res tasks.Result
	for _, in := range skip {
		res.Resources = append(res.Resources, tasks.ResourceResult{Resource: in.ID, Status: tasks.StatusSkipped, Detail: fmt.Sprintf("%s, not %s", in.State, a.fromText())})
	}
	ok := 0
	var denied error
	for start := 0; start < len(act); start += batch {
		ids := instanceIDs(act[start:min(start+batch, len(act))])
		if denied != nil || stopped != nil || ctx.Err() != nil {
			why := "not attempted: run deadline reached"
			switch {
			case denied != nil:
				why = "not attempted: access denied"
			case stopped != nil:
				why = "not attempted: " + oneLineOf(stopped)
			}
			for _, id := range ids {
				res.Resources = append(res.Resources, tasks.ResourceResult{Resource: id, Status: tasks.StatusSkipped, Detail: why})
			}
			continue
		}
		var acted []string
		for _, r := range a.runBatch(ctx, c, ids) {
			if awsDenied(r.err) {
				denied = r.err
			}
			if r.err != nil {
				res.Resources = append(res.Resources, Failure(r.id, r.err))
				continue
			}
			ok++
			acted = append(acted, r.id)
			res.Resources = append(res.Resources, tasks.ResourceResult{Resource: r.id, Status: tasks.StatusOK, Detail: a.past})
		}
		n := start/batch + 1
		done := min(start+batch, len(act))
		if progress != nil {
			progress(tasks.Progress{Done: done, Total: len(act), Message: fmt.Sprintf("%s batch %d of %d", a.past, n, total)})
		}
		if n < total && len(acted) > 0 && denied == nil {
			stopped = a.waitBatch(ctx, backOf, acted, wait, n, total, func(msg string) {
				if progress != nil {
					progress(tasks.Progress{Done: done, Total: len(act), Message: msg})
				}
			})
			var nb *NotBackError
			if stopped != nil && !errors.As(stopped, &nb) && ctx.Err() == nil {
				stopped = classifyFor(stopped, a.IAMActions(), inv.Target)
			}
		}
	}
	if stopped != nil {
		res.Summary = Summarize(a.past, "instances", res.Resources)
		return res, stopped
	}
	res.Summary = Summarize(a.past, "instances", res.Resources)
	if ok == 0 && denied != nil {
		// Nothing happened and nothing will until the role is fixed: the
		// user sees the permission to add.
		return res, denied
	}
	return res, nil
}

// waitBatch waits until the acted-on instances of batch n are back.
func (a *ec2Change) waitBatch(ctx context.Context, backOf func(context.Context, []string) (backCheck, error), ids []string,
	wait time.Duration, n, total int, show func(string)) error {
	check, err := backOf(ctx, ids)
	if err != nil {
		return err
	}
	return a.pace.waitBack(ctx, wait, n, total, check, show)
}

// oneLineOf is an error's user message, or its text.
func oneLineOf(err error) string { return errs.Text(err, err.Error()) }

type idResult struct {
	id  string
	err error
}

// runBatch calls the operation for ids. AWS validates the whole request
// before acting, so when a multi-instance call fails because of some
// instances, nothing happened and each is retried alone to find which.
func (a *ec2Change) runBatch(ctx context.Context, c EC2API, ids []string) []idResult {
	err := Classify(a.call(ctx, c, ids), a.IAMActions())
	out := make([]idResult, 0, len(ids))
	if err == nil || len(ids) == 1 || awsDenied(err) || !perInstance(err) {
		for _, id := range ids {
			out = append(out, idResult{id, err})
		}
		return out
	}
	for _, id := range ids {
		out = append(out, idResult{id, Classify(a.call(ctx, c, []string{id}), a.IAMActions())})
	}
	return out
}

// perInstance reports errors caused by some instances of a request.
func perInstance(err error) bool {
	switch code := ErrorCode(err); {
	case strings.HasPrefix(code, "InvalidInstanceID"), code == "IncorrectInstanceState", code == "IncorrectState", code == "UnsupportedOperation":
		return true
	}
	return false
}

func (a *ec2Change) backText() string {
	if a.back == "running" {
		return "must be back (status checks ok, targets healthy)"
	}
	return "must be " + a.back
}

func (a *ec2Change) fromText() string {
	s := make([]string, len(a.from))
	for i, f := range a.from {
		s[i] = string(f)
	}
	return strings.Join(s, " or ")
}

func instanceIDs(ins []instance) []string {
	ids := make([]string, len(ins))
	for i, in := range ins {
		ids[i] = in.ID
	}
	return ids
}

func batches(n, size int) int {
	size = max(size, 1)
	return (n + size - 1) / size
}

// EC2ActionsWith are the ec2.* actions with a load balancing client for
// the target health checks between batches (nil: SDKELBv2) and a pace.
func EC2ActionsWith(client EC2Client, elbc ELBv2Client, pace Pace) []tasks.Action {
	acts := []tasks.Action{NewEC2Describe(client), NewEC2Reboot(client), NewEC2Start(client), NewEC2Stop(client),
		ec2ChangeType(client), ec2CreateImage(client)}
	for _, a := range acts {
		if c, ok := a.(*ec2Change); ok {
			c.elb, c.pace = elbc, pace
		}
	}
	return acts
}
