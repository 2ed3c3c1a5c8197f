package discord

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/day2bot/day2bot/bot"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json")

// goldenView is what a golden file shows: the JSON Discord receives, with
// files reduced to name, type and size.
type goldenView struct {
	Content    string                       `json:"content,omitempty"`
	Embeds     []*discordgo.MessageEmbed    `json:"embeds,omitempty"`
	Components []discordgo.MessageComponent `json:"components"`
	Files      []goldenFile                 `json:"files,omitempty"`
}

type goldenFile struct {
	Name string `json:"name"`
	Type string `json:"type"`
	Size int    `json:"size"`
}

func longTable(n int) *bot.Table {
	t := &bot.Table{Columns: []string{"instance", "state", "az", "result"}}
	for i := range n {
		t.Rows = append(t.Rows, []string{fmt.Sprintf("i-%017x", i+1), "running", "eu-west-1a", "rebooted in 12.4s"})
	}
	return t
}

var renderCases = []struct {
	name string
	msg  bot.Message
}{
	{"simple_reply", bot.Message{Text: "Run *r-42* queued: `shop restart-web batch=2`."}},
	{"approval_request", bot.Message{
		Title:  "Approval needed: shop restart-web",
		Text:   "<@111> asks to run *restart-web* on _shop_.\nPlan: reboot 2 of 4 instances.",
		Fields: []bot.Field{{Name: "batch", Value: "2"}, {Name: "approvers", Value: "sre (1 of 1)"}, {Name: "expires", Value: "in 30m"}},
		Table:  &bot.Table{Columns: []string{"instance", "action"}, Rows: [][]string{{"i-0a1", "reboot"}, {"i-0b2", "reboot"}}},
		Buttons: []bot.Button{
			{ID: "ap:a-7:approve", Label: "Approve", Style: bot.StylePrimary},
			{ID: "ap:a-7:deny", Label: "Deny", Style: bot.StyleDanger},
		},
		Context: []string{"approval a-7", "requested by discord:111"},
		Tone:    bot.ToneWarning,
	}},
	{"long_result_table", bot.Message{
		Title:   "shop restart-web: done",
		Text:    "400 instances rebooted.",
		Table:   longTable(400),
		Context: []string{"run r-43"},
		Tone:    bot.ToneSuccess,
	}},
	{"denial", bot.Message{
		Title: "Denied",
		Text:  "You may not run *scale* on _shop_ with desired=40: rule `cap-scale` allows at most 10.",
		Tone:  bot.ToneDanger,
	}},
}

func TestRenderGolden(t *testing.T) {
	for _, tc := range renderCases {
		t.Run(tc.name, func(t *testing.T) {
			r := render(tc.msg)
			assertWithinLimits(t, r)
			v := goldenView{Content: r.Content, Embeds: r.Embeds, Components: r.Components}
			for _, f := range r.Files {
				v.Files = append(v.Files, goldenFile{Name: f.Name, Type: f.Type, Size: len(f.Content)})
			}
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(v); err != nil {
				t.Fatal(err)
			}
			got := buf.Bytes()
			path := filepath.Join("testdata", tc.name+".golden.json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read golden (run with -update to create): %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("render(%s) differs from %s:\n%s", tc.name, path, got)
			}
		})
	}
}

func TestRenderLongTableKeepsEveryRow(t *testing.T) {
	tbl := longTable(400)
	r := render(bot.Message{Title: "t", Table: tbl})
	if len(r.Files) != 1 || r.Files[0].Name != tableFileName {
		t.Fatalf("files = %+v, want the full table attached", r.Files)
	}
	full := string(r.Files[0].Content)
	for _, row := range tbl.Rows {
		if !strings.Contains(full, row[0]) {
			t.Fatalf("attached table lacks row %s", row[0])
		}
	}
	last := r.Embeds[len(r.Embeds)-1].Description
	if !strings.Contains(last, "more rows") {
		t.Errorf("last embed does not announce the cut: %q", last)
	}
}

func TestRenderLimits(t *testing.T) {
	long := strings.Repeat("ü", 5000)
	var fields []bot.Field
	for i := range 40 {
		fields = append(fields, bot.Field{Name: long, Value: long + fmt.Sprint(i)})
	}
	var buttons []bot.Button
	for i := range 30 {
		buttons = append(buttons, bot.Button{ID: strings.Repeat("x", 150) + fmt.Sprint(i), Label: long})
	}
	cases := []bot.Message{
		{Text: long},
		{Title: long, Text: long, Fields: fields, Buttons: buttons, Context: []string{long}},
		{Title: long, Text: long, Table: &bot.Table{Columns: []string{"a"}, Rows: [][]string{{long}, {long}}}},
		{Fields: []bot.Field{{}}},
		{},
		{Buttons: []bot.Button{{ID: "b", Label: "only a button"}}},
		{Table: &bot.Table{Columns: []string{"a"}, Rows: [][]string{{"1"}}}},
	}
	for i, m := range cases {
		r := render(m)
		assertWithinLimits(t, r)
		if r.Content == "" && len(r.Embeds) == 0 && len(r.Files) == 0 {
			t.Errorf("case %d renders an empty message", i)
		}
		for _, e := range r.Embeds {
			if embedLen(e) == 0 {
				t.Errorf("case %d has an empty embed", i)
			}
		}
		if len(m.Buttons) == 30 && len(r.Components) != maxRows {
			t.Errorf("case %d: %d rows, want %d", i, len(r.Components), maxRows)
		}
	}
}

