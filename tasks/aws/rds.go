package aws

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/tasks"
)

// RDSAPI is the part of the RDS API the rds.* actions call.
type RDSAPI interface {
	DescribeDBInstances(context.Context, *rds.DescribeDBInstancesInput, ...func(*rds.Options)) (*rds.DescribeDBInstancesOutput, error)
	DescribeDBSnapshots(context.Context, *rds.DescribeDBSnapshotsInput, ...func(*rds.Options)) (*rds.DescribeDBSnapshotsOutput, error)
	RebootDBInstance(context.Context, *rds.RebootDBInstanceInput, ...func(*rds.Options)) (*rds.RebootDBInstanceOutput, error)
	StartDBInstance(context.Context, *rds.StartDBInstanceInput, ...func(*rds.Options)) (*rds.StartDBInstanceOutput, error)
	StopDBInstance(context.Context, *rds.StopDBInstanceInput, ...func(*rds.Options)) (*rds.StopDBInstanceOutput, error)
	CreateDBSnapshot(context.Context, *rds.CreateDBSnapshotInput, ...func(*rds.Options)) (*rds.CreateDBSnapshotOutput, error)
	RestoreDBInstanceFromDBSnapshot(context.Context, *rds.RestoreDBInstanceFromDBSnapshotInput, ...func(*rds.Options)) (*rds.RestoreDBInstanceFromDBSnapshotOutput, error)
}

var _ RDSAPI = (*rds.Client)(nil)

// RDSClient builds the client for one invocation's config.
type RDSClient func(awssdk.Config) RDSAPI

// SDKRDS is the production RDSClient.
func SDKRDS(cfg awssdk.Config) RDSAPI { return rds.NewFromConfig(cfg) }

// RDSActions returns the rds.* actions with clients from newClient.
func RDSActions(newClient RDSClient) []tasks.Action {
	describe := []string{"rds:DescribeDBInstances"}
	return withChoices("snapshot", func(ctx context.Context, inv tasks.Invocation) ([]tasks.Choice, error) {
		return snapshotChoices(ctx, newClient(inv.AWS), inv.Target)
	}, forTarget("rds:db-instance",
		&stepAction{
			name: "rds.describe", iam: describe, verb: "described", noun: "DB instances",
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				return rdsPlan(ctx, newClient(inv.AWS), inv, "describe", func(db rdstypes.DBInstance) decision {
					return decision{Run: func(context.Context) (string, error) { return rdsSummary(db), nil }}
				})
			},
		},
		&stepAction{
			name: "rds.reboot", mutating: true, verb: "rebooted", noun: "DB instances",
			iam: append(describe, "rds:RebootDBInstance"),
			params: []tasks.Param{{Name: "failover", Type: tasks.TypeBool, Default: "false",
				Description: "reboot with a Multi-AZ failover to the standby"}},
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				c := newClient(inv.AWS)
				failover, err := boolValue(inv.Values, "failover", false)
				if err != nil {
					return tasks.Plan{}, nil, err
				}
				verb := "reboot"
				if failover {
					verb = "reboot with failover"
				}
				return rdsPlan(ctx, c, inv, verb, func(db rdstypes.DBInstance) decision {
					if s := awssdk.ToString(db.DBInstanceStatus); s != "available" {
						return decision{Skip: "status is " + s + "; only available instances can be rebooted"}
					}
					if failover && !awssdk.ToBool(db.MultiAZ) {
						return decision{Skip: "not Multi-AZ: there is no standby to fail over to"}
					}
					return decision{Run: func(ctx context.Context) (string, error) {
						out, err := c.RebootDBInstance(ctx, &rds.RebootDBInstanceInput{DBInstanceIdentifier: db.DBInstanceIdentifier, ForceFailover: awssdk.Bool(failover)})
						if err != nil {
							return "", err
						}
						return "status " + awssdk.ToString(out.DBInstance.DBInstanceStatus), nil
					}}
				})
			},
		},
		&stepAction{
			name: "rds.start", mutating: true, verb: "started", noun: "DB instances",
			iam: append(describe, "rds:StartDBInstance"),
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				c := newClient(inv.AWS)
				return rdsPlan(ctx, c, inv, "start", func(db rdstypes.DBInstance) decision {
					if s := awssdk.ToString(db.DBInstanceStatus); s != "stopped" {
						return decision{Skip: "status is " + s + "; only stopped instances can be started"}
					}
					return decision{Run: func(ctx context.Context) (string, error) {
						out, err := c.StartDBInstance(ctx, &rds.StartDBInstanceInput{DBInstanceIdentifier: db.DBInstanceIdentifier})
						if err != nil {
							return "", err
						}
						return "status " + awssdk.ToString(out.DBInstance.DBInstanceStatus), nil
					}}
				})
			},
		},
		&stepAction{
			name: "rds.stop", mutating: true, verb: "stopped", noun: "DB instances",
			iam: append(describe, "rds:StopDBInstance"),
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				c := newClient(inv.AWS)
				return rdsPlan(ctx, c, inv, "stop", func(db rdstypes.DBInstance) decision {
					if s := awssdk.ToString(db.DBInstanceStatus); s != "available" {
						return decision{Skip: "status is " + s + "; only available instances can be stopped"}
					}
					return decision{Run: func(ctx context.Context) (string, error) {
						out, err := c.StopDBInstance(ctx, &rds.StopDBInstanceInput{DBInstanceIdentifier: db.DBInstanceIdentifier})
						if err != nil {
							return "", err
						}
						return "status " + awssdk.ToString(out.DBInstance.DBInstanceStatus) + " (AWS starts it again after 7 days)", nil
					}}
				})
			},
		},
		&stepAction{
			name: "rds.snapshot", mutating: true, verb: "snapshotted", noun: "DB instances",
			iam: append(describe, "rds:CreateDBSnapshot"),
			params: []tasks.Param{{Name: "label", Type: tasks.TypeString, Default: "manual", Pattern: `^[a-z0-9-]{1,40}$`, Format: "1 to 40 lowercase letters, digits or dashes",
				Description: "label in the snapshot name"}},
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				c := newClient(inv.AWS)
				label, err := stringValue(inv.Values, "label", "manual")
				if err != nil {
					return tasks.Plan{}, nil, err
				}
				return rdsPlan(ctx, c, inv, "create snapshot", func(db rdstypes.DBInstance) decision {
					id := snapshotID(awssdk.ToString(db.DBInstanceIdentifier), label, inv.Now)
					return decision{Action: "create snapshot " + id, Run: func(ctx context.Context) (string, error) {
						out, err := c.CreateDBSnapshot(ctx, &rds.CreateDBSnapshotInput{DBInstanceIdentifier: db.DBInstanceIdentifier, DBSnapshotIdentifier: awssdk.String(id)})
						if err != nil {
							return "", err
						}
						return "snapshot " + id + " " + awssdk.ToString(out.DBSnapshot.Status), nil
					}}
				})
			},
		},
		&rdsListSnapshots{newClient: newClient},
		&stepAction{
			name: "rds.restore-db", mutating: true, verb: "restored", noun: "DB instances",
			iam: append(slices.Clone(describe), "rds:DescribeDBSnapshots", "rds:RestoreDBInstanceFromDBSnapshot", "rds:AddTagsToResource"),
			params: []tasks.Param{
				idParam("snapshot", "the snapshot to restore from (see list-snapshots)"),
				idParam("new_id", "identifier of the new instance; the original stays untouched"),
			},
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				return restoreDBPlan(ctx, newClient(inv.AWS), inv)
			},
		},
	))
}

