package shell

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/day2bot/day2bot/bot"
)

// Engine is what a session drives (*bot.Engine).
type Engine interface {
	HandleCommand(ctx context.Context, cmd bot.Command)
	HandleAction(ctx context.Context, a bot.Action)
	// Complete suggests whole commands for a partial one (Tab).
	Complete(ctx context.Context, principal, partial string) []string
}

// Verb is a line of the terminal's own, not the bot's: help lists it and
// Tab completes its word.
type Verb struct {
	Usage string // "alarm NAME [ok]"; its first word is typed
	Help  string
}

// verbs are the session's own lines.
var verbs = []Verb{
	{"as USER", "speak as another user from now on"},
	{"press ID LABEL", "press a button: ID is the id shown next to the buttons, a message number (#3) or last"},
	{"quit", "leave (also exit, or Ctrl-D)"},
}

// Session is a terminal chat: one line is one command, typed by the
// current user in Channel. Besides the bot's commands it understands
//
//	as USER                 speak as another user from now on
//	press ID LABEL          press a button: ID is the id shown next to
//	                        the buttons (an approval's, an alert's), a
//	                        message number (#3) or "last"
//	quit / exit             end the session
//
// and the Verbs of its caller (the sandbox's alarm). Lines starting with #
// are comments.
type Session struct {
	Engine   Engine
	Platform *Platform
	Channel  string
	User     string
	// Verbs are lines the Engine understands besides the bot's commands;
	// help lists them with the session's own.
	Verbs []Verb
	// Drain, if set, is called after each line so that a run's result is
	// printed before the next line is read (at a terminal, for at most
	// interactiveWait).
	Drain func(ctx context.Context) error
}

// interactiveWait is how long a terminal session waits for a command's
// work before prompting again; later results appear above the prompt.
const interactiveWait = 2 * time.Second

var userRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,31}$`)

// Run reads a script from in: each line is echoed after a prompt, so the
// output reads like a conversation, and handled once the previous line's
// work is done. It returns when in ends, ctx is done or the script quits.
func (s *Session) Run(ctx context.Context, in io.Reader) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64*1024), 64*1024)
	next := func() (string, error) {
		if sc.Scan() {
			return sc.Text(), nil
		}
		if err := sc.Err(); err != nil {
			return "", err
		}
		return "", io.EOF
	}
	return s.loop(ctx, next, false)
}

// RunTerminal reads lines typed at t, with line editing, history and Tab
// completion of commands, apps, tasks and parameter names.
func (s *Session) RunTerminal(ctx context.Context, t *Terminal) error {
	t.setCompleter(func(prefix string) []string { return s.complete(ctx, prefix) })
	return s.loop(ctx, func() (string, error) { return t.readLine(s.User + "@day2> ") }, true)
}

// loop reads lines with next until it reports io.EOF. Reading happens on
// its own goroutine so that ctx (SIGTERM, Ctrl-C outside raw mode) ends
// the session even while it waits for a line; one line is read at a time,
// after the previous one was handled, so the prompt names the right user.
func (s *Session) loop(ctx context.Context, next func() (string, error), interactive bool) error {
	type read struct {
		line string
		err  error
	}
	ask, got := make(chan struct{}), make(chan read)
	defer close(ask)
	go func() {
		for range ask {
			l, err := next()
			select {
			case got <- read{l, err}:
			case <-ctx.Done():
				return
			}
		}
	}()
	for {
		var r read
		select {
		case ask <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		select {
		case r = <-got:
		case <-ctx.Done():
			return ctx.Err()
		}
		if r.err == io.EOF {
			return nil
		}
		if r.err != nil {
			return fmt.Errorf("read input: %w", r.err)
		}
		line := strings.TrimSpace(r.line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if !interactive {
			s.Platform.Printf("%s@day2> %s\n", s.User, line)
		}
		if line == "quit" || line == "exit" {
			return nil
		}
		s.Line(ctx, line)
		if s.Drain == nil {
			continue
		}
		if !interactive {
			if err := s.Drain(ctx); err != nil {
				return fmt.Errorf("wait for the engine: %w", err)
			}
			continue
		}
		// At a terminal, quick results come before the next prompt; long
		// runs report in when they finish.
		wctx, cancel := context.WithTimeout(ctx, interactiveWait)
		_ = s.Drain(wctx)
		cancel()
	}
}

// Line handles one line as the current user.
func (s *Session) Line(ctx context.Context, line string) {
	f := strings.Fields(line)
	switch {
	case len(f) >= 1 && f[0] == "as":
		if len(f) != 2 || !userRE.MatchString(f[1]) {
			s.Platform.Printf("usage: as USER (lowercase letters, digits, . _ -)\n")
			return
		}
		s.User = f[1]
		return
	case len(f) >= 1 && f[0] == "press":
		if len(f) < 3 {
			s.Platform.Printf("usage: press ID approve|deny (ID: the approval id, a message number or last)\n")
			return
		}
		label := strings.Join(f[2:], " ") // labels may have spaces: "run again"
		ref, b, ok := s.Platform.button(f[1], label)
		if !ok {
			s.Platform.Printf("no %q button on %s\n", label, f[1])
			return
		}
		ref.Channel = s.Channel
		s.Engine.HandleAction(ctx, bot.Action{
			Platform: Name, User: s.User, UserName: s.User, Channel: s.Channel,
			ButtonID: b.ID, Message: ref, Reply: s.responder(),
		})
		return
	}
	s.Engine.HandleCommand(ctx, bot.Command{
		Platform: Name, User: s.User, UserName: s.User, Channel: s.Channel,
		Text: line, Reply: s.responder(),
	})
	if len(f) == 1 && f[0] == "help" {
		s.Platform.Printf("%s", s.help())
	}
}

// help lists the lines of the terminal itself, after the bot's help.
func (s *Session) help() string {
	var b strings.Builder
	b.WriteString("[this terminal]\n")
	for _, v := range slices.Concat(verbs, s.Verbs) {
		fmt.Fprintf(&b, "  `%s` — %s\n", v.Usage, v.Help)
	}
	return b.String()
}

// complete is Tab: the session's own words and the engine's suggestions
// for what the current user may run.
func (s *Session) complete(ctx context.Context, prefix string) []string {
	var out []string
	if first := strings.TrimLeft(prefix, " "); !strings.ContainsAny(first, " \t") {
		for _, v := range slices.Concat(verbs, s.Verbs, []Verb{{Usage: "exit"}}) {
			if w, _, _ := strings.Cut(v.Usage, " "); strings.HasPrefix(w, first) {
				out = append(out, w)
			}
		}
	}
	out = append(out, s.Engine.Complete(ctx, Name+":"+s.User, prefix)...)
	slices.Sort(out)
	return slices.Compact(out)
}

func (s *Session) responder() bot.Responder {
	return responder{p: s.Platform, user: s.User, channel: s.Channel}
}

// responder answers one command or button press.
type responder struct {
	p       *Platform
	user    string
	channel string
}

func (r responder) Ephemeral(_ context.Context, m bot.Message) error {
	r.p.ephemeral(r.user, m)
	return nil
}

func (r responder) Public(ctx context.Context, m bot.Message) (bot.MessageRef, error) {
	return r.p.Post(ctx, r.channel, m)
}
