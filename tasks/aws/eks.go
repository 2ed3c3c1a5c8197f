package aws

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/tasks"
)

// EKSAPI is the part of the EKS API the eks.* actions call.
type EKSAPI interface {
	ListClusters(context.Context, *eks.ListClustersInput, ...func(*eks.Options)) (*eks.ListClustersOutput, error)
	DescribeCluster(context.Context, *eks.DescribeClusterInput, ...func(*eks.Options)) (*eks.DescribeClusterOutput, error)
	ListNodegroups(context.Context, *eks.ListNodegroupsInput, ...func(*eks.Options)) (*eks.ListNodegroupsOutput, error)
	DescribeNodegroup(context.Context, *eks.DescribeNodegroupInput, ...func(*eks.Options)) (*eks.DescribeNodegroupOutput, error)
	UpdateNodegroupConfig(context.Context, *eks.UpdateNodegroupConfigInput, ...func(*eks.Options)) (*eks.UpdateNodegroupConfigOutput, error)
	UpdateNodegroupVersion(context.Context, *eks.UpdateNodegroupVersionInput, ...func(*eks.Options)) (*eks.UpdateNodegroupVersionOutput, error)
	DescribeUpdate(context.Context, *eks.DescribeUpdateInput, ...func(*eks.Options)) (*eks.DescribeUpdateOutput, error)
	ListAddons(context.Context, *eks.ListAddonsInput, ...func(*eks.Options)) (*eks.ListAddonsOutput, error)
	DescribeAddon(context.Context, *eks.DescribeAddonInput, ...func(*eks.Options)) (*eks.DescribeAddonOutput, error)
}

var _ EKSAPI = (*eks.Client)(nil)

// EKSClient builds the client for one invocation's config.
type EKSClient func(awssdk.Config) EKSAPI

// SDKEKS is the production EKSClient.
func SDKEKS(cfg awssdk.Config) EKSAPI { return eks.NewFromConfig(cfg) }

var eksUpdateWait = tasks.Param{Name: "wait", Type: tasks.TypeDuration, Default: "10m", Min: bound(60), Max: bound(3600),
	Description: "longest wait for the update to finish; AWS carries on after it"}

// EKSActions returns the eks.* actions; pace is how updates are followed.
func EKSActions(newClient EKSClient, pace Pace) []tasks.Action {
	clusterRead := []string{"eks:ListClusters", "eks:DescribeCluster"}
	ngRead := append(slices.Clone(clusterRead), "eks:ListNodegroups", "eks:DescribeNodegroup")
	return []tasks.Action{
		&stepAction{
			name: "eks.describe-cluster", target: "eks:cluster", verb: "described", noun: "clusters", iam: ngRead,
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				c := newClient(inv.AWS)
				return eksClusterPlan(ctx, c, inv, "describe", func(cl ekstypes.Cluster) decision {
					return decision{Run: func(ctx context.Context) (string, error) { return describeEKSCluster(ctx, c, cl) }}
				})
			},
		},
		&stepAction{
			name: "eks.list-addons", target: "eks:cluster", verb: "listed add-ons of", noun: "clusters",
			iam: append(slices.Clone(clusterRead), "eks:ListAddons", "eks:DescribeAddon"),
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				c := newClient(inv.AWS)
				return eksClusterPlan(ctx, c, inv, "list add-ons of", func(cl ekstypes.Cluster) decision {
					return decision{Run: func(ctx context.Context) (string, error) { return eksAddons(ctx, c, awssdk.ToString(cl.Name)) }}
				})
			},
		},
		&stepAction{
			name: "eks.describe-nodegroups", target: "eks:nodegroup", verb: "described", noun: "node groups", iam: ngRead,
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				ngs, err := selectNodegroups(ctx, newClient(inv.AWS), inv.Target)
				if err != nil {
					return tasks.Plan{}, nil, err
				}
				b := planBuilder{verb: "describe", noun: "node groups"}
				for _, n := range ngs {
					b.add(n.label(), "", decision{Run: func(context.Context) (string, error) { return n.describe(), nil }})
				}
				return b.plan(), b.steps, nil
			},
		},
		&stepAction{
			name: "eks.scale-nodegroup", target: "eks:nodegroup", mutating: true, verb: "scaled", noun: "node groups",
			iam: append(slices.Clone(ngRead), "eks:UpdateNodegroupConfig", "eks:DescribeUpdate"),
			params: []tasks.Param{
				{Name: "min", Type: tasks.TypeInt, Required: true, Min: bound(0), Max: bound(1000), Description: "fewest nodes the group may run"},
				{Name: "max", Type: tasks.TypeInt, Required: true, Min: bound(1), Max: bound(1000), Description: "most nodes the group may run"},
				{Name: "desired", Type: tasks.TypeInt, Required: true, Min: bound(0), Max: bound(1000), Description: "nodes the group should run now, between min and max"},
				eksUpdateWait,
			},
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				return scaleNodegroupPlan(ctx, newClient(inv.AWS), pace, inv)
			},
		},
		&stepAction{
			name: "eks.update-nodegroup-version", target: "eks:nodegroup", mutating: true, verb: "updated", noun: "node groups",
			iam:    append(slices.Clone(ngRead), "eks:UpdateNodegroupVersion", "eks:DescribeUpdate"),
			params: []tasks.Param{eksUpdateWait},
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				return updateNodegroupPlan(ctx, newClient(inv.AWS), pace, inv)
			},
		},
	}
}