// snapshotChoicesPer bounds the snapshots offered per instance.
const snapshotChoicesPer = 20

// snapshotChoices are the snapshots of the selected instances, labelled
// with their instance, time and status.
func snapshotChoices(ctx context.Context, c RDSAPI, sel tasks.Selector) ([]tasks.Choice, error) {
	dbs, err := selectDBInstances(ctx, c, sel)
	if err != nil {
		return nil, err
	}
	var out []tasks.Choice
	for _, db := range dbs {
		snaps, err := listSnapshots(ctx, c, awssdk.ToString(db.DBInstanceIdentifier), snapshotChoicesPer)
		if err != nil {
			return nil, err
		}
		for _, s := range snaps {
			id := awssdk.ToString(s.DBSnapshotIdentifier)
			label := id + " (" + awssdk.ToString(s.DBInstanceIdentifier)
			if s.SnapshotCreateTime != nil {
				label += ", " + s.SnapshotCreateTime.UTC().Format("2006-01-02 15:04")
			}
			out = append(out, tasks.Choice{Value: id, Label: label + ", " + awssdk.ToString(s.Status) + ")"})
		}
	}
	return out, nil
}

// restoreDBPlan checks the snapshot is of one of the app's instances (as
// AWS reports its source) and that the new identifier is free, then plans
// one restore to a new instance with the source's class and Multi-AZ.
func restoreDBPlan(ctx context.Context, c RDSAPI, inv tasks.Invocation) (tasks.Plan, []step, error) {
	snapshot, err := stringValue(inv.Values, "snapshot", "")
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	newID, err := stringValue(inv.Values, "new_id", "")
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	dbs, err := selectDBInstances(ctx, c, inv.Target)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	out, err := c.DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{DBSnapshotIdentifier: awssdk.String(snapshot)})
	if isNotFound(err) || err == nil && len(out.DBSnapshots) == 0 {
		return tasks.Plan{}, nil, errs.E("restore database", errs.NotFound, "%s", "there is no DB snapshot "+tasks.QuoteInput(snapshot))
	}
	if err != nil {
		return tasks.Plan{}, nil, fmt.Errorf("describe db snapshot %s: %w", snapshot, err)
	}
	source := awssdk.ToString(out.DBSnapshots[0].DBInstanceIdentifier)
	i := slices.IndexFunc(dbs, func(db rdstypes.DBInstance) bool { return awssdk.ToString(db.DBInstanceIdentifier) == source })
	if i < 0 {
		return tasks.Plan{}, nil, errs.E("restore database", errs.Permission, "%s", "snapshot "+snapshot+" is of instance "+tasks.QuoteInput(source)+", which is not one of the app's databases")
	}
	taken, err := c.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{Filters: []rdstypes.Filter{{Name: awssdk.String("db-instance-id"), Values: []string{newID}}}})
	if err != nil {
		return tasks.Plan{}, nil, fmt.Errorf("describe db instance %s: %w", newID, err)
	}
	if len(taken.DBInstances) > 0 {
		return tasks.Plan{}, nil, errs.E("restore database", errs.Conflict, "%s", "a DB instance named "+newID+" already exists: choose another new_id")
	}
	src := dbs[i]
	b := planBuilder{verb: "restore", noun: "DB instances"}
	detail := fmt.Sprintf("new %s instance from %s; %s is left untouched", awssdk.ToString(src.DBInstanceClass), snapshot, source)
	b.add(newID, detail, decision{Action: "restore from " + snapshot, Run: func(ctx context.Context) (string, error) {
		out, err := c.RestoreDBInstanceFromDBSnapshot(ctx, &rds.RestoreDBInstanceFromDBSnapshotInput{
			DBInstanceIdentifier: awssdk.String(newID), DBSnapshotIdentifier: awssdk.String(snapshot),
			DBInstanceClass: src.DBInstanceClass, MultiAZ: src.MultiAZ,
			Tags: []rdstypes.Tag{{Key: awssdk.String(restoredTag), Value: awssdk.String(snapshot)}},
		})
		if err != nil {
			return "", err
		}
		return "status " + awssdk.ToString(out.DBInstance.DBInstanceStatus) + "; not bound to the app (tagged " + restoredTag + ")", nil
	}})
	return b.plan(), b.steps, nil
}

