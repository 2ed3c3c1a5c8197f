package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// serve bounds request bodies before any handler reads them: a body
// declared larger than the per-request maximum is refused with 413 at
// once, unread (internal/bodybudget has the in-flight bound's tests).
func TestServeRefusesOversizedBodyUnread(t *testing.T) {
	e := startServe(t, map[string]string{"SLACK_SIGNING_SECRET": serveSecret})
	pr, pw := io.Pipe()
	defer pw.Close()
	req, err := http.NewRequest(http.MethodPost, e.base+"/slack/commands", pr)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = bodyMax + 1
	// The body never comes: the answer must not wait for it.
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("status %d, want 413", resp.StatusCode)
	}
	if code, body := get(t, e.base+"/metrics"); code != http.StatusOK || !strings.Contains(body, "day2bot_http_body_bytes_in_flight 0") {
		t.Errorf("metrics lack the body gauge at 0: %d", code)
	}
}
