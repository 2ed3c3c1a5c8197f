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
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	ectypes "github.com/aws/aws-sdk-go-v2/service/elasticache/types"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/tasks"
)

// ElastiCacheAPI is the part of the ElastiCache API the elasticache.*
// actions call.
type ElastiCacheAPI interface {
	DescribeReplicationGroups(context.Context, *elasticache.DescribeReplicationGroupsInput, ...func(*elasticache.Options)) (*elasticache.DescribeReplicationGroupsOutput, error)
	DescribeCacheClusters(context.Context, *elasticache.DescribeCacheClustersInput, ...func(*elasticache.Options)) (*elasticache.DescribeCacheClustersOutput, error)
	ListTagsForResource(context.Context, *elasticache.ListTagsForResourceInput, ...func(*elasticache.Options)) (*elasticache.ListTagsForResourceOutput, error)
	TestFailover(context.Context, *elasticache.TestFailoverInput, ...func(*elasticache.Options)) (*elasticache.TestFailoverOutput, error)
	RebootCacheCluster(context.Context, *elasticache.RebootCacheClusterInput, ...func(*elasticache.Options)) (*elasticache.RebootCacheClusterOutput, error)
	CreateSnapshot(context.Context, *elasticache.CreateSnapshotInput, ...func(*elasticache.Options)) (*elasticache.CreateSnapshotOutput, error)
}

var _ ElastiCacheAPI = (*elasticache.Client)(nil)

// ElastiCacheClient builds the client for one invocation's config.
type ElastiCacheClient func(awssdk.Config) ElastiCacheAPI

// SDKElastiCache is the production ElastiCacheClient.
func SDKElastiCache(cfg awssdk.Config) ElastiCacheAPI { return elasticache.NewFromConfig(cfg) }

const ecType = "elasticache:replication-group"

var ecWait = tasks.Param{Name: "wait", Type: tasks.TypeDuration, Default: "10m", Min: bound(60), Max: bound(3600),
	Description: "longest wait for the nodes to be available again before going on"}

// ElastiCacheActions returns the elasticache.* actions; pace is how they
// wait for nodes and fail-overs.
func ElastiCacheActions(newClient ElastiCacheClient, pace Pace) []tasks.Action {
	read := []string{"elasticache:DescribeReplicationGroups", "elasticache:ListTagsForResource"}
	return forTarget(ecType,
		&stepAction{
			name: "elasticache.describe", verb: "described", noun: "replication groups",
			iam: append(slices.Clone(read), "elasticache:DescribeCacheClusters"),
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				c := newClient(inv.AWS)
				return ecPlan(ctx, c, inv, "describe", func(g ectypes.ReplicationGroup) decision {
					return decision{Run: func(ctx context.Context) (string, error) { return describeRedis(ctx, c, g) }}
				})
			},
		},
		&stepAction{
			name: "elasticache.test-failover", mutating: true, verb: "failed over", noun: "replication groups",
			iam: append(slices.Clone(read), "elasticache:TestFailover"),
			params: []tasks.Param{{Name: "shard", Type: tasks.TypeString, Default: "0001", Pattern: `^[0-9]{4}$`,
				Format: "a four-digit node group id like 0001", Description: "the shard whose primary fails over (0001 when cluster mode is off)"}, ecWait},
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				return testFailoverPlan(ctx, newClient(inv.AWS), pace, inv)
			},
		},
		&stepAction{
			name: "elasticache.reboot-nodes", mutating: true, verb: "rebooted", noun: "nodes",
			iam:    append(slices.Clone(read), "elasticache:RebootCacheCluster", "elasticache:DescribeCacheClusters"),
			params: []tasks.Param{{Name: "batch", Type: tasks.TypeInt, Default: "1", Min: bound(1), Max: bound(10), Description: "nodes rebooted at the same time"}, ecWait},
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				return rebootNodesPlan(ctx, newClient(inv.AWS), pace, inv)
			},
		},
		&stepAction{
			name: "elasticache.snapshot", mutating: true, verb: "snapshotted", noun: "replication groups",
			iam:    append(slices.Clone(read), "elasticache:CreateSnapshot"),
			params: []tasks.Param{labelParam},
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				c := newClient(inv.AWS)
				label, err := stringValue(inv.Values, "label", "manual")
				if err != nil {
					return tasks.Plan{}, nil, err
				}
				stamp := inv.Now.UTC().Format("20060102-1504")
				return ecPlan(ctx, c, inv, "snapshot", func(g ectypes.ReplicationGroup) decision {
					if s := awssdk.ToString(g.Status); s != "available" {
						return decision{Skip: "is " + s + "; a snapshot needs an available group"}
					}
					name := awssdk.ToString(g.ReplicationGroupId) + "-" + label + "-" + stamp
					return decision{Action: "create snapshot " + name, Run: func(ctx context.Context) (string, error) {
						out, err := c.CreateSnapshot(ctx, &elasticache.CreateSnapshotInput{ReplicationGroupId: g.ReplicationGroupId, SnapshotName: awssdk.String(name)})
						if err != nil {
							return "", err
						}
						return "snapshot " + awssdk.ToString(out.Snapshot.SnapshotName) + " " + awssdk.ToString(out.Snapshot.SnapshotStatus), nil
					}}
				})
			},
		},
	)
}

