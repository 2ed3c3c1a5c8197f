package digest

import (
	"context"
	"slices"
	"testing"

	"github.com/day2bot/day2bot/blueprints"
	"github.com/day2bot/day2bot/tasks"
	awsactions "github.com/day2bot/day2bot/tasks/aws"
	"github.com/day2bot/day2bot/tasks/emulator"
)

// The digest and the tasks select the same resources for one binding
// with a glob name and a "*" tag value (any value, the key present): of
// each type, two resources match, one has a name the glob does not
// match, one lacks the tag. The tasks' side is a read-only task's run or
// plan, as a user would see it.
func TestDigestAndTasksAgreeOnGlobs(t *testing.T) {
	ctx := context.Background()
	p := uniq("glob")
	team := func(v string) map[string]string {
		if v == "" {
			return map[string]string{"app": p}
		}
		return map[string]string{"app": p, "team": v}
	}
	// name, team ("" means no team tag): the first two are selected.
	seeds := []struct{ name, team string }{{p + "-web1", "lab"}, {p + "-web2", "finance"}, {p + "-db", "lab"}, {p + "-web3", ""}}
	for _, s := range seeds {
		tags := team(s.team)
		tags["Name"] = s.name
		if _, err := emu.SeedInstances(ctx, 1, emulator.InstanceSpec{Tags: tags}); err != nil {
			t.Fatal(err)
		}
		if err := emu.SeedBucket(ctx, emulator.Bucket{Name: s.name, Tags: team(s.team)}); err != nil {
			t.Fatal(err)
		}
		if err := emu.SeedGroup(ctx, emulator.Group{Name: s.name, Max: 1, Tags: team(s.team)}); err != nil {
			t.Fatal(err)
		}
		if err := emu.SeedECSService(ctx, emulator.ECSService{Cluster: p, Name: s.name, Tags: team(s.team)}); err != nil {
			t.Fatal(err)
		}
	}
	cfg := testConfig()
	all := awsactions.All()
	action := func(name string) tasks.Action {
		i := slices.IndexFunc(all, func(a tasks.Action) bool { return a.Name() == name })
		if i < 0 {
			t.Fatalf("no action %s", name)
		}
		return all[i]
	}
	// byRun: the task lists what it read in its result; else in its plan.
	for _, tc := range []struct {
		typ, task string
		byRun     bool
		want      []string
	}{
		{"ec2:instance", "ec2.describe", true, nil},
		{"s3:bucket", "s3.describe", false, []string{p + "-web1", p + "-web2"}},
		{"autoscaling:group", "autoscaling.describe", true, []string{p + "-web1", p + "-web2"}},
		{"ecs:service", "ecs.describe", false, []string{p + "/" + p + "-web1", p + "/" + p + "-web2"}},
	} {
		sel := tasks.Selector{Type: tc.typ, Names: []string{p + "-web*"}, Tags: map[string]string{"team": "*"}}
		inv := tasks.Invocation{AWS: cfg, Target: sel}
		var byTask []string
		if tc.byRun {
			res, err := action(tc.task).Run(ctx, inv, nil)
			if err != nil {
				t.Fatalf("%s: %v", tc.task, err)
			}
			for _, r := range res.Resources {
				byTask = append(byTask, r.Resource)
			}
		} else {
			plan, err := action(tc.task).Plan(ctx, inv)
			if err != nil {
				t.Fatalf("%s: %v", tc.task, err)
			}
			for _, ch := range plan.Changes {
				byTask = append(byTask, ch.Resource)
			}
		}
		app := &blueprints.ResolvedApp{Name: p, Resources: map[string]blueprints.ResolvedResource{"r": {Name: "r", Select: sel}}}
		rcs, found, err := collectResources(ctx, testClients(), app)
		if err != nil {
			t.Fatalf("%s: %v", tc.typ, err)
		}
		byDigest := found.ids["r"]
		slices.Sort(byTask)
		slices.Sort(byDigest)
		if len(byTask) != 2 || !slices.Equal(byDigest, byTask) {
			t.Errorf("%s: digest selects %v, task %s %v; want the same two", tc.typ, byDigest, tc.task, byTask)
		}
		if tc.want != nil && !slices.Equal(byTask, tc.want) {
			t.Errorf("%s: selected %v, want %v", tc.typ, byTask, tc.want)
		}
		if len(rcs) != 1 || rcs[0].Expected < 2 && tc.typ != "autoscaling:group" && tc.typ != "ecs:service" {
			t.Errorf("%s: counted %+v", tc.typ, rcs)
		}
	}
}
