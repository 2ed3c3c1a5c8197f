// Package slackfake is a local fake of the parts of Slack that day2bot
// talks to, for tests and the load benchmark: the Web API methods it calls
// (chat.postMessage, chat.update, chat.postEphemeral, users.info, the
// three-step external file upload, apps.connections.open, views.open), response_url
// endpoints, a Socket Mode websocket that speaks Slack's envelopes, and a
// signer for HTTP requests as Slack signs them.
//
// slack-go's slacktest lacks chat.update and the upload routes, and its
// websocket speaks RTM, hence this package. Every recorded call wakes
// waiters, so tests wait for conditions instead of sleeping.
package slackfake

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Message is a message as the fake workspace holds it now: chat.update
// replaces Text and Blocks in place.
type Message struct {
	Channel  string
	TS       string
	ThreadTS string
	Text     string
	Blocks   string // the blocks JSON as sent
	Updates  int
}

// Ephemeral is one message shown to one user only, through a
// response_url or chat.postEphemeral.
type Ephemeral struct {
	Via     string // "response_url" or "chat.postEphemeral"
	URL     string // the response_url, if Via is response_url
	Channel string
	User    string
	Text    string
	Blocks  string
	Type    string // response_type
}

// Call is one Web API request.
type Call struct {
	Method string
	Form   url.Values
	Status int
}

// File is one uploaded file.
type File struct {
	ID       string
	Name     string
	Content  []byte
	Channel  string
	ThreadTS string
	Shared   bool
}

// Server is the fake. Create it with New and Close it when done.
type Server struct {
	Token    string // bot token expected on Web API calls
	AppToken string // app token expected on apps.connections.open

	srv *httptest.Server

	mu         sync.Mutex
	changed    chan struct{} // closed and replaced on every change
	seq        int
	calls      []Call
	messages   []*Message
	ephemerals []Ephemeral
	files      map[string]*File
	users      map[string]string
	limits     map[string][]int // method -> Retry-After seconds of upcoming 429s
	failing    map[string]string
	responses  map[string]int // response_url -> uses
	limited    map[string]int // response_url -> posts refused with 429
	sockets    []*socket
	acks       map[string]bool
	ackBodies  map[string]string
	views      []View
}

// New starts a fake with the given bot token.
func New(token string) *Server {
	s := &Server{
		Token:     token,
		AppToken:  "xapp-fake",
		changed:   make(chan struct{}),
		files:     map[string]*File{},
		users:     map[string]string{},
		limits:    map[string][]int{},
		failing:   map[string]string{},
		responses: map[string]int{},
		limited:   map[string]int{},
		acks:      map[string]bool{},
		ackBodies: map[string]string{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/{method}", s.api)
	mux.HandleFunc("POST /upload/{id}", s.uploadBytes)
	mux.HandleFunc("POST /response/{id}", s.response)
	mux.HandleFunc("GET /socket", s.socket)
	s.srv = httptest.NewServer(mux)
	return s
}

// Close stops the fake and its websockets.
func (s *Server) Close() {
	s.mu.Lock()
	socks := append([]*socket{}, s.sockets...)
	s.mu.Unlock()
	for _, ws := range socks {
		ws.close()
	}
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// APIURL is the Web API base to give the adapter (SLACK_API_URL).
func (s *Server) APIURL() string { return s.srv.URL + "/api/" }

// URL is the server's root URL.
func (s *Server) URL() string { return s.srv.URL }

// ResponseURL mints a response_url such as Slack puts in a command.
func (s *Server) ResponseURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	return fmt.Sprintf("%s/response/r%d", s.srv.URL, s.seq)
}

// AddUser makes users.info know a user.
func (s *Server) AddUser(id, displayName string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[id] = displayName
}

// RateLimit makes the next len(retryAfter) calls of method answer 429
// with the given Retry-After seconds. Method "response_url" limits the
// next posts to any response_url; a refused post does not spend a use.
func (s *Server) RateLimit(method string, retryAfter ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limits[method] = append(s.limits[method], retryAfter...)
}

// FailChannel makes posts into channel fail with Slack error code, e.g.
// "channel_not_found" for a private channel the bot is not in.
func (s *Server) FailChannel(channel, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failing[channel] = code
}

// Changed returns a channel closed at the next recorded change.
func (s *Server) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// Calls returns the Web API calls so far.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call{}, s.calls...)
}

// CallCount counts calls of method, including refused ones.
func (s *Server) CallCount(method string) int {
	n := 0
	for _, c := range s.Calls() {
		if c.Method == method {
			n++
		}
	}
	return n
}

// Messages returns copies of the messages in channel, oldest first
// (every channel when channel is empty).
func (s *Server) Messages(channel string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.messages {
		if channel == "" || m.Channel == channel {
			out = append(out, *m)
		}
	}
	return out
}

// ResponseURLPosts counts the posts to response_url u: those shown
// and those refused with a 429.
func (s *Server) ResponseURLPosts(u string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.responses[u] + s.limited[u]
}

// Ephemerals returns the ephemeral messages so far.
func (s *Server) Ephemerals() []Ephemeral {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Ephemeral{}, s.ephemerals...)
}