// selectRedis lists the replication groups; each group's tags, as AWS
// returns them, decide whether it is the app's.
func selectRedis(ctx context.Context, c ElastiCacheAPI, sel tasks.Selector) ([]ectypes.ReplicationGroup, error) {
	if err := checkSelector(sel); err != nil {
		return nil, err
	}
	var out []ectypes.ReplicationGroup
	p := elasticache.NewDescribeReplicationGroupsPaginator(c, &elasticache.DescribeReplicationGroupsInput{MaxRecords: awssdk.Int32(100)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe replication groups: %w", err)
		}
		for _, g := range page.ReplicationGroups {
			id, arn := awssdk.ToString(g.ReplicationGroupId), awssdk.ToString(g.ARN)
			if !selects(tasks.Selector{IDs: sel.IDs, Names: sel.Names}, id, arn, nil) {
				continue
			}
			tags := map[string]string{}
			if len(sel.Tags) > 0 {
				t, err := c.ListTagsForResource(ctx, &elasticache.ListTagsForResourceInput{ResourceName: g.ARN})
				if isNotFound(err) {
					continue
				}
				if err != nil {
					return nil, fmt.Errorf("list tags of %s: %w", id, err)
				}
				for _, tg := range t.TagList {
					tags[awssdk.ToString(tg.Key)] = awssdk.ToString(tg.Value)
				}
			}
			if sel.Matches(tasks.Candidate{ID: id, ARN: arn, Tags: tags}) {
				out = append(out, g)
			}
		}
	}
	return out, nil
}

func ecPlan(ctx context.Context, c ElastiCacheAPI, inv tasks.Invocation, verb string, decide func(ectypes.ReplicationGroup) decision) (tasks.Plan, []step, error) {
	groups, err := selectRedis(ctx, c, inv.Target)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	b := planBuilder{verb: verb, noun: "replication groups"}
	for _, g := range groups {
		b.add(awssdk.ToString(g.ReplicationGroupId), groupSummary(g), decide(g))
	}
	return b.plan(), b.steps, nil
}

func groupSummary(g ectypes.ReplicationGroup) string {
	return fmt.Sprintf("%s, %s, automatic failover %s, Multi-AZ %s", awssdk.ToString(g.Status), awssdk.ToString(g.CacheNodeType), g.AutomaticFailover, g.MultiAZ)
}

// primaryOf is the primary member of a shard, "" if it has none.
func primaryOf(ng ectypes.NodeGroup) string {
	for _, m := range ng.NodeGroupMembers {
		if awssdk.ToString(m.CurrentRole) == "primary" {
			return awssdk.ToString(m.CacheClusterId)
		}
	}
	return ""
}

