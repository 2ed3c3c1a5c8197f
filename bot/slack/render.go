package slack

import (
	"cmp"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/day2bot/day2bot/bot"
)

// Slack's Block Kit limits. Past them Slack rejects the whole message
// (invalid_blocks, msg_blocks_too_long), so the renderer never exceeds them.
const (
	maxBlocks        = 50
	maxSectionText   = 3000
	maxSectionFields = 10
	maxFieldText     = 2000
	maxHeaderText    = 150
	maxButtonText    = 75
	maxButtons       = 25
	maxContextItems  = 10
	maxFallbackText  = 300
	// Slack answers msg_blocks_too_long at roughly 12k characters of block
	// text per message; keep a margin because Slack's own count is not
	// documented exactly (it counts after entity escaping).
	maxMessageChars = 11000
	// maxContextChars bounds the pinned small print so it can never eat
	// the budget of the first message.
	maxContextChars = 1000
	// maxCellWidth keeps table columns readable in a code block.
	maxCellWidth = 40
)

// rendered is one Slack message: the notification fallback text and the
// blocks. A neutral message renders to one or more of them.
type rendered struct {
	Text   string        `json:"text"`
	Blocks []slack.Block `json:"blocks"`
}

// piece is a block with its character count; pinned pieces (title,
// buttons, context) always stay in the first message so updates in place
// and button clicks keep working when the body is split.
type piece struct {
	block slack.Block
	chars int
}

// render turns a neutral message into Slack messages within Block Kit's
// limits. The first message carries the title, the buttons and the small
// print; a body too long for one message continues in further messages,
// which the adapter posts as thread replies of the first.
func render(m bot.Message) []rendered {
	var head, tail []piece
	if oneLine(m.Title) != "" {
		head = append(head, headerPiece(m.Tone, m.Title))
	}
	if ping := mentions(bot.MentionsOn("slack", m.Mentions)); ping != "" {
		head = append(head, sectionPiece(ping))
	}
	flow := flowPieces(m)
	if len(m.Buttons) > 0 {
		tail = append(tail, buttonsPiece(m.Buttons))
	}
	if len(m.Context) > 0 {
		tail = append(tail, contextPiece(m.Context))
	}
	fallback := fallbackText(m)
	if len(head)+len(flow)+len(tail) == 0 {
		// Slack refuses a message without content.
		flow = append(flow, sectionPiece("_(empty)_"))
	}

	if first, ok := pack(head, flow, tail, 0); ok {
		return []rendered{{Text: fallback, Blocks: blocksOf(first)}}
	}
	// Split: reserve room in the first message for a note that says where
	// the rest went.
	note := contextPieceText("_continued in the thread_")
	tail = append(tail, note)
	var out []rendered
	first, rest := fill(head, flow, tail)
	out = append(out, rendered{Text: fallback, Blocks: blocksOf(first)})
	for part := 2; len(rest) > 0; part++ {
		var chunk []piece
		chunk, rest = fill(nil, rest, nil)
		out = append(out, rendered{Text: fmt.Sprintf("%s (part %d)", fallback, part), Blocks: blocksOf(chunk)})
	}
	return out
}

// pack returns all pieces as one message if they fit.
func pack(head, flow, tail []piece, reserve int) ([]piece, bool) {
	all := append(append(append([]piece{}, head...), flow...), tail...)
	if len(all) > maxBlocks || charsOf(all)+reserve > maxMessageChars {
		return nil, false
	}
	return all, true
}

// fill takes as many flow pieces as fit next to head and tail, and
// returns the message and the flow pieces left over. At least one flow
// piece is taken so splitting always makes progress (a single piece
// never exceeds the budget: sections are capped at 3000 characters).
func fill(head, flow, tail []piece) ([]piece, []piece) {
	blocks := len(head) + len(tail)
	chars := charsOf(head) + charsOf(tail)
	n := 0
	for n < len(flow) {
		if n > 0 && (blocks+1 > maxBlocks || chars+flow[n].chars > maxMessageChars) {
			break
		}
		blocks++
		chars += flow[n].chars
		n++
	}
	msg := append(append(append([]piece{}, head...), flow[:n]...), tail...)
	return msg, flow[n:]
}

