// Package shell is the terminal adapter of day2bot: a bot.Platform that
// prints messages to a writer, and a Session that reads what people type
// (one command per line) and hands it to the engine. `day2bot sandbox` and
// `day2bot shell` run on it, and so do the engine's end-to-end tests.
package shell

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/day2bot/day2bot/bot"
)

// Name is the platform name and principal prefix: "shell:alice".
const Name = "shell"

// Platform prints messages. Posted messages are numbered (#1, #2, …) and
// remembered, so updates can be shown and buttons pressed by id.
type Platform struct {
	mu   sync.Mutex
	w    io.Writer
	seq  int
	msgs map[string]bot.Message
	// save is set by SaveAttachments; dir is made on the first attachment
	// (a session that posts none leaves no directory behind); files counts
	// them, so two charts of the same name do not overwrite each other.
	save  bool
	dir   string
	made  bool
	files int
}

var _ bot.Platform = (*Platform)(nil)

// New returns a platform writing to w: a script's output, or a Terminal,
// which shows messages above the line being typed.
func New(w io.Writer) *Platform {
	return &Platform{w: w, msgs: map[string]bot.Message{}}
}

// Name is "shell".
func (p *Platform) Name() string { return Name }

// SaveAttachments writes each attachment (a digest's chart, a long
// result's CSV) into dir, or into a new temporary directory if dir is "",
// and prints its path, so it can be opened; without it the shell can only
// name them. The directory is made when the first attachment comes.
func (p *Platform) SaveAttachments(dir string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.save, p.dir, p.made = true, dir, false
}

// attachmentDir makes the directory on first use. Caller holds mu.
func (p *Platform) attachmentDir() (string, error) {
	if p.made {
		return p.dir, nil
	}
	if p.dir == "" {
		d, err := os.MkdirTemp("", "day2bot-attachments-")
		if err != nil {
			return "", err
		}
		p.dir = d
	} else if err := os.MkdirAll(p.dir, 0o755); err != nil {
		return "", err
	}
	p.made = true
	return p.dir, nil
}

// render is Render with the attachment saved, when there is a directory
// for it. Caller holds mu.
func (p *Platform) render(m bot.Message) string {
	if m.Attachment == nil || !p.save {
		return Render(m)
	}
	a := m.Attachment
	m.Attachment = nil
	out := Render(m)
	dir, err := p.attachmentDir()
	if err != nil {
		return out + fmt.Sprintf("  📎 %s (%d bytes; not saved: %v)\n", a.Name, len(a.Content), err)
	}
	p.files++
	path := filepath.Join(dir, fmt.Sprintf("%d-%s", p.files, filepath.Base(filepath.Clean("/"+a.Name))))
	if err := os.WriteFile(path, a.Content, 0o644); err != nil {
		return out + fmt.Sprintf("  📎 %s (%d bytes; not saved: %v)\n", a.Name, len(a.Content), err)
	}
	return out + fmt.Sprintf("  📎 %s (%d bytes) → %s\n", a.Name, len(a.Content), path)
}

// Post prints m as a new message in channel.
func (p *Platform) Post(_ context.Context, channel string, m bot.Message) (bot.MessageRef, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seq++
	id := strconv.Itoa(p.seq)
	p.msgs[id] = m
	fmt.Fprintf(p.w, "[#%s in %s]\n%s", id, channel, p.render(m))
	return bot.MessageRef{Platform: Name, Channel: channel, ID: id}, nil
}

// Update prints the new version of a message posted earlier.
func (p *Platform) Update(_ context.Context, ref bot.MessageRef, m bot.Message) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	// After a restart the shell forgets its messages; the update is shown
	// all the same, as the platforms would.
	p.msgs[ref.ID] = m
	fmt.Fprintf(p.w, "[#%s updated]\n%s", ref.ID, p.render(m))
	return nil
}

// Printf writes a line of the shell's own (prompts, echoes, its errors).
func (p *Platform) Printf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, format, args...)
}

func (p *Platform) ephemeral(user string, m bot.Message) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "[only %s]\n%s", user, p.render(m))
}

