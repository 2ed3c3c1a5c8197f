package bodybudget

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

const kib = 1 << 10

// Two bodies of 512 KiB fill a 1 MiB budget: while they are held, any
// request with a body is answered 503 at once, without being read; a GET
// without a body still passes. Once they are done the budget is free.
func TestBudgetRefusesWhenSpent(t *testing.T) {
	b := New(1024*kib, 512*kib)
	var refused atomic.Int32
	b.OnRefuse = func() { refused.Add(1) }
	entered := make(chan struct{})
	release := make(chan struct{})
	var read atomic.Int64
	srv := httptest.NewServer(b.Limit(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			return
		}
		if r.ContentLength == 512*kib {
			entered <- struct{}{}
			<-release
		}
		n, err := io.Copy(io.Discard, r.Body)
		read.Add(n)
		if err != nil {
			http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
		}
	})))
	defer srv.Close()

	post := func(body io.Reader, length int64) int {
		req, err := http.NewRequest(http.MethodPost, srv.URL, body)
		if err != nil {
			t.Error(err)
			return 0
		}
		req.ContentLength = length
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	big := func() io.Reader { return bytes.NewReader(bytes.Repeat([]byte("x"), 512*kib)) }
	codes := make(chan int, 2)
	for range 2 {
		go func() { codes <- post(big(), 512*kib) }()
	}
	<-entered
	<-entered
	if got := b.InUse(); got != 1024*kib {
		t.Fatalf("in use %d, want 1 MiB", got)
	}
	if code := post(strings.NewReader("x"), 1); code != http.StatusServiceUnavailable {
		t.Errorf("one byte more: status %d, want 503", code)
	}
	// A body of unknown length reserves the per-request maximum.
	if code := post(io.MultiReader(strings.NewReader("chunked")), -1); code != http.StatusServiceUnavailable {
		t.Errorf("chunked: status %d, want 503", code)
	}
	if resp, err := http.Get(srv.URL); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("GET without a body: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	close(release)
	for range 2 {
		if code := <-codes; code != http.StatusOK {
			t.Errorf("held request: status %d", code)
		}
	}
	if got := b.InUse(); got != 0 {
		t.Errorf("in use %d after the requests, want 0", got)
	}
	if n := refused.Load(); n != 2 {
		t.Errorf("%d refusals counted, want 2", n)
	}
	if code := post(strings.NewReader("after"), 5); code != http.StatusOK {
		t.Errorf("after release: status %d", code)
	}
	if got := read.Load(); got != 2*512*kib+5 {
		t.Errorf("handler read %d bytes", got)
	}
}

func TestBudgetPerRequest(t *testing.T) {
	b := New(1024*kib, 4*kib)
	srv := httptest.NewServer(b.Limit(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			http.Error(w, "too large", http.StatusRequestEntityTooLarge)
		}
	})))
	defer srv.Close()
	cases := []struct {
		name   string
		body   io.Reader
		length int64
		want   int
	}{
		{"declared too large", strings.NewReader(strings.Repeat("x", 5*kib)), 5 * kib, http.StatusRequestEntityTooLarge},
		{"chunked past the limit", io.MultiReader(strings.NewReader(strings.Repeat("x", 5*kib))), -1, http.StatusRequestEntityTooLarge},
		{"within the limit", strings.NewReader("ok"), 2, http.StatusOK},
	}
	for _, c := range cases {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, c.body)
		req.ContentLength = c.length
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("%s: status %d, want %d", c.name, resp.StatusCode, c.want)
		}
	}
	if got := b.InUse(); got != 0 {
		t.Errorf("in use %d, want 0", got)
	}
}