func describeRedis(ctx context.Context, c ElastiCacheAPI, g ectypes.ReplicationGroup) (string, error) {
	parts := []string{groupSummary(g)}
	for _, ng := range g.NodeGroups {
		var ms []string
		for _, m := range ng.NodeGroupMembers {
			id := awssdk.ToString(m.CacheClusterId)
			out, err := c.DescribeCacheClusters(ctx, &elasticache.DescribeCacheClustersInput{CacheClusterId: m.CacheClusterId, ShowCacheNodeInfo: awssdk.Bool(true)})
			if err != nil {
				return "", fmt.Errorf("describe cache cluster %s: %w", id, err)
			}
			status := "unknown"
			if len(out.CacheClusters) > 0 {
				status = awssdk.ToString(out.CacheClusters[0].CacheClusterStatus)
			}
			ms = append(ms, fmt.Sprintf("%s %s (%s, %s)", awssdk.ToString(m.CurrentRole), id, awssdk.ToString(m.PreferredAvailabilityZone), status))
		}
		parts = append(parts, "shard "+awssdk.ToString(ng.NodeGroupId)+": "+strings.Join(ms, ", "))
	}
	return strings.Join(parts, "; "), nil
}

func testFailoverPlan(ctx context.Context, c ElastiCacheAPI, pace Pace, inv tasks.Invocation) (tasks.Plan, []step, error) {
	shard, err := stringValue(inv.Values, "shard", "0001")
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	wait, err := durationValue(inv.Values, "wait", defaultWait)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	return ecPlan(ctx, c, inv, "test failover of shard "+shard+" on", func(g ectypes.ReplicationGroup) decision {
		i := slices.IndexFunc(g.NodeGroups, func(ng ectypes.NodeGroup) bool { return awssdk.ToString(ng.NodeGroupId) == shard })
		switch {
		case i < 0:
			return decision{Skip: "has no shard " + shard}
		case g.AutomaticFailover != ectypes.AutomaticFailoverStatusEnabled:
			return decision{Skip: "automatic failover is " + string(g.AutomaticFailover) + "; a test failover needs it enabled"}
		case len(g.NodeGroups[i].NodeGroupMembers) < 2:
			return decision{Skip: "shard " + shard + " has no replica to promote"}
		case awssdk.ToString(g.Status) != "available":
			return decision{Skip: "is " + awssdk.ToString(g.Status) + "; a test failover needs an available group"}
		}
		old := primaryOf(g.NodeGroups[i])
		return decision{Action: "fail over shard " + shard + ": primary " + old + " -> a replica", Run: func(ctx context.Context) (string, error) {
			if _, err := c.TestFailover(ctx, &elasticache.TestFailoverInput{ReplicationGroupId: g.ReplicationGroupId, NodeGroupId: awssdk.String(shard)}); err != nil {
				return "", err
			}
			now := ""
			check := func(ctx context.Context) ([]string, error) {
				out, err := c.DescribeReplicationGroups(ctx, &elasticache.DescribeReplicationGroupsInput{ReplicationGroupId: g.ReplicationGroupId})
				if err != nil {
					return nil, fmt.Errorf("describe replication group %s: %w", awssdk.ToString(g.ReplicationGroupId), err)
				}
				for _, rg := range out.ReplicationGroups {
					for _, ng := range rg.NodeGroups {
						if awssdk.ToString(ng.NodeGroupId) == shard {
							now = primaryOf(ng)
						}
					}
					if s := awssdk.ToString(rg.Status); s != "available" || now == old || now == "" {
						return []string{fmt.Sprintf("group %s, primary %s", s, cmp.Or(now, "none"))}, nil
					}
				}
				return nil, nil
			}
			if err := waitFor(ctx, pace, wait, check); err != nil {
				return "", err
			}
			return "primary " + old + " -> " + now + "; the group is available", nil
		}}
	})
}

// waitFor waits (at pace, at most wait) until check reports nothing
// pending; running out is an error naming what was still pending.
func waitFor(ctx context.Context, pace Pace, wait time.Duration, check backCheck) error {
	err := pace.waitBack(ctx, wait, 1, 1, check, nil)
	var nb *NotBackError
	if errors.As(err, &nb) {
		return errs.Wrap("wait for change", errs.Conflict, err, "not done within %s: %s", tasks.FormatDuration(wait), strings.Join(nb.NotBack, "; "))
	}
	return err
}

// redisNode is one cache node of a replication group.
type redisNode struct {
	group, cluster, role, az string
}