// rdsPlan lists the selected instances and asks decide, for each, why it is
// skipped (a reason and nil step) or what step performs the change.
func rdsPlan(ctx context.Context, c RDSAPI, inv tasks.Invocation, verb string, decide func(rdstypes.DBInstance) decision) (tasks.Plan, []step, error) {
	dbs, err := selectDBInstances(ctx, c, inv.Target)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	b := planBuilder{verb: verb, noun: "DB instances"}
	for _, db := range dbs {
		b.add(awssdk.ToString(db.DBInstanceIdentifier), rdsSummary(db), decide(db))
	}
	return b.plan(), b.steps, nil
}

// selectDBInstances pages through DescribeDBInstances and keeps what the
// selector matches. Plain ids go to AWS as a db-instance-id filter, so an
// id-only selector reads only those instances.
func selectDBInstances(ctx context.Context, c RDSAPI, sel tasks.Selector) ([]rdstypes.DBInstance, error) {
	if err := checkSelector(sel); err != nil {
		return nil, err
	}
	in := &rds.DescribeDBInstancesInput{MaxRecords: awssdk.Int32(100)}
	if len(sel.IDs) > 0 && len(sel.IDs) <= 100 {
		in.Filters = []rdstypes.Filter{{Name: awssdk.String("db-instance-id"), Values: sel.IDs}}
	}
	var out []rdstypes.DBInstance
	p := rds.NewDescribeDBInstancesPaginator(c, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe db instances: %w", err)
		}
		for _, db := range page.DBInstances {
			tags := map[string]string{}
			for _, t := range db.TagList {
				tags[awssdk.ToString(t.Key)] = awssdk.ToString(t.Value)
			}
			if selects(sel, awssdk.ToString(db.DBInstanceIdentifier), awssdk.ToString(db.DBInstanceArn), tags) {
				out = append(out, db)
			}
		}
	}
	return out, nil
}

func rdsSummary(db rdstypes.DBInstance) string {
	s := fmt.Sprintf("%s, %s %s", awssdk.ToString(db.DBInstanceStatus), awssdk.ToString(db.DBInstanceClass), awssdk.ToString(db.Engine))
	if v := awssdk.ToString(db.EngineVersion); v != "" {
		s += " " + v
	}
	if n := awssdk.ToInt32(db.AllocatedStorage); n > 0 {
		s += fmt.Sprintf(", %d GiB", n)
	}
	if db.MultiAZ != nil && *db.MultiAZ {
		s += ", Multi-AZ"
	}
	return s
}

