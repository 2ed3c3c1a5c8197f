package bot

import "context"

// Platform is all the engine knows about a chat system. Slack, Discord and
// the shell each implement it in their own package; platform types never
// cross this boundary.
type Platform interface {
	// Name is the principal prefix of the platform's users: "slack",
	// "discord", "shell".
	Name() string
	// Post publishes a message to a channel and returns where it landed.
	Post(ctx context.Context, channel string, m Message) (MessageRef, error)
	// Update replaces a message posted earlier.
	Update(ctx context.Context, ref MessageRef, m Message) error
}

// MessageRef locates a posted message so it can be updated later (approval
// requests, progress, alerts). It is stored, so it survives restarts.
type MessageRef struct {
	Platform string `json:"platform"`
	Channel  string `json:"channel"`
	ID       string `json:"id"` // Slack ts, Discord message id, shell sequence
}

// Responder answers the one person who sent a command or pressed a button.
// Adapters implement it with what their platform offers for that (Slack's
// response_url, Discord's interaction response and follow-up webhook).
type Responder interface {
	// Ephemeral shows m to the caller only.
	Ephemeral(ctx context.Context, m Message) error
	// Public posts m in the channel the command came from.
	Public(ctx context.Context, m Message) (MessageRef, error)
}

// Command is one slash command, platform-neutral.
type Command struct {
	Platform string // "slack", "discord", "shell"
	Team     string // workspace / guild, may be empty
	User     string // platform user id; the principal is Platform + ":" + User
	UserName string // display name, for messages only, never for policy
	Channel  string
	Text     string // what followed the slash command
	Reply    Responder
}

// Principal is the policy identity of the command's author, e.g. "slack:U123".
func (c Command) Principal() string { return c.Platform + ":" + c.User }

// Action is one button press, platform-neutral.
type Action struct {
	Platform string
	Team     string
	User     string
	UserName string
	Channel  string
	ButtonID string     // Button.ID as the engine set it
	Message  MessageRef // the message that carried the button
	Reply    Responder
}

// Principal is the policy identity of the person who pressed the button.
func (a Action) Principal() string { return a.Platform + ":" + a.User }
