package slackfake

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
)

// View is one modal opened with views.open.
type View struct {
	TriggerID string
	JSON      string // the view as sent
}

// openView serves views.open, which slack-go sends as JSON with the token
// in the Authorization header. Like Slack it needs a trigger_id and a
// modal with a title and blocks.
func (s *Server) openView(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var req struct {
		TriggerID string          `json:"trigger_id"`
		View      json.RawMessage `json:"view"`
	}
	var view struct {
		Type   string            `json:"type"`
		Title  map[string]any    `json:"title"`
		Blocks []json.RawMessage `json:"blocks"`
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.notifyLocked()
	call := Call{Method: "views.open", Status: http.StatusOK}
	defer func() { s.calls = append(s.calls, call) }()
	switch {
	case strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ") != s.Token:
		writeJSON(w, map[string]any{"ok": false, "error": "invalid_auth"})
	case json.Unmarshal(body, &req) != nil || json.Unmarshal(req.View, &view) != nil:
		writeJSON(w, map[string]any{"ok": false, "error": "invalid_json"})
	case req.TriggerID == "":
		writeJSON(w, map[string]any{"ok": false, "error": "invalid_trigger_id"})
	case view.Type != "modal" || view.Title == nil || len(view.Blocks) == 0 || len(view.Blocks) > 100:
		writeJSON(w, map[string]any{"ok": false, "error": "invalid_arguments"})
	default:
		s.views = append(s.views, View{TriggerID: req.TriggerID, JSON: string(req.View)})
		writeJSON(w, map[string]any{"ok": true, "view": map[string]any{"id": "V1", "type": "modal"}})
	}
}

// Views are the modals opened so far.
func (s *Server) Views() []View {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]View(nil), s.views...)
}

// AckPayload is the payload the app sent with its ack of an envelope
// ("" when none): the options of a block_suggestion over Socket Mode.
func (s *Server) AckPayload(envelopeID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ackBodies[envelopeID]
}

// viewOf is v as Slack echoes it in payloads: id, callback_id and
// private_metadata as the app set them.
func viewOf(v View, state map[string]map[string]any) map[string]any {
	var sent map[string]any
	_ = json.Unmarshal([]byte(v.JSON), &sent)
	out := map[string]any{"id": "V1", "type": "modal", "team_id": "T1", "app_id": "A1",
		"callback_id": sent["callback_id"], "private_metadata": sent["private_metadata"],
		"title": sent["title"], "blocks": sent["blocks"], "state": map[string]any{"values": state}}
	return out
}

// BlockSuggestion builds the block_suggestion payload Slack sends to the
// options load URL while user types query into the external select
// actionID (in block blockID) of view v.
func BlockSuggestion(user string, v View, blockID, actionID, query string) map[string]any {
	return map[string]any{
		"type": "block_suggestion", "token": "verification", "api_app_id": "A1",
		"team":      map[string]any{"id": "T1"},
		"user":      map[string]any{"id": user, "name": strings.ToLower(user), "team_id": "T1"},
		"container": map[string]any{"type": "view", "view_id": "V1"},
		"action_id": actionID, "block_id": blockID, "value": query,
		"view": viewOf(v, map[string]map[string]any{}),
	}
}

// ViewSubmission builds the view_submission payload of user submitting v
// with state: block id → action id → the element's state (e.g.
// {"type":"plain_text_input","value":"x"}).
func ViewSubmission(user string, v View, state map[string]map[string]any) map[string]any {
	return map[string]any{
		"type": "view_submission", "token": "verification", "api_app_id": "A1", "trigger_id": "trigger-submit",
		"team": map[string]any{"id": "T1"},
		"user": map[string]any{"id": user, "name": strings.ToLower(user), "team_id": "T1"},
		"view": viewOf(v, state),
	}
}
