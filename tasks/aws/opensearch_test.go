package aws

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/day2bot/day2bot/internal/clocktest"
	"github.com/day2bot/day2bot/tasks"
	"github.com/day2bot/day2bot/tasks/emulator"
)

func osAction(t *testing.T, name string) tasks.Action {
	t.Helper()
	return findAction(t, OpenSearchActions(SDKOpenSearch, fakePace(clocktest.New(testNow))), name)
}

func domainSel(app string) tasks.Selector {
	return tasks.Selector{Type: "opensearch:domain", Tags: map[string]string{"app": app}}
}

// osApp seeds the app's search domain (3 nodes in 3 AZs, with a snapshot
// repository), its logs domain (2 nodes, one AZ, no repository) and
// another app's domain.
func osApp(t *testing.T) (app, search, logs, foreign string) {
	app = uniq(t, "os")
	search, logs, foreign = app+"-search", app+"-logs", app+"-foreign"
	emu.SeedOpenSearchDomain(emulator.OpenSearchDomain{Name: search, DataNodes: 3, AZs: 3, Repositories: []string{"snapshots"}, Tags: map[string]string{"app": app}})
	emu.SeedOpenSearchDomain(emulator.OpenSearchDomain{Name: logs, DataNodes: 2, Health: "Yellow", Tags: map[string]string{"app": app}})
	emu.SeedOpenSearchDomain(emulator.OpenSearchDomain{Name: foreign, DataNodes: 2, Repositories: []string{"snapshots"}, Tags: map[string]string{"app": "other"}})
	return
}

func TestOpenSearchDescribeAndSnapshot(t *testing.T) {
	ctx := context.Background()
	app, search, _, foreign := osApp(t)
	if err := emu.SetMetric(ctx, "AWS/ES", "FreeStorageSpace", map[string]string{"DomainName": search, "ClientId": "000000000000"}, 40960); err != nil {
		t.Fatal(err)
	}
	_, r := planAndRun(ctx, t, osAction(t, "opensearch.describe"), invocation(t, domainSel(app), nil))
	if len(r.Resources) != 2 || r.Resources[1].Resource != search ||
		r.Resources[1].Detail != "OpenSearch_2.13; Green; 3 data nodes r6g.large.search in 3 AZs; 3 master-eligible; 30 shards, 0 unassigned; 100 GiB gp3 per node; free storage 40.0 GiB (lowest node, last hour)" ||
		!strings.HasPrefix(r.Resources[0].Detail, "OpenSearch_2.13; Yellow; 2 data nodes") || !strings.HasSuffix(r.Resources[0].Detail, "(lowest node, last hour)") {
		t.Fatalf("describe %+v", r.Resources)
	}

	p, r := planAndRun(ctx, t, osAction(t, "opensearch.snapshot"), invocation(t, domainSel(app), tasks.Values{"label": "pre-upgrade"}))
	if _, snaps := emu.OpenSearchState(search, "snapshots"); len(snaps) != 1 || snaps[0] != search+"-pre-upgrade-20261125-2200" ||
		!strings.HasPrefix(p.Changes[0].Detail, "no snapshot repository snapshots is registered") || r.Summary != "snapshotted 1 of 2 domains, 1 skipped" {
		t.Fatalf("snapshot %v %s %+v", snaps, r.Summary, p.Changes)
	}
	if _, snaps := emu.OpenSearchState(foreign, "snapshots"); len(snaps) != 0 {
		t.Fatal("another app's domain was snapshotted")
	}
}

func TestOpenSearchSetDataNodesFollowsBlueGreen(t *testing.T) {
	ctx := context.Background()
	app, _, logs, foreign := osApp(t)
	act := osAction(t, "opensearch.set-data-nodes")
	inv := invocation(t, domainSel(app), tasks.Values{"count": int64(4)})
	p, err := planOnlyReads(ctx, t, act, inv)
	if err != nil || p.Changes[1].Detail != "the domain spans 3 AZs: the data-node count must be a multiple of 3" || p.Summary != "set 4 data nodes (blue/green) 1 of 2 domains" {
		t.Fatalf("plan %v %q %+v", err, p.Summary, p.Changes)
	}
	var prog progressLog
	r, err := act.Run(ctx, inv, prog.add)
	if err != nil {
		t.Fatal(err)
	}
	assertPlanMatchesRun(t, p, r)
	if n, _ := emu.OpenSearchState(logs, ""); n != 4 || !strings.HasPrefix(r.Resources[0].Detail, "2 -> 4 data nodes (blue/green change ") {
		t.Fatalf("resize %d %+v", n, r.Resources)
	}
	if s := prog.String(); !strings.Contains(s, "stage 2 of 5: Creating a new environment") || !strings.Contains(s, "stage 5 of 5: Deleting older resources") {
		t.Fatalf("progress does not follow the change:\n%s", s)
	}

	// Partial failure: AWS refuses one domain's change; the other resizes.
	app, search, _, _ := osApp(t)
	emu.InjectFault("es:UpdateDomainConfig", emulator.Fault{Status: 409, Code: "ResourceConflictException", Message: "A change is already in progress"})
	_, r = planAndRun(ctx, t, act, invocation(t, domainSel(app), tasks.Values{"count": int64(6)}))
	if n, _ := emu.OpenSearchState(search, ""); n != 6 || r.Failed() != 1 || !strings.Contains(r.Resources[0].Detail, "ResourceConflictException") {
		t.Fatalf("partial %d %+v", n, r.Resources)
	}

	// A change still running after the wait is reported, and goes on in AWS.
	app, _, _, _ = osApp(t)
	_, r = planAndRun(ctx, t, act, invocation(t, domainSel(app), tasks.Values{"count": int64(6), "wait": 10 * time.Second}))
	if r.Failed() != 2 || !strings.Contains(r.Resources[0].Detail, "is still in progress after 10s; AWS carries on with it") {
		t.Fatalf("timeout %+v", r.Resources)
	}

	// The binding: another app's domain named by id with the app's tags
	// plans nothing.
	sel := domainSel(app)
	sel.IDs = []string{foreign}
	if p, err := act.Plan(ctx, invocation(t, sel, tasks.Values{"count": int64(3)})); err != nil || len(p.Changes) != 0 {
		t.Fatalf("foreign domain planned: %v %+v", err, p.Changes)
	}
}
