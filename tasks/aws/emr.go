package aws

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/emr"
	emrtypes "github.com/aws/aws-sdk-go-v2/service/emr/types"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/tasks"
)

// EMRAPI is the part of Amazon EMR the emr.* actions call.
type EMRAPI interface {
	ListClusters(context.Context, *emr.ListClustersInput, ...func(*emr.Options)) (*emr.ListClustersOutput, error)
	DescribeCluster(context.Context, *emr.DescribeClusterInput, ...func(*emr.Options)) (*emr.DescribeClusterOutput, error)
	ListInstanceGroups(context.Context, *emr.ListInstanceGroupsInput, ...func(*emr.Options)) (*emr.ListInstanceGroupsOutput, error)
	ListSteps(context.Context, *emr.ListStepsInput, ...func(*emr.Options)) (*emr.ListStepsOutput, error)
	ModifyInstanceGroups(context.Context, *emr.ModifyInstanceGroupsInput, ...func(*emr.Options)) (*emr.ModifyInstanceGroupsOutput, error)
	TerminateJobFlows(context.Context, *emr.TerminateJobFlowsInput, ...func(*emr.Options)) (*emr.TerminateJobFlowsOutput, error)
}

var _ EMRAPI = (*emr.Client)(nil)

// EMRClient builds the client for one invocation's config.
type EMRClient func(awssdk.Config) EMRAPI

// SDKEMR is the production EMRClient.
func SDKEMR(cfg awssdk.Config) EMRAPI { return emr.NewFromConfig(cfg) }

// EMRActions returns the emr.* actions.
func EMRActions(newClient EMRClient) []tasks.Action {
	read := []string{"elasticmapreduce:ListClusters", "elasticmapreduce:DescribeCluster", "elasticmapreduce:ListInstanceGroups"}
	return forTarget("emr:cluster",
		&stepAction{
			name: "emr.describe", verb: "described", noun: "clusters",
			iam: append(slices.Clone(read), "elasticmapreduce:ListSteps"),
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				c := newClient(inv.AWS)
				cls, err := selectEMRClusters(ctx, c, inv.Target)
				if err != nil {
					return tasks.Plan{}, nil, err
				}
				b := planBuilder{verb: "describe", noun: "clusters"}
				for _, cl := range cls {
					b.add(cl.label(), "", decision{Run: func(ctx context.Context) (string, error) {
						idle, err := clusterIdle(ctx, c, cl, inv.Now)
						if err != nil {
							return "", err
						}
						return cl.describe(inv.Now) + "; " + idle.text, nil
					}})
				}
				return b.plan(), b.steps, nil
			},
		},
		&stepAction{
			name: "emr.resize-group", mutating: true, verb: "resized", noun: "instance groups",
			iam: append(slices.Clone(read), "elasticmapreduce:ModifyInstanceGroups"),
			params: []tasks.Param{
				{Name: "group", Type: tasks.TypeEnum, Enum: []string{"task", "core"}, Default: "task",
					Description: "which instance groups: task (compute only) or core (also HDFS storage)"},
				{Name: "count", Type: tasks.TypeInt, Required: true, Min: bound(0), Max: bound(100),
					Description: "instances each of those groups should run (core needs at least 1)"},
			},
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				return resizeGroupPlan(ctx, newClient(inv.AWS), inv)
			},
		},
		&stepAction{
			name: "emr.terminate-idle", mutating: true, verb: "terminated", noun: "clusters",
			iam: append(slices.Clone(read), "elasticmapreduce:ListSteps", "elasticmapreduce:TerminateJobFlows"),
			params: []tasks.Param{{Name: "idle_hours", Type: tasks.TypeInt, Default: "4", Min: bound(1), Max: bound(168),
				Description: "terminate only clusters with no step running or pending for at least this many hours"}},
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				return terminateIdlePlan(ctx, newClient(inv.AWS), inv)
			},
		},
	)
}

// emrCluster is what the actions read of a cluster.
type emrCluster struct {
	id, name, release string
	state             emrtypes.ClusterState
	ready             time.Time
	fleets, protected bool
	groups            []emrtypes.InstanceGroup
}

func (c emrCluster) label() string { return c.name + " (" + c.id + ")" }