// button finds a button to press. id is a message number ("3" or "#3"),
// the id the button acts on (an approval id such as "a-7f3k2"), or "last"
// for the newest message with buttons; label matches the button's label.
func (p *Platform) button(id, label string) (bot.MessageRef, bot.Button, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	id = strings.TrimPrefix(id, "#")
	for n := p.seq; n >= 1; n-- {
		key := strconv.Itoa(n)
		m, ok := p.msgs[key]
		if !ok || len(m.Buttons) == 0 {
			continue
		}
		for _, b := range m.Buttons {
			target := buttonTarget(b.ID)
			if !strings.EqualFold(b.Label, label) {
				continue
			}
			if id == "last" || id == key || strings.EqualFold(target, id) {
				return bot.MessageRef{Platform: Name, ID: key}, b, true
			}
		}
		if id == "last" {
			return bot.MessageRef{}, bot.Button{}, false
		}
	}
	return bot.MessageRef{}, bot.Button{}, false
}

// buttonTarget is what a button acts on, the field after its prefix:
// the approval of "ap:a-7f3k2", the saved alert actions of "ra:x3k9…:2",
// the app of "rm:shop:restart-web". The buttons of one message share it,
// so `press TARGET LABEL` reaches each of them.
func buttonTarget(id string) string {
	_, rest, _ := strings.Cut(id, ":")
	target, _, _ := strings.Cut(rest, ":")
	return target
}

// Render formats a message as indented plain text ending in a newline.
func Render(m bot.Message) string {
	var b strings.Builder
	line := func(indent, s string) {
		for l := range strings.SplitSeq(s, "\n") {
			b.WriteString(indent + l + "\n")
		}
	}
	if m.Title != "" {
		mark := map[bot.Tone]string{bot.ToneSuccess: "✔ ", bot.ToneWarning: "! ", bot.ToneDanger: "✘ "}[m.Tone]
		line("  ", mark+m.Title)
	}
	if ids := bot.MentionsOn(Name, m.Mentions); len(ids) > 0 {
		line("  ", "@"+strings.Join(ids, " @"))
	}
	if m.Text != "" {
		line("  ", m.Text)
	}
	for _, f := range m.Fields {
		line("  ", f.Name+": "+f.Value)
	}
	if m.Table != nil {
		b.WriteString(renderTable(m.Table))
	}
	if len(m.Buttons) > 0 {
		var bs []string
		for _, btn := range m.Buttons {
			bs = append(bs, "["+btn.Label+"]")
		}
		target := buttonTarget(m.Buttons[0].ID)
		labels := make([]string, len(m.Buttons))
		for i, btn := range m.Buttons {
			labels[i] = strings.ToLower(btn.Label)
		}
		line("  ", strings.Join(bs, " ")+"  (press "+target+" "+strings.Join(labels, "|")+")")
	}
	for _, c := range m.Context {
		line("  ", "· "+c)
	}
	if m.Attachment != nil {
		line("  ", fmt.Sprintf("📎 %s (%d bytes)", m.Attachment.Name, len(m.Attachment.Content)))
	}
	return b.String()
}

func renderTable(t *bot.Table) string {
	widths := make([]int, len(t.Columns))
	for i, c := range t.Columns {
		widths[i] = utf8.RuneCountInString(c)
	}
	for _, r := range t.Rows {
		for i := 0; i < len(r) && i < len(widths); i++ {
			widths[i] = max(widths[i], utf8.RuneCountInString(r[i]))
		}
	}
	var b strings.Builder
	row := func(cells []string) {
		b.WriteString("   ")
		for i := range widths {
			c := ""
			if i < len(cells) {
				c = cells[i]
			}
			if i == len(widths)-1 {
				b.WriteString(" " + c)
				break
			}
			b.WriteString(" " + c + strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c)))
		}
		b.WriteString("\n")
	}
	row(t.Columns)
	for _, r := range t.Rows {
		row(r)
	}
	s := b.String()
	// Trailing blanks of short last columns help no one.
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n")
}
