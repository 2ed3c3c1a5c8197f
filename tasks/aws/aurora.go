package aws

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/smithy-go"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/tasks"
)

// AuroraAPI is the part of the RDS API the Aurora cluster actions call.
type AuroraAPI interface {
	DescribeDBClusters(context.Context, *rds.DescribeDBClustersInput, ...func(*rds.Options)) (*rds.DescribeDBClustersOutput, error)
	DescribeDBInstances(context.Context, *rds.DescribeDBInstancesInput, ...func(*rds.Options)) (*rds.DescribeDBInstancesOutput, error)
	DescribeDBClusterSnapshots(context.Context, *rds.DescribeDBClusterSnapshotsInput, ...func(*rds.Options)) (*rds.DescribeDBClusterSnapshotsOutput, error)
	FailoverDBCluster(context.Context, *rds.FailoverDBClusterInput, ...func(*rds.Options)) (*rds.FailoverDBClusterOutput, error)
	CreateDBInstance(context.Context, *rds.CreateDBInstanceInput, ...func(*rds.Options)) (*rds.CreateDBInstanceOutput, error)
	DeleteDBInstance(context.Context, *rds.DeleteDBInstanceInput, ...func(*rds.Options)) (*rds.DeleteDBInstanceOutput, error)
	CreateDBClusterSnapshot(context.Context, *rds.CreateDBClusterSnapshotInput, ...func(*rds.Options)) (*rds.CreateDBClusterSnapshotOutput, error)
	RestoreDBClusterFromSnapshot(context.Context, *rds.RestoreDBClusterFromSnapshotInput, ...func(*rds.Options)) (*rds.RestoreDBClusterFromSnapshotOutput, error)
}

var _ AuroraAPI = (*rds.Client)(nil)

// AuroraClient builds the client for one invocation's config.
type AuroraClient func(awssdk.Config) AuroraAPI

// SDKAurora is the production AuroraClient.
func SDKAurora(cfg awssdk.Config) AuroraAPI { return rds.NewFromConfig(cfg) }

// maxAuroraReaders is AWS's limit of Aurora Replicas per cluster.
const maxAuroraReaders = 15

// dbIdentifier is the pattern of a new or existing RDS identifier: 1 to 63
// letters, digits and single hyphens, starting with a letter (AWS also
// forbids a trailing hyphen, which the pattern's shape excludes).
var dbIdentifier = tasks.Param{Type: tasks.TypeString, Required: true,
	Pattern: `^[a-z](-?[a-z0-9]){0,62}$`, Format: "a database identifier: up to 63 lowercase letters, digits or single dashes, starting with a letter"}

func idParam(name, description string) tasks.Param {
	p := dbIdentifier
	p.Name, p.Description = name, description
	return p
}

// restoredTag marks what a restore created, so nobody mistakes it for the
// original; the app's binding tags are deliberately not copied.
const restoredTag = "day2bot:restored-from"