func TestMarkdown(t *testing.T) {
	for in, want := range map[string]string{
		"plain":              "plain",
		"*bold* _it_":        "**bold** _it_",
		"`a*b` *c*":          "`a*b` **c**",
		"unclosed *star":     "unclosed **star",
		"":                   "",
		"`code` and *x* `*`": "`code` and **x** `*`",
	} {
		if got := markdown(in); got != want {
			t.Errorf("markdown(%q) = %q, want %q", in, got, want)
		}
	}
}

func assertWithinLimits(t *testing.T, r rendered) {
	t.Helper()
	if n := utf8.RuneCountInString(r.Content); n > maxContent {
		t.Errorf("content has %d characters", n)
	}
	if len(r.Embeds) > maxEmbeds {
		t.Errorf("%d embeds", len(r.Embeds))
	}
	total := 0
	for _, e := range r.Embeds {
		total += embedLen(e)
		if utf8.RuneCountInString(e.Title) > maxTitle || utf8.RuneCountInString(e.Description) > maxDescription {
			t.Errorf("embed title/description too long: %d/%d", utf8.RuneCountInString(e.Title), utf8.RuneCountInString(e.Description))
		}
		if len(e.Fields) > maxFields {
			t.Errorf("%d fields", len(e.Fields))
		}
		for _, f := range e.Fields {
			if f.Name == "" || f.Value == "" || utf8.RuneCountInString(f.Name) > maxFieldName || utf8.RuneCountInString(f.Value) > maxFieldValue {
				t.Errorf("bad field %d/%d", utf8.RuneCountInString(f.Name), utf8.RuneCountInString(f.Value))
			}
		}
		if e.Footer != nil && utf8.RuneCountInString(e.Footer.Text) > maxFooter {
			t.Errorf("footer too long")
		}
	}
	if total > maxEmbedTotal {
		t.Errorf("embeds total %d characters, limit %d", total, maxEmbedTotal)
	}
	if len(r.Components) > maxRows {
		t.Errorf("%d action rows", len(r.Components))
	}
	for _, c := range r.Components {
		row := c.(discordgo.ActionsRow)
		if len(row.Components) > maxButtonsPerRow {
			t.Errorf("%d buttons in a row", len(row.Components))
		}
		for _, b := range row.Components {
			btn := b.(discordgo.Button)
			if len(btn.CustomID) > maxCustomID || utf8.RuneCountInString(btn.Label) > maxButtonLabel {
				t.Errorf("button custom_id %d bytes, label %d", len(btn.CustomID), utf8.RuneCountInString(btn.Label))
			}
		}
	}
}

// Mentions ping the message's own Discord users, in the content (embeds
// ping no one), and allowed_mentions lets exactly them through: text that
// names @everyone or another user pings nobody.
func TestRenderMentions(t *testing.T) {
	rich := render(bot.Message{Title: "Still waiting", Text: "@everyone <@999999999>", Fields: []bot.Field{{Name: "a", Value: "b"}},
		Mentions: []string{"discord:123456789", "slack:U1", "discord:123456789", "discord:<@&1>", "discord:987654321"}})
	if rich.Content != "<@123456789> <@987654321>" || !slices.Equal(rich.Mentions, []string{"123456789", "987654321"}) {
		t.Errorf("rich: content %q mentions %q", rich.Content, rich.Mentions)
	}
	if a := rich.allowed(); a.Parse == nil || len(a.Parse) != 0 || !slices.Equal(a.Users, rich.Mentions) {
		t.Errorf("allowed mentions %+v", a)
	}
	plain := render(bot.Message{Text: "still waiting", Mentions: []string{"discord:123456789"}})
	if plain.Content != "<@123456789>\nstill waiting" || len(plain.Embeds) != 0 {
		t.Errorf("plain: %+v", plain)
	}
	if none := render(bot.Message{Text: "hi @everyone"}); none.Content != "hi @everyone" || len(none.allowed().Users) != 0 {
		t.Errorf("no mentions: %+v", none)
	}
}