func (c emrCluster) describe(now time.Time) string {
	parts := []string{string(c.state), c.release}
	if !c.ready.IsZero() {
		parts = append(parts, "up "+tasks.FormatDuration(now.Sub(c.ready).Truncate(time.Minute)))
	}
	if c.fleets {
		parts = append(parts, "instance fleets")
	}
	for _, g := range c.groups {
		s := fmt.Sprintf("%s %d/%d %s", g.InstanceGroupType, awssdk.ToInt32(g.RunningInstanceCount), awssdk.ToInt32(g.RequestedInstanceCount), awssdk.ToString(g.InstanceType))
		if g.Status != nil && g.Status.State != emrtypes.InstanceGroupStateRunning {
			s += " " + string(g.Status.State)
		}
		parts = append(parts, s)
	}
	if c.protected {
		parts = append(parts, "termination protection on")
	}
	return strings.Join(parts, ", ")
}

// activeStates are the states of a cluster that can be operated.
var activeStates = []emrtypes.ClusterState{emrtypes.ClusterStateStarting, emrtypes.ClusterStateBootstrapping, emrtypes.ClusterStateRunning, emrtypes.ClusterStateWaiting}

// selectClusters lists the account's active clusters and keeps those whose
// tags, as EMR reports them, are the app's.
func selectEMRClusters(ctx context.Context, c EMRAPI, sel tasks.Selector) ([]emrCluster, error) {
	if err := checkSelector(sel); err != nil {
		return nil, err
	}
	var out []emrCluster
	p := emr.NewListClustersPaginator(c, &emr.ListClustersInput{ClusterStates: activeStates})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list clusters: %w", err)
		}
		for _, s := range page.Clusters {
			id, name := awssdk.ToString(s.Id), awssdk.ToString(s.Name)
			if !selects(tasks.Selector{IDs: sel.IDs}, id, awssdk.ToString(s.ClusterArn), nil) {
				continue
			}
			d, err := c.DescribeCluster(ctx, &emr.DescribeClusterInput{ClusterId: awssdk.String(id)})
			if err != nil {
				return nil, fmt.Errorf("describe cluster %s: %w", id, err)
			}
			cl := d.Cluster
			tags := map[string]string{}
			for _, t := range cl.Tags {
				tags[awssdk.ToString(t.Key)] = awssdk.ToString(t.Value)
			}
			// Names are not unique in EMR: a name binding matches the
			// cluster's name, an id binding its id.
			if !selects(tasks.Selector{IDs: sel.IDs, Tags: sel.Tags}, id, awssdk.ToString(cl.ClusterArn), tags) ||
				(len(sel.Names) > 0 && !tasks.MatchesAnyGlob(sel.Names, name)) {
				continue
			}
			e := emrCluster{id: id, name: name, release: awssdk.ToString(cl.ReleaseLabel), fleets: cl.InstanceCollectionType == emrtypes.InstanceCollectionTypeInstanceFleet,
				protected: awssdk.ToBool(cl.TerminationProtected)}
			if cl.Status != nil {
				e.state = cl.Status.State
				if cl.Status.Timeline != nil {
					e.ready = awssdk.ToTime(cl.Status.Timeline.ReadyDateTime)
				}
			}
			if !e.fleets {
				gp := emr.NewListInstanceGroupsPaginator(c, &emr.ListInstanceGroupsInput{ClusterId: awssdk.String(id)})
				for gp.HasMorePages() {
					gs, err := gp.NextPage(ctx)
					if err != nil {
						return nil, fmt.Errorf("list instance groups of %s: %w", id, err)
					}
					e.groups = append(e.groups, gs.InstanceGroups...)
				}
			}
			out = append(out, e)
		}
	}
	return out, nil
}

// idleness says since when a cluster has had no step running or pending.
type idleness struct {
	busy  bool
	since time.Time
	text  string
}

// clusterIdle reads a cluster's steps: busy while one runs or waits; idle
// otherwise since the last step ended (or since the cluster was ready).
func clusterIdle(ctx context.Context, c EMRAPI, cl emrCluster, now time.Time) (idleness, error) {
	out, err := c.ListSteps(ctx, &emr.ListStepsInput{ClusterId: awssdk.String(cl.id)}) // newest first; the first page is enough
	if err != nil {
		return idleness{}, fmt.Errorf("list steps of %s: %w", cl.id, err)
	}
	since := cl.ready
	for _, s := range out.Steps {
		if s.Status == nil {
			continue
		}
		switch s.Status.State {
		case emrtypes.StepStatePending, emrtypes.StepStateRunning, emrtypes.StepStateCancelPending:
			return idleness{busy: true, text: fmt.Sprintf("busy: step %s is %s", awssdk.ToString(s.Name), s.Status.State)}, nil
		}
		if tl := s.Status.Timeline; tl != nil && awssdk.ToTime(tl.EndDateTime).After(since) {
			since = awssdk.ToTime(tl.EndDateTime)
		}
	}
	if since.IsZero() {
		return idleness{busy: true, text: "not ready yet"}, nil
	}
	return idleness{since: since, text: "idle for " + tasks.FormatDuration(now.Sub(since).Truncate(time.Minute))}, nil
}

