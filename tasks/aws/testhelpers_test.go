package aws

import (
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"

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

// findAction returns the action called name, failing the test if there is none.
func findAction(t testing.TB, actions []tasks.Action, name string) tasks.Action {
	t.Helper()
	for _, a := range actions {
		if a.Name() == name {
			return a
		}
	}
	t.Fatalf("no action %s", name)
	return nil
}
