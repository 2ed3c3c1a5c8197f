package awsclient

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// closeTracker records whether the transport still reads the caller's body
// after Do returned; with buffering it never touches it at all.
type closeTracker struct {
	io.Reader
	closed bool
}

func (c *closeTracker) Close() error { c.closed = true; return nil }

func TestBufferRequestBodies(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		_, _ = w.Write(b)
	}))
	defer srv.Close()
	c := BufferRequestBodies(srv.Client())

	body := &closeTracker{Reader: strings.NewReader("Action=RebootInstances&InstanceId.1=i-1")}
	req, err := http.NewRequest(http.MethodPost, srv.URL, body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = int64(len("Action=RebootInstances&InstanceId.1=i-1"))
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	// The SDK closes its body stream once the response is in; the
	// transport must not depend on it any more.
	_ = body.Close()
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || string(got) != "Action=RebootInstances&InstanceId.1=i-1" {
		t.Fatalf("echo %q %v", got, err)
	}

	resp, err = c.Do(mustRequest(t, srv.URL))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("no-body request: %v", err)
	}
	resp.Body.Close()
}

func mustRequest(t *testing.T, url string) *http.Request {
	t.Helper()
	r, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