func resizeGroupPlan(ctx context.Context, c EMRAPI, inv tasks.Invocation) (tasks.Plan, []step, error) {
	kind, err := stringValue(inv.Values, "group", "task")
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	n, err := intValue(inv.Values, "count", 0)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	want := emrtypes.InstanceGroupType(strings.ToUpper(kind))
	if want == emrtypes.InstanceGroupTypeCore && n < 1 {
		return tasks.Plan{}, nil, errs.E("resize instance group", errs.Invalid, "a core group needs at least 1 instance (it holds HDFS)")
	}
	cls, err := selectEMRClusters(ctx, c, inv.Target)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	b := planBuilder{verb: fmt.Sprintf("set %s instances to %d", kind, n), noun: "instance groups"}
	for _, cl := range cls {
		if cl.fleets {
			b.add(cl.label(), "", decision{Skip: "the cluster uses instance fleets, not instance groups"})
			continue
		}
		found := false
		for _, g := range cl.groups {
			if g.InstanceGroupType != want {
				continue
			}
			found = true
			id, cur := awssdk.ToString(g.Id), int(awssdk.ToInt32(g.RequestedInstanceCount))
			res := cl.label() + " " + id
			switch {
			case cur == n:
				b.add(res, "", decision{Skip: fmt.Sprintf("already %d instances", n)})
				continue
			case g.Status != nil && g.Status.State != emrtypes.InstanceGroupStateRunning:
				b.add(res, "", decision{Skip: "the group is " + string(g.Status.State)})
				continue
			}
			detail := fmt.Sprintf("%s %d -> %d %s", g.InstanceGroupType, cur, n, awssdk.ToString(g.InstanceType))
			if want == emrtypes.InstanceGroupTypeCore && n < cur {
				detail += " (core nodes leave only after their HDFS blocks are copied away)"
			}
			b.add(res, detail, decision{Run: func(ctx context.Context) (string, error) {
				_, err := c.ModifyInstanceGroups(ctx, &emr.ModifyInstanceGroupsInput{ClusterId: awssdk.String(cl.id),
					InstanceGroups: []emrtypes.InstanceGroupModifyConfig{{InstanceGroupId: awssdk.String(id), InstanceCount: awssdk.Int32(int32(n))}}})
				if err != nil {
					return "", err
				}
				return detail + ": resizing", nil
			}})
		}
		if !found {
			b.add(cl.label(), "", decision{Skip: "has no " + kind + " instance group"})
		}
	}
	return b.plan(), b.steps, nil
}

func terminateIdlePlan(ctx context.Context, c EMRAPI, inv tasks.Invocation) (tasks.Plan, []step, error) {
	hours, err := intValue(inv.Values, "idle_hours", 4)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	bound := time.Duration(hours) * time.Hour
	cls, err := selectEMRClusters(ctx, c, inv.Target)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	b := planBuilder{verb: fmt.Sprintf("terminate (idle over %dh)", hours), noun: "clusters"}
	for _, cl := range cls {
		idle, err := clusterIdle(ctx, c, cl, inv.Now)
		if err != nil {
			return tasks.Plan{}, nil, err
		}
		switch {
		case idle.busy:
			b.add(cl.label(), "", decision{Skip: idle.text})
			continue
		case inv.Now.Sub(idle.since) < bound:
			b.add(cl.label(), "", decision{Skip: idle.text + ", not over " + tasks.FormatDuration(bound)})
			continue
		case cl.state != emrtypes.ClusterStateWaiting:
			b.add(cl.label(), "", decision{Skip: "the cluster is " + string(cl.state) + ", not WAITING"})
			continue
		case cl.protected:
			b.add(cl.label(), "", decision{Skip: idle.text + ", but termination protection is on"})
			continue
		}
		b.add(cl.label(), idle.text+"; "+cl.describe(inv.Now), decision{Run: func(ctx context.Context) (string, error) {
			if _, err := c.TerminateJobFlows(ctx, &emr.TerminateJobFlowsInput{JobFlowIds: []string{cl.id}}); err != nil {
				return "", err
			}
			return idle.text + ": terminating", nil
		}})
	}
	return b.plan(), b.steps, nil
}
