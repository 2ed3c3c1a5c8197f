package discord

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
)

// fakeDiscord is a local stand-in for Discord: the REST API the adapter
// calls (channel messages, interaction webhooks and callbacks, command
// registration) and the client side that sends signed interactions to
// the adapter's HTTP endpoint, keeping the messages they create.
type fakeDiscord struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	nextID   int
	messages map[string]*fakeMessage // id → message
	original map[string]string       // interaction token → @original message id
	calls    []fakeCall
	commands map[string][]*discordgo.ApplicationCommand // PUT path → body
	limits   map[string]float64                         // "METHOD path-prefix" → retry_after of the next 429
	notify   chan struct{}                              // closed and replaced on every change
	gateway  string                                     // what GET /gateway answers
	buckets  map[string][2]string                       // path prefix → X-RateLimit-Remaining, -Reset-After
}

type fakeMessage struct {
	ID        string
	ChannelID string
	Token     string // interaction token that created it, if any
	Ephemeral bool
	Msg       discordgo.Message // content, embeds, components as sent
	Files     []string
}

type fakeCall struct {
	Method, Path string
	Auth         string
	Body         []byte
}

func newFakeDiscord(t *testing.T) *fakeDiscord {
	f := &fakeDiscord{
		t:        t,
		messages: map[string]*fakeMessage{},
		original: map[string]string{},
		commands: map[string][]*discordgo.ApplicationCommand{},
		limits:   map[string]float64{},
		buckets:  map[string][2]string{},
		notify:   make(chan struct{}),
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// APIURL is what DISCORD_API_URL would be.
func (f *fakeDiscord) APIURL() string { return f.srv.URL + "/api/v10" }

// bucket makes responses for paths under prefix carry rate-limit headers.
func (f *fakeDiscord) bucket(prefix, remaining, resetAfter string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.buckets[prefix] = [2]string{remaining, resetAfter}
}

// limitNext makes the next request matching method and path prefix fail
// with 429 and retry_after seconds.
func (f *fakeDiscord) limitNext(method, prefix string, retryAfter float64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.limits[method+" "+prefix] = retryAfter
}

// bump wakes waitFor.
func (f *fakeDiscord) bump() {
	f.mu.Lock()
	defer f.mu.Unlock()
	close(f.notify)
	f.notify = make(chan struct{})
}

func (f *fakeDiscord) serve(w http.ResponseWriter, r *http.Request) {
	defer f.bump()
	path := strings.TrimPrefix(r.URL.Path, "/api/v10")
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.calls = append(f.calls, fakeCall{Method: r.Method, Path: path, Auth: r.Header.Get("Authorization"), Body: body})
	for prefix, h := range f.buckets {
		if strings.HasPrefix(path, prefix) {
			w.Header().Set("X-RateLimit-Remaining", h[0])
			w.Header().Set("X-RateLimit-Reset-After", h[1])
		}
	}
	for k, after := range f.limits {
		m, prefix, _ := strings.Cut(k, " ")
		if m == r.Method && strings.HasPrefix(path, prefix) {
			delete(f.limits, k)
			f.mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("X-RateLimit-Remaining", "0")
			w.Header().Set("X-RateLimit-Reset-After", "0.001")
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprintf(w, `{"message":"You are being rate limited.","retry_after":%g,"global":false}`, after)
			return
		}
	}
	f.mu.Unlock()

	payload, files, err := decodePayload(r.Header.Get("Content-Type"), body)
	if err != nil {
		f.t.Errorf("fake discord: %s %s: %v", r.Method, path, err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case r.Method == http.MethodGet && path == "/gateway":
		f.mu.Lock()
		writeJSON(w, map[string]string{"url": f.gateway})
		f.mu.Unlock()
	case r.Method == http.MethodPost && len(parts) == 3 && parts[0] == "channels" && parts[2] == "messages":
		f.reply(w, f.create(parts[1], "", false, payload, files))
	case r.Method == http.MethodPatch && len(parts) == 4 && parts[0] == "channels" && parts[2] == "messages":
		f.reply(w, f.edit(parts[3], payload, files))
	case r.Method == http.MethodPut && parts[0] == "applications" && parts[len(parts)-1] == "commands":
		var cmds []*discordgo.ApplicationCommand
		if err := json.Unmarshal(payload, &cmds); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.commands[path] = cmds
		f.mu.Unlock()
		for i, c := range cmds {
			c.ID = strconv.Itoa(900 + i)
		}
		writeJSON(w, cmds)
	case r.Method == http.MethodPost && len(parts) == 4 && parts[0] == "interactions" && parts[3] == "callback":
		resp, err := decodeResponse(payload)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.recordResponse(parts[2], "", "c-gateway", resp)
		w.WriteHeader(http.StatusNoContent)
	case parts[0] == "webhooks" && len(parts) >= 3 && parts[1] == "app1":
		f.webhook(w, r, parts[2:], payload, files)
	default:
		f.t.Errorf("fake discord: unexpected %s %s", r.Method, path)
		http.NotFound(w, r)
	}
}

func (f *fakeDiscord) webhook(w http.ResponseWriter, r *http.Request, parts []string, payload []byte, files []string) {
	token := parts[0]
	if len(parts) == 1 && r.Method == http.MethodPost {
		var p struct {
			Flags discordgo.MessageFlags `json:"flags"`
		}
		_ = json.Unmarshal(payload, &p)
		f.mu.Lock()
		ch := "c-followup"
		if id, ok := f.original[token]; ok {
			ch = f.messages[id].ChannelID
		}
		f.mu.Unlock()
		m := f.create(ch, token, p.Flags&discordgo.MessageFlagsEphemeral != 0, payload, files)
		if r.URL.Query().Get("wait") != "true" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		f.reply(w, m)
		return
	}
	if len(parts) != 3 || parts[1] != "messages" {
		http.NotFound(w, r)
		return
	}
	id := parts[2]
	if id == "@original" {
		f.mu.Lock()
		orig, ok := f.original[token]
		f.mu.Unlock()
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"message":"Unknown Webhook","code":10015}`)
			return
		}
		id = orig
	}
	switch r.Method {
	case http.MethodGet:
		f.reply(w, f.message(id))
	case http.MethodPatch:
		f.reply(w, f.edit(id, payload, files))
	case http.MethodDelete:
		f.mu.Lock()
		delete(f.messages, id)
		delete(f.original, token)
		f.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}
}

func (f *fakeDiscord) create(channel, token string, ephemeral bool, payload []byte, files []string) *fakeMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	m := &fakeMessage{ID: fmt.Sprintf("m%d", f.nextID), ChannelID: channel, Token: token, Ephemeral: ephemeral, Files: files}
	if len(payload) > 0 {
		if err := json.Unmarshal(payload, &m.Msg); err != nil {
			f.t.Errorf("fake discord: message payload: %v", err)
		}
	}
	f.messages[m.ID] = m
	c := *m
	return &c
}

func (f *fakeDiscord) edit(id string, payload []byte, files []string) *fakeMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, ok := f.messages[id]
	if !ok {
		return nil
	}
	var patch discordgo.Message
	if err := json.Unmarshal(payload, &patch); err != nil {
		f.t.Errorf("fake discord: edit payload: %v", err)
	}
	// An edit replaces what it names; the adapter always names all three.
	m.Msg.Content, m.Msg.Embeds, m.Msg.Components = patch.Content, patch.Embeds, patch.Components
	m.Files = files
	c := *m
	return &c
}

// message is a snapshot of message id, nil if there is none. Edits
// replace fields wholesale, so a shallow copy does not race with them.
func (f *fakeDiscord) message(id string) *fakeMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, ok := f.messages[id]
	if !ok {
		return nil
	}
	c := *m
	return &c
}

func (f *fakeDiscord) reply(w http.ResponseWriter, m *fakeMessage) {
	if m == nil {
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"message":"Unknown Message","code":10008}`)
		return
	}
	writeJSON(w, map[string]any{"id": m.ID, "channel_id": m.ChannelID, "content": m.Msg.Content})
}

// recordResponse applies an initial interaction response the way Discord
// does: 4/5 create the interaction's message, 7 edits the clicked one.
func (f *fakeDiscord) recordResponse(token, clicked, channel string, resp *fakeResponse) {
	defer f.bump()
	ephemeral := resp.Data != nil && resp.Data.Flags&discordgo.MessageFlagsEphemeral != 0
	payload := []byte(resp.RawData)
	switch resp.Type {
	case discordgo.InteractionResponseChannelMessageWithSource, discordgo.InteractionResponseDeferredChannelMessageWithSource:
		m := f.create(channel, token, ephemeral, payload, nil)
		f.mu.Lock()
		f.original[token] = m.ID
		f.mu.Unlock()
	case discordgo.InteractionResponseUpdateMessage:
		f.edit(clicked, payload, nil)
		f.mu.Lock()
		f.original[token] = clicked
		f.mu.Unlock()
	case discordgo.InteractionResponseDeferredMessageUpdate:
		f.mu.Lock()
		f.original[token] = clicked
		f.mu.Unlock()
	}
}

// interaction is what the fake sends; it builds the JSON Discord would.
type interaction struct {
	Type    discordgo.InteractionType
	User    string
	Channel string
	Text    string // the command option; the partial for autocomplete
	Focused bool
	Message string // clicked message id
	Button  string // custom_id
	Guild   string // guild_id: "" is g1; dmGuild sends a direct message
	// Inputs are a modal submission's values by input custom_id, in
	// Fields order (Button is the modal's custom_id).
	Inputs map[string]string
	Fields []string
}

// dmGuild as interaction.Guild makes a direct message: no guild_id, and
// the user at the top level instead of a member.
const dmGuild = "(dm)"

func (f *fakeDiscord) payload(ix interaction) (id, token string, body []byte) {
	f.mu.Lock()
	f.nextID++
	id = fmt.Sprintf("i%d", f.nextID)
	f.mu.Unlock()
	token = "tok-" + id
	v := map[string]any{
		"id": id, "application_id": "app1", "type": ix.Type, "token": token, "version": 1,
		"guild_id": "g1", "channel_id": ix.Channel,
		"member": map[string]any{"user": map[string]any{"id": ix.User, "username": "user" + ix.User}},
	}
	switch ix.Guild {
	case "":
	case dmGuild:
		delete(v, "guild_id")
		v["user"] = v["member"].(map[string]any)["user"]
		delete(v, "member")
	default:
		v["guild_id"] = ix.Guild
	}
	switch ix.Type {
	case discordgo.InteractionApplicationCommand, discordgo.InteractionApplicationCommandAutocomplete:
		v["data"] = map[string]any{"id": "900", "name": "day2", "type": 1, "options": []any{
			map[string]any{"name": "command", "type": 3, "value": ix.Text, "focused": ix.Focused},
		}}
	case discordgo.InteractionMessageComponent:
		v["data"] = map[string]any{"custom_id": ix.Button, "component_type": 2}
		v["message"] = map[string]any{"id": ix.Message, "channel_id": ix.Channel}
	case discordgo.InteractionModalSubmit:
		var rows []any
		for _, name := range ix.Fields {
			rows = append(rows, map[string]any{"type": 1, "components": []any{
				map[string]any{"type": 4, "custom_id": name, "value": ix.Inputs[name]},
			}})
		}
		v["data"] = map[string]any{"custom_id": ix.Button, "components": rows}
	}
	body, err := json.Marshal(v)
	if err != nil {
		f.t.Fatal(err)
	}
	return id, token, body
}

// Interact signs the interaction like Discord and sends it to the
// adapter's handler. As on Discord, the response takes effect the moment
// it arrives (the handler flushes it), before the adapter goes on to edit
// or follow up; it is also returned.
func (f *fakeDiscord) Interact(h http.Handler, ix interaction) (*fakeResponse, string) {
	f.t.Helper()
	_, token, body := f.payload(ix)
	var resp *fakeResponse
	sink := &responseSink{header: http.Header{}, onFlush: func(raw []byte) {
		var err error
		if resp, err = decodeResponse(raw); err != nil {
			f.t.Errorf("interaction response %s: %v", raw, err)
			return
		}
		f.recordResponse(token, ix.Message, ix.Channel, resp)
	}}
	h.ServeHTTP(sink, signedRequest(signedHeader(testKey, testNow, body), body))
	sink.Flush()
	if sink.code() != http.StatusOK || resp == nil {
		f.t.Fatalf("interaction: HTTP %d %s", sink.code(), sink.buf.Bytes())
	}
	return resp, token
}

// post sends a request as is and decodes a 200 answer without applying it.
func (f *fakeDiscord) post(h http.Handler, hdr http.Header, body []byte) (int, *fakeResponse) {
	f.t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, signedRequest(hdr, body))
	if rec.Code != http.StatusOK {
		return rec.Code, nil
	}
	resp, err := decodeResponse(rec.Body.Bytes())
	if err != nil {
		f.t.Fatalf("interaction response %s: %v", rec.Body.Bytes(), err)
	}
	return rec.Code, resp
}

