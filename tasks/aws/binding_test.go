package aws

import (
	"context"
	"slices"
	"testing"

	"github.com/day2bot/day2bot/tasks"
	"github.com/day2bot/day2bot/tasks/emulator"
)

// A server that ignores DescribeInstances filters returns instances the
// app does not own; the action checks what came back against the binding,
// so only the 4 bound instances are planned and stopped, not the 6.
func TestEC2StopTrustsBindingNotServerFilter(t *testing.T) {
	ctx := context.Background()
	app := uniq(t, "app")
	bound, err := emu.SeedInstances(ctx, 4, emulator.InstanceSpec{Tags: map[string]string{"app": app, "tier": "web"}})
	if err != nil {
		t.Fatal(err)
	}
	others, err := emu.SeedInstances(ctx, 2, emulator.InstanceSpec{Tags: map[string]string{"app": app, "tier": "db"}})
	if err != nil {
		t.Fatal(err)
	}
	emu.IgnoreInstanceFilters(true)
	t.Cleanup(func() { emu.IgnoreInstanceFilters(false) })

	inv := tasks.Invocation{AWS: testConfig(t), Target: tasks.Selector{Type: "ec2:instance", Tags: map[string]string{"app": app, "tier": "web"}},
		Values: tasks.Values{"batch": int64(4)}}
	stop := NewEC2Stop(SDKEC2)
	plan, err := stop.Plan(ctx, inv)
	if err != nil {
		t.Fatal(err)
	}
	var planned []string
	for _, ch := range plan.Changes {
		planned = append(planned, ch.Resource)
	}
	if !slices.Equal(planned, bound) {
		t.Fatalf("planned %v, want the bound %v", planned, bound)
	}
	res, err := stop.Run(ctx, inv, nil)
	if err != nil || res.Summary != "stopped 4 of 4 instances" {
		t.Fatalf("run: %v %+v", err, res)
	}
	for _, id := range others {
		if s := emu.InstanceState(id); s != "running" {
			t.Fatalf("unbound instance %s was touched: %s", id, s)
		}
	}
	for _, id := range bound {
		if s := emu.InstanceState(id); s != "stopped" {
			t.Fatalf("bound instance %s is %s", id, s)
		}
	}
}
