package discord

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/day2bot/day2bot/bot"
)

// Discord's message limits. A request over any of them is rejected as a
// whole, so the renderer cuts everything to size before it is sent.
const (
	maxContent        = 2000
	maxEmbeds         = 10
	maxEmbedTotal     = 6000 // title+description+fields+footer across all embeds
	maxTitle          = 256
	maxDescription    = 4096
	maxFields         = 25
	maxFieldName      = 256
	maxFieldValue     = 1024
	maxFooter         = 2048
	maxRows           = 5
	maxButtonsPerRow  = 5
	maxCustomID       = 100
	maxButtonLabel    = 80
	tableFileName     = "table.txt"
	tableOverflowNote = 80 // room kept for the "… N more rows" line
)

// Tone colours, Discord's own palette.
var toneColors = map[bot.Tone]int{
	bot.ToneInfo:    0x5865F2,
	bot.ToneSuccess: 0x57F287,
	bot.ToneWarning: 0xFEE75C,
	bot.ToneDanger:  0xED4245,
}

// rendered is a neutral message in Discord's shape. Files keep their bytes
// so a retried request can read them again.
type rendered struct {
	Content    string
	Embeds     []*discordgo.MessageEmbed
	Components []discordgo.MessageComponent
	Files      []bot.File
	// Mentions are the user ids the message pings; nothing else in it
	// does (no @everyone, roles or users named in text).
	Mentions []string
}

// snowflake is a Discord id.
var snowflake = regexp.MustCompile(`^[0-9]{5,20}$`)

// allowed is the message's allowed_mentions: exactly its Mentions.
func (r rendered) allowed() *discordgo.MessageAllowedMentions {
	return &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}, Users: r.Mentions}
}

// ping is the content that mentions ids: "<@123> <@456>".
func ping(ids []string) string {
	var out []string
	for _, id := range ids {
		out = append(out, "<@"+id+">")
	}
	return strings.Join(out, " ")
}

// render turns a neutral message into content, embeds, components and
// files within Discord's limits. A message that is only short text becomes
// plain content; anything richer becomes embeds. A table that does not fit
// the embed budget is cut, and the whole table goes along as table.txt.
func render(m bot.Message) rendered {
	r := rendered{Components: renderButtons(m.Buttons)}
	if m.Attachment != nil {
		r.Files = append(r.Files, *m.Attachment)
	}
	for _, id := range bot.MentionsOn(Name, m.Mentions) {
		if snowflake.MatchString(id) {
			r.Mentions = append(r.Mentions, id)
		}
	}
	text := markdown(m.Text)
	if isPlain(m) && utf8.RuneCountInString(text)+len(ping(r.Mentions))+1 <= maxContent {
		r.Content = text
		if len(r.Mentions) > 0 {
			r.Content = ping(r.Mentions) + "\n" + text
		}
		return r
	}
	// Embeds ping no one: the mentions go in the content above them.
	r.Content = ping(r.Mentions)
	color := toneColors[m.Tone]
	if _, ok := toneColors[m.Tone]; !ok {
		color = toneColors[bot.ToneInfo]
	}
	main := &discordgo.MessageEmbed{
		Type:        discordgo.EmbedTypeRich,
		Title:       truncate(m.Title, maxTitle),
		Description: truncate(text, maxDescription),
		Color:       color,
	}
	for i, f := range m.Fields {
		if i == maxFields {
			break
		}
		main.Fields = append(main.Fields, &discordgo.MessageEmbedField{
			Name:   truncate(nonEmpty(f.Name), maxFieldName),
			Value:  truncate(nonEmpty(markdown(f.Value)), maxFieldValue),
			Inline: true,
		})
	}
	if len(m.Context) > 0 {
		main.Footer = &discordgo.MessageEmbedFooter{Text: truncate(strings.Join(m.Context, " · "), maxFooter)}
	}
	fitEmbed(main)
	r.Embeds = []*discordgo.MessageEmbed{main}
	if m.Table != nil && len(m.Table.Rows) > 0 {
		r.addTable(*m.Table, color)
	}
	if embedLen(main) == 0 {
		// Discord rejects an empty embed, and a message with nothing
		// visible at all.
		r.Embeds = r.Embeds[1:]
		if len(r.Embeds) == 0 && len(r.Files) == 0 && r.Content == "" {
			r.Content = "\u200b"
		}
	}
	return r
}

// fitEmbed keeps one embed within the 6000-character total (25 full
// fields alone would be 32000): drop trailing fields, then shorten the
// description.
func fitEmbed(e *discordgo.MessageEmbed) {
	for embedLen(e) > maxEmbedTotal && len(e.Fields) > 0 {
		e.Fields = e.Fields[:len(e.Fields)-1]
	}
	if over := embedLen(e) - maxEmbedTotal; over > 0 {
		e.Description = truncate(e.Description, max(1, utf8.RuneCountInString(e.Description)-over))
	}
}

func isPlain(m bot.Message) bool {
	return m.Title == "" && len(m.Fields) == 0 && m.Table == nil && len(m.Buttons) == 0 &&
		len(m.Context) == 0 && m.Text != ""
}

