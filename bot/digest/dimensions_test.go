package digest

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/day2bot/day2bot/blueprints"
	"github.com/day2bot/day2bot/tasks"
	"github.com/day2bot/day2bot/tasks/emulator"
)

// Tests of the dimensions metric queries carry, read back from the
// GetMetricData requests the emulator recorded (the CBOR bodies CloudWatch
// would receive).

// sentQuery is one MetricDataQuery as it went over the wire: its metric
// name and its dimensions as "Name=Value", sorted.
type sentQuery struct {
	Metric string
	Dims   []string
}

// sentQueries decodes the GetMetricData requests recorded from index
// from on.
func sentQueries(t *testing.T, from int) []sentQuery {
	t.Helper()
	var out []sentQuery
	for _, r := range emu.Requests("monitoring:GetMetricData")[from:] {
		var in struct {
			MetricDataQueries []struct {
				MetricStat struct {
					Metric struct {
						MetricName string
						Dimensions []struct{ Name, Value string }
					}
				}
			}
		}
		if err := cbor.Unmarshal(r.Body, &in); err != nil {
			t.Fatalf("decode GetMetricData request: %v", err)
		}
		for _, q := range in.MetricDataQueries {
			s := sentQuery{Metric: q.MetricStat.Metric.MetricName}
			for _, d := range q.MetricStat.Metric.Dimensions {
				s.Dims = append(s.Dims, d.Name+"="+d.Value)
			}
			slices.Sort(s.Dims)
			out = append(out, s)
		}
	}
	return out
}

// dimsByMetric groups the sent queries' dimension sets by metric, each
// metric's sets sorted.
func dimsByMetric(qs []sentQuery) map[string][]string {
	out := map[string][]string{}
	for _, q := range qs {
		out[q.Metric] = append(out[q.Metric], strings.Join(q.Dims, ","))
	}
	for k := range out {
		slices.Sort(out[k])
	}
	return out
}

func buildAt(t *testing.T, app *blueprints.ResolvedApp) Report {
	t.Helper()
	now := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	r, err := newBuilder(t, openStore(t, func() time.Time { return now }), func() time.Time { return now }, nil).Build(context.Background(), app)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Problems) > 0 {
		t.Fatalf("problems: %v", r.Problems)
	}
	return r
}

func metricsRead(t *testing.T, r Report, want int) {
	t.Helper()
	for _, m := range r.Metrics {
		if m.Resources != want || m.Note != "" {
			t.Errorf("metric %s: %d resources (want %d), note %q", m.Name, m.Resources, want, m.Note)
		}
	}
}

// TestLoadBalancerMetricDimensions: the ec2-web blueprint's ALB metrics.
// A load balancer selected by tag is read under LoadBalancer=app/NAME/ID;
// UnHealthyHostCount, per target group, under TargetGroup and the
// LoadBalancer the group is behind.
func TestLoadBalancerMetricDimensions(t *testing.T) {
	ctx := context.Background()
	name := uniq("alb")
	ids, err := emu.SeedInstances(ctx, 2, emulator.InstanceSpec{Tags: map[string]string{"app": name}})
	if err != nil {
		t.Fatal(err)
	}
	tg, err := emu.SeedTargetGroup(ctx, emulator.TargetGroup{Name: name + "-tg", Tags: map[string]string{"app": name}, Targets: ids})
	if err != nil {
		t.Fatal(err)
	}
	lb, err := emu.SeedLoadBalancer(ctx, emulator.LoadBalancer{Name: name + "-lb", Tags: map[string]string{"app": name}, TargetGroups: []string{tg}})
	if err != nil {
		t.Fatal(err)
	}
	// Another app's load balancer must not be read.
	if _, err := emu.SeedLoadBalancer(ctx, emulator.LoadBalancer{Name: name + "-other", Tags: map[string]string{"app": name + "x"}}); err != nil {
		t.Fatal(err)
	}
	lbDim := "LoadBalancer=" + lb[strings.Index(lb, ":loadbalancer/")+len(":loadbalancer/"):]
	tgDim := "TargetGroup=" + tg[strings.Index(tg, ":targetgroup/")+1:]
	if !strings.HasPrefix(lbDim, "LoadBalancer=app/"+name+"-lb/") || !strings.HasPrefix(tgDim, "TargetGroup=targetgroup/"+name+"-tg/") {
		t.Fatalf("unexpected ARNs %s %s", lb, tg)
	}

	lbSel := tasks.Selector{Type: "elbv2:load-balancer", Tags: map[string]string{"app": name}}
	tgSel := tasks.Selector{Type: "elbv2:target-group", Tags: map[string]string{"app": name}}
	alb := func(metricName, metric, resource, stat string, sel tasks.Selector) blueprints.ResolvedMetric {
		return blueprints.ResolvedMetric{Select: sel, Metric: blueprints.Metric{Name: metricName, Namespace: "AWS/ApplicationELB",
			Metric: metric, Resource: resource, Stat: stat, Period: 5 * time.Minute}}
	}
	app := &blueprints.ResolvedApp{Name: name, Region: "us-east-1", Resources: map[string]blueprints.ResolvedResource{
		"load-balancer": {Name: "load-balancer", Select: lbSel}, "target-groups": {Name: "target-groups", Select: tgSel},
	}, Metrics: []blueprints.ResolvedMetric{
		alb("response-time", "TargetResponseTime", "load-balancer", "p95", lbSel),
		alb("target-5xx", "HTTPCode_Target_5XX_Count", "load-balancer", "Sum", lbSel),
		alb("unhealthy-hosts", "UnHealthyHostCount", "target-groups", "Maximum", tgSel),
	}}
	before := emu.Count("monitoring:GetMetricData")
	r := buildAt(t, app)
	metricsRead(t, r, 1)
	i := slices.IndexFunc(r.Resources, func(rc ResourceCount) bool { return rc.Name == "load-balancer" })
	if i < 0 || r.Resources[i].Up != 1 || r.Resources[i].Expected != 1 || r.Resources[i].Type != "elbv2:load-balancer" {
		t.Errorf("load balancer count = %+v, want 1 of 1", r.Resources)
	}
	want := map[string][]string{
		"TargetResponseTime":        {lbDim},
		"HTTPCode_Target_5XX_Count": {lbDim},
		"UnHealthyHostCount":        {lbDim + "," + tgDim},
	}
	if got := dimsByMetric(sentQueries(t, before)); !maps.EqualFunc(got, want, slices.Equal) {
		t.Errorf("dimensions sent:\n got %v\nwant %v", got, want)
	}
}