// AuroraActions returns the Aurora cluster actions (rds.*-cluster, readers).
func AuroraActions(newClient AuroraClient) []tasks.Action {
	describe := []string{"rds:DescribeDBClusters"}
	return withChoices("snapshot", func(ctx context.Context, inv tasks.Invocation) ([]tasks.Choice, error) {
		return clusterSnapshotChoices(ctx, newClient(inv.AWS), inv.Target)
	}, forTarget("rds:db-cluster",
		&stepAction{
			name: "rds.describe-cluster", iam: describe, verb: "described", noun: "DB clusters",
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				return clusterPlan(ctx, newClient(inv.AWS), inv, "describe", func(c rdstypes.DBCluster) decision {
					return decision{Run: func(context.Context) (string, error) { return clusterMembers(c), nil }}
				})
			},
		},
		&stepAction{
			name: "rds.failover-cluster", mutating: true, verb: "failed over", noun: "DB clusters",
			iam:    append(describe, "rds:FailoverDBCluster"),
			params: []tasks.Param{idParam("reader", "the reader instance to promote to writer")},
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				c := newClient(inv.AWS)
				reader, err := stringValue(inv.Values, "reader", "")
				if err != nil {
					return tasks.Plan{}, nil, err
				}
				member := false
				p, steps, err := clusterPlan(ctx, c, inv, "fail over to "+reader, func(cl rdstypes.DBCluster) decision {
					writer, readers := clusterRoles(cl)
					switch {
					case reader == writer:
						member = true
						return decision{Skip: reader + " is already the writer"}
					case !slices.Contains(readers, reader):
						return decision{Skip: reader + " is not a reader of this cluster"}
					}
					member = true
					if s := awssdk.ToString(cl.Status); s != "available" {
						return decision{Skip: "status is " + s + "; only an available cluster can fail over"}
					}
					id := awssdk.ToString(cl.DBClusterIdentifier)
					return decision{Detail: "writer " + writer + " becomes a reader", Run: func(ctx context.Context) (string, error) {
						out, err := c.FailoverDBCluster(ctx, &rds.FailoverDBClusterInput{DBClusterIdentifier: awssdk.String(id), TargetDBInstanceIdentifier: awssdk.String(reader)})
						if err != nil {
							return "", err
						}
						// The binding check on AWS's answer: the cluster that
						// failed over is the one planned.
						if got := awssdk.ToString(out.DBCluster.DBClusterIdentifier); got != id {
							return "", fmt.Errorf("fail over %s: AWS answered for cluster %s", id, got)
						}
						return "status " + awssdk.ToString(out.DBCluster.Status) + ", " + reader + " is being promoted", nil
					}}
				})
				if err == nil && !member && len(p.Changes) > 0 {
					return tasks.Plan{}, nil, errs.E("fail over cluster", errs.NotFound, "%s", "reader "+tasks.QuoteInput(reader)+" is not a member of the app's clusters")
				}
				return p, steps, err
			},
		},
		&stepAction{
			name: "rds.add-reader", mutating: true, verb: "created", noun: "readers",
			iam: append(slices.Clone(describe), "rds:DescribeDBInstances", "rds:CreateDBInstance", "rds:AddTagsToResource"),
			params: []tasks.Param{{Name: "count", Type: tasks.TypeInt, Default: "1", Min: bound(1), Max: bound(maxAuroraReaders),
				Description: "readers to add to each cluster"}},
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				return addReadersPlan(ctx, newClient(inv.AWS), inv)
			},
		},
		&stepAction{
			name: "rds.remove-reader", mutating: true, verb: "removed", noun: "readers",
			iam:    append(describe, "rds:DeleteDBInstance"),
			params: []tasks.Param{idParam("reader", "the reader instance to delete")},
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				c := newClient(inv.AWS)
				reader, err := stringValue(inv.Values, "reader", "")
				if err != nil {
					return tasks.Plan{}, nil, err
				}
				clusters, err := selectClusters(ctx, c, inv.Target)
				if err != nil {
					return tasks.Plan{}, nil, err
				}
				b := planBuilder{verb: "delete reader", noun: "readers"}
				for _, cl := range clusters {
					writer, readers := clusterRoles(cl)
					if reader == writer {
						return tasks.Plan{}, nil, errs.E("remove reader", errs.Conflict, "%s", reader+" is the writer of "+awssdk.ToString(cl.DBClusterIdentifier)+": fail over to a reader first")
					}
					if !slices.Contains(readers, reader) {
						continue
					}
					detail := fmt.Sprintf("reader of %s; %d readers remain", awssdk.ToString(cl.DBClusterIdentifier), len(readers)-1)
					if len(readers) == 1 {
						detail += ": a writer failure then means downtime until a new instance is up"
					}
					b.add(reader, detail, decision{Run: func(ctx context.Context) (string, error) {
						out, err := c.DeleteDBInstance(ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: awssdk.String(reader)})
						if err != nil {
							return "", err
						}
						return "status " + awssdk.ToString(out.DBInstance.DBInstanceStatus), nil
					}})
				}
				if len(b.steps) == 0 {
					return tasks.Plan{}, nil, errs.E("remove reader", errs.NotFound, "%s", "reader "+tasks.QuoteInput(reader)+" is not a member of the app's clusters")
				}
				return b.plan(), b.steps, nil
			},
		},
		&stepAction{
			name: "rds.snapshot-cluster", mutating: true, verb: "snapshotted", noun: "DB clusters",
			iam: append(describe, "rds:CreateDBClusterSnapshot"),
			params: []tasks.Param{{Name: "label", Type: tasks.TypeString, Default: "manual", Pattern: `^[a-z0-9-]{1,40}$`, Format: "1 to 40 lowercase letters, digits or dashes",
				Description: "label in the snapshot name"}},
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				c := newClient(inv.AWS)
				label, err := stringValue(inv.Values, "label", "manual")
				if err != nil {
					return tasks.Plan{}, nil, err
				}
				return clusterPlan(ctx, c, inv, "create snapshot", func(cl rdstypes.DBCluster) decision {
					id := snapshotID(awssdk.ToString(cl.DBClusterIdentifier), label, inv.Now)
					return decision{Action: "create snapshot " + id, Run: func(ctx context.Context) (string, error) {
						out, err := c.CreateDBClusterSnapshot(ctx, &rds.CreateDBClusterSnapshotInput{DBClusterIdentifier: cl.DBClusterIdentifier, DBClusterSnapshotIdentifier: awssdk.String(id)})
						if err != nil {
							return "", err
						}
						return "snapshot " + id + " " + awssdk.ToString(out.DBClusterSnapshot.Status), nil
					}}
				})
			},
		},
		&stepAction{
			name: "rds.list-cluster-snapshots", verb: "listed snapshots of", noun: "DB clusters",
			iam: append(slices.Clone(describe), "rds:DescribeDBClusterSnapshots"),
			params: []tasks.Param{{Name: "limit", Type: tasks.TypeInt, Default: "10", Min: bound(1), Max: bound(100),
				Description: "snapshots shown per cluster"}},
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				c := newClient(inv.AWS)
				limit, err := intValue(inv.Values, "limit", 10)
				if err != nil {
					return tasks.Plan{}, nil, err
				}
				return clusterPlan(ctx, c, inv, fmt.Sprintf("list up to %d snapshots", limit), func(cl rdstypes.DBCluster) decision {
					return decision{Run: func(ctx context.Context) (string, error) {
						return clusterSnapshotList(ctx, c, awssdk.ToString(cl.DBClusterIdentifier), limit)
					}}
				})
			},
		},
		&stepAction{
			name: "rds.restore-cluster", mutating: true, verb: "restored", noun: "DB clusters",
			iam: append(slices.Clone(describe), "rds:DescribeDBClusterSnapshots", "rds:DescribeDBInstances",
				"rds:RestoreDBClusterFromSnapshot", "rds:CreateDBInstance", "rds:AddTagsToResource"),
			params: []tasks.Param{
				idParam("snapshot", "the cluster snapshot to restore from (see list-cluster-snapshots)"),
				idParam("new_id", "identifier of the new cluster; the original stays untouched"),
			},
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				return restoreClusterPlan(ctx, newClient(inv.AWS), inv)
			},
		},
	))
}

