package emulator

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// seedConfig is the SDK config of the emulator's own clients: the Seed
// helpers go over the wire like any client, so what they create is what a
// real client would see. Its HTTP client buffers bodies (SDKHTTPClient):
// without that a seed may reach the emulator twice and a repeated create
// fails, or request counts are off by one.
func (s *Server) seedConfig() aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		Credentials:  staticSeedCredentials{},
		BaseEndpoint: aws.String(s.URL),
		HTTPClient:   SDKHTTPClient(),
	}
}

// SDKHTTPClient is an HTTP client for SDK clients talking to the emulator.
// It buffers request bodies before sending: the SDK closes its body stream
// when the response arrives, and net/http may still be reading it for its
// end-of-body check, which closes the connection under the response
// (aws/aws-sdk-go-v2#2737). The SDK then retries, so a seed or a
// non-idempotent call would reach the emulator twice. (awsclient has the
// production twin; the emulator cannot import it without a test cycle.)
func SDKHTTPClient() aws.HTTPClient { return bufferingClient{awshttp.NewBuildableClient()} }

type bufferingClient struct{ next aws.HTTPClient }

func (b bufferingClient) Do(r *http.Request) (*http.Response, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return b.next.Do(r)
	}
	data, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, fmt.Errorf("buffer request body: %w", err)
	}
	r = r.Clone(r.Context())
	r.Body = io.NopCloser(bytes.NewReader(data))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	return b.next.Do(r)
}

// staticSeedCredentials signs seeding calls; the emulator checks no
// signature, but the front reads the service from the SigV4 scope.
type staticSeedCredentials struct{}

func (staticSeedCredentials) Retrieve(context.Context) (aws.Credentials, error) {
	return aws.Credentials{AccessKeyID: "AKIDSEED", SecretAccessKey: "seed", Source: "emulator"}, nil
}
