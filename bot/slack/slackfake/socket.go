package slackfake

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// socket is one Socket Mode connection.
type socket struct {
	conn *websocket.Conn
	wmu  sync.Mutex // gorilla/websocket allows one writer at a time
	done chan struct{}
	once sync.Once
}

func (ws *socket) write(v any) error {
	ws.wmu.Lock()
	defer ws.wmu.Unlock()
	_ = ws.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return ws.conn.WriteJSON(v)
}

func (ws *socket) close() {
	ws.once.Do(func() {
		close(ws.done)
		ws.wmu.Lock()
		_ = ws.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
		ws.wmu.Unlock()
		_ = ws.conn.Close()
	})
}

// openConnection is apps.connections.open: with the app token it returns
// the URL of this fake's Socket Mode websocket.
func (s *Server) openConnection(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.notifyLocked()
	s.calls = append(s.calls, Call{Method: "apps.connections.open", Status: http.StatusOK})
	if strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ") != s.AppToken {
		writeJSON(w, map[string]any{"ok": false, "error": "invalid_auth"})
		return
	}
	writeJSON(w, map[string]any{"ok": true, "url": "ws" + strings.TrimPrefix(s.srv.URL, "http") + "/socket"})
}

var upgrader = websocket.Upgrader{
	// slack-go sends Origin: https://api.slack.com.
	CheckOrigin: func(*http.Request) bool { return true },
}

func (s *Server) socket(w http.ResponseWriter, r *http.Request) {
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	ws := &socket{conn: conn, done: make(chan struct{})}
	if err := ws.write(map[string]any{
		"type": "hello", "num_connections": 1,
		"connection_info": map[string]any{"app_id": "A1"},
		"debug_info":      map[string]any{"host": "fake"},
	}); err != nil {
		ws.close()
		return
	}
	s.mu.Lock()
	s.sockets = append(s.sockets, ws)
	s.notifyLocked()
	s.mu.Unlock()
	go s.ping(ws)
	for {
		var ack struct {
			EnvelopeID string          `json:"envelope_id"`
			Payload    json.RawMessage `json:"payload"`
		}
		if err := conn.ReadJSON(&ack); err != nil {
			ws.close()
			s.mu.Lock()
			for i, o := range s.sockets {
				if o == ws {
					s.sockets = append(s.sockets[:i], s.sockets[i+1:]...)
					break
				}
			}
			s.notifyLocked()
			s.mu.Unlock()
			return
		}
		s.mu.Lock()
		s.acks[ack.EnvelopeID] = true
		if len(ack.Payload) > 0 {
			s.ackBodies[ack.EnvelopeID] = string(ack.Payload)
		}
		s.notifyLocked()
		s.mu.Unlock()
	}
}

// ping keeps slack-go's dead-connection timer happy, as Slack does.
func (s *Server) ping(ws *socket) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ws.done:
			return
		case <-t.C:
			ws.wmu.Lock()
			err := ws.conn.WriteControl(websocket.PingMessage, []byte("ping"), time.Now().Add(time.Second))
			ws.wmu.Unlock()
			if err != nil {
				return
			}
		}
	}
}

// Sockets is the number of open Socket Mode connections.
func (s *Server) Sockets() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sockets)
}

// Acked reports whether the app acked the envelope.
func (s *Server) Acked(envelopeID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.acks[envelopeID]
}

// SendSlashCommand delivers a slash command over Socket Mode as a
// slash_commands envelope and returns its envelope id.
func (s *Server) SendSlashCommand(form url.Values) (string, error) {
	payload := map[string]string{}
	for k := range form {
		payload[k] = form.Get(k)
	}
	return s.send("slash_commands", payload)
}

// SendInteraction delivers an interaction payload (block_actions) over
// Socket Mode as an interactive envelope and returns its envelope id.
func (s *Server) SendInteraction(payload any) (string, error) {
	return s.send("interactive", payload)
}

func (s *Server) send(typ string, payload any) (string, error) {
	raw, err := json.Marshal(payload)
	if err != nil {
		return "", fmt.Errorf("marshal %s payload: %w", typ, err)
	}
	s.mu.Lock()
	if len(s.sockets) == 0 {
		s.mu.Unlock()
		return "", errors.New("no socket mode connection")
	}
	ws := s.sockets[len(s.sockets)-1]
	s.seq++
	id := fmt.Sprintf("env-%d", s.seq)
	s.mu.Unlock()
	err = ws.write(map[string]any{
		"envelope_id": id, "type": typ, "payload": json.RawMessage(raw),
		"accepts_response_payload": typ == "slash_commands",
	})
	if err != nil {
		return "", fmt.Errorf("send %s envelope: %w", typ, err)
	}
	return id, nil
}

// BlockActions builds a block_actions payload as Slack sends it when
// user clicks the button actionID on message ts in channel.
func BlockActions(user, userName, channel, ts, actionID, responseURL string) map[string]any {
	return map[string]any{
		"type":         "block_actions",
		"team":         map[string]any{"id": "T1"},
		"user":         map[string]any{"id": user, "name": userName},
		"channel":      map[string]any{"id": channel},
		"container":    map[string]any{"type": "message", "message_ts": ts, "channel_id": channel},
		"message":      map[string]any{"ts": ts},
		"response_url": responseURL,
		"trigger_id":   "trigger",
		"actions": []map[string]any{{
			"type": "button", "action_id": actionID, "block_id": "actions",
			"value": actionID, "action_ts": "1700000000.1",
		}},
	}
}