// clusterPlan lists the selected clusters and asks decide what to do with
// each.
func clusterPlan(ctx context.Context, c AuroraAPI, inv tasks.Invocation, verb string, decide func(rdstypes.DBCluster) decision) (tasks.Plan, []step, error) {
	clusters, err := selectClusters(ctx, c, inv.Target)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	b := planBuilder{verb: verb, noun: "DB clusters"}
	for _, cl := range clusters {
		b.add(awssdk.ToString(cl.DBClusterIdentifier), clusterSummary(cl), decide(cl))
	}
	return b.plan(), b.steps, nil
}

// selectClusters pages through DescribeDBClusters and keeps what the
// selector matches; plain ids go to AWS as a db-cluster-id filter.
func selectClusters(ctx context.Context, c AuroraAPI, sel tasks.Selector) ([]rdstypes.DBCluster, error) {
	if err := checkSelector(sel); err != nil {
		return nil, err
	}
	in := &rds.DescribeDBClustersInput{MaxRecords: awssdk.Int32(100)}
	if len(sel.IDs) > 0 && len(sel.IDs) <= 100 {
		in.Filters = []rdstypes.Filter{{Name: awssdk.String("db-cluster-id"), Values: sel.IDs}}
	}
	var out []rdstypes.DBCluster
	p := rds.NewDescribeDBClustersPaginator(c, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe db clusters: %w", err)
		}
		for _, cl := range page.DBClusters {
			if selects(sel, awssdk.ToString(cl.DBClusterIdentifier), awssdk.ToString(cl.DBClusterArn), rdsTags(cl.TagList)) {
				out = append(out, cl)
			}
		}
	}
	return out, nil
}