// snapshotID builds a valid, sortable DB snapshot identifier: letters,
// digits and single hyphens, starting with a letter, at most 255 chars.
func snapshotID(instance, label string, now time.Time) string {
	id := fmt.Sprintf("%s-%s-%s", instance, label, now.UTC().Format("20060102-150405"))
	id = multiHyphen.ReplaceAllString(id, "-")
	if id == "" || id[0] < 'a' || id[0] > 'z' {
		id = "s" + id
	}
	if len(id) > 255 {
		id = id[len(id)-255:]
	}
	return strings.Trim(id, "-")
}

var multiHyphen = regexp.MustCompile(`-{2,}`)

// rdsListSnapshots lists up to limit snapshots per selected instance,
// reading no more pages than the limit needs.
type rdsListSnapshots struct {
	newClient RDSClient
}

func (a *rdsListSnapshots) Name() string { return "rds.list-snapshots" }
func (a *rdsListSnapshots) Params() []tasks.Param {
	return []tasks.Param{{Name: "limit", Type: tasks.TypeInt, Default: "20", Min: bound(1), Max: bound(500),
		Description: "snapshots to list per instance"}}
}
func (a *rdsListSnapshots) Mutating() bool     { return false }
func (a *rdsListSnapshots) TargetType() string { return "rds:db-instance" }
func (a *rdsListSnapshots) IAMActions() []string {
	return []string{"rds:DescribeDBInstances", "rds:DescribeDBSnapshots"}
}

func (a *rdsListSnapshots) Plan(ctx context.Context, inv tasks.Invocation) (tasks.Plan, error) {
	limit, err := intValue(inv.Values, "limit", 20)
	if err != nil {
		return tasks.Plan{}, err
	}
	p, _, err := rdsPlan(ctx, a.newClient(inv.AWS), inv, fmt.Sprintf("list up to %d snapshots", limit), func(rdstypes.DBInstance) decision {
		return decision{Run: func(context.Context) (string, error) { return "", nil }}
	})
	return p, Classify(err, a.IAMActions())
}

func (a *rdsListSnapshots) Run(ctx context.Context, inv tasks.Invocation, progress func(tasks.Progress)) (tasks.Result, error) {
	c := a.newClient(inv.AWS)
	limit, err := intValue(inv.Values, "limit", 20)
	if err != nil {
		return tasks.Result{}, err
	}
	dbs, err := selectDBInstances(ctx, c, inv.Target)
	if err != nil {
		return tasks.Result{}, Classify(err, a.IAMActions())
	}
	var res tasks.Result
	total := 0
	for i, db := range dbs {
		id := awssdk.ToString(db.DBInstanceIdentifier)
		snaps, err := listSnapshots(ctx, c, id, limit)
		if err != nil {
			res.Resources = append(res.Resources, Failure(id, Classify(err, a.IAMActions())))
			continue
		}
		// AWS lists oldest first; people want the newest on top.
		sort.SliceStable(snaps, func(i, j int) bool {
			return awssdk.ToTime(snaps[i].SnapshotCreateTime).After(awssdk.ToTime(snaps[j].SnapshotCreateTime))
		})
		for _, s := range snaps {
			res.Resources = append(res.Resources, tasks.ResourceResult{
				Resource: awssdk.ToString(s.DBSnapshotIdentifier), Status: tasks.StatusOK,
				Detail: fmt.Sprintf("%s %s %s, created %s", id, awssdk.ToString(s.SnapshotType), awssdk.ToString(s.Status),
					awssdk.ToTime(s.SnapshotCreateTime).UTC().Format(time.RFC3339)),
			})
		}
		total += len(snaps)
		if progress != nil {
			progress(tasks.Progress{Done: i + 1, Total: len(dbs), Message: id})
		}
	}
	res.Summary = fmt.Sprintf("%d snapshots of %d DB instances", total, len(dbs))
	if f := res.Failed(); f > 0 {
		res.Summary += fmt.Sprintf(", %d failed", f)
	}
	return res, nil
}

// listSnapshots reads at most limit snapshots of one instance, asking each
// page for no more than it still needs (RDS pages hold 20 to 100 records).
func listSnapshots(ctx context.Context, c RDSAPI, instance string, limit int) ([]rdstypes.DBSnapshot, error) {
	var out []rdstypes.DBSnapshot
	var marker *string
	for len(out) < limit {
		page, err := c.DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{
			DBInstanceIdentifier: awssdk.String(instance), Marker: marker,
			MaxRecords: awssdk.Int32(int32(min(max(limit-len(out), 20), 100))),
		})
		if err != nil {
			return nil, fmt.Errorf("describe db snapshots of %s: %w", instance, err)
		}
		out = append(out, page.DBSnapshots...)
		marker = page.Marker
		if marker == nil {
			break
		}
	}
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}
