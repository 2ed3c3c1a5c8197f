package emulator

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/day2bot/day2bot/tasks/awsclient"
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

// ClientConfig is an SDK config for clients of this emulator, signed as
// accessKeyID (so a test can tell its calls apart), with the body-buffering
// HTTP client. Tests, the sandbox and tools use it rather than assembling
// their own, which is how a missing HTTPClient once made counts flaky.
func (s *Server) ClientConfig(region, accessKeyID string) aws.Config {
	return aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider(accessKeyID, "emulator", ""),
		BaseEndpoint: aws.String(s.URL),
		HTTPClient:   SDKHTTPClient(),
	}
}

// SDKHTTPClient is an HTTP client for SDK clients talking to the emulator:
// the production client's body buffering (awsclient.BufferRequestBodies,
// aws/aws-sdk-go-v2#2737), without which a spurious SDK retry makes a seed
// or a non-idempotent call reach the emulator twice.
func SDKHTTPClient() aws.HTTPClient {
	return awsclient.BufferRequestBodies(awshttp.NewBuildableClient())
}

// staticSeedCredentials signs seeding calls; the emulator checks no
// signature, but the front reads the service from the SigV4 scope.
type staticSeedCredentials struct{}

func (staticSeedCredentials) Retrieve(context.Context) (aws.Credentials, error) {
	return aws.Credentials{AccessKeyID: "AKIDSEED", SecretAccessKey: "seed", Source: "emulator"}, nil
}
