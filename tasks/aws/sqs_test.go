package aws

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/tasks"
	"github.com/day2bot/day2bot/tasks/emulator"
)

func sqsAction(t *testing.T, name string) tasks.Action {
	t.Helper()
	return findAction(t, SQSActions(SDKSQS), name)
}

func seedQueue(t *testing.T, q emulator.SQSQueue) {
	t.Helper()
	if err := emu.SeedQueue(context.Background(), q); err != nil {
		t.Fatal(err)
	}
}

func queueDepth(t *testing.T, name string) int {
	t.Helper()
	n, err := emu.QueueDepth(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func queueSel(app string) tasks.Selector {
	return tasks.Selector{Type: "sqs:queue", Tags: map[string]string{"app": app}}
}

// seedOrders seeds the app's queue orders with 4 messages and its DLQ
// holding dead dead letters.
func seedOrders(t *testing.T, app string, dead int) (queue, dlq string) {
	t.Helper()
	queue, dlq = app+"-orders", app+"-orders-dlq"
	seedQueue(t, emulator.SQSQueue{Name: dlq, Tags: map[string]string{"app": app}, Messages: dead})
	seedQueue(t, emulator.SQSQueue{Name: queue, Tags: map[string]string{"app": app}, DeadLetterQueue: dlq, MaxReceive: 3, Messages: 4})
	return queue, dlq
}

func TestSQSDescribeShowsDepthAgeAndDeadLetters(t *testing.T) {
	ctx := context.Background()
	app := uniq(t, "jobs")
	queue, dlq := seedOrders(t, app, 2)
	seedQueue(t, emulator.SQSQueue{Name: app + "-foreign", Tags: map[string]string{"app": "other"}, Messages: 1})
	if err := emu.SetMetric(ctx, "AWS/SQS", "ApproximateAgeOfOldestMessage", map[string]string{"QueueName": queue}, 420); err != nil {
		t.Fatal(err)
	}
	_, r := planAndRun(ctx, t, sqsAction(t, "sqs.describe"), invocation(t, queueSel(app), nil))
	if len(r.Resources) != 2 {
		t.Fatalf("described %+v", r.Resources)
	}
	got := map[string]string{}
	for _, rr := range r.Resources {
		got[rr.Resource] = rr.Detail
	}
	if want := "4 visible, 0 in flight, 0 delayed; oldest message 7m; dead letters to " + dlq + " after 3 receives (it holds 2); retention 4d; visibility timeout 30s"; got[queue] != want {
		t.Fatalf("queue: %s\nwant   %s", got[queue], want)
	}
	if !strings.HasPrefix(got[dlq], "2 visible, 0 in flight, 0 delayed; oldest message") || !strings.Contains(got[dlq], "; dead-letter queue of "+queue+"; retention") {
		t.Fatalf("dlq: %s", got[dlq])
	}
}

func TestSQSRedriveMovesDeadLettersBackAndPartialFailure(t *testing.T) {
	ctx := context.Background()
	app := uniq(t, "jobs")
	queue, dlq := seedOrders(t, app, 3)
	q2, dlq2 := app+"-mail", app+"-mail-dlq"
	seedQueue(t, emulator.SQSQueue{Name: dlq2, Tags: map[string]string{"app": app}, Messages: 2})
	seedQueue(t, emulator.SQSQueue{Name: q2, Tags: map[string]string{"app": app}, DeadLetterQueue: dlq2})

	act := sqsAction(t, "sqs.redrive-dlq")
	inv := invocation(t, queueSel(app), tasks.Values{"rate": int64(50)})
	p, err := planOnlyReads(ctx, t, act, inv)
	if err != nil {
		t.Fatal(err)
	}
	if p.Summary != "move messages back at 50/s from 2 of 2 dead-letter queues" || queueDepth(t, dlq) != 3 {
		t.Fatalf("plan %q %+v", p.Summary, p.Changes)
	}
	// The first move (queues go in name order: mail before orders) is
	// refused: one failed row, the other DLQ moved.
	emu.InjectFault("sqs:StartMessageMoveTask", emulator.Fault{Status: 400, Code: "UnsupportedOperation", Message: "queue is busy"})
	r, err := act.Run(ctx, inv, nil)
	if err != nil {
		t.Fatal(err)
	}
	assertPlanMatchesRun(t, p, r)
	if r.Failed() != 1 || r.Resources[0].Resource != dlq2 || !strings.Contains(r.Resources[0].Detail, "queue is busy") ||
		r.Resources[1].Detail != "moving 3 messages to "+queue+" at 50/s; describe-queues shows the progress" {
		t.Fatalf("run %+v", r.Resources)
	}
	if queueDepth(t, dlq) != 0 || queueDepth(t, queue) != 7 || queueDepth(t, dlq2) != 2 {
		t.Fatalf("depths dlq %d queue %d dlq2 %d", queueDepth(t, dlq), queueDepth(t, queue), queueDepth(t, dlq2))
	}
	// Describe shows the finished redrive; a second redrive skips the empty DLQ.
	_, d := planAndRun(ctx, t, sqsAction(t, "sqs.describe"), invocation(t, queueSel(app), nil))
	if i := slices.IndexFunc(d.Resources, func(rr tasks.ResourceResult) bool { return rr.Resource == dlq }); i < 0 ||
		!strings.Contains(d.Resources[i].Detail, "last redrive completed: 3 of 3 moved") {
		t.Fatalf("describe after redrive: %+v", d.Resources)
	}
	// Running again retries what failed and skips the emptied DLQ.
	p, r = planAndRun(ctx, t, act, inv)
	if p.Changes[1].Detail != "holds no messages" || r.Failed() != 0 || queueDepth(t, dlq2) != 0 || queueDepth(t, q2) != 2 {
		t.Fatalf("second run %+v", r.Resources)
	}
}

func TestSQSPurgeOnlyTheAppsQueues(t *testing.T) {
	ctx := context.Background()
	app := uniq(t, "jobs")
	_, dlq := seedOrders(t, app, 5)
	foreign := uniq(t, "other")
	seedQueue(t, emulator.SQSQueue{Name: foreign + "-dlq", Tags: map[string]string{"app": foreign}, Messages: 2})

	act := sqsAction(t, "sqs.purge")
	p, r := planAndRun(ctx, t, act, invocation(t, queueSel(app), tasks.Values{"queue": "*-dlq"}))
	if p.Changes[0].Resource != dlq || p.Changes[0].Detail != "deletes 5 visible, 0 in flight, 0 delayed" || len(p.Changes) != 1 {
		t.Fatalf("plan %+v", p.Changes)
	}
	if queueDepth(t, dlq) != 0 || r.Summary != "purged 1 of 1 queues" || queueDepth(t, foreign+"-dlq") != 2 {
		t.Fatalf("run %q, dlq %d", r.Summary, queueDepth(t, dlq))
	}
	// Binding: another app's queue, named outright, is not this app's.
	_, err := act.Plan(ctx, invocation(t, queueSel(app), tasks.Values{"queue": foreign + "-dlq"}))
	wantErr(t, err, errs.NotFound, "no queue of this app is called \""+foreign+"-dlq\" (sqs:queue tag app="+app+")")
	// Naming it by id while the binding also requires the tag selects nothing.
	sel := tasks.Selector{Type: "sqs:queue", IDs: []string{foreign + "-dlq"}, Tags: map[string]string{"app": app}}
	_, err = act.Plan(ctx, invocation(t, sel, tasks.Values{"queue": "*"}))
	wantErr(t, err, errs.NotFound, `no queue of this app is called "*" (sqs:queue ids `+foreign+`-dlq; tag app=`+app+`)`)
	if queueDepth(t, foreign+"-dlq") != 2 {
		t.Fatal("foreign queue purged")
	}
}

// planOnlyReads plans act and fails the test when the plan made an AWS
// call other than a read (List, Describe, Get, Head): a dry run changes
// nothing.
func planOnlyReads(ctx context.Context, t *testing.T, act tasks.Action, inv tasks.Invocation) (tasks.Plan, error) {
	t.Helper()
	before := len(emu.Requests(""))
	p, err := act.Plan(ctx, inv)
	calls := emu.Requests("")[before:]
	if len(calls) == 0 {
		t.Errorf("plan of %s made no call at all: the check saw nothing", act.Name())
	}
	for _, r := range calls {
		read := false
		for _, verb := range []string{"List", "Describe", "Get", "Head"} {
			read = read || strings.HasPrefix(r.Operation, verb)
		}
		if !read {
			t.Errorf("plan of %s called %s:%s, which is not a read", act.Name(), r.Service, r.Operation)
		}
	}
	return p, err
}

// A redrive that is still running is skipped by a second redrive and
// stopped by cancel-redrive; describe shows each state.
func TestSQSCancelRunningRedrive(t *testing.T) {
	ctx := context.Background()
	app := uniq(t, "jobs")
	_, dlq := seedOrders(t, app, 3)
	emu.SetSQSMoveHold(true)
	t.Cleanup(func() { emu.SetSQSMoveHold(false) })
	describe := func() string {
		_, r := planAndRun(ctx, t, sqsAction(t, "sqs.describe"), invocation(t, queueSel(app), nil))
		for _, rr := range r.Resources {
			if rr.Resource == dlq {
				return rr.Detail
			}
		}
		t.Fatalf("no row for %s: %+v", dlq, r.Resources)
		return ""
	}
	redrive := sqsAction(t, "sqs.redrive-dlq")
	planAndRun(ctx, t, redrive, invocation(t, queueSel(app), nil))
	if d := describe(); !strings.Contains(d, "last redrive running: 0 of 3 moved") {
		t.Fatalf("describe while running: %s", d)
	}
	if p, _ := planAndRun(ctx, t, redrive, invocation(t, queueSel(app), nil)); p.Changes[0].Detail != "a redrive is already running" {
		t.Fatalf("second redrive %+v", p.Changes)
	}

	cancel := sqsAction(t, "sqs.cancel-redrive")
	p, err := planOnlyReads(ctx, t, cancel, invocation(t, queueSel(app), nil))
	if err != nil || p.Summary != "cancel the redrive of 1 of 1 dead-letter queues" || p.Changes[0].Detail != "0 of 3 moved so far" {
		t.Fatalf("plan %v %q %+v", err, p.Summary, p.Changes)
	}
	_, r := planAndRun(ctx, t, cancel, invocation(t, queueSel(app), nil))
	if r.Resources[0].Detail != "cancelled after 0 messages; the rest stay in the dead-letter queue" || queueDepth(t, dlq) != 3 {
		t.Fatalf("cancel %+v", r.Resources)
	}
	if d := describe(); !strings.Contains(d, "last redrive cancelled: 0 of 3 moved") {
		t.Fatalf("describe after cancel: %s", d)
	}
	if p, _ := planAndRun(ctx, t, cancel, invocation(t, queueSel(app), nil)); p.Changes[0].Detail != "no redrive is running" {
		t.Fatalf("cancel again %+v", p.Changes)
	}
}