// listEKSClusters pages through the account's cluster names.
func listEKSClusters(ctx context.Context, c EKSAPI) ([]string, error) {
	var names []string
	p := eks.NewListClustersPaginator(c, &eks.ListClustersInput{MaxResults: awssdk.Int32(100)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list eks clusters: %w", err)
		}
		names = append(names, page.Clusters...)
	}
	return names, nil
}

// selectEKSClusters reads every cluster the ids and names allow; its tags, as
// AWS returns them, decide whether it is the app's.
func selectEKSClusters(ctx context.Context, c EKSAPI, sel tasks.Selector) ([]ekstypes.Cluster, error) {
	if err := checkSelector(sel); err != nil {
		return nil, err
	}
	names, err := listEKSClusters(ctx, c)
	if err != nil {
		return nil, err
	}
	var out []ekstypes.Cluster
	for _, name := range names {
		if !selects(tasks.Selector{Names: sel.Names}, name, "", nil) {
			continue
		}
		d, err := c.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: awssdk.String(name)})
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("describe eks cluster %s: %w", name, err)
		}
		if sel.Matches(tasks.Candidate{ID: name, ARN: awssdk.ToString(d.Cluster.Arn), Tags: d.Cluster.Tags}) {
			out = append(out, *d.Cluster)
		}
	}
	return out, nil
}

func eksClusterPlan(ctx context.Context, c EKSAPI, inv tasks.Invocation, verb string, decide func(ekstypes.Cluster) decision) (tasks.Plan, []step, error) {
	cls, err := selectEKSClusters(ctx, c, inv.Target)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	b := planBuilder{verb: verb, noun: "clusters"}
	for _, cl := range cls {
		b.add(awssdk.ToString(cl.Name), fmt.Sprintf("%s, Kubernetes %s", cl.Status, awssdk.ToString(cl.Version)), decide(cl))
	}
	return b.plan(), b.steps, nil
}

// nodegroup is a node group with its cluster's version.
type nodegroup struct {
	ng             ekstypes.Nodegroup
	cluster        string
	clusterVersion string
}

func (n nodegroup) label() string { return n.cluster + "/" + awssdk.ToString(n.ng.NodegroupName) }

func (n nodegroup) sizes() string {
	s := n.ng.ScalingConfig
	if s == nil {
		return "?/?/?"
	}
	return fmt.Sprintf("%d/%d/%d", awssdk.ToInt32(s.MinSize), awssdk.ToInt32(s.MaxSize), awssdk.ToInt32(s.DesiredSize))
}

