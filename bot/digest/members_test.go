package digest

import (
	"context"
	"testing"
	"time"

	"github.com/day2bot/day2bot/blueprints"
	"github.com/day2bot/day2bot/tasks"
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
