package main

import (
	"cmp"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/day2bot/day2bot/bot/shell"
	awsactions "github.com/day2bot/day2bot/tasks/aws"
)

// shellOptions are shell's flags plus what tests inject.
type shellOptions struct {
	ConfigPath  string
	DBPath      string // "" keeps the config's database
	As          string // the user spoken as: principal shell:As
	Channel     string
	Verbose     bool
	Attachments string
	// Pace is how batched actions wait for a batch to be back; zero is
	// what AWS needs. Tests against the emulator pass a millisecond.
	Pace awsactions.Pace
}

func newShellCmd(g *globals) *cobra.Command {
	o := shellOptions{}
	c := &cobra.Command{
		Use:   "shell",
		Short: "Chat with day2bot in the terminal against real AWS, as a configured user",
		Long: `shell is the sandbox's terminal chat on your real config, database and AWS
account: the same commands, policies and approvals as in Slack or Discord.
You speak as shell:USER (map it to a handle in the policy file's users).
When stdin is not a terminal, one command is read per line.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.As == "" {
				return usageError("shell needs --as USER: who you speak as")
			}
			if !validShellUser(o.As) {
				return usageError("--as %q: use a lowercase name like alice", o.As)
			}
			// The config's database applies unless --db was given.
			if f := cmd.Flag("db"); f != nil && f.Changed {
				o.DBPath = g.DBPath
			}
			return runShell(cmd.Context(), g, o)
		},
	}
	c.Flags().StringVar(&o.ConfigPath, "config", "day2bot.yaml", "path of the config file")
	c.Flags().StringVar(&o.As, "as", "", "the user you speak as (principal shell:USER)")
	c.Flags().StringVar(&o.Channel, "channel", "ops", "the channel the commands come from (policy channel shell:CHANNEL)")
	c.Flags().BoolVar(&o.Verbose, "verbose", false, "log the engine's work to stderr")
	c.Flags().StringVar(&o.Attachments, "attachments", "", "directory for charts and attached results (default: a new temporary directory, kept)")
	return c
}

func runShell(ctx context.Context, g *globals, o shellOptions) (err error) {
	cfg, err := loadConfig(o.ConfigPath, g.Getenv)
	if err != nil {
		return usageError("%w", err)
	}
	// Errors always reach the terminal: a run that "failed — see logs"
	// has its log line right there.
	log := slog.New(slog.NewTextHandler(g.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	if o.Verbose {
		log = slog.New(slog.NewTextHandler(g.Stderr, nil))
	}
	chat, err := openChat(g)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, chat.Close()) }()
	plat := shell.New(chat.out)
	plat.SaveAttachments(o.Attachments)
	// `digest APP` and `schedules APP` answer as in serve (the same
	// routines); the schedules themselves fire only in serve.
	b, err := assemble(ctx, assembly{
		DB: cmp.Or(o.DBPath, cfg.Database, "day2bot.db"), Logger: log, Catalog: cfg.Catalog, Apps: cfg.Apps,
		Platforms: platformsOf(plat), Admins: cfg.Admins, Routines: cfg.Routines, Pace: o.Pace,
	})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, b.close()) }()
	e := b.engine
	if err := e.Start(ctx); err != nil {
		return err
	}
	s := &shell.Session{Engine: e, Platform: plat, Channel: o.Channel, User: o.As, Drain: e.Drain}
	if err := chat.run(ctx, s, g.Stdin); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	if ctx.Err() != nil {
		return nil // Ctrl-C: a normal way to leave
	}
	return e.Drain(ctx)
}

// chat is where a terminal chat reads and writes: a terminal in raw mode
// with line editing when stdin is one, else stdin as a script and stdout.
type chat struct {
	out  io.Writer
	term *shell.Terminal
}

func openChat(g *globals) (*chat, error) {
	if f, ok := g.Stdin.(*os.File); ok && isTerminal(f) {
		t, err := shell.OpenTerminal(f, g.Stdout)
		if err != nil {
			return nil, err
		}
		return &chat{out: t, term: t}, nil
	}
	return &chat{out: g.Stdout}, nil
}

func (c *chat) run(ctx context.Context, s *shell.Session, in io.Reader) error {
	if c.term != nil {
		return s.RunTerminal(ctx, c.term)
	}
	return s.Run(ctx, in)
}

// Close gives the terminal back in the mode it was in.
func (c *chat) Close() error {
	if c.term == nil {
		return nil
	}
	return c.term.Close()
}
