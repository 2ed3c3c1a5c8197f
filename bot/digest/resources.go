package digest

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"

	"github.com/day2bot/day2bot/blueprints"
	"github.com/day2bot/day2bot/tasks"
)

// EC2API is the EC2 call a digest makes.
type EC2API interface {
	DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, opts ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
}

// RDSAPI is the RDS call a digest makes.
type RDSAPI interface {
	DescribeDBInstances(ctx context.Context, in *rds.DescribeDBInstancesInput, opts ...func(*rds.Options)) (*rds.DescribeDBInstancesOutput, error)
}

var (
	_ EC2API = (*ec2.Client)(nil)
	_ RDSAPI = (*rds.Client)(nil)
)

// ResourceCount is one resource of the app: how many of its members are up
// out of how many it has.
type ResourceCount struct {
	Name     string
	Type     string
	Up       int
	Expected int
	// Down names the members that are not up (at most a few).
	Down []string
}

// maxDownListed bounds the names a digest lists per resource.
const maxDownListed = 5

// ec2PageSize is the largest DescribeInstances page AWS serves.
const ec2PageSize = 1000

// members are what collectResources found, for the metrics' dimensions:
// the members of each resource by resource name (the dimension values
// themselves, except where dims says otherwise), and the dimensions some
// members need besides (a target group's load balancer; an ECS service's
// cluster, with its ServiceName, since "CLUSTER/SERVICE" is the member).
type members struct {
	ids  map[string][]string
	dims map[string]map[string]string // by id
	// listed are the resource types Clients.Members listed: an empty
	// member list means none was found.
	listed map[string]bool
}

// collectResources counts the app's EC2 instances, RDS databases, Auto
// Scaling groups, load balancers, target groups and ECS services, and
// returns the members of every resource it could list. Resources of other
// types are listed by Clients.Members where it knows them (with the tasks'
// selection), else contribute the ids and names their selector states.
func collectResources(ctx context.Context, cl Clients, app *blueprints.ResolvedApp) ([]ResourceCount, members, error) {
	var out []ResourceCount
	found := members{ids: map[string][]string{}, dims: map[string]map[string]string{}, listed: map[string]bool{}}
	ids := found.ids
	var dbs []rdstypes.DBInstance
	dbsRead := false
	var membersErr error
	for _, name := range slices.Sorted(maps.Keys(app.Resources)) {
		sel := app.Resources[name].Select
		switch sel.Type {
		case "ec2:instance":
			rc, got, err := countInstances(ctx, cl.EC2, name, sel)
			if err != nil {
				return out, found, fmt.Errorf("count %s: %w", name, err)
			}
			out, ids[name] = append(out, rc), got
		case "autoscaling:group":
			rc, got, err := countGroups(ctx, cl.AutoScaling, name, sel)
			if err != nil {
				return out, found, fmt.Errorf("count %s: %w", name, err)
			}
			out, ids[name] = append(out, rc), got
		case "elbv2:target-group":
			rc, got, err := countTargets(ctx, cl.ELB, name, sel, found.dims)
			if err != nil {
				return out, found, fmt.Errorf("count %s: %w", name, err)
			}
			out, ids[name] = append(out, rc), got
		case "elbv2:load-balancer":
			rc, got, err := countLoadBalancers(ctx, cl.ELB, name, sel)
			if err != nil {
				return out, found, fmt.Errorf("count %s: %w", name, err)
			}
			out, ids[name] = append(out, rc), got
		case "ecs:service":
			if cl.ECS == nil {
				return out, found, fmt.Errorf("count %s: no ECS client", name)
			}
			rc, got, err := countServices(ctx, cl.ECS, name, sel, found.dims)
			if err != nil {
				return out, found, fmt.Errorf("count %s: %w", name, err)
			}
			out, ids[name] = append(out, rc), got
		case "s3:bucket":
			got, err := findBuckets(ctx, cl.S3, sel)
			if len(got) > 0 {
				ids[name] = got
			}
			// A bucket has no "down"; the count says how many were found.
			out = append(out, ResourceCount{Name: name, Type: sel.Type, Up: len(got), Expected: len(got)})
			if err != nil {
				return out, found, fmt.Errorf("find %s: %w", name, err)
			}
		case "rds:db-instance":
			if !dbsRead {
				var err error
				if dbs, err = listDBs(ctx, cl.RDS); err != nil {
					return out, found, fmt.Errorf("count %s: %w", name, err)
				}
				dbsRead = true
			}
			rc, got := countDBs(name, sel, dbs)
			out, ids[name] = append(out, rc), got
		default:
			if cl.Members != nil {
				// A failed listing (a role without the reads of the
				// type's tasks) costs this resource's metrics, not the
				// resources after it.
				got, known, err := cl.Members(ctx, sel)
				if err != nil && membersErr == nil {
					membersErr = fmt.Errorf("list %s: %w", name, err)
				}
				if known && err == nil {
					ids[name], found.listed[sel.Type] = got, true
					continue
				}
			}
			if got := append(slices.Clone(sel.IDs), sel.Names...); len(got) > 0 {
				ids[name] = got
			}
		}
	}
	return out, found, membersErr
}