func signedRequest(hdr http.Header, body []byte) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/discord/interactions", bytes.NewReader(body))
	for k, v := range hdr {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	return req
}

// responseSink is Discord's end of the HTTP response: on the first flush
// it hands what was written to onFlush.
type responseSink struct {
	header  http.Header
	status  int
	buf     bytes.Buffer
	flushed bool
	onFlush func([]byte)
}

func (s *responseSink) Header() http.Header { return s.header }

func (s *responseSink) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
}

func (s *responseSink) Write(p []byte) (int, error) {
	s.WriteHeader(http.StatusOK)
	return s.buf.Write(p)
}

func (s *responseSink) Flush() {
	if s.flushed || s.code() != http.StatusOK {
		return
	}
	s.flushed = true
	s.onFlush(s.buf.Bytes())
}

func (s *responseSink) code() int {
	if s.status == 0 {
		return http.StatusOK
	}
	return s.status
}

// fakeResponse is an interaction response as Discord reads it. discordgo
// cannot decode its own InteractionResponse (components are interfaces),
// so the data goes through discordgo.Message, which can.
type fakeResponse struct {
	Type    discordgo.InteractionResponseType
	Data    *fakeResponseData
	RawData json.RawMessage
}

type fakeResponseData struct {
	discordgo.Message
	Flags   discordgo.MessageFlags
	Choices []*discordgo.ApplicationCommandOptionChoice
}

