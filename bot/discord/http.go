package discord

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/bwmarrin/discordgo"

	"github.com/day2bot/day2bot/internal/bodybudget"
	"github.com/day2bot/day2bot/tasks"
)

// HTTPHandler serves POST /discord/interactions (the application's
// Interactions Endpoint URL). The body is size-limited, then verified
// (Ed25519 over timestamp+body against Config.PublicKey, timestamp within
// 5 minutes) before it is parsed; failures get 401 and a log line.
func (a *Adapter) HTTPHandler(e Engine) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		raw, done, err := bodybudget.Read(w, r, maxBodyBytes)
		defer done()
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				a.log.WarnContext(r.Context(), "discord interaction refused: body too large", "remote", r.RemoteAddr)
				http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, "read body", http.StatusBadRequest)
			return
		}
		if err := verify(a.cfg.PublicKey, a.now(), r.Header, raw); err != nil {
			a.log.WarnContext(r.Context(), "discord interaction refused", "err", err, "remote", r.RemoteAddr)
			http.Error(w, "invalid request signature", http.StatusUnauthorized)
			return
		}
		// Verified: keep a copy (an interaction is a few KiB), the pooled
		// buffer goes back.
		body := bytes.Clone(raw)
		ix, err := parseInteraction(body)
		if err != nil {
			a.log.WarnContext(r.Context(), "discord interaction unreadable", "err", err)
			http.Error(w, "bad interaction", http.StatusBadRequest)
			return
		}
		// A verified interaction is served once: a captured one posted
		// again within its five minutes is refused, across restarts too.
		first, err := a.replay.SeenOnce(r.Context(), "discord:"+ix.ID, replayUntil(r.Header, a.now()))
		if err != nil {
			a.log.ErrorContext(r.Context(), "discord interaction refused: replay memory", "err", err)
			http.Error(w, "try again", http.StatusServiceUnavailable)
			return
		}
		if !first {
			a.log.WarnContext(r.Context(), "discord interaction refused: replayed", "interaction", tasks.QuoteInput(ix.ID), "remote", r.RemoteAddr)
			http.Error(w, "invalid request signature", http.StatusUnauthorized)
			return
		}
		a.dispatch(r.Context(), e, ix, func(resp *discordgo.InteractionResponse) error {
			w.Header().Set("Content-Type", "application/json")
			if err := json.NewEncoder(w).Encode(resp); err != nil {
				return err
			}
			// Get the answer on its way now: a responder may next ask
			// Discord for the message this response creates.
			if f, ok := w.(http.Flusher); ok {
				f.Flush()
			}
			return nil
		})
	})
}

// parseInteraction decodes a verified body. Verified does not mean well
// formed: the data's shape is checked again where it is used.
func parseInteraction(body []byte) (*discordgo.Interaction, error) {
	var ix discordgo.Interaction
	if err := json.Unmarshal(body, &ix); err != nil {
		return nil, err
	}
	if ix.ID == "" || ix.Type == 0 {
		return nil, errors.New("interaction without id or type")
	}
	return &ix, nil
}
