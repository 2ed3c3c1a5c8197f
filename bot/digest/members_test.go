package digest

import (
	"context"
	"testing"
	"time"

	"github.com/day2bot/day2bot/blueprints"
	"github.com/day2bot/day2bot/tasks"
	awsactions "github.com/day2bot/day2bot/tasks/aws"
	"github.com/day2bot/day2bot/tasks/emulator"
)

// A blueprint metric on a type the digest does not list itself (SQS
// queues bound by tag) is read for the queues the tasks select, through
// Clients.Members; a binding that selects none says so.
func TestDigestReadsMetricsOfMembersListedByTheTasks(t *testing.T) {
	ctx := context.Background()
	app := uniq("jobs")
	for _, q := range []emulator.SQSQueue{
		{Name: app + "-orders", Tags: map[string]string{"app": app}},
		{Name: app + "-mail", Tags: map[string]string{"app": app}},
		{Name: app + "-foreign", Tags: map[string]string{"app": "other"}},
	} {
		if err := emu.SeedQueue(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	for name, age := range map[string]float64{app + "-orders": 90, app + "-mail": 4000, app + "-foreign": 99999} {
		if err := emu.SetMetric(ctx, "AWS/SQS", "ApproximateAgeOfOldestMessage", map[string]string{"QueueName": name}, age); err != nil {
			t.Fatal(err)
		}
	}
	metric := func(sel tasks.Selector) blueprints.ResolvedMetric {
		return blueprints.ResolvedMetric{Select: sel, Metric: blueprints.Metric{Name: "oldest-message-age", Namespace: "AWS/SQS",
			Metric: "ApproximateAgeOfOldestMessage", Resource: "queues", Stat: "Maximum", Period: 5 * time.Minute, Warn: f64(300), Critical: f64(3600)}}
	}
	bound := tasks.Selector{Type: "sqs:queue", Tags: map[string]string{"app": app}}
	none := tasks.Selector{Type: "sqs:queue", Tags: map[string]string{"app": app + "-none"}}
	now := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	b := newBuilder(t, openStore(t, func() time.Time { return now }), func() time.Time { return now }, func(o *Options) {
		o.Clients = func(context.Context, *blueprints.ResolvedApp) (Clients, error) {
			return testClients(), nil
		}
	})
	for _, tc := range []struct {
		sel  tasks.Selector
		want func(MetricSummary) bool
	}{
		{bound, func(m MetricSummary) bool {
			return m.Resources == 2 && m.Worst == 4000 && m.WorstID == app+"-mail" && m.Level == "critical" && m.Note == ""
		}},
		{none, func(m MetricSummary) bool { return m.Resources == 0 && m.Note == "no queues found" }},
	} {
		r, err := b.Build(ctx, &blueprints.ResolvedApp{Name: app, Resources: map[string]blueprints.ResolvedResource{"queues": {Name: "queues", Select: tc.sel}},
			Metrics: []blueprints.ResolvedMetric{metric(tc.sel)}})
		if err != nil {
			t.Fatal(err)
		}
		if m := r.Metrics[0]; !tc.want(m) {
			t.Errorf("%v: %+v", tc.sel.Tags, m)
		}
	}
}

// A Redis replication group's metrics are its nodes': the digest lists the
// groups the tasks select, reads each member cluster's metric
// (CacheClusterId) and names the worst node; another app's group is not read.
func TestDigestReadsRedisMetricsPerNode(t *testing.T) {
	ctx := context.Background()
	app := uniq("cache")
	for _, g := range []emulator.RedisGroup{
		{ID: app + "-sessions", Nodes: 2, Tags: map[string]string{"app": app}},
		{ID: app + "-foreign", Nodes: 1, Tags: map[string]string{"app": "other"}},
	} {
		if err := emu.SeedRedisGroup(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	sel := tasks.Selector{Type: "elasticache:replication-group", Tags: map[string]string{"app": app}}
	ids, known, err := awsactions.Members(ctx, emu.ClientConfig("us-east-1", "AKIDREDIS"), sel)
	if err != nil || !known || len(ids) != 2 {
		t.Fatalf("members of the app's groups = %v, %v, %v; want its 2 nodes", ids, known, err)
	}
	for i, id := range ids {
		if err := emu.SetMetric(ctx, "AWS/ElastiCache", "DatabaseMemoryUsagePercentage", map[string]string{"CacheClusterId": id}, float64(60+30*i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := emu.SetMetric(ctx, "AWS/ElastiCache", "DatabaseMemoryUsagePercentage", map[string]string{"CacheClusterId": app + "-foreign-001"}, 99); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	b := newBuilder(t, openStore(t, func() time.Time { return now }), func() time.Time { return now }, func(o *Options) {
		o.Clients = func(context.Context, *blueprints.ResolvedApp) (Clients, error) { return testClients(), nil }
	})
	m := blueprints.ResolvedMetric{Select: sel, Metric: blueprints.Metric{Name: "memory", Namespace: "AWS/ElastiCache",
		Metric: "DatabaseMemoryUsagePercentage", Resource: "redis", Stat: "Maximum", Period: 5 * time.Minute, Warn: f64(80), Critical: f64(95)}}
	r, err := b.Build(ctx, &blueprints.ResolvedApp{Name: app, Resources: map[string]blueprints.ResolvedResource{"redis": {Name: "redis", Select: sel}},
		Metrics: []blueprints.ResolvedMetric{m}})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Metrics[0]; got.Resources != 2 || got.Worst != 90 || got.WorstID != ids[1] || got.Level != "warn" || got.Note != "" {
		t.Errorf("memory: %d nodes, worst %s at %v (%s), note %q; want 2 nodes, worst %s at 90 (warn)",
			got.Resources, got.WorstID, got.Worst, got.Level, got.Note, ids[1])
	}
}