// addTable lays the table out as monospace text in code blocks, one embed
// per chunk, while the embed count and the 6000-character total allow.
// Rows that do not fit are announced and the full table is attached.
func (r *rendered) addTable(t bot.Table, color int) {
	header, lines := tableLines(t)
	used := 0
	for _, e := range r.Embeds {
		used += embedLen(e)
	}
	const fence = "```\n"
	budget := maxEmbedTotal - used - tableOverflowNote
	shown := 0
	for shown < len(lines) && len(r.Embeds) < maxEmbeds {
		room := min(maxDescription-tableOverflowNote, budget)
		var b strings.Builder
		b.WriteString(fence)
		b.WriteString(header)
		n := 0
		for shown+n < len(lines) {
			next := utf8.RuneCountInString(lines[shown+n]) + 1
			if utf8.RuneCountInString(b.String())+next+len(fence) > room {
				break
			}
			b.WriteString(lines[shown+n])
			b.WriteByte('\n')
			n++
		}
		if n == 0 {
			break
		}
		b.WriteString("```")
		desc := b.String()
		budget -= utf8.RuneCountInString(desc)
		shown += n
		r.Embeds = append(r.Embeds, &discordgo.MessageEmbed{Type: discordgo.EmbedTypeRich, Description: desc, Color: color})
	}
	if shown == len(lines) {
		return
	}
	note := fmt.Sprintf("… %d more rows — the full table is in %s", len(lines)-shown, tableFileName)
	last := r.Embeds[len(r.Embeds)-1]
	if last.Description == "" {
		last.Description = note
	} else {
		last.Description = truncate(last.Description+"\n"+note, maxDescription)
	}
	var full strings.Builder
	full.WriteString(header)
	for _, l := range lines {
		full.WriteString(l)
		full.WriteByte('\n')
	}
	r.Files = append(r.Files, bot.File{Name: tableFileName, Content: []byte(full.String()), Type: "text/plain"})
}

// tableLines aligns the columns; the header comes with its underline.
func tableLines(t bot.Table) (header string, rows []string) {
	widths := make([]int, len(t.Columns))
	for i, c := range t.Columns {
		widths[i] = utf8.RuneCountInString(c)
	}
	for _, row := range t.Rows {
		for i, cell := range row {
			if i < len(widths) {
				widths[i] = max(widths[i], utf8.RuneCountInString(cell))
			}
		}
	}
	line := func(cells []string) string {
		var b strings.Builder
		for i := range widths {
			cell := ""
			if i < len(cells) {
				cell = cells[i]
			}
			if i > 0 {
				b.WriteString("  ")
			}
			b.WriteString(cell)
			if i < len(widths)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(cell)))
			}
		}
		// A pathological cell must not blow a whole embed.
		return truncate(strings.TrimRight(b.String(), " "), 1000)
	}
	under := make([]string, len(widths))
	for i, w := range widths {
		under[i] = strings.Repeat("-", w)
	}
	header = line(t.Columns) + "\n" + line(under) + "\n"
	for _, row := range t.Rows {
		rows = append(rows, line(row))
	}
	return header, rows
}

// renderButtons packs buttons into action rows of five, at most five rows.
// The engine keeps Button.ID within custom_id's 100 bytes; cutting here is
// only a guard so Discord never rejects the whole message.
func renderButtons(bs []bot.Button) []discordgo.MessageComponent {
	rows := []discordgo.MessageComponent{}
	var row discordgo.ActionsRow
	for i, b := range bs {
		if i == maxRows*maxButtonsPerRow {
			break
		}
		row.Components = append(row.Components, discordgo.Button{
			Label:    truncate(b.Label, maxButtonLabel),
			Style:    buttonStyle(b.Style),
			CustomID: truncateBytes(b.ID, maxCustomID),
		})
		if len(row.Components) == maxButtonsPerRow {
			rows = append(rows, row)
			row = discordgo.ActionsRow{}
		}
	}
	if len(row.Components) > 0 {
		rows = append(rows, row)
	}
	return rows
}

func buttonStyle(s bot.ButtonStyle) discordgo.ButtonStyle {
	switch s {
	case bot.StylePrimary:
		return discordgo.PrimaryButton
	case bot.StyleDanger:
		return discordgo.DangerButton
	default:
		return discordgo.SecondaryButton
	}
}

// markdown translates the neutral subset to Discord's: *bold* becomes
// **bold** (a single star is italic on Discord); _italic_ and `code` are
// the same. Code spans are copied untouched.
func markdown(s string) string {
	if !strings.ContainsRune(s, '*') {
		return s
	}
	var b strings.Builder
	inCode := false
	for _, r := range s {
		switch {
		case r == '`':
			inCode = !inCode
			b.WriteRune(r)
		case r == '*' && !inCode:
			b.WriteString("**")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func embedLen(e *discordgo.MessageEmbed) int {
	n := utf8.RuneCountInString(e.Title) + utf8.RuneCountInString(e.Description)
	for _, f := range e.Fields {
		n += utf8.RuneCountInString(f.Name) + utf8.RuneCountInString(f.Value)
	}
	if e.Footer != nil {
		n += utf8.RuneCountInString(e.Footer.Text)
	}
	return n
}

// truncate cuts s to at most n characters (Discord counts characters),
// marking the cut with an ellipsis.
func truncate(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	runes := []rune(s)
	return string(runes[:n-1]) + "…"
}

// truncateBytes cuts s to at most n bytes on a rune boundary.
func truncateBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// nonEmpty stands in a zero-width space: Discord rejects empty field
// names and values.
func nonEmpty(s string) string {
	if strings.TrimSpace(s) == "" {
		return "\u200b"
	}
	return s
}