func charsOf(ps []piece) int {
	n := 0
	for _, p := range ps {
		n += p.chars
	}
	return n
}

func blocksOf(ps []piece) []slack.Block {
	out := make([]slack.Block, len(ps))
	for i, p := range ps {
		out[i] = p.block
	}
	return out
}

// flowPieces are the body blocks in reading order: text, fields, table,
// and the name of an attachment.
func flowPieces(m bot.Message) []piece {
	var out []piece
	for _, chunk := range splitText(escape(m.Text), maxSectionText) {
		out = append(out, sectionPiece(chunk))
	}
	out = append(out, fieldPieces(m.Fields)...)
	if m.Table != nil && (len(m.Table.Columns) > 0 || len(m.Table.Rows) > 0) {
		for _, chunk := range tableChunks(m.Table) {
			out = append(out, sectionPiece(chunk))
		}
	}
	return out
}

// slackID is a Slack user id (U… or, on Enterprise Grid, W…).
var slackID = regexp.MustCompile(`^[UW][A-Z0-9]{2,}$`)

var toneEmoji = map[bot.Tone]string{
	bot.ToneSuccess: ":white_check_mark: ",
	bot.ToneWarning: ":warning: ",
	bot.ToneDanger:  ":rotating_light: ",
}

func headerPiece(tone bot.Tone, title string) piece {
	text := truncate(toneEmoji[tone]+oneLine(title), maxHeaderText)
	return piece{
		block: slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, text, true, false)),
		chars: runes(text),
	}
}

// mentions is Slack's mrkdwn that pings each user: <@U0123>. Ids are the
// store's principals, never user text, and are checked to be Slack ids.
func mentions(ids []string) string {
	var out []string
	for _, id := range ids {
		if slackID.MatchString(id) {
			out = append(out, "<@"+id+">")
		}
	}
	return strings.Join(out, " ")
}

func sectionPiece(mrkdwn string) piece {
	return piece{
		block: slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, mrkdwn, false, false), nil, nil),
		chars: runes(mrkdwn),
	}
}

// fieldPieces groups fields into sections of at most ten fields and, like
// every flow piece, at most a section's worth of characters, so that one
// piece always fits a message.
func fieldPieces(fs []bot.Field) []piece {
	var out []piece
	var objs []*slack.TextBlockObject
	chars := 0
	flush := func() {
		if len(objs) > 0 {
			out = append(out, piece{block: slack.NewSectionBlock(nil, objs, nil), chars: chars})
		}
		objs, chars = nil, 0
	}
	for _, f := range fs {
		text := truncate("*"+escape(oneLine(f.Name))+"*\n"+escape(f.Value), maxFieldText)
		if len(objs) == maxSectionFields || chars+runes(text) > maxSectionText {
			flush()
		}
		chars += runes(text)
		objs = append(objs, slack.NewTextBlockObject(slack.MarkdownType, text, false, false))
	}
	flush()
	return out
}

func buttonsPiece(bs []bot.Button) piece {
	elems := make([]slack.BlockElement, 0, min(len(bs), maxButtons))
	chars := 0
	for _, b := range bs[:min(len(bs), maxButtons)] {
		label := truncate(oneLine(b.Label), maxButtonText)
		if label == "" {
			// Slack rejects an empty button text.
			label = truncate(cmp.Or(oneLine(b.ID), "button"), maxButtonText)
		}
		chars += runes(label)
		btn := slack.NewButtonBlockElement(b.ID, b.ID, slack.NewTextBlockObject(slack.PlainTextType, label, true, false))
		switch b.Style {
		case bot.StylePrimary:
			btn = btn.WithStyle(slack.StylePrimary)
		case bot.StyleDanger:
			btn = btn.WithStyle(slack.StyleDanger)
		}
		elems = append(elems, btn)
	}
	return piece{block: slack.NewActionBlock("actions", elems...), chars: chars}
}

