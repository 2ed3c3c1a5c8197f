package awsclient_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/day2bot/day2bot/tasks/awsclient"
)

// hungEndpoint accepts every request and never answers until the client
// goes away; arrived receives one value per attempt.
func hungEndpoint(t *testing.T) (*httptest.Server, chan struct{}, *atomic.Int32) {
	t.Helper()
	arrived := make(chan struct{}, 16)
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Read the body first: only then does the server watch the
		// connection and end r's context when the client hangs up.
		_, _ = io.Copy(io.Discard, r.Body)
		n.Add(1)
		arrived <- struct{}{}
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	return srv, arrived, &n
}

func hungProvider(url string, o awsclient.Options) *awsclient.Provider {
	base := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDHUNG", "secret", "")}
	o.EndpointURL = url
	return awsclient.NewFromConfig(base, o)
}

// TestCallTimeoutEndsAHungAttempt: an endpoint that never answers costs
// each attempt its CallTimeout, and the call fails as a timeout after the
// retryer's attempts instead of waiting as long as the caller's context.
func TestCallTimeoutEndsAHungAttempt(t *testing.T) {
	srv, _, n := hungEndpoint(t)
	p := hungProvider(srv.URL, awsclient.Options{CallTimeout: 50 * time.Millisecond,
		Retry: awsclient.RetryOptions{MaxAttempts: 2, Backoff: awsclient.NoBackoff}})
	cfg, err := p.Config(context.Background(), awsclient.Account{}, "us-east-1", "test:timeout")
	if err != nil {
		t.Fatal(err)
	}
	_, err = ec2.NewFromConfig(cfg).DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{})
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("err = %v, want a timeout", err)
	}
	if got := n.Load(); got != 2 {
		t.Fatalf("attempts = %d, want 2 (each timed out, then retried)", got)
	}
}

// TestCancelEndsAHungCall: cancelling the context ends a call in flight
// at once, whatever the per-attempt timeout, and it is not retried.
func TestCancelEndsAHungCall(t *testing.T) {
	srv, arrived, n := hungEndpoint(t)
	p := hungProvider(srv.URL, awsclient.Options{CallTimeout: time.Hour,
		Retry: awsclient.RetryOptions{MaxAttempts: 5, Backoff: awsclient.NoBackoff}})
	cfg, err := p.Config(context.Background(), awsclient.Account{}, "us-east-1", "test:cancel")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	go func() {
		<-arrived
		cancel(errors.New("cancelled by alice"))
	}()
	_, err = ec2.NewFromConfig(cfg).DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if got := n.Load(); got != 1 {
		t.Fatalf("attempts = %d, want 1", got)
	}
}
