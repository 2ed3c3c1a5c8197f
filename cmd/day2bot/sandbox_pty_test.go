//go:build linux

package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal pair: what the test types goes into
// master, and the sandbox reads it from tty as from a real terminal.
func openPTY(t *testing.T) (master, tty *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open pty: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	var n uint32
	rc, err := m.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var ioErr error
	if err := rc.Control(func(fd uintptr) {
		if ioErr = unix.IoctlSetPointerInt(int(fd), unix.TIOCSPTLCK, 0); ioErr != nil {
			return
		}
		n, ioErr = unix.IoctlGetUint32(int(fd), unix.TIOCGPTN)
	}); err != nil || ioErr != nil {
		t.Fatalf("unlock pty: %v %v", err, ioErr)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open pty: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return m, s
}

// screen collects what the terminal shows.
type screen struct {
	mu      sync.Mutex
	b       bytes.Buffer
	changed chan struct{}
}

func (s *screen) read(f *os.File) {
	buf := make([]byte, 4096)
	for {
		n, err := f.Read(buf)
		s.mu.Lock()
		s.b.Write(buf[:n])
		close(s.changed)
		s.changed = make(chan struct{})
		s.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// waitFor blocks until the screen shows want after offset from, and
// returns the offset past it.
func (s *screen) waitFor(t *testing.T, ctx context.Context, from int, want string) int {
	t.Helper()
	for {
		s.mu.Lock()
		out, changed := s.b.String(), s.changed
		s.mu.Unlock()
		if i := strings.Index(out[from:], want); i >= 0 {
			return from + i + len(want)
		}
		select {
		case <-changed:
		case <-ctx.Done():
			t.Fatalf("the terminal never showed %q; it shows:\n%q", want, out[from:])
		}
	}
}

// At a real terminal the sandbox edits lines: arrow keys move the cursor
// instead of inserting ^[[D, Up recalls the previous line, Tab completes,
// and Ctrl-D leaves on a new line.
func TestSandboxTerminal(t *testing.T) {
	master, tty := openPTY(t)
	scr := &screen{changed: make(chan struct{})}
	go scr.read(master)
	// A generous bound for a slow machine: the test waits for output, not
	// for time to pass.
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	done := make(chan int, 1)
	var errb bytes.Buffer
	go func() {
		g := &globals{Stdout: tty, Stderr: &errb, Stdin: tty, Getenv: func(string) string { return "" }}
		done <- run(ctx, []string{"sandbox"}, g)
	}()
	typeKeys := func(s string) {
		if _, err := master.WriteString(s); err != nil {
			t.Fatal(err)
		}
	}
	const left, up = "\x1b[D", "\x1b[A"
	at := scr.waitFor(t, ctx, 0, "alice@day2> ")

	// "tasks shp", two steps left, "o": the line is "tasks shop".
	typeKeys("tasks shp" + left + "o\r")
	at = scr.waitFor(t, ctx, at, "restart-web")
	at = scr.waitFor(t, ctx, at, "alice@day2> ")
	// Up recalls it.
	typeKeys(up + "\r")
	at = scr.waitFor(t, ctx, at, "tasks shop")
	at = scr.waitFor(t, ctx, at, "restart-web")
	at = scr.waitFor(t, ctx, at, "alice@day2> ")
	// Tab completes the verb, the app, the task and a parameter name.
	typeKeys("wh\tsho\trestart-w\tba\t2\r")
	at = scr.waitFor(t, ctx, at, "shop restart-web for alice: allowed")
	at = scr.waitFor(t, ctx, at, "Parameters: batch=2")
	at = scr.waitFor(t, ctx, at, "alice@day2> ")
	// help lists the terminal's own lines.
	typeKeys("help\r")
	at = scr.waitFor(t, ctx, at, "`as USER`")
	at = scr.waitFor(t, ctx, at, "`alarm NAME [ok]`")
	at = scr.waitFor(t, ctx, at, "alice@day2> ")
	// Ctrl-D on an empty line leaves, on a line of its own.
	typeKeys("\x04")
	scr.waitFor(t, ctx, at, "\r\n")
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errb.String())
		}
	case <-ctx.Done():
		t.Fatal("the sandbox did not end on Ctrl-D")
	}
	scr.mu.Lock()
	defer scr.mu.Unlock()
	if out := scr.b.String(); strings.Contains(out, "^[") || strings.Contains(out, "shp") && !strings.Contains(out, "tasks shp") {
		t.Errorf("an escape sequence was taken as text:\n%q", out)
	}
}