func contextPiece(lines []string) piece {
	// At most ten elements; extra lines join the last one.
	items := append([]string{}, lines...)
	if len(items) > maxContextItems {
		items = append(items[:maxContextItems-1], strings.Join(items[maxContextItems-1:], " · "))
	}
	budget := maxContextChars
	elems := make([]slack.MixedElement, 0, len(items))
	chars := 0
	for _, l := range items {
		text := truncate(escape(oneLine(l)), max(budget, 1))
		budget -= runes(text)
		chars += runes(text)
		elems = append(elems, slack.NewTextBlockObject(slack.MarkdownType, text, false, false))
		if budget <= 0 {
			break
		}
	}
	return piece{block: slack.NewContextBlock("", elems...), chars: chars}
}

func contextPieceText(mrkdwn string) piece {
	return piece{
		block: slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, mrkdwn, false, false)),
		chars: runes(mrkdwn),
	}
}

// fallbackText is the plain text Slack shows in notifications and where
// blocks cannot be displayed.
func fallbackText(m bot.Message) string {
	var first string
	if len(m.Fields) > 0 {
		first = m.Fields[0].Name + ": " + m.Fields[0].Value
	}
	s := cmp.Or(oneLine(m.Title), oneLine(m.Text), oneLine(first), "day2bot")
	return truncate(escape(s), maxFallbackText)
}

// tableChunks renders a table as fixed-width code blocks, each within a
// section's 3000 characters, repeating the column heading in every chunk.
func tableChunks(t *bot.Table) []string {
	widths := make([]int, len(t.Columns))
	for i, c := range t.Columns {
		widths[i] = min(max(runes(oneLine(c)), 1), maxCellWidth)
	}
	for _, r := range t.Rows {
		for i, cell := range r {
			if i >= len(widths) {
				widths = append(widths, 1)
			}
			widths[i] = max(widths[i], min(runes(oneLine(cell)), maxCellWidth))
		}
	}
	line := func(cells []string) string {
		var b strings.Builder
		for i, w := range widths {
			cell := ""
			if i < len(cells) {
				cell = truncate(oneLine(cells[i]), maxCellWidth)
			}
			if i > 0 {
				b.WriteString("  ")
			}
			b.WriteString(cell)
			if i < len(widths)-1 {
				b.WriteString(strings.Repeat(" ", w-runes(cell)))
			}
		}
		return escape(strings.TrimRight(b.String(), " "))
	}
	var heading []string
	if len(t.Columns) > 0 {
		heading = []string{line(t.Columns), line(dashes(widths))}
	}
	const fence = "```"
	// Room for the fences and newlines around the rows.
	budget := maxSectionText - 2*len(fence) - 2
	var chunks []string
	cur := append([]string{}, heading...)
	curLen := linesLen(cur)
	rows := 0
	for _, r := range t.Rows {
		l := truncate(line(r), budget-linesLen(heading)-1)
		if rows > 0 && curLen+runes(l)+1 > budget {
			chunks = append(chunks, fence+"\n"+strings.Join(cur, "\n")+"\n"+fence)
			cur = append([]string{}, heading...)
			curLen = linesLen(cur)
			rows = 0
		}
		cur = append(cur, l)
		curLen += runes(l) + 1
		rows++
	}
	if rows > 0 || len(t.Rows) == 0 {
		chunks = append(chunks, fence+"\n"+strings.Join(cur, "\n")+"\n"+fence)
	}
	return chunks
}

func dashes(widths []int) []string {
	out := make([]string, len(widths))
	for i, w := range widths {
		out[i] = strings.Repeat("-", max(w, 1))
	}
	return out
}

func linesLen(ls []string) int {
	n := 0
	for _, l := range ls {
		n += runes(l) + 1
	}
	return n
}