// Files returns the uploaded files.
func (s *Server) Files() []File {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []File
	for i := 1; i <= len(s.files); i++ {
		if f, ok := s.files[fmt.Sprintf("F%d", i)]; ok {
			out = append(out, *f)
		}
	}
	return out
}

func (s *Server) api(w http.ResponseWriter, r *http.Request) {
	method := r.PathValue("method")
	if method == "apps.connections.open" {
		s.openConnection(w, r)
		return
	}
	if method == "views.open" {
		s.openView(w, r)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	tok := r.PostForm.Get("token")
	if tok == "" {
		tok = strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.notifyLocked()
	call := Call{Method: method, Form: r.PostForm, Status: http.StatusOK}
	defer func() { s.calls = append(s.calls, call) }()
	if q := s.limits[method]; len(q) > 0 {
		s.limits[method] = q[1:]
		call.Status = http.StatusTooManyRequests
		w.Header().Set("Retry-After", strconv.Itoa(q[0]))
		w.WriteHeader(http.StatusTooManyRequests)
		return
	}
	if tok != s.Token {
		writeJSON(w, map[string]any{"ok": false, "error": "invalid_auth"})
		return
	}
	f := r.PostForm
	switch method {
	case "auth.test":
		writeJSON(w, map[string]any{"ok": true, "user_id": "UBOT", "team_id": "T1"})
	case "chat.postMessage":
		ch := f.Get("channel")
		if code := s.failing[ch]; code != "" {
			writeJSON(w, map[string]any{"ok": false, "error": code})
			return
		}
		m := &Message{Channel: ch, TS: s.nextTSLocked(), ThreadTS: f.Get("thread_ts"), Text: f.Get("text"), Blocks: f.Get("blocks")}
		s.messages = append(s.messages, m)
		writeJSON(w, map[string]any{"ok": true, "channel": ch, "ts": m.TS, "message": map[string]any{"text": m.Text, "ts": m.TS}})
	case "chat.update":
		ch, ts := f.Get("channel"), f.Get("ts")
		for _, m := range s.messages {
			if m.Channel == ch && m.TS == ts {
				m.Text, m.Blocks = f.Get("text"), f.Get("blocks")
				m.Updates++
				writeJSON(w, map[string]any{"ok": true, "channel": ch, "ts": ts, "text": m.Text})
				return
			}
		}
		writeJSON(w, map[string]any{"ok": false, "error": "message_not_found"})
	case "chat.postEphemeral":
		ch := f.Get("channel")
		if code := s.failing[ch]; code != "" {
			writeJSON(w, map[string]any{"ok": false, "error": code})
			return
		}
		s.ephemerals = append(s.ephemerals, Ephemeral{Via: method, Channel: ch, User: f.Get("user"), Text: f.Get("text"), Blocks: f.Get("blocks"), Type: "ephemeral"})
		writeJSON(w, map[string]any{"ok": true, "message_ts": s.nextTSLocked()})
	case "users.info":
		id := f.Get("user")
		name, ok := s.users[id]
		if !ok {
			writeJSON(w, map[string]any{"ok": false, "error": "user_not_found"})
			return
		}
		writeJSON(w, map[string]any{"ok": true, "user": map[string]any{
			"id": id, "name": strings.ToLower(name), "real_name": name,
			"profile": map[string]any{"display_name": name, "real_name": name},
		}})
	case "files.getUploadURLExternal":
		n, _ := strconv.Atoi(f.Get("length"))
		if f.Get("filename") == "" || n <= 0 {
			writeJSON(w, map[string]any{"ok": false, "error": "invalid_arguments"})
			return
		}
		id := fmt.Sprintf("F%d", len(s.files)+1)
		s.files[id] = &File{ID: id, Name: f.Get("filename")}
		writeJSON(w, map[string]any{"ok": true, "upload_url": s.srv.URL + "/upload/" + id, "file_id": id})
	case "files.completeUploadExternal":
		var sums []struct {
			ID    string `json:"id"`
			Title string `json:"title"`
		}
		if err := json.Unmarshal([]byte(f.Get("files")), &sums); err != nil || len(sums) == 0 {
			writeJSON(w, map[string]any{"ok": false, "error": "invalid_arguments"})
			return
		}
		for _, sum := range sums {
			file, ok := s.files[sum.ID]
			if !ok || file.Content == nil {
				writeJSON(w, map[string]any{"ok": false, "error": "file_not_found"})
				return
			}
			file.Channel, file.ThreadTS, file.Shared = f.Get("channel_id"), f.Get("thread_ts"), true
		}
		writeJSON(w, map[string]any{"ok": true, "files": sums})
	default:
		call.Status = http.StatusNotFound
		writeJSON(w, map[string]any{"ok": false, "error": "unknown_method"})
	}
}

func (s *Server) nextTSLocked() string {
	s.seq++
	return fmt.Sprintf("1700000000.%06d", s.seq)
}

func (s *Server) uploadBytes(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	file, _, err := r.FormFile("file")
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	content, err := io.ReadAll(file)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.notifyLocked()
	f, ok := s.files[id]
	if !ok {
		http.Error(w, "no such upload", http.StatusNotFound)
		return
	}
	f.Content = content
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, "OK - "+strconv.Itoa(len(content)))
}

// response is a response_url: five uses, then Slack refuses.
func (s *Server) response(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Text         string          `json:"text"`
		Blocks       json.RawMessage `json:"blocks"`
		ResponseType string          `json:"response_type"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	u := s.srv.URL + r.URL.Path
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.notifyLocked()
	if q := s.limits["response_url"]; len(q) > 0 {
		s.limits["response_url"] = q[1:]
		s.limited[u]++
		w.Header().Set("Retry-After", strconv.Itoa(q[0]))
		w.WriteHeader(http.StatusTooManyRequests)
		return
	}
	s.responses[u]++
	if s.responses[u] > 5 {
		http.Error(w, "used_url", http.StatusNotFound)
		return
	}
	s.ephemerals = append(s.ephemerals, Ephemeral{Via: "response_url", URL: u, Text: body.Text, Blocks: string(body.Blocks), Type: body.ResponseType})
	w.WriteHeader(http.StatusOK)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// Sign returns the headers Slack sends with a request body: the v0
// signature over "v0:timestamp:body" and the timestamp.
func Sign(secret string, at time.Time, body []byte) http.Header {
	ts := strconv.FormatInt(at.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "v0:%s:", ts)
	mac.Write(body)
	h := http.Header{}
	h.Set("X-Slack-Request-Timestamp", ts)
	h.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	return h
}
