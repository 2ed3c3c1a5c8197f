package aws

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/tasks"
	"github.com/day2bot/day2bot/tasks/awsclient"
	"github.com/day2bot/day2bot/tasks/emulator"
)

// emu is the one emulator of this test package. kumo's state is
// process-global anyway; tests use unique names (uniq) so they can share it.
var emu *emulator.Server

func TestMain(m *testing.M) {
	emu = emulator.New()
	code := m.Run()
	emu.Close()
	os.Exit(code)
}

// testRetryer is shared like the production one, without backoff sleeps.
var testRetryer = awsclient.NewRetryer(awsclient.RetryOptions{MaxAttempts: 3, Backoff: awsclient.NoBackoff})

// testHTTPClient is shared like the production one, and buffers request
// bodies for the same reason (see awsclient.BufferRequestBodies): without
// it a spurious SDK retry now and then makes request counts off by one.
var testHTTPClient = awsclient.BufferRequestBodies(awshttp.NewBuildableClient())

// testConfig is an aws.Config pointing every client at the emulator.
func testConfig(t testing.TB) awssdk.Config {
	t.Helper()
	return awssdk.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		BaseEndpoint: awssdk.String(emu.URL),
		Retryer:      func() awssdk.Retryer { return testRetryer },
		HTTPClient:   testHTTPClient,
	}
}

var uniqSeq atomic.Int64

// uniq returns a name unique in this process, readable in failures.
func uniq(t testing.TB, prefix string) string {
	name := strings.NewReplacer("/", "-", "_", "-", " ", "-").Replace(strings.ToLower(t.Name()))
	if len(name) > 30 {
		name = name[:30]
	}
	return fmt.Sprintf("%s-%s-%d", prefix, strings.Trim(name, "-"), uniqSeq.Add(1))
}

// findAction returns the action called name, failing the test if there is
// none, wrapped so every AWS call it makes is checked against its generated
// IAM policy (coverIAM).
func findAction(t testing.TB, actions []tasks.Action, name string) tasks.Action {
	t.Helper()
	for _, a := range actions {
		if a.Name() == name {
			return coverIAM(t, a)
		}
	}
	t.Fatalf("no action %s", name)
	return nil
}

var testNow = time.Date(2026, 11, 25, 22, 0, 0, 0, time.UTC)

// invocation aims an action at the emulator with testNow as its clock.
func invocation(t *testing.T, sel tasks.Selector, v tasks.Values) tasks.Invocation {
	return tasks.Invocation{AWS: testConfig(t), Target: sel, Values: v, Now: testNow}
}

// assertPlanMatchesRun checks the run did exactly what the plan said.
func assertPlanMatchesRun(t *testing.T, p tasks.Plan, r tasks.Result) {
	t.Helper()
	if len(p.Changes) != len(r.Resources) {
		t.Fatalf("plan has %d changes, run %d resources:\n%+v\n%+v", len(p.Changes), len(r.Resources), p.Changes, r.Resources)
	}
	for i, ch := range p.Changes {
		rr := r.Resources[i]
		if ch.Resource != rr.Resource || (ch.Action == "skip") != (rr.Status == tasks.StatusSkipped) {
			t.Fatalf("change %d: plan %+v, run %+v", i, ch, rr)
		}
	}
}

// planAndRun plans, then runs act on inv, failing the test on an error or
// when the run did not do what the plan said.
func planAndRun(ctx context.Context, t *testing.T, act tasks.Action, inv tasks.Invocation) (tasks.Plan, tasks.Result) {
	t.Helper()
	p, err := act.Plan(ctx, inv)
	if err != nil {
		t.Fatal(err)
	}
	r, err := act.Run(ctx, inv, nil)
	if err != nil {
		t.Fatal(err)
	}
	assertPlanMatchesRun(t, p, r)
	return p, r
}

// callsMentioning counts recorded calls of op whose body names id, so tests
// sharing the package emulator only see their own traffic.
func callsMentioning(op, id string) int {
	n := 0
	for _, r := range emu.Requests(op) {
		if bytes.Contains(r.Body, []byte(id)) {
			n++
		}
	}
	return n
}

// wantErr fails unless err is of kind (errs.KindOf) and shows the user
// exactly msg (errs.Render): what the engine puts in chat.
func wantErr(t testing.TB, err error, kind errs.Kind, msg string) {
	t.Helper()
	got, shown := errs.Render(err)
	if k := errs.KindOf(err); k != kind || !shown || got != msg {
		t.Fatalf("err %v\n got %v error showing %q (shown: %v)\nwant %v error showing %q", err, k, got, shown, kind, msg)
	}
}
