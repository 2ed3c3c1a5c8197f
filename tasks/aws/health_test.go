package aws

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/day2bot/day2bot/internal/clocktest"
	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/tasks"
	"github.com/day2bot/day2bot/tasks/emulator"
)

// fakePace waits on a settable clock: Sleep advances it and returns at
// once, so a test of a ten-minute wait takes no real time.
func fakePace(clk *clocktest.Clock) Pace {
	return Pace{Settle: 10 * time.Second, Poll: 10 * time.Second, Sleep: func(ctx context.Context, d time.Duration) error {
		clk.Advance(d)
		return ctx.Err()
	}}
}

// rollingApp seeds n instances of a new app, a target group tagged with
// the app holding them, and returns the invocation of a batched EC2
// action bound to them, with the group as a related resource.
func rollingApp(t *testing.T, n int, vals tasks.Values) (tasks.Invocation, []string, string) {
	t.Helper()
	ctx := context.Background()
	app := uniq(t, "app")
	ids, err := emu.SeedInstances(ctx, n, emulator.InstanceSpec{Tags: map[string]string{"app": app, "tier": "web"}})
	if err != nil {
		t.Fatal(err)
	}
	arn, err := emu.SeedTargetGroup(ctx, emulator.TargetGroup{Name: fmt.Sprintf("tg-%d", uniqSeq.Add(1)), Tags: map[string]string{"app": app}, Targets: ids})
	if err != nil {
		t.Fatal(err)
	}
	inv := tasks.Invocation{AWS: testConfig(t), Values: vals,
		Target:  tasks.Selector{Type: "ec2:instance", Tags: map[string]string{"app": app, "tier": "web"}},
		Related: []tasks.Selector{{Type: "elbv2:target-group", Tags: map[string]string{"app": app}}}}
	return inv, ids, arn
}

func pacedAction(t *testing.T, name string, pace Pace) tasks.Action {
	return coverIAM(t, findAction(t, EC2ActionsWith(SDKEC2, SDKELBv2, pace), name))
}

type progressLog struct {
	mu   sync.Mutex
	msgs []string
}

func (p *progressLog) add(pr tasks.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.msgs = append(p.msgs, pr.Message)
}

func (p *progressLog) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.msgs, "\n")
}

// reboots of the batch's instances, in the order the emulator received them.
func rebootOrder(ids []string) []string {
	var out []string
	for _, r := range emu.Requests("") {
		if r.Operation == "DescribeInstanceStatus" && slices.ContainsFunc(ids, func(id string) bool { return strings.Contains(string(r.Body), id) }) {
			out = append(out, "status")
		}
		if r.Operation == "RebootInstances" {
			for _, id := range ids {
				if strings.Contains(string(r.Body), id) {
					out = append(out, "reboot "+id)
				}
			}
		}
	}
	return out
}

// The second batch is rebooted only once the first is back: its instance
// reported "initializing" for three status reads after the reboot, so the
// action polled four times (settle, then three polls) before going on.
func TestEC2RebootWaitsForBatchToBeBack(t *testing.T) {
	clk := clocktest.New(testNow)
	inv, ids, _ := rollingApp(t, 2, tasks.Values{"batch": int64(1)})
	emu.SetBootReads(ids[0], 3)
	var prog progressLog
	res, err := pacedAction(t, "ec2.reboot", fakePace(clk)).Run(context.Background(), inv, prog.add)
	if err != nil || res.Summary != "rebooted 2 of 2 instances" {
		t.Fatalf("run: %v %+v", err, res)
	}
	want := []string{"reboot " + ids[0], "status", "status", "status", "status", "reboot " + ids[1]}
	if got := rebootOrder(ids); !slices.Equal(got, want) {
		t.Fatalf("calls %v\nwant  %v", got, want)
	}
	if got := clk.Now().Sub(testNow); got != 40*time.Second {
		t.Fatalf("waited %s, want 40s (settle 10s + 3 polls)", got)
	}
	if !strings.Contains(prog.String(), "waiting for batch 1 of 2 to be back (10s of 10m): "+ids[0]+": instance status initializing") {
		t.Fatalf("progress does not show the wait:\n%s", prog.String())
	}
}

// A target the load balancer keeps reporting unhealthy is not back: after
// the bound the run fails with the reason and the next batch is untouched.
func TestEC2RebootFailsWhenBatchNotBackAndLeavesTheRest(t *testing.T) {
	clk := clocktest.New(testNow)
	inv, ids, arn := rollingApp(t, 3, tasks.Values{"batch": int64(1), "wait": 2 * time.Minute})
	emu.SetTargetHealth(arn, ids[0], "unhealthy", "Target.FailedHealthChecks", "Health checks failed with these codes: [502]")
	_, err := pacedAction(t, "ec2.reboot", fakePace(clk)).Run(context.Background(), inv, nil)
	var nb *NotBackError
	if !errors.As(err, &nb) || len(nb.NotBack) != 1 || !strings.HasPrefix(nb.NotBack[0], ids[0]+": target unhealthy in ") ||
		!strings.HasSuffix(nb.NotBack[0], " (Target.FailedHealthChecks)") {
		t.Fatalf("err %v (%T), want a NotBackError cause naming the unhealthy target", err, err)
	}
	wantErr(t, err, errs.Conflict, "batch 1 of 3 was not back within 2m ("+nb.NotBack[0]+"); batches 2 to 3 were not started")
	if emu.RebootCount(ids[0]) != 1 || emu.RebootCount(ids[1]) != 0 || emu.RebootCount(ids[2]) != 0 {
		t.Fatalf("reboots %d %d %d, want 1 0 0", emu.RebootCount(ids[0]), emu.RebootCount(ids[1]), emu.RebootCount(ids[2]))
	}
	if got := clk.Now().Sub(testNow); got != 2*time.Minute {
		t.Fatalf("waited %s, want the 2m bound", got)
	}
}

// Start waits too: an instance impaired after its start holds the next
// batch until the bound, then the run fails naming the status.
func TestEC2StartWaitsForStatusChecks(t *testing.T) {
	clk := clocktest.New(testNow)
	inv, ids, _ := rollingApp(t, 2, tasks.Values{"batch": int64(1), "wait": time.Minute})
	for _, id := range ids {
		emu.SetInstanceState(id, "stopped")
	}
	emu.SetInstanceStatus(ids[0], "impaired", 1000)
	t.Cleanup(func() { emu.SetInstanceStatus(ids[0], "", 0) })
	_, err := pacedAction(t, "ec2.start", fakePace(clk)).Run(context.Background(), inv, nil)
	var nb *NotBackError
	if !errors.As(err, &nb) || len(nb.NotBack) == 0 || nb.NotBack[0] != ids[0]+": instance status impaired" {
		t.Fatalf("err %v, want a NotBackError cause naming the impaired status", err)
	}
	wantErr(t, err, errs.Conflict, "batch 1 of 2 was not back within 1m ("+strings.Join(nb.NotBack, "; ")+"); batches 2 to 2 were not started")
	if s := emu.InstanceState(ids[1]); s != "stopped" {
		t.Fatalf("second batch was started: %s", s)
	}
}

// instant makes a batched EC2 action check each batch at once (the
// emulator's checks are current immediately), for tests about other things.
func instant(a tasks.Action) tasks.Action {
	if c, ok := a.(*ec2Change); ok {
		c.pace = Pace{Settle: -1}
	}
	return a
}