// countInstances lists the selected, not terminated instances in pages of
// 1000: one call for up to 1000 instances.
func countInstances(ctx context.Context, c EC2API, name string, sel tasks.Selector) (ResourceCount, []string, error) {
	rc := ResourceCount{Name: name, Type: sel.Type}
	fs := ec2Filters(sel)
	if len(fs) == 0 {
		return rc, nil, nil // an empty selector selects nothing, never the account
	}
	fs = append(fs, ec2types.Filter{Name: aws.String("instance-state-name"),
		Values: []string{"pending", "running", "stopping", "stopped", "shutting-down"}})
	in := &ec2.DescribeInstancesInput{Filters: fs, MaxResults: aws.Int32(ec2PageSize)}
	var ids []string
	for {
		page, err := c.DescribeInstances(ctx, in)
		if err != nil {
			return rc, ids, fmt.Errorf("describe instances: %w", err)
		}
		for _, r := range page.Reservations {
			for _, i := range r.Instances {
				id := aws.ToString(i.InstanceId)
				ids = append(ids, id)
				rc.Expected++
				if i.State != nil && i.State.Name == ec2types.InstanceStateNameRunning {
					rc.Up++
				} else if len(rc.Down) < maxDownListed {
					rc.Down = append(rc.Down, id+" "+stateName(i.State))
				}
			}
		}
		if aws.ToString(page.NextToken) == "" {
			return rc, ids, nil
		}
		in.NextToken = page.NextToken
	}
}

func stateName(s *ec2types.InstanceState) string {
	if s == nil {
		return "unknown"
	}
	return string(s.Name)
}

// ec2Filters mirrors the actions' selection: tags, Name tags and ids as
// filters (ids in a filter, so one stale id does not fail the call).
func ec2Filters(sel tasks.Selector) []ec2types.Filter {
	var fs []ec2types.Filter
	for _, k := range slices.Sorted(maps.Keys(sel.Tags)) {
		fs = append(fs, ec2types.Filter{Name: aws.String("tag:" + k), Values: []string{sel.Tags[k]}})
	}
	if len(sel.Names) > 0 {
		fs = append(fs, ec2types.Filter{Name: aws.String("tag:Name"), Values: sel.Names})
	}
	if len(sel.IDs) > 0 {
		fs = append(fs, ec2types.Filter{Name: aws.String("instance-id"), Values: sel.IDs})
	}
	return fs
}

// listDBs reads every DB instance of the region once (pages of 100, the
// most RDS serves); RDS cannot filter by tag, so matching is done here.
func listDBs(ctx context.Context, c RDSAPI) ([]rdstypes.DBInstance, error) {
	in := &rds.DescribeDBInstancesInput{MaxRecords: aws.Int32(100)}
	var out []rdstypes.DBInstance
	for {
		page, err := c.DescribeDBInstances(ctx, in)
		if err != nil {
			return out, fmt.Errorf("describe db instances: %w", err)
		}
		out = append(out, page.DBInstances...)
		if aws.ToString(page.Marker) == "" {
			return out, nil
		}
		in.Marker = page.Marker
	}
}

func countDBs(name string, sel tasks.Selector, dbs []rdstypes.DBInstance) (ResourceCount, []string) {
	rc := ResourceCount{Name: name, Type: sel.Type}
	if len(sel.Tags) == 0 && len(sel.IDs) == 0 && len(sel.Names) == 0 {
		return rc, nil
	}
	var ids []string
	for _, db := range dbs {
		id := aws.ToString(db.DBInstanceIdentifier)
		if !dbSelected(sel, id, db.TagList) {
			continue
		}
		ids = append(ids, id)
		rc.Expected++
		if st := aws.ToString(db.DBInstanceStatus); st == "available" {
			rc.Up++
		} else if len(rc.Down) < maxDownListed {
			rc.Down = append(rc.Down, id+" "+st)
		}
	}
	return rc, ids
}

func dbSelected(sel tasks.Selector, id string, tags []rdstypes.Tag) bool {
	has := make(map[string]string, len(tags))
	for _, t := range tags {
		has[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return sel.Matches(tasks.Candidate{ID: id, Tags: has})
}