func decodeResponse(raw []byte) (*fakeResponse, error) {
	var top struct {
		Type discordgo.InteractionResponseType `json:"type"`
		Data json.RawMessage                   `json:"data"`
	}
	if err := json.Unmarshal(raw, &top); err != nil {
		return nil, err
	}
	resp := &fakeResponse{Type: top.Type, RawData: top.Data}
	if len(top.Data) == 0 || string(top.Data) == "null" {
		return resp, nil
	}
	d := &fakeResponseData{}
	if err := json.Unmarshal(top.Data, &d.Message); err != nil {
		return nil, err
	}
	var extra struct {
		Flags   discordgo.MessageFlags                      `json:"flags"`
		Choices []*discordgo.ApplicationCommandOptionChoice `json:"choices"`
	}
	if err := json.Unmarshal(top.Data, &extra); err != nil {
		return nil, err
	}
	d.Flags, d.Choices = extra.Flags, extra.Choices
	resp.Data = d
	return resp, nil
}

// callsTo lists the recorded requests with this method and path prefix.
func (f *fakeDiscord) callsTo(method, prefix string) []fakeCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []fakeCall
	for _, c := range f.calls {
		if c.Method == method && strings.HasPrefix(c.Path, prefix) {
			out = append(out, c)
		}
	}
	return out
}

// waitFor waits until cond holds, checking after each change to the fake:
// the adapter keeps working in goroutines after it answered.
func (f *fakeDiscord) waitFor(what string, cond func() bool) {
	f.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		f.mu.Lock()
		ch := f.notify
		f.mu.Unlock()
		if cond() {
			return
		}
		select {
		case <-ch:
		case <-timeout:
			f.t.Fatalf("timed out waiting for %s; calls: %s", what, f.describeCalls())
		}
	}
}

func (f *fakeDiscord) describeCalls() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var b strings.Builder
	for _, c := range f.calls {
		fmt.Fprintf(&b, "\n  %s %s %s", c.Method, c.Path, c.Body)
	}
	return b.String()
}

func decodePayload(contentType string, body []byte) ([]byte, []string, error) {
	mt, params, _ := mime.ParseMediaType(contentType)
	if mt != "multipart/form-data" {
		return body, nil, nil
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	var payload []byte
	var files []string
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return payload, files, nil
		}
		if err != nil {
			return nil, nil, err
		}
		data, _ := io.ReadAll(p)
		if p.FormName() == "payload_json" {
			payload = data
		} else {
			files = append(files, fmt.Sprintf("%s:%d", p.FileName(), len(data)))
		}
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