func rdsTags(list []rdstypes.Tag) map[string]string {
	tags := map[string]string{}
	for _, t := range list {
		tags[awssdk.ToString(t.Key)] = awssdk.ToString(t.Value)
	}
	return tags
}

// clusterRoles splits a cluster's members into its writer and readers.
func clusterRoles(cl rdstypes.DBCluster) (writer string, readers []string) {
	for _, m := range cl.DBClusterMembers {
		if awssdk.ToBool(m.IsClusterWriter) {
			writer = awssdk.ToString(m.DBInstanceIdentifier)
		} else {
			readers = append(readers, awssdk.ToString(m.DBInstanceIdentifier))
		}
	}
	return writer, readers
}

func clusterSummary(cl rdstypes.DBCluster) string {
	_, readers := clusterRoles(cl)
	return fmt.Sprintf("%s, %s %s, %d readers", awssdk.ToString(cl.Status), awssdk.ToString(cl.Engine), awssdk.ToString(cl.EngineVersion), len(readers))
}

func clusterMembers(cl rdstypes.DBCluster) string {
	writer, readers := clusterRoles(cl)
	if writer == "" {
		writer = "none"
	}
	s := "writer " + writer
	if len(readers) > 0 {
		s += "; readers " + strings.Join(readers, ", ")
	}
	return s + "; endpoint " + awssdk.ToString(cl.Endpoint)
}

// writerClass reads the instance class of a cluster's writer, which new
// readers and restored writers copy.
func writerClass(ctx context.Context, c AuroraAPI, cl rdstypes.DBCluster) (string, error) {
	writer, _ := clusterRoles(cl)
	if writer == "" {
		return "", errs.E("copy writer class", errs.Conflict, "%s", "cluster "+awssdk.ToString(cl.DBClusterIdentifier)+" has no writer to copy the instance class from")
	}
	out, err := c.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: awssdk.String(writer)})
	if err != nil {
		return "", fmt.Errorf("describe writer %s: %w", writer, err)
	}
	if len(out.DBInstances) == 0 {
		return "", fmt.Errorf("describe writer %s: not found", writer)
	}
	return awssdk.ToString(out.DBInstances[0].DBInstanceClass), nil
}

func addReadersPlan(ctx context.Context, c AuroraAPI, inv tasks.Invocation) (tasks.Plan, []step, error) {
	count, err := intValue(inv.Values, "count", 1)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	clusters, err := selectClusters(ctx, c, inv.Target)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	b := planBuilder{verb: "create reader", noun: "readers"}
	for _, cl := range clusters {
		id := awssdk.ToString(cl.DBClusterIdentifier)
		_, readers := clusterRoles(cl)
		if len(readers)+count > maxAuroraReaders {
			b.add(id, clusterSummary(cl), decision{Skip: fmt.Sprintf("%d readers + %d would exceed AWS's limit of %d", len(readers), count, maxAuroraReaders)})
			continue
		}
		class, err := writerClass(ctx, c, cl)
		if err != nil {
			return tasks.Plan{}, nil, err
		}
		for i := range count {
			name := readerName(id, inv.Now, i+1)
			b.add(name, fmt.Sprintf("%s reader in %s", class, id), decision{Run: func(ctx context.Context) (string, error) {
				out, err := c.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{
					DBInstanceIdentifier: awssdk.String(name), DBClusterIdentifier: awssdk.String(id),
					DBInstanceClass: awssdk.String(class), Engine: cl.Engine, Tags: cl.TagList,
				})
				if err != nil {
					return "", err
				}
				if got := awssdk.ToString(out.DBInstance.DBClusterIdentifier); got != id {
					return "", fmt.Errorf("create reader %s: AWS placed it in cluster %q, not %s", name, got, id)
				}
				return "status " + awssdk.ToString(out.DBInstance.DBInstanceStatus), nil
			}})
		}
	}
	return b.plan(), b.steps, nil
}

