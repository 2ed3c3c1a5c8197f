package bodybudget

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
)

// TestReadReusesBuffers: a body is read whole within the limit, a larger
// one is a MaxBytesError, and after done the next read reuses the bytes
// (the point of the pool: unsigned bodies leave no garbage).
func TestReadReusesBuffers(t *testing.T) {
	body := strings.Repeat("a", 300*kib)
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	got, done, err := Read(httptest.NewRecorder(), req, 512*kib)
	if err != nil || string(got) != body {
		t.Fatalf("read %d bytes, err %v", len(got), err)
	}
	done()

	// Bytes, not allocation counts: the request and recorder allocate
	// small things; an unpooled read would add the whole body each time.
	const runs = 20
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		got, done, err := Read(httptest.NewRecorder(), req, 512*kib)
		if err != nil || len(got) != len(body) {
			t.Fatalf("read %d bytes, err %v", len(got), err)
		}
		done()
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / runs; per > 64*kib && !raceEnabled {
		t.Errorf("Read allocates %d bytes per 300 KiB body; want the pooled buffer reused", per)
	}

	big := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(make([]byte, 600*kib)))
	_, done, err = Read(httptest.NewRecorder(), big, 512*kib)
	done()
	var mbe *http.MaxBytesError
	if !errors.As(err, &mbe) {
		t.Fatalf("oversized body: err %v, want MaxBytesError", err)
	}
}
