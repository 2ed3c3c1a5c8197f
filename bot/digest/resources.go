package digest

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/day2bot/day2bot/blueprints"
	"github.com/day2bot/day2bot/tasks"
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

// members are what collectResources found, for the metrics' dimensions:
// the members of each resource by resource name (the dimension values
// themselves, except where dims says otherwise), and the dimensions some
// members need besides (a target group's load balancer; an ECS service's
// cluster, with its ServiceName, since "CLUSTER/SERVICE" is the member).
type members struct {
	ids  map[string][]string
	dims map[string]map[string]string // by id
	// listed are the resource types Clients.Count or Clients.Members
	// listed: an empty member list means none was found.
	listed map[string]bool
}

// collectResources counts the app's resources of the types Clients.Count
// knows (instances, databases, groups, load balancers, target groups, ECS
// services, buckets) and returns the members of every resource it could
// list. Both hooks select with the tasks' own code, so a digest reads what
// a task on the same binding would act on. Resources of other types are
// listed by Clients.Members where it knows them, else contribute the ids
// and names their selector states.
func collectResources(ctx context.Context, cl Clients, app *blueprints.ResolvedApp) ([]ResourceCount, members, error) {
	var out []ResourceCount
	found := members{ids: map[string][]string{}, dims: map[string]map[string]string{}, listed: map[string]bool{}}
	var membersErr error
	for _, name := range slices.Sorted(maps.Keys(app.Resources)) {
		sel := app.Resources[name].Select
		if cl.Count != nil {
			ms, known, err := cl.Count(ctx, sel)
			if known {
				found.listed[sel.Type] = true
				out = append(out, countOf(name, sel, ms, found))
				if err != nil {
					return out, found, fmt.Errorf("count %s: %w", name, err)
				}
				continue
			}
		}
		if cl.Members != nil {
			// A failed listing (a role without the reads of the type's
			// tasks) costs this resource's metrics, not the resources
			// after it.
			got, known, err := cl.Members(ctx, sel)
			if err != nil && membersErr == nil {
				membersErr = fmt.Errorf("list %s: %w", name, err)
			}
			if known && err == nil {
				found.ids[name], found.listed[sel.Type] = got, true
				continue
			}
		}
		if got := append(slices.Clone(sel.IDs), sel.Names...); len(got) > 0 {
			found.ids[name] = got
		}
	}
	return out, found, membersErr
}

// countOf adds up a resource's members and records their ids and
// dimensions in found.
func countOf(name string, sel tasks.Selector, ms []tasks.Member, found members) ResourceCount {
	rc := ResourceCount{Name: name, Type: sel.Type}
	var ids []string
	for _, m := range ms {
		ids = append(ids, m.ID)
		if m.Dims != nil {
			found.dims[m.ID] = m.Dims
		}
		rc.Up += m.Up
		rc.Expected += m.Expected
		if m.Down != "" && len(rc.Down) < maxDownListed {
			rc.Down = append(rc.Down, m.Down)
		}
	}
	if len(ids) > 0 {
		found.ids[name] = ids
	}
	return rc
}
