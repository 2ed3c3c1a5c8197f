package awsclient

import (
	"bytes"
	"fmt"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// BufferRequestBodies wraps c so every request body is read into memory
// before it is sent.
//
// Why: the SDK closes its request body stream as soon as the response
// arrives, while net/http's write loop may still be reading that body for
// its end-of-body check; the failed read makes the transport close the
// connection under the response being decoded ("use of closed network
// connection", aws/aws-sdk-go-v2#2737). The SDK then retries, which for a
// non-idempotent call (RebootInstances, SetDesiredCapacity) means AWS got it
// twice. Against a fast endpoint (the emulator) it hit ~7% of large
// responses. day2bot's request bodies are small forms and JSON documents,
// so buffering them costs nothing.
func BufferRequestBodies(c aws.HTTPClient) aws.HTTPClient { return bufferingClient{c} }

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