// rebootNodesPlan reboots the groups' nodes in batches, replicas before
// primaries, and waits after each batch until its nodes are available
// again; a batch that is not stops the batches after it.
func rebootNodesPlan(ctx context.Context, c ElastiCacheAPI, pace Pace, inv tasks.Invocation) (tasks.Plan, []step, error) {
	size, err := intValue(inv.Values, "batch", 1)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	size = max(size, 1)
	wait, err := durationValue(inv.Values, "wait", defaultWait)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	groups, err := selectRedis(ctx, c, inv.Target)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	var nodes []redisNode
	var skipped []tasks.Change
	for _, g := range groups {
		id := awssdk.ToString(g.ReplicationGroupId)
		if s := awssdk.ToString(g.Status); s != "available" {
			skipped = append(skipped, tasks.Change{Resource: id, Action: "skip", Detail: "is " + s + "; nodes are rebooted only in an available group"})
			continue
		}
		var primaries []redisNode
		for _, ng := range g.NodeGroups {
			for _, m := range ng.NodeGroupMembers {
				n := redisNode{group: id, cluster: awssdk.ToString(m.CacheClusterId), role: awssdk.ToString(m.CurrentRole), az: awssdk.ToString(m.PreferredAvailabilityZone)}
				if n.role == "primary" {
					primaries = append(primaries, n)
				} else {
					nodes = append(nodes, n)
				}
			}
		}
		nodes = append(nodes, primaries...)
	}
	total := batches(len(nodes), size)
	b := planBuilder{verb: fmt.Sprintf("reboot in %d batches of up to %d", total, size), noun: "nodes"}
	b.changes = append(b.changes, skipped...)
	b.steps = make([]step, len(skipped))
	var stopped error // a batch not back stops the rest
	for i, n := range nodes {
		batch := i/size + 1
		detail := fmt.Sprintf("batch %d: %s in %s", batch, n.role, n.az)
		if n.role == "primary" {
			detail += "; writes pause while it reboots (test-failover first avoids that)"
		}
		last := i == len(nodes)-1 || (i+1)%size == 0
		inBatch := nodes[(batch-1)*size : i+1]
		b.add(n.group+"/"+n.cluster, detail, decision{Action: fmt.Sprintf("reboot (batch %d of %d)", batch, total), Run: func(ctx context.Context) (string, error) {
			if stopped != nil {
				return "", errs.Wrap("reboot nodes", errs.KindOf(stopped), stopped, "%s", "not attempted: "+oneLineOf(stopped))
			}
			if _, err := c.RebootCacheCluster(ctx, &elasticache.RebootCacheClusterInput{CacheClusterId: awssdk.String(n.cluster), CacheNodeIdsToReboot: []string{"0001"}}); err != nil {
				return "", err
			}
			if !last {
				return "rebooting", nil
			}
			stepProgress(ctx)(fmt.Sprintf("waiting for batch %d of %d to be available", batch, total))
			if err := waitFor(ctx, pace, wait, nodesNotAvailable(c, inBatch)); err != nil {
				stopped = errs.Wrap("reboot nodes", errs.KindOf(err), err, "batch %d of %d: %s", batch, total, oneLineOf(err))
				return "", stopped
			}
			return "rebooted; available again", nil
		}})
	}
	return b.plan(), b.steps, nil
}

// nodesNotAvailable checks a batch: each node's cluster and node status.
func nodesNotAvailable(c ElastiCacheAPI, nodes []redisNode) backCheck {
	return func(ctx context.Context) ([]string, error) {
		var notBack []string
		for _, n := range nodes {
			out, err := c.DescribeCacheClusters(ctx, &elasticache.DescribeCacheClustersInput{CacheClusterId: awssdk.String(n.cluster), ShowCacheNodeInfo: awssdk.Bool(true)})
			if err != nil {
				return nil, fmt.Errorf("describe cache cluster %s: %w", n.cluster, err)
			}
			for _, cc := range out.CacheClusters {
				if s := awssdk.ToString(cc.CacheClusterStatus); s != "available" {
					notBack = append(notBack, n.cluster+": "+s)
					continue
				}
				for _, node := range cc.CacheNodes {
					if s := awssdk.ToString(node.CacheNodeStatus); s != "available" {
						notBack = append(notBack, n.cluster+" node "+awssdk.ToString(node.CacheNodeId)+": "+s)
					}
				}
			}
		}
		return notBack, nil
	}
}
