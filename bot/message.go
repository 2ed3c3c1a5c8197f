package bot

import (
	"slices"
	"strings"
)

// Message is a chat message described once, independent of any platform.
// The Slack and Discord adapters render it (Block Kit, embeds+components)
// within their own limits; the shell adapter prints it.
type Message struct {
	// Title is a one-line heading.
	Title string
	// Text is the body in a small markdown subset: *bold*, _italic_,
	// `code`, and newlines. Adapters translate it.
	Text string
	// Fields are short name/value pairs shown side by side where possible.
	Fields []Field
	// Table is an optional per-resource table (run results, plans).
	Table *Table
	// Buttons are actions a reader can press.
	Buttons []Button
	// Context lines are small print at the bottom (run id, who, when).
	Context []string
	// Tone colours the message where the platform can.
	Tone Tone
	// Attachment, if set, is uploaded alongside (long output, charts).
	Attachment *File
	// Mentions are the principals to notify ("slack:U0123"); each
	// platform renders those of its own as mentions that ping and leaves
	// the others out.
	Mentions []string
}

// MentionsOn returns the platform's own user ids among principals
// ("slack:U0123" on "slack" gives "U0123"), in order, without repeats.
func MentionsOn(platform string, principals []string) []string {
	var ids []string
	for _, p := range principals {
		id, ok := strings.CutPrefix(p, platform+":")
		if ok && id != "" && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids
}

// Field is one name/value pair.
type Field struct {
	Name  string
	Value string
}

// Table is a small resource table.
type Table struct {
	Columns []string
	Rows    [][]string
}

// Button is one pressable action. ID is opaque to adapters: they send it
// out as the platform's action/custom id and hand it back unchanged in an
// Action. The engine keeps IDs at most 100 bytes (Discord's custom_id limit).
type Button struct {
	ID    string
	Label string
	Style ButtonStyle
}

// ButtonStyle hints at a button's colour.
type ButtonStyle string

const (
	StyleDefault ButtonStyle = ""
	StylePrimary ButtonStyle = "primary"
	StyleDanger  ButtonStyle = "danger"
)

// Tone is the mood of a message.
type Tone string

const (
	ToneInfo    Tone = ""
	ToneSuccess Tone = "success"
	ToneWarning Tone = "warning"
	ToneDanger  Tone = "danger"
)

// File is an attachment.
type File struct {
	Name    string
	Content []byte
	// Type is a MIME type, e.g. "text/plain" or "image/png".
	Type string
}