// readerName is a new reader's identifier: the cluster's name, the time and
// a sequence number, cut to AWS's 63 characters from the left so the
// distinguishing end survives.
func readerName(cluster string, now time.Time, n int) string {
	name := fmt.Sprintf("%s-r%s-%d", cluster, now.UTC().Format("0102150405"), n)
	if len(name) > 63 {
		name = strings.TrimLeft(name[len(name)-63:], "-0123456789")
		if name == "" || name[0] < 'a' || name[0] > 'z' {
			name = "r" + name[min(1, len(name)):]
		}
	}
	return name
}

func clusterSnapshotList(ctx context.Context, c AuroraAPI, cluster string, limit int) (string, error) {
	snaps, err := clusterSnapshots(ctx, c, cluster)
	if err != nil {
		return "", err
	}
	if len(snaps) == 0 {
		return "no snapshots", nil
	}
	var parts []string
	for _, s := range snaps[:min(limit, len(snaps))] {
		parts = append(parts, fmt.Sprintf("%s (%s %s, %s)", awssdk.ToString(s.DBClusterSnapshotIdentifier), awssdk.ToString(s.SnapshotType),
			awssdk.ToString(s.Status), awssdk.ToTime(s.SnapshotCreateTime).UTC().Format(time.RFC3339)))
	}
	return fmt.Sprintf("%d snapshots, newest first: %s", len(snaps), strings.Join(parts, "; ")), nil
}

// clusterSnapshots are the cluster's snapshots, newest first.
func clusterSnapshots(ctx context.Context, c AuroraAPI, cluster string) ([]rdstypes.DBClusterSnapshot, error) {
	var snaps []rdstypes.DBClusterSnapshot
	p := rds.NewDescribeDBClusterSnapshotsPaginator(c, &rds.DescribeDBClusterSnapshotsInput{DBClusterIdentifier: awssdk.String(cluster), MaxRecords: awssdk.Int32(100)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe cluster snapshots of %s: %w", cluster, err)
		}
		snaps = append(snaps, page.DBClusterSnapshots...)
	}
	sort.SliceStable(snaps, func(i, j int) bool {
		return awssdk.ToTime(snaps[i].SnapshotCreateTime).After(awssdk.ToTime(snaps[j].SnapshotCreateTime))
	})
	return snaps, nil
}

// clusterSnapshotChoices are the snapshots of the selected clusters,
// newest first, snapshotChoicesPer each, labelled like the listing.
func clusterSnapshotChoices(ctx context.Context, c AuroraAPI, sel tasks.Selector) ([]tasks.Choice, error) {
	clusters, err := selectClusters(ctx, c, sel)
	if err != nil {
		return nil, err
	}
	var out []tasks.Choice
	for _, cl := range clusters {
		snaps, err := clusterSnapshots(ctx, c, awssdk.ToString(cl.DBClusterIdentifier))
		if err != nil {
			return nil, err
		}
		for _, s := range snaps[:min(snapshotChoicesPer, len(snaps))] {
			id := awssdk.ToString(s.DBClusterSnapshotIdentifier)
			out = append(out, tasks.Choice{Value: id, Label: fmt.Sprintf("%s (%s, %s %s, %s)", id, awssdk.ToString(s.DBClusterIdentifier),
				awssdk.ToString(s.SnapshotType), awssdk.ToString(s.Status), awssdk.ToTime(s.SnapshotCreateTime).UTC().Format("2006-01-02 15:04"))})
		}
	}
	return out, nil
}

