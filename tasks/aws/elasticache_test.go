package aws

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/day2bot/day2bot/internal/clocktest"
	"github.com/day2bot/day2bot/tasks"
	"github.com/day2bot/day2bot/tasks/emulator"
)

func ecAction(t *testing.T, clk *clocktest.Clock, name string) tasks.Action {
	t.Helper()
	return findAction(t, ElastiCacheActions(SDKElastiCache, fakePace(clk)), name)
}

func seedRedis(t *testing.T, app string, nodes int, failover bool) string {
	t.Helper()
	id := uniq(t, "rg")
	if len(id) > 40 {
		id = id[len(id)-40:]
	}
	if err := emu.SeedRedisGroup(context.Background(), emulator.RedisGroup{ID: id, Nodes: nodes, Failover: failover, Tags: map[string]string{"app": app}}); err != nil {
		t.Fatal(err)
	}
	return id
}

func redisSel(app string) tasks.Selector {
	return tasks.Selector{Type: "elasticache:replication-group", Tags: map[string]string{"app": app}}
}

// Describe names every member with its role, zone and status; a test
// failover is refused where automatic failover is off, and where it runs
// the run waits until the group is available with a new primary.
func TestRedisDescribeAndTestFailover(t *testing.T) {
	ctx := context.Background()
	clk := clocktest.New(testNow)
	app := uniq(t, "cache")
	ha := seedRedis(t, app, 3, true)
	single := seedRedis(t, app, 1, false)
	foreign := seedRedis(t, uniq(t, "other"), 2, true)

	_, r := planAndRun(ctx, t, ecAction(t, clk, "elasticache.describe"), invocation(t, redisSel(app), nil))
	want := "available, cache.t3.medium, automatic failover enabled, Multi-AZ enabled; shard 0001: primary " + ha + "-001 (us-east-1a, available), replica " +
		ha + "-002 (us-east-1b, available), replica " + ha + "-003 (us-east-1c, available)"
	if len(r.Resources) != 2 || r.Resources[0].Detail != want {
		t.Fatalf("describe %+v\nwant %s", r.Resources, want)
	}

	act := ecAction(t, clk, "elasticache.test-failover")
	inv := invocation(t, redisSel(app), nil)
	p, err := act.Plan(ctx, inv)
	if err != nil || p.Changes[0].Action != "fail over shard 0001: primary "+ha+"-001 -> a replica" ||
		p.Changes[1].Detail != "automatic failover is disabled; a test failover needs it enabled" || emu.RedisPrimary(ha) != ha+"-001" {
		t.Fatalf("plan %v %+v", err, p.Changes)
	}
	r, err = act.Run(ctx, inv, nil)
	if err != nil {
		t.Fatal(err)
	}
	assertPlanMatchesRun(t, p, r)
	if r.Resources[0].Detail != "primary "+ha+"-001 -> "+ha+"-002; the group is available" || emu.RedisPrimary(ha) != ha+"-002" {
		t.Fatalf("run %+v", r.Resources)
	}
	if emu.RedisPrimary(foreign) != foreign+"-001" || emu.RedisPrimary(single) != single+"-001" {
		t.Fatal("a group that was not planned failed over")
	}
	// Binding: another app's group named by id with the app's tag required.
	p, err = act.Plan(ctx, invocation(t, tasks.Selector{Type: "elasticache:replication-group", IDs: []string{foreign}, Tags: map[string]string{"app": app}}, nil))
	if err != nil || p.Summary != "no replication groups match the target" {
		t.Fatalf("foreign %v %q", err, p.Summary)
	}
}

