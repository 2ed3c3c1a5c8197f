package shell

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/day2bot/day2bot/bot"
)

// Engine is what a session drives (*bot.Engine).
type Engine interface {
	HandleCommand(ctx context.Context, cmd bot.Command)
	HandleAction(ctx context.Context, a bot.Action)
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
// Lines starting with # are comments.
type Session struct {
	Engine   Engine
	Platform *Platform
	Channel  string
	User     string
	// Interactive prints a prompt before each line; otherwise each line is
	// echoed after a prompt, so a transcript reads like a conversation.
	Interactive bool
	// Drain, if set, is called after each line when not interactive, so
	// that a run's result is printed before the next line is read.
	Drain func(ctx context.Context) error
}

// interactiveWait is how long a terminal session waits for a command's
// work before prompting again.
const interactiveWait = 2 * time.Second

var userRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,31}$`)

// Run reads lines from in until it ends, ctx is done or the user quits.
// Reading happens on its own goroutine so that ctx (Ctrl-C) ends the
// session even while a terminal waits for a line.
func (s *Session) Run(ctx context.Context, in io.Reader) error {
	lines := make(chan string)
	readErr := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(in)
		sc.Buffer(make([]byte, 64*1024), 64*1024)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
		readErr <- sc.Err()
		close(lines)
	}()
	for {
		if s.Interactive {
			s.Platform.showPrompt(s.User + "@day2> ")
		}
		var raw string
		var more bool
		select {
		case raw, more = <-lines:
		case <-ctx.Done():
			if s.Interactive {
				s.Platform.showPrompt("")
				s.Platform.Printf("\n")
			}
			return ctx.Err()
		}
		if s.Interactive {
			s.Platform.showPrompt("")
		}
		if !more {
			break
		}
		line := strings.TrimSpace(raw)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if !s.Interactive {
			s.Platform.Printf("%s@day2> %s\n", s.User, line)
		}
		if line == "quit" || line == "exit" {
			return nil
		}
		s.Line(ctx, line)
		if s.Drain == nil {
			continue
		}
		if !s.Interactive {
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
	if err := <-readErr; err != nil {
		return fmt.Errorf("read input: %w", err)
	}
	return nil
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
		if len(f) != 3 {
			s.Platform.Printf("usage: press ID approve|deny (ID: the approval id, a message number or last)\n")
			return
		}
		ref, b, ok := s.Platform.button(f[1], f[2])
		if !ok {
			s.Platform.Printf("no %q button on %s\n", f[2], f[1])
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
