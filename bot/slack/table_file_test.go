package slack

import (
	"context"
	"strings"
	"testing"

	"github.com/day2bot/day2bot/bot"
)

// A table with a cell longer than Slack's column width is shown cut, and
// the full table travels as a file in the message's thread; a table that
// fits does not get one.
func TestCutTableCellsAttachFullTable(t *testing.T) {
	long := "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/shop-web/0123456789abcdef"
	for _, c := range []struct {
		name  string
		table *bot.Table
		want  string // the file's content; "" for no file
	}{
		{"fits", &bot.Table{Columns: []string{"Resource", "Status"}, Rows: [][]string{{"i-1", "ok"}}}, ""},
		{"exactly 40", &bot.Table{Columns: []string{"Resource"}, Rows: [][]string{{strings.Repeat("x", 40)}}}, ""},
		{"long cell", &bot.Table{Columns: []string{"Resource", "Status"}, Rows: [][]string{{"i-1", "ok"}, {long, "draining"}}},
			"Resource\tStatus\ni-1\tok\n" + long + "\tdraining\n"},
		{"long multi-line cell", &bot.Table{Columns: []string{"Detail"}, Rows: [][]string{{"first line\n" + long}}},
			"Detail\nfirst line " + long + "\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			ref, err := e.adapter.Post(context.Background(), "C1", bot.Message{Title: "Targets", Table: c.table})
			if err != nil {
				t.Fatal(err)
			}
			files := e.fake.Files()
			if c.want == "" {
				if len(files) != 0 {
					t.Fatalf("%d files for a table that fits", len(files))
				}
				return
			}
			if len(files) != 1 {
				t.Fatalf("%d files, want the full table", len(files))
			}
			f := files[0]
			if f.Name != "table.tsv" || string(f.Content) != c.want || f.ThreadTS != ref.ID {
				t.Errorf("file %s in thread %s = %q, want %q in %s", f.Name, f.ThreadTS, f.Content, c.want, ref.ID)
			}
			msgs := e.fake.Messages("C1")
			if !strings.Contains(msgs[0].Blocks, "the full table is attached") || strings.Contains(msgs[0].Blocks, long) {
				t.Errorf("message does not say where the cut values went:\n%s", msgs[0].Blocks)
			}
			// Updating the message with the same table does not attach it again.
			if err := e.adapter.Update(context.Background(), ref, bot.Message{Title: "Targets", Table: c.table}); err != nil {
				t.Fatal(err)
			}
			if n := len(e.fake.Files()); n != 1 {
				t.Errorf("%d files after an unchanged update, want 1", n)
			}
		})
	}
}

// A message that already carries a text file (a long result: every row in
// full) keeps it; one with a chart says its cells are cut.
func TestCutTableKeepsExistingAttachment(t *testing.T) {
	long := strings.Repeat("y", 60)
	tbl := &bot.Table{Columns: []string{"Resource"}, Rows: [][]string{{long}}}
	m := withFullTable(bot.Message{Table: tbl, Attachment: &bot.File{Name: "r-1-result.tsv", Content: []byte(long), Type: "text/tab-separated-values"}})
	if m.Attachment.Name != "r-1-result.tsv" || len(m.Context) != 0 {
		t.Errorf("text attachment replaced or noted: %+v", m)
	}
	m = withFullTable(bot.Message{Table: tbl, Attachment: &bot.File{Name: "chart.png", Content: []byte{1}, Type: "image/png"}})
	if m.Attachment.Name != "chart.png" || len(m.Context) != 1 || !strings.Contains(m.Context[0], "cut at 40") {
		t.Errorf("chart message = %+v", m)
	}
}