// restoreClusterPlan checks the snapshot belongs to one of the app's
// clusters (the binding, as AWS reports the snapshot's source) and that the
// new identifier is free, then plans one restore.
func restoreClusterPlan(ctx context.Context, c AuroraAPI, inv tasks.Invocation) (tasks.Plan, []step, error) {
	snapshot, err := stringValue(inv.Values, "snapshot", "")
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	newID, err := stringValue(inv.Values, "new_id", "")
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	clusters, err := selectClusters(ctx, c, inv.Target)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	out, err := c.DescribeDBClusterSnapshots(ctx, &rds.DescribeDBClusterSnapshotsInput{DBClusterSnapshotIdentifier: awssdk.String(snapshot)})
	if isNotFound(err) || err == nil && len(out.DBClusterSnapshots) == 0 {
		return tasks.Plan{}, nil, errs.E("restore cluster", errs.NotFound, "%s", "there is no cluster snapshot "+tasks.QuoteInput(snapshot))
	}
	if err != nil {
		return tasks.Plan{}, nil, fmt.Errorf("describe cluster snapshot %s: %w", snapshot, err)
	}
	snap := out.DBClusterSnapshots[0]
	source := awssdk.ToString(snap.DBClusterIdentifier)
	i := slices.IndexFunc(clusters, func(cl rdstypes.DBCluster) bool { return awssdk.ToString(cl.DBClusterIdentifier) == source })
	if i < 0 {
		return tasks.Plan{}, nil, errs.E("restore cluster", errs.Permission, "%s", "snapshot "+snapshot+" is of cluster "+tasks.QuoteInput(source)+", which is not one of the app's clusters")
	}
	if slices.ContainsFunc(clusters, func(cl rdstypes.DBCluster) bool { return awssdk.ToString(cl.DBClusterIdentifier) == newID }) || clusterExists(ctx, c, newID) {
		return tasks.Plan{}, nil, errs.E("restore cluster", errs.Conflict, "%s", "a cluster named "+newID+" already exists: choose another new_id")
	}
	class, err := writerClass(ctx, c, clusters[i])
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	b := planBuilder{verb: "restore", noun: "DB clusters"}
	detail := fmt.Sprintf("new cluster from %s (%s %s) with a %s writer; %s is left untouched", snapshot,
		awssdk.ToString(snap.Engine), awssdk.ToString(snap.EngineVersion), class, source)
	b.add(newID, detail, decision{Action: "restore from " + snapshot, Run: func(ctx context.Context) (string, error) {
		tags := []rdstypes.Tag{{Key: awssdk.String(restoredTag), Value: awssdk.String(snapshot)}}
		if _, err := c.RestoreDBClusterFromSnapshot(ctx, &rds.RestoreDBClusterFromSnapshotInput{
			DBClusterIdentifier: awssdk.String(newID), SnapshotIdentifier: awssdk.String(snapshot),
			Engine: snap.Engine, EngineVersion: snap.EngineVersion, Tags: tags,
		}); err != nil {
			return "", err
		}
		writer := newID + "-1"
		if _, err := c.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{
			DBInstanceIdentifier: awssdk.String(writer), DBClusterIdentifier: awssdk.String(newID),
			DBInstanceClass: awssdk.String(class), Engine: snap.Engine, Tags: tags,
		}); err != nil {
			return "", fmt.Errorf("cluster %s restored, but creating its writer %s failed: %w", newID, writer, err)
		}
		return "restoring; writer " + writer + " creating; not bound to the app (tagged " + restoredTag + ")", nil
	}})
	return b.plan(), b.steps, nil
}

func clusterExists(ctx context.Context, c AuroraAPI, id string) bool {
	out, err := c.DescribeDBClusters(ctx, &rds.DescribeDBClustersInput{Filters: []rdstypes.Filter{{Name: awssdk.String("db-cluster-id"), Values: []string{id}}}})
	return err == nil && len(out.DBClusters) > 0
}

// isNotFound reports whether AWS answered that the named thing does not
// exist (the *NotFound and *NotFoundFault codes).
func isNotFound(err error) bool {
	var api smithy.APIError
	return errors.As(err, &api) && (strings.HasSuffix(api.ErrorCode(), "NotFound") || strings.HasSuffix(api.ErrorCode(), "NotFoundFault") ||
		api.ErrorCode() == "ResourceNotFoundException")
}
