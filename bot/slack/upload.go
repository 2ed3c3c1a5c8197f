package slack

import (
	"bytes"
	"context"
	"fmt"

	"github.com/slack-go/slack"

	"github.com/day2bot/day2bot/bot"
)

// upload attaches f in the thread of threadTS with Slack's external upload
// flow: files.getUploadURLExternal, a POST of the bytes to the URL it
// returns, files.completeUploadExternal to share it (files.upload is gone).
// slack-go's UploadFileContext runs the three steps; it goes through the
// channel's queue because sharing posts a message.
func (a *Adapter) upload(ctx context.Context, channel, threadTS string, f bot.File) error {
	name := f.Name
	if name == "" {
		name = "output.txt"
	}
	err := a.out.do(ctx, channel, func(ctx context.Context) error {
		_, err := a.api.UploadFileContext(ctx, slack.UploadFileParameters{
			Reader:          bytes.NewReader(f.Content),
			FileSize:        len(f.Content),
			Filename:        name,
			Title:           name,
			Channel:         channel,
			ThreadTimestamp: threadTS,
		})
		return a.apiErr("files.upload", err)
	})
	if err != nil {
		return fmt.Errorf("upload %s to slack %s: %w", name, channel, err)
	}
	return nil
}
