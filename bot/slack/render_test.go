package slack

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slack-go/slack"

	"github.com/day2bot/day2bot/bot"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json from the current renderer")

func TestRenderGolden(t *testing.T) {
	cases := map[string]bot.Message{
		"simple_reply": {
			Text: "shop has 3 tasks you may run: `restart-web`, `scale`, `snapshot-db`.",
		},
		"approval_request": {
			Title: "Approval needed: shop scale",
			Text:  "*alice* asks to run `scale` on *shop* with desired=8.\nNeeds 1 approval from group `sre`.",
			Fields: []bot.Field{
				{Name: "App", Value: "shop"},
				{Name: "Task", Value: "scale"},
				{Name: "Requested by", Value: "alice"},
				{Name: "Policy", Value: "rule 3: scale > 6 needs sre"},
			},
			Table: &bot.Table{
				Columns: []string{"resource", "change"},
				Rows: [][]string{
					{"asg/shop-web", "desired 4 -> 8"},
					{"asg/shop-worker", "unchanged"},
				},
			},
			Buttons: []bot.Button{
				{ID: "approve:a-42", Label: "Approve", Style: bot.StylePrimary},
				{ID: "deny:a-42", Label: "Deny", Style: bot.StyleDanger},
			},
			Context: []string{"approval a-42", "run r-17"},
			Tone:    bot.ToneWarning,
		},
		"run_result_30_rows": {
			Title:   "shop restart-web: succeeded",
			Text:    "Rebooted 30 instances in batches of 5.",
			Table:   thirtyRowTable(),
			Context: []string{"run r-18 · requested by alice · approved by bob"},
			Tone:    bot.ToneSuccess,
		},
		"denial": {
			Text:    "Denied: `shop scale desired=20` — rule 2 limits desired to 1..10 for group dev.",
			Context: []string{"/day2 why shop scale desired=20 explains the decision"},
			Tone:    bot.ToneDanger,
		},
		"too_long_split": longMessage(),
	}
	for name, m := range cases {
		t.Run(name, func(t *testing.T) {
			out := render(m)
			for i, r := range out {
				if err := checkLimits(r); err != nil {
					t.Errorf("message %d: %v", i, err)
				}
			}
			got, err := json.MarshalIndent(out, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join("testdata", name+".golden.json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read golden (run go test -update to create it): %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("render differs from %s (go test ./bot/slack -run TestRenderGolden -update to accept):\n%s", path, got)
			}
		})
	}
}

func TestRenderSplitsLongMessage(t *testing.T) {
	out := render(longMessage())
	if len(out) < 2 {
		t.Fatalf("long message rendered as %d message(s), want a split", len(out))
	}
	// Buttons stay on the first message so the engine can update it in place.
	if !hasBlockType(out[0].Blocks, slack.MBTAction) {
		t.Error("first message lost the buttons")
	}
	for i, r := range out[1:] {
		if hasBlockType(r.Blocks, slack.MBTAction) || hasBlockType(r.Blocks, slack.MBTHeader) {
			t.Errorf("continuation %d carries pinned blocks", i+1)
		}
	}
	// Nothing is lost: every row of the table appears in some message.
	all := ""
	for _, r := range out {
		b, _ := json.Marshal(r.Blocks)
		all += string(b)
	}
	for i := range 400 {
		if !strings.Contains(all, fmt.Sprintf("i-%08d", i)) {
			t.Fatalf("row i-%08d missing from the split output", i)
		}
	}
}

func TestRenderLimitsTable(t *testing.T) {
	long := strings.Repeat("x", 5000)
	many := make([]bot.Field, 23)
	for i := range many {
		many[i] = bot.Field{Name: fmt.Sprint("f", i), Value: long}
	}
	buttons := make([]bot.Button, 30)
	for i := range buttons {
		buttons[i] = bot.Button{ID: fmt.Sprint("b", i), Label: long}
	}
	ctx := make([]string, 14)
	for i := range ctx {
		ctx[i] = long
	}
	cases := map[string]bot.Message{
		"empty":          {},
		"long title":     {Title: long},
		"long text":      {Text: long + "\n" + long + "\n" + long},
		"one long line":  {Text: strings.Repeat("y", 20000)},
		"many fields":    {Fields: many},
		"many buttons":   {Buttons: buttons},
		"many contexts":  {Context: ctx},
		"escapes":        {Text: strings.Repeat("<&>", 3000)},
		"code fence":     {Text: "```\n" + strings.Repeat("line of code\n", 600) + "```"},
		"wide table":     {Table: &bot.Table{Columns: []string{long, long}, Rows: [][]string{{long, long, long}}}},
		"empty table":    {Table: &bot.Table{Columns: []string{"a"}}},
		"everything big": {Title: long, Text: long + long, Fields: many, Buttons: buttons, Context: ctx, Table: thirtyRowTable()},
	}
	for name, m := range cases {
		t.Run(name, func(t *testing.T) {
			out := render(m)
			if len(out) == 0 {
				t.Fatal("no message rendered")
			}
			for i, r := range out {
				if err := checkLimits(r); err != nil {
					t.Errorf("message %d: %v", i, err)
				}
			}
		})
	}
}

func TestSplitTextKeepsFencesBalanced(t *testing.T) {
	text := "intro\n```\n" + strings.Repeat("0123456789 abcdef\n", 400) + "```\nafter"
	chunks := splitText(text, 1000)
	if len(chunks) < 2 {
		t.Fatalf("got %d chunks", len(chunks))
	}
	for i, c := range chunks {
		if runes(c) > 1000 {
			t.Errorf("chunk %d has %d runes", i, runes(c))
		}
		if strings.Count(c, "```")%2 != 0 {
			t.Errorf("chunk %d has unbalanced fences:\n%s", i, c)
		}
	}
}

func FuzzRender(f *testing.F) {
	f.Add("title", "text *bold* <b>", "name", "value", "btn", "ctx", 3)
	f.Add("", strings.Repeat("a\n", 4000), "", "", "", "", 0)
	f.Add(strings.Repeat("é", 400), "```\ncode", "n", strings.Repeat("v", 3000), strings.Repeat("l", 90), "c", 60)
	f.Fuzz(func(t *testing.T, title, text, name, value, label, context string, rows int) {
		m := bot.Message{Title: title, Text: text, Context: []string{context}}
		if name != "" || value != "" {
			m.Fields = []bot.Field{{Name: name, Value: value}}
		}
		if label != "" {
			m.Buttons = []bot.Button{{ID: "id", Label: label}}
		}
		if rows = rows % 200; rows > 0 {
			m.Table = &bot.Table{Columns: []string{name, "v"}}
			for i := range rows {
				m.Table.Rows = append(m.Table.Rows, []string{value, fmt.Sprint(i)})
			}
		}
		for i, r := range render(m) {
			if err := checkLimits(r); err != nil {
				t.Fatalf("message %d: %v", i, err)
			}
		}
	})
}

// checkLimits verifies one rendered message against Slack's published
// Block Kit limits.
func checkLimits(r rendered) error {
	if len(r.Blocks) == 0 {
		return fmt.Errorf("no blocks")
	}
	if len(r.Blocks) > maxBlocks {
		return fmt.Errorf("%d blocks > %d", len(r.Blocks), maxBlocks)
	}
	total := 0
	for i, b := range r.Blocks {
		switch b := b.(type) {
		case *slack.HeaderBlock:
			if n := runes(b.Text.Text); n > maxHeaderText {
				return fmt.Errorf("block %d: header %d > %d", i, n, maxHeaderText)
			}
			total += runes(b.Text.Text)
		case *slack.SectionBlock:
			if b.Text != nil {
				if n := runes(b.Text.Text); n > maxSectionText || n == 0 {
					return fmt.Errorf("block %d: section text %d chars", i, n)
				}
				total += runes(b.Text.Text)
			}
			if len(b.Fields) > maxSectionFields {
				return fmt.Errorf("block %d: %d fields", i, len(b.Fields))
			}
			for _, f := range b.Fields {
				if n := runes(f.Text); n > maxFieldText {
					return fmt.Errorf("block %d: field %d chars", i, n)
				}
				total += runes(f.Text)
			}
		case *slack.ActionBlock:
			if len(b.Elements.ElementSet) > maxButtons {
				return fmt.Errorf("block %d: %d buttons", i, len(b.Elements.ElementSet))
			}
			for _, e := range b.Elements.ElementSet {
				btn := e.(*slack.ButtonBlockElement)
				if n := runes(btn.Text.Text); n > maxButtonText || n == 0 {
					return fmt.Errorf("block %d: button text %d chars", i, n)
				}
				total += runes(btn.Text.Text)
			}
		case *slack.ContextBlock:
			if len(b.ContextElements.Elements) > maxContextItems {
				return fmt.Errorf("block %d: %d context elements", i, len(b.ContextElements.Elements))
			}
			for _, e := range b.ContextElements.Elements {
				total += runes(e.(*slack.TextBlockObject).Text)
			}
		default:
			return fmt.Errorf("block %d: unexpected type %T", i, b)
		}
	}
	if total > maxMessageChars+maxContextChars/10 {
		return fmt.Errorf("%d characters of block text > %d", total, maxMessageChars)
	}
	if r.Text == "" {
		return fmt.Errorf("no fallback text")
	}
	return nil
}

func hasBlockType(bs []slack.Block, typ slack.MessageBlockType) bool {
	for _, b := range bs {
		if b.BlockType() == typ {
			return true
		}
	}
	return false
}

func thirtyRowTable() *bot.Table {
	t := &bot.Table{Columns: []string{"instance", "az", "state", "took"}}
	for i := range 30 {
		t.Rows = append(t.Rows, []string{
			fmt.Sprintf("i-0a1b2c3d4e5f%05d", i),
			[]string{"eu-west-1a", "eu-west-1b", "eu-west-1c"}[i%3],
			"rebooted",
			fmt.Sprintf("%ds", 20+i),
		})
	}
	return t
}

func longMessage() bot.Message {
	t := &bot.Table{Columns: []string{"instance", "state", "detail"}}
	for i := range 400 {
		t.Rows = append(t.Rows, []string{fmt.Sprintf("i-%08d", i), "stopped", "scheduled maintenance window"})
	}
	return bot.Message{
		Title:   "shop inventory",
		Text:    "Every instance of shop and its state.",
		Table:   t,
		Buttons: []bot.Button{{ID: "refresh:shop", Label: "Refresh"}},
		Context: []string{"run r-99"},
	}
}

// Mentions ping the message's own Slack users, right under the title; the
// other platforms' principals and anything not a Slack id are left out.
func TestRenderMentions(t *testing.T) {
	out := render(bot.Message{Title: "Still waiting for approval: shop restart-web", Text: "Requested by bob",
		Mentions: []string{"slack:U0ALICE", "discord:123456789", "slack:U0ALICE", "slack:<!channel>", "shell:alice", "slack:W0DAVE"}})
	if len(out) != 1 || len(out[0].Blocks) < 2 {
		t.Fatalf("rendered %+v", out)
	}
	b, _ := json.Marshal(out[0].Blocks[1])
	if !strings.Contains(string(b), `"text":"\u003c@U0ALICE\u003e \u003c@W0DAVE\u003e"`) {
		t.Errorf("the block under the title is %s, want the two Slack mentions", b)
	}
	all, _ := json.Marshal(out[0].Blocks)
	if strings.Contains(string(all), "channel") || strings.Contains(string(all), "123456789") {
		t.Errorf("a mention that is not a Slack user id got through: %s", all)
	}
	if b, _ := json.Marshal(render(bot.Message{Title: "x", Mentions: []string{"discord:1"}})[0].Blocks); strings.Contains(string(b), "section") {
		t.Errorf("no Slack mention, yet a section: %s", b)
	}
}