func (n nodegroup) describe() string {
	v := awssdk.ToString(n.ng.Version)
	parts := []string{string(n.ng.Status), "Kubernetes " + v}
	if v != n.clusterVersion {
		parts[1] += " (cluster " + n.clusterVersion + ": update-nodegroup-version brings it level)"
	}
	parts = append(parts, "release "+awssdk.ToString(n.ng.ReleaseVersion), "min/max/desired "+n.sizes())
	if len(n.ng.InstanceTypes) > 0 {
		parts = append(parts, strings.Join(n.ng.InstanceTypes, ",")+" "+string(n.ng.CapacityType))
	}
	parts = append(parts, "health: "+issuesText(n.ng.Health))
	return strings.Join(parts, "; ")
}

func issuesText(h *ekstypes.NodegroupHealth) string {
	if h == nil || len(h.Issues) == 0 {
		return "no issues"
	}
	var out []string
	for _, is := range h.Issues {
		s := string(is.Code) + ": " + awssdk.ToString(is.Message)
		if len(is.ResourceIds) > 0 {
			s += " (" + strings.Join(is.ResourceIds, ", ") + ")"
		}
		out = append(out, s)
	}
	return strings.Join(out, "; ")
}

// selectNodegroups reads the node groups of every cluster; a node group's
// own tags, as AWS returns them, decide whether it is the app's.
func selectNodegroups(ctx context.Context, c EKSAPI, sel tasks.Selector) ([]nodegroup, error) {
	if err := checkSelector(sel); err != nil {
		return nil, err
	}
	clusters, err := listEKSClusters(ctx, c)
	if err != nil {
		return nil, err
	}
	var out []nodegroup
	for _, cl := range clusters {
		var names []string
		p := eks.NewListNodegroupsPaginator(c, &eks.ListNodegroupsInput{ClusterName: awssdk.String(cl), MaxResults: awssdk.Int32(100)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if isNotFound(err) {
				break // deleted since the listing
			}
			if err != nil {
				return nil, fmt.Errorf("list node groups of %s: %w", cl, err)
			}
			names = append(names, page.Nodegroups...)
		}
		version := ""
		for _, name := range names {
			if !selects(tasks.Selector{Names: sel.Names}, name, "", nil) {
				continue
			}
			d, err := c.DescribeNodegroup(ctx, &eks.DescribeNodegroupInput{ClusterName: awssdk.String(cl), NodegroupName: awssdk.String(name)})
			if isNotFound(err) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("describe node group %s/%s: %w", cl, name, err)
			}
			if !sel.Matches(tasks.Candidate{ID: name, ARN: awssdk.ToString(d.Nodegroup.NodegroupArn), Tags: d.Nodegroup.Tags}) {
				continue
			}
			if version == "" {
				dc, err := c.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: awssdk.String(cl)})
				if err != nil {
					return nil, fmt.Errorf("describe eks cluster %s: %w", cl, err)
				}
				version = awssdk.ToString(dc.Cluster.Version)
			}
			out = append(out, nodegroup{ng: *d.Nodegroup, cluster: cl, clusterVersion: version})
		}
	}
	return out, nil
}

func describeEKSCluster(ctx context.Context, c EKSAPI, cl ekstypes.Cluster) (string, error) {
	name := awssdk.ToString(cl.Name)
	parts := []string{fmt.Sprintf("%s, Kubernetes %s (platform %s)", cl.Status, awssdk.ToString(cl.Version), awssdk.ToString(cl.PlatformVersion))}
	var ngs []string
	p := eks.NewListNodegroupsPaginator(c, &eks.ListNodegroupsInput{ClusterName: cl.Name, MaxResults: awssdk.Int32(100)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return "", fmt.Errorf("list node groups of %s: %w", name, err)
		}
		for _, ng := range page.Nodegroups {
			d, err := c.DescribeNodegroup(ctx, &eks.DescribeNodegroupInput{ClusterName: cl.Name, NodegroupName: awssdk.String(ng)})
			if err != nil {
				return "", fmt.Errorf("describe node group %s/%s: %w", name, ng, err)
			}
			n := nodegroup{ng: *d.Nodegroup, cluster: name, clusterVersion: awssdk.ToString(cl.Version)}
			s := fmt.Sprintf("%s %s %s %s", ng, awssdk.ToString(n.ng.Version), n.sizes(), n.ng.Status)
			if h := n.ng.Health; h != nil && len(h.Issues) > 0 {
				s += fmt.Sprintf(" (%d health issues)", len(h.Issues))
			}
			ngs = append(ngs, s)
		}
	}
	if len(ngs) == 0 {
		parts = append(parts, "no managed node groups")
	} else {
		parts = append(parts, "node groups (version min/max/desired): "+strings.Join(ngs, ", "))
	}
	issues := "no issues"
	if cl.Health != nil && len(cl.Health.Issues) > 0 {
		var is []string
		for _, i := range cl.Health.Issues {
			is = append(is, string(i.Code)+": "+awssdk.ToString(i.Message))
		}
		issues = strings.Join(is, "; ")
	}
	return strings.Join(append(parts, "health: "+issues), "; "), nil
}