// TestECSServiceMetricDimensions: AWS/ECS service metrics are read under
// ClusterName and ServiceName, the cluster taken from each service, so
// services of one name in two clusters are two series.
func TestECSServiceMetricDimensions(t *testing.T) {
	ctx := context.Background()
	name := uniq("ecsd")
	clA, clB := name+"-a", name+"-b"
	for _, s := range []emulator.ECSService{
		{Cluster: clA, Name: "web", Desired: 2, Tags: map[string]string{"app": name}},
		{Cluster: clB, Name: "web", Desired: 3, Tags: map[string]string{"app": name}},
		{Cluster: clB, Name: "worker", Desired: 1, Tags: map[string]string{"app": name + "x"}},
	} {
		if err := emu.SeedECSService(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	arnB := "arn:aws:ecs:us-east-1:000000000000:service/" + clB + "/web"
	for _, tc := range []struct {
		name       string
		sel        tasks.Selector
		up         int
		pairs      []string // ClusterName,ServiceName dimension sets
		listsFirst bool     // selection needs ListClusters
	}{
		{"by tag", tasks.Selector{Tags: map[string]string{"app": name}}, 5,
			[]string{"ClusterName=" + clA + ",ServiceName=web", "ClusterName=" + clB + ",ServiceName=web"}, true},
		{"by arn", tasks.Selector{IDs: []string{arnB}}, 3, []string{"ClusterName=" + clB + ",ServiceName=web"}, false},
		{"by cluster/name", tasks.Selector{Names: []string{clA + "/web"}}, 2, []string{"ClusterName=" + clA + ",ServiceName=web"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.sel.Type = "ecs:service"
			ecsMetric := func(metricName, metric string) blueprints.ResolvedMetric {
				return blueprints.ResolvedMetric{Select: tc.sel, Metric: blueprints.Metric{Name: metricName, Namespace: "AWS/ECS",
					Metric: metric, Resource: "service", Stat: "Average", Period: 5 * time.Minute}}
			}
			app := &blueprints.ResolvedApp{Name: name, Region: "us-east-1",
				Resources: map[string]blueprints.ResolvedResource{"service": {Name: "service", Select: tc.sel}},
				Metrics:   []blueprints.ResolvedMetric{ecsMetric("cpu", "CPUUtilization"), ecsMetric("memory", "MemoryUtilization")}}
			before, lists := emu.Count("monitoring:GetMetricData"), emu.Count("ecs:ListClusters")
			r := buildAt(t, app)
			metricsRead(t, r, len(tc.pairs))
			if len(r.Resources) != 1 || r.Resources[0].Up != tc.up || r.Resources[0].Expected != tc.up {
				t.Errorf("service count = %+v, want %d of %d", r.Resources, tc.up, tc.up)
			}
			if listed := emu.Count("ecs:ListClusters") > lists; listed != tc.listsFirst {
				t.Errorf("ListClusters called: %v, want %v", listed, tc.listsFirst)
			}
			want := map[string][]string{"CPUUtilization": tc.pairs, "MemoryUtilization": tc.pairs}
			if got := dimsByMetric(sentQueries(t, before)); !maps.EqualFunc(got, want, slices.Equal) {
				t.Errorf("dimensions sent:\n got %v\nwant %v", got, want)
			}
			if w := r.Metrics[0].WorstID; !slices.Contains([]string{clA + "/web", clB + "/web"}, w) {
				t.Errorf("worst id %q is not CLUSTER/SERVICE", w)
			}
		})
	}
}
