package enginetest

import (
	"bytes"
	"strings"
	"sync"
	"testing"
)

// Transcript collects what a chat (or a logger) writes from several
// goroutines; a test marks its length and reads what came after.
type Transcript struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (t *Transcript) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.b.Write(p)
}

func (t *Transcript) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.b.String()
}

// Len is a mark for Since.
func (t *Transcript) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.b.Len()
}

// Since returns what was written after mark.
func (t *Transcript) Since(mark int) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.b.String()[mark:]
}

// ApprovalID is the id of the newest approval request in out, read off its
// buttons ("(press a-… approve)").
func ApprovalID(t testing.TB, out string) string {
	t.Helper()
	i := strings.LastIndex(out, "(press a-")
	if i < 0 {
		t.Fatalf("no approval buttons in:\n%s", out)
	}
	return strings.Fields(out[i+len("(press "):])[0]
}

// MustContain fails the test (and goes on) for each of wants out lacks.
func MustContain(t testing.TB, out string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

// MustNotContain fails the test (and goes on) for each of nots out has.
func MustNotContain(t testing.TB, out string, nots ...string) {
	t.Helper()
	for _, w := range nots {
		if strings.Contains(out, w) {
			t.Errorf("output has %q:\n%s", w, out)
		}
	}
}