func eksAddons(ctx context.Context, c EKSAPI, cluster string) (string, error) {
	var out []string
	p := eks.NewListAddonsPaginator(c, &eks.ListAddonsInput{ClusterName: awssdk.String(cluster), MaxResults: awssdk.Int32(100)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return "", fmt.Errorf("list add-ons of %s: %w", cluster, err)
		}
		for _, name := range page.Addons {
			d, err := c.DescribeAddon(ctx, &eks.DescribeAddonInput{ClusterName: awssdk.String(cluster), AddonName: awssdk.String(name)})
			if err != nil {
				return "", fmt.Errorf("describe add-on %s of %s: %w", name, cluster, err)
			}
			s := fmt.Sprintf("%s %s %s", name, awssdk.ToString(d.Addon.AddonVersion), d.Addon.Status)
			if h := d.Addon.Health; h != nil && len(h.Issues) > 0 {
				var is []string
				for _, i := range h.Issues {
					is = append(is, string(i.Code)+": "+awssdk.ToString(i.Message))
				}
				s += " (" + strings.Join(is, "; ") + ")"
			}
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return "no add-ons", nil
	}
	return strings.Join(out, ", "), nil
}

func scaleNodegroupPlan(ctx context.Context, c EKSAPI, pace Pace, inv tasks.Invocation) (tasks.Plan, []step, error) {
	lo, hi, want, err := capacityValues(inv.Values, "node group")
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	wait, err := durationValue(inv.Values, "wait", defaultWait)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	ngs, err := selectNodegroups(ctx, c, inv.Target)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	to := fmt.Sprintf("%d/%d/%d", lo, hi, want)
	b := planBuilder{verb: "set min/max/desired to " + to + " on", noun: "node groups"}
	for _, ng := range ngs {
		from := ng.sizes()
		switch {
		case from == to:
			b.add(ng.label(), ng.describe(), decision{Skip: "already min/max/desired " + to})
			continue
		case ng.ng.Status != ekstypes.NodegroupStatusActive:
			b.add(ng.label(), ng.describe(), decision{Skip: fmt.Sprintf("is %s; only an ACTIVE node group can be scaled", ng.ng.Status)})
			continue
		}
		b.add(ng.label(), ng.describe(), decision{Action: "set min/max/desired " + from + " -> " + to, Run: func(ctx context.Context) (string, error) {
			out, err := c.UpdateNodegroupConfig(ctx, &eks.UpdateNodegroupConfigInput{ClusterName: awssdk.String(ng.cluster), NodegroupName: ng.ng.NodegroupName,
				ScalingConfig: &ekstypes.NodegroupScalingConfig{MinSize: awssdk.Int32(int32(lo)), MaxSize: awssdk.Int32(int32(hi)), DesiredSize: awssdk.Int32(int32(want))}})
			if err != nil {
				return "", err
			}
			id := awssdk.ToString(out.Update.Id)
			if err := followUpdate(ctx, c, pace, ng, id, wait); err != nil {
				return "", err
			}
			return fmt.Sprintf("min/max/desired %s -> %s (update %s Successful)", from, to, id), nil
		}})
	}
	return b.plan(), b.steps, nil
}

// updateNodegroupPlan brings each node group to its cluster's Kubernetes
// version, one node group after the other; within a group EKS replaces
// nodes a few at a time (its update config's max unavailable).
func updateNodegroupPlan(ctx context.Context, c EKSAPI, pace Pace, inv tasks.Invocation) (tasks.Plan, []step, error) {
	wait, err := durationValue(inv.Values, "wait", defaultWait)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	ngs, err := selectNodegroups(ctx, c, inv.Target)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	b := planBuilder{verb: "update to the cluster's version", noun: "node groups"}
	for _, ng := range ngs {
		from, to := awssdk.ToString(ng.ng.Version), ng.clusterVersion
		switch {
		case from == to:
			b.add(ng.label(), ng.describe(), decision{Skip: "already at the cluster's version " + to})
			continue
		case ng.ng.Status != ekstypes.NodegroupStatusActive:
			b.add(ng.label(), ng.describe(), decision{Skip: fmt.Sprintf("is %s; an update can start only on an ACTIVE node group", ng.ng.Status)})
			continue
		}
		rolling := "rolling"
		if uc := ng.ng.UpdateConfig; uc != nil && uc.MaxUnavailable != nil {
			rolling = fmt.Sprintf("rolling, at most %d nodes unavailable at a time", awssdk.ToInt32(uc.MaxUnavailable))
		} else if uc != nil && uc.MaxUnavailablePercentage != nil {
			rolling = fmt.Sprintf("rolling, at most %d%% of nodes unavailable at a time", awssdk.ToInt32(uc.MaxUnavailablePercentage))
		}
		b.add(ng.label(), ng.describe(), decision{Action: fmt.Sprintf("update Kubernetes %s -> %s (%s)", from, to, rolling), Run: func(ctx context.Context) (string, error) {
			out, err := c.UpdateNodegroupVersion(ctx, &eks.UpdateNodegroupVersionInput{ClusterName: awssdk.String(ng.cluster), NodegroupName: ng.ng.NodegroupName,
				Version: awssdk.String(to)})
			if err != nil {
				return "", err
			}
			id := awssdk.ToString(out.Update.Id)
			if err := followUpdate(ctx, c, pace, ng, id, wait); err != nil {
				return "", err
			}
			return fmt.Sprintf("Kubernetes %s -> %s (update %s Successful)", from, to, id), nil
		}})
	}
	return b.plan(), b.steps, nil
}

// followUpdate polls DescribeUpdate until the update ends, reporting its
// progress; Failed or Cancelled, or still running after wait, is an error
// that names the update so it can be followed in AWS.
func followUpdate(ctx context.Context, c EKSAPI, pace Pace, ng nodegroup, id string, wait time.Duration) error {
	show := stepProgress(ctx)
	show("update " + id + " started")
	check := func(ctx context.Context) ([]string, error) {
		out, err := c.DescribeUpdate(ctx, &eks.DescribeUpdateInput{Name: awssdk.String(ng.cluster), NodegroupName: ng.ng.NodegroupName, UpdateId: awssdk.String(id)})
		if err != nil {
			return nil, fmt.Errorf("describe update %s: %w", id, err)
		}
		u := out.Update
		switch u.Status {
		case ekstypes.UpdateStatusSuccessful:
			return nil, nil
		case ekstypes.UpdateStatusFailed, ekstypes.UpdateStatusCancelled:
			var reasons []string
			for _, e := range u.Errors {
				reasons = append(reasons, string(e.ErrorCode)+": "+awssdk.ToString(e.ErrorMessage))
			}
			return nil, errs.E("update nodegroup", errs.Conflict, "update %s %s: %s", id, u.Status, cmp.Or(strings.Join(reasons, "; "), "no reason given"))
		}
		show(fmt.Sprintf("update %s %s", id, u.Status))
		return []string{"update " + id + " " + string(u.Status)}, nil
	}
	err := pace.waitBack(ctx, wait, 1, 1, check, nil)
	var nb *NotBackError
	if errors.As(err, &nb) {
		return errs.Wrap("update nodegroup", errs.Conflict, err, "update %s is still in progress after %s; AWS carries on with it (describe-nodegroups shows where it is)", id, tasks.FormatDuration(wait))
	}
	return err
}