// Replicas reboot before the primary, one batch after the other, each
// batch waited for until its nodes are available again.
func TestRedisRebootNodesInBatches(t *testing.T) {
	ctx := context.Background()
	clk := clocktest.New(testNow)
	app := uniq(t, "cache")
	rg := seedRedis(t, app, 3, true)
	emu.SetCacheRebootReads(rg+"-002", 2)
	act := ecAction(t, clk, "elasticache.reboot-nodes")
	inv := invocation(t, redisSel(app), tasks.Values{"batch": int64(2)})
	p, err := act.Plan(ctx, inv)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, ch := range p.Changes {
		order = append(order, ch.Resource+" "+ch.Action)
	}
	want := []string{rg + "/" + rg + "-002 reboot (batch 1 of 2)", rg + "/" + rg + "-003 reboot (batch 1 of 2)", rg + "/" + rg + "-001 reboot (batch 2 of 2)"}
	if !slices.Equal(order, want) || !strings.HasSuffix(p.Changes[2].Detail, "writes pause while it reboots (test-failover first avoids that)") || emu.RedisReboots(rg+"-001") != 0 {
		t.Fatalf("plan %v", order)
	}
	r, err := act.Run(ctx, inv, nil)
	if err != nil {
		t.Fatal(err)
	}
	assertPlanMatchesRun(t, p, r)
	if r.Summary != "rebooted 3 of 3 nodes" || r.Resources[0].Detail != "rebooting" || r.Resources[1].Detail != "rebooted; available again" {
		t.Fatalf("run %+v", r)
	}
	for _, n := range []string{"-001", "-002", "-003"} {
		if emu.RedisReboots(rg+n) != 1 {
			t.Fatalf("%s rebooted %d times", n, emu.RedisReboots(rg+n))
		}
	}
	// Batch 1 waited: settle 10s, then -002 rebooting for two reads (10s, 20s), available at 30s; batch 2 at once.
	if got := clk.Now().Sub(testNow); got != 40*time.Second {
		t.Fatalf("waited %s, want 40s", got)
	}
}

// A node that stays down stops the batches after its own; a refused
// reboot fails its node only.
func TestRedisRebootPartialFailure(t *testing.T) {
	ctx := context.Background()
	clk := clocktest.New(testNow)
	app := uniq(t, "cache")
	rg := seedRedis(t, app, 3, true)
	emu.SetCacheRebootReads(rg+"-003", 1000)
	emu.InjectFault("elasticache:RebootCacheCluster", emulator.Fault{Status: 400, Code: "InvalidCacheClusterState", Message: "Cache cluster is not available"})
	_, r := planAndRun(ctx, t, ecAction(t, clk, "elasticache.reboot-nodes"), invocation(t, redisSel(app), tasks.Values{"wait": time.Minute}))
	if r.Failed() != 3 || !strings.Contains(r.Resources[0].Detail, "InvalidCacheClusterState") ||
		!strings.Contains(r.Resources[1].Detail, "batch 2 of 3: not done within 1m: "+rg+"-003") || !strings.Contains(r.Resources[2].Detail, "not attempted: batch 2 of 3") {
		t.Fatalf("run %+v", r.Resources)
	}
	if emu.RedisReboots(rg+"-001") != 0 {
		t.Fatal("the primary was rebooted after a batch that did not come back")
	}
}

func TestRedisSnapshot(t *testing.T) {
	ctx := context.Background()
	clk := clocktest.New(testNow)
	app := uniq(t, "cache")
	rg := seedRedis(t, app, 2, true)
	act := ecAction(t, clk, "elasticache.snapshot")
	inv := invocation(t, redisSel(app), tasks.Values{"label": "before-upgrade"})
	_, r := planAndRun(ctx, t, act, inv)
	name := rg + "-before-upgrade-20261125-2200"
	if r.Resources[0].Detail != "snapshot "+name+" creating" || !slices.Equal(emu.RedisSnapshots(rg), []string{name}) {
		t.Fatalf("run %+v, snapshots %v", r.Resources, emu.RedisSnapshots(rg))
	}
	_, r = planAndRun(ctx, t, act, inv)
	if r.Failed() != 1 || !strings.Contains(r.Resources[0].Detail, "SnapshotAlreadyExistsFault") {
		t.Fatalf("duplicate %+v", r.Resources)
	}
}
