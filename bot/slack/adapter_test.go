package slack

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/day2bot/day2bot/bot"
)

func TestNormalizeAPIURL(t *testing.T) {
	for in, want := range map[string]string{
		"":                          DefaultAPIURL,
		"http://127.0.0.1:9/api":    "http://127.0.0.1:9/api/",
		"http://127.0.0.1:9/api/":   "http://127.0.0.1:9/api/",
		"http://127.0.0.1:9/api//":  "http://127.0.0.1:9/api/",
		" https://slack.com/api/  ": "https://slack.com/api/",
	} {
		if got := NormalizeAPIURL(in); got != want {
			t.Errorf("NormalizeAPIURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPostRetriesAfter429(t *testing.T) {
	e := newEnv(t)
	e.fake.RateLimit("chat.postMessage", 3)
	ref, err := e.adapter.Post(context.Background(), "C1", bot.Message{Text: "digest for shop"})
	if err != nil {
		t.Fatal(err)
	}
	if n := e.fake.CallCount("chat.postMessage"); n != 2 {
		t.Errorf("chat.postMessage called %d times, want 2 (429 then success)", n)
	}
	msgs := e.fake.Messages("C1")
	if len(msgs) != 1 || msgs[0].TS != ref.ID || ref.Platform != "slack" || ref.Channel != "C1" {
		t.Errorf("messages %+v, ref %+v", msgs, ref)
	}
	found := false
	for _, d := range e.waits.long() {
		if d == 3*time.Second {
			found = true
		}
	}
	if !found {
		t.Errorf("waits %v, want one of 3s (Retry-After)", e.waits.long())
	}
}

func TestUpdateRetriesAfter429(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ref, err := e.adapter.Post(ctx, "C1", bot.Message{Text: "run r-1 queued"})
	if err != nil {
		t.Fatal(err)
	}
	e.fake.RateLimit("chat.update", 1, 1)
	if err := e.adapter.Update(ctx, ref, bot.Message{Text: "run r-1 succeeded"}); err != nil {
		t.Fatal(err)
	}
	m := e.fake.Messages("C1")[0]
	if m.Updates != 1 || !strings.Contains(m.Blocks, "succeeded") {
		t.Errorf("message after update: %+v", m)
	}
	if n := e.fake.CallCount("chat.update"); n != 3 {
		t.Errorf("chat.update called %d times, want 3", n)
	}
}

func TestLongMessageIsSplitIntoThread(t *testing.T) {
	e := newEnv(t)
	ref, err := e.adapter.Post(context.Background(), "C1", longMessage())
	if err != nil {
		t.Fatal(err)
	}
	msgs := e.fake.Messages("C1")
	if len(msgs) < 2 {
		t.Fatalf("%d messages, want a split", len(msgs))
	}
	if msgs[0].TS != ref.ID || msgs[0].ThreadTS != "" {
		t.Errorf("first message %+v, ref %+v", msgs[0], ref)
	}
	for i, m := range msgs[1:] {
		if m.ThreadTS != ref.ID {
			t.Errorf("part %d not in the thread of the first: %+v", i+2, m)
		}
	}
	all := ""
	for _, m := range msgs {
		all += m.Blocks
	}
	for i := range 400 {
		if !strings.Contains(all, fmt.Sprintf("i-%08d", i)) {
			t.Fatalf("row %d lost", i)
		}
	}
}

func TestAttachmentUploadsInThreeSteps(t *testing.T) {
	e := newEnv(t)
	content := []byte(strings.Repeat("line of output\n", 100))
	ref, err := e.adapter.Post(context.Background(), "C1", bot.Message{
		Text:       "full output attached",
		Attachment: &bot.File{Name: "r-7.txt", Content: content, Type: "text/plain"},
	})
	if err != nil {
		t.Fatal(err)
	}
	files := e.fake.Files()
	if len(files) != 1 {
		t.Fatalf("%d files", len(files))
	}
	f := files[0]
	if !f.Shared || f.Name != "r-7.txt" || string(f.Content) != string(content) || f.Channel != "C1" || f.ThreadTS != ref.ID {
		t.Errorf("file = %+v", f)
	}
	for _, m := range []string{"files.getUploadURLExternal", "files.completeUploadExternal"} {
		if e.fake.CallCount(m) != 1 {
			t.Errorf("%s called %d times", m, e.fake.CallCount(m))
		}
	}
	if e.fake.CallCount("files.upload") != 0 {
		t.Error("used the retired files.upload")
	}
}

func TestOutboxKeepsOrderPerChannel(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	for _, ch := range []string{"C1", "C2", "C3"} {
		wg.Go(func() {
			for i := range 15 {
				if _, err := e.adapter.Post(ctx, ch, bot.Message{Text: fmt.Sprintf("%s #%02d", ch, i)}); err != nil {
					t.Errorf("post: %v", err)
				}
			}
		})
	}
	e.fake.RateLimit("chat.postMessage", 1)
	wg.Wait()
	for _, ch := range []string{"C1", "C2", "C3"} {
		msgs := e.fake.Messages(ch)
		if len(msgs) != 15 {
			t.Fatalf("%s has %d messages, want 15 (none dropped)", ch, len(msgs))
		}
		for i, m := range msgs {
			if want := fmt.Sprintf("%s #%02d", ch, i); m.Text != want {
				t.Errorf("%s message %d = %q, want %q", ch, i, m.Text, want)
			}
		}
	}
}

// TestOutboxPacesAndBlocksWhenFull checks pacing and back-pressure with a
// hand-driven clock: nothing is sent before the pace tick, and a full
// queue makes the sender wait instead of dropping.
func TestOutboxPacesAndBlocksWhenFull(t *testing.T) {
	ticks := make(chan time.Time)
	o := newOutbox(time.Second, 1, func(d time.Duration) <-chan time.Time {
		if d == time.Second {
			return ticks
		}
		return nil // idle timer never fires
	})
	var mu sync.Mutex
	var sent []int
	send := func(i int) func(context.Context) error {
		return func(context.Context) error {
			mu.Lock()
			sent = append(sent, i)
			mu.Unlock()
			return nil
		}
	}
	sentN := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(sent)
	}
	ctx := context.Background()
	// The first goes out at once; the lane then waits for the pace tick.
	if err := o.do(ctx, "C1", send(0)); err != nil {
		t.Fatal(err)
	}
	results := make(chan error, 2)
	for i := 1; i < 3; i++ {
		go func() { results <- o.do(ctx, "C1", send(i)) }()
	}
	// Both are in: one in the queue, one blocked on the full queue.
	for !o.full("C1", 2) {
		runtime.Gosched()
	}
	if n := sentN(); n != 1 {
		t.Fatalf("sent %d before the pace tick, want 1", n)
	}
	// The queue holds one; the third sender is blocked, not dropped.
	shortCtx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := o.do(shortCtx, "C1", send(99)); err == nil {
		t.Error("a full queue accepted more work instead of applying back-pressure")
	}
	ticks <- time.Now()
	<-results
	ticks <- time.Now()
	<-results
	if n := sentN(); n != 3 {
		t.Fatalf("sent %d after two ticks, want 3", n)
	}
	closeCtx, cancelClose := context.WithTimeout(ctx, 5*time.Second)
	defer cancelClose()
	go func() {
		for {
			select {
			case ticks <- time.Now():
			case <-closeCtx.Done():
				return
			}
		}
	}()
	if err := o.close(closeCtx); err != nil {
		t.Fatal(err)
	}
}

// full reports that channel's queue is full with n senders in.
func (o *outbox) full(channel string, n int) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	l := o.lanes[channel]
	return l != nil && l.pending == n && len(l.jobs) == cap(l.jobs)
}

// TestOutboxGivesUpAtTheDeadline checks that a backlog cannot hold
// shutdown: past the deadline, queued and blocked senders all return.
func TestOutboxGivesUpAtTheDeadline(t *testing.T) {
	o := newOutbox(time.Second, 1, func(d time.Duration) <-chan time.Time { return nil }) // the pace never ticks
	ctx := context.Background()
	noop := func(context.Context) error { return nil }
	if err := o.do(ctx, "C1", noop); err != nil {
		t.Fatal(err)
	}
	results := make(chan error, 2)
	for range 2 {
		go func() { results <- o.do(ctx, "C1", noop) }()
	}
	for !o.full("C1", 2) {
		runtime.Gosched()
	}
	deadline, cancel := context.WithCancel(ctx)
	o.abortWhen(deadline)
	cancel()
	for range 2 {
		if err := <-results; !errors.Is(err, errOutboxClosed) {
			t.Errorf("blocked sender got %v, want errOutboxClosed", err)
		}
	}
	if err := o.close(ctx); !errors.Is(err, errOutboxClosed) {
		t.Errorf("close after giving up: %v", err)
	}
}

func TestUpdatesDoNotRepeatTheThread(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ref, err := e.adapter.Post(ctx, "C1", bot.Message{Title: "run r-5 running"})
	if err != nil {
		t.Fatal(err)
	}
	long := longMessage()
	for range 2 {
		if err := e.adapter.Update(ctx, ref, long); err != nil {
			t.Fatal(err)
		}
	}
	parts := len(render(long)) - 1
	if n := len(e.fake.Messages("C1")) - 1; n != parts {
		t.Errorf("%d thread replies after two identical updates, want %d", n, parts)
	}
	long.Table.Rows[len(long.Table.Rows)-1][1] = "running" // in the continuation
	if err := e.adapter.Update(ctx, ref, long); err != nil {
		t.Fatal(err)
	}
	if n := len(e.fake.Messages("C1")) - 1; n != 2*parts {
		t.Errorf("%d thread replies after a changed update, want %d", n, 2*parts)
	}
}