// splitText cuts mrkdwn into chunks of at most limit characters, at line
// breaks where possible, and keeps ``` code fences balanced in each chunk.
func splitText(s string, limit int) []string {
	s = strings.TrimRight(s, "\n ")
	if s == "" {
		return nil
	}
	const fence = "```"
	// Leave room to close and reopen a fence.
	room := limit - 2*(len(fence)+1)
	var out []string
	inFence := false
	for s != "" {
		prefix := ""
		if inFence {
			prefix = fence + "\n"
		}
		if runes(prefix)+runes(s) <= limit {
			out = append(out, prefix+s)
			break
		}
		cut := cutPoint(s, room-runes(prefix))
		chunk := s[:cut]
		s = strings.TrimLeft(s[cut:], "\n")
		if strings.Count(chunk, fence)%2 == 1 {
			inFence = !inFence
		}
		chunk = prefix + strings.TrimRight(chunk, "\n")
		if inFence {
			chunk += "\n" + fence
		}
		out = append(out, chunk)
	}
	return out
}

// cutPoint is the byte index to cut s so the head has at most n runes:
// the last newline before it, else the last space, else a hard cut.
func cutPoint(s string, n int) int {
	idx := 0
	for i := 0; i < n && idx < len(s); i++ {
		_, size := utf8.DecodeRuneInString(s[idx:])
		idx += size
	}
	if idx >= len(s) {
		return len(s)
	}
	if nl := strings.LastIndexByte(s[:idx], '\n'); nl > idx/2 {
		return nl + 1
	}
	if sp := strings.LastIndexByte(s[:idx], ' '); sp > idx/2 {
		return sp + 1
	}
	return idx
}

// escape encodes the three characters Slack's mrkdwn treats as control
// characters; the neutral markdown subset (*bold*, _italic_, `code`) is
// already Slack's.
func escape(s string) string {
	if !strings.ContainsAny(s, "&<>") {
		return s
	}
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func runes(s string) int { return utf8.RuneCountInString(s) }

// truncate shortens s to at most n runes, marking the cut with "…".
func truncate(s string, n int) string {
	if runes(s) <= n {
		return s
	}
	if n <= 1 {
		return string([]rune(s)[:n])
	}
	return string([]rune(s)[:n-1]) + "…"
}

// withFullTable makes sure a table whose cells are cut at maxCellWidth
// still has its full values somewhere: as a tab-separated file, as for long
// results. A message that already carries a text file keeps it (the
// engine's result files hold every row in full); one with another kind of
// file (a chart) says that cells are cut.
func withFullTable(m bot.Message) bot.Message {
	t := m.Table
	if t == nil || !tableCut(t) {
		return m
	}
	if f := m.Attachment; f != nil {
		if !strings.HasPrefix(f.Type, "text/") {
			m.Context = append(append([]string{}, m.Context...), fmt.Sprintf("some cells are cut at %d characters", maxCellWidth))
		}
		return m
	}
	var b strings.Builder
	row := func(cells []string) {
		for i, c := range cells {
			if i > 0 {
				b.WriteByte('\t')
			}
			b.WriteString(strings.Join(strings.Fields(c), " "))
		}
		b.WriteByte('\n')
	}
	if len(t.Columns) > 0 {
		row(t.Columns)
	}
	for _, r := range t.Rows {
		row(r)
	}
	m.Attachment = &bot.File{Name: "table.tsv", Content: []byte(b.String()), Type: "text/tab-separated-values"}
	m.Context = append(append([]string{}, m.Context...), fmt.Sprintf("cells longer than %d characters are cut; the full table is attached", maxCellWidth))
	return m
}

// tableCut reports whether tableChunks cuts any cell of t.
func tableCut(t *bot.Table) bool {
	for _, c := range t.Columns {
		if runes(oneLine(c)) > maxCellWidth {
			return true
		}
	}
	for _, r := range t.Rows {
		for _, c := range r {
			if runes(oneLine(c)) > maxCellWidth {
				return true
			}
		}
	}
	return false
}
