package shell

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/day2bot/day2bot/bot"
)

// With a directory, attachments are written there and the line names the
// file to open; a name cannot climb out of the directory; two attachments
// of the same name are both kept.
func TestAttachmentsAreSaved(t *testing.T) {
	var out bytes.Buffer
	p := New(&out)
	dir := filepath.Join(t.TempDir(), "attachments")
	p.SaveAttachments(dir)
	ctx := context.Background()
	if _, err := p.Post(ctx, "ops", bot.Message{Title: "no attachment"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("the directory exists before any attachment (%v)", err)
	}
	png := []byte("\x89PNG fake")
	for range 2 {
		if _, err := p.Post(ctx, "ops", bot.Message{Title: "digest", Attachment: &bot.File{Name: "../shop-cpu.png", Content: png}}); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"1-shop-cpu.png", "2-shop-cpu.png"} {
		path := filepath.Join(dir, name)
		got, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(got, png) {
			t.Fatalf("%s: %q, %v", name, got, err)
		}
		if !strings.Contains(out.String(), "📎 ../shop-cpu.png (9 bytes) → "+path) {
			t.Fatalf("output does not name %s:\n%s", path, out.String())
		}
	}
}
