package web

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/day2bot/day2bot/bot"
	"github.com/day2bot/day2bot/internal/errs"
)

// appView is what renderApp renders.
type appView struct {
	D       bot.Dashboard
	Who     string
	CSRF    string
	Flash   *bot.Message
	Health  *bot.Message
	Pending string // why health is missing, when it is
	Now     time.Time
}

func (s *Server) appPage(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.session(w, r)
	if !ok {
		return
	}
	app := r.PathValue("app")
	d, err := s.opts.Engine.Dashboard(r.Context(), sess.Platform, sess.User, app)
	if err != nil {
		s.engineError(w, r, err)
		return
	}
	v := appView{D: d, Who: sess.Principal(), CSRF: s.sign.csrf(sess), Now: s.now()}
	if ck, err := r.Cookie(flashCookie); err == nil {
		if f, err := s.sign.verify(ck.Value, KindFlash, s.now()); err == nil && f.Principal() == sess.Principal() {
			v.Flash = &bot.Message{Text: f.Text}
		}
		http.SetCookie(w, s.cookie(r, flashCookie, "", -1))
	}
	if s.opts.Digest != nil {
		m, err, ready := s.digest.get(r.Context(), d.App, s.opts.DigestWait)
		switch {
		case !ready:
			v.Pending = "Health is being gathered; reload in a few seconds."
		case err != nil:
			s.log.WarnContext(r.Context(), "dashboard digest", "app", d.App, "err", err)
			v.Pending = "Health could not be gathered: " + userText(err)
		default:
			v.Health = &m
		}
	}
	s.render(w, http.StatusOK, renderApp(v))
}

// vote is an Approve or Deny form. The engine checks the person exactly as
// for a button in chat; whatever it answers is shown on the page they are
// sent back to (post/redirect/get, so a reload never votes twice).
func (s *Server) vote(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.session(w, r)
	if !ok {
		return
	}
	if !s.sign.checkCSRF(sess, r.PostFormValue("csrf")) {
		s.log.WarnContext(r.Context(), "dashboard form refused: bad CSRF token", "principal", sess.Principal(), "remote", r.RemoteAddr)
		s.errorPage(w, http.StatusForbidden, "This form has expired or did not come from this page; reload the page and try again.")
		return
	}
	var approve bool
	switch r.PostFormValue("decision") {
	case "approve":
		approve = true
	case "deny":
	default:
		s.errorPage(w, http.StatusBadRequest, "Choose approve or deny.")
		return
	}
	app, id := r.PathValue("app"), r.PathValue("id")
	rep := &flashReply{}
	s.opts.Engine.Vote(r.Context(), sess.Platform, sess.User, id, approve, rep)
	if text := rep.text(); text != "" {
		f := Claims{Kind: KindFlash, Platform: sess.Platform, User: sess.User, Text: text,
			Expires: s.now().Add(time.Minute).Unix(), Nonce: newNonce()}
		http.SetCookie(w, s.cookie(r, flashCookie, s.sign.sign(f), time.Minute))
	}
	http.Redirect(w, r, "/apps/"+url.PathEscape(app), http.StatusSeeOther)
}

// flashReply collects what the engine answers a vote with.
type flashReply struct {
	mu   sync.Mutex
	msgs []string
}

var _ bot.Responder = (*flashReply)(nil)

func (f *flashReply) add(m bot.Message) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := strings.TrimSpace(strings.Join(nonEmpty(m.Title, m.Text), ": "))
	if t != "" {
		f.msgs = append(f.msgs, t)
	}
}

func (f *flashReply) Ephemeral(_ context.Context, m bot.Message) error { f.add(m); return nil }

// Public is where the engine puts the updated approval message when the
// request was not posted in chat; the page shows the same text.
func (f *flashReply) Public(_ context.Context, m bot.Message) (bot.MessageRef, error) {
	f.add(m)
	return bot.MessageRef{}, nil
}

func (f *flashReply) text() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := strings.Join(f.msgs, " · ")
	if r := []rune(s); len(r) > 500 {
		s = string(r[:500]) + "…"
	}
	return s
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			out = append(out, s)
		}
	}
	return out
}

// engineError renders what Dashboard refused, with the status its kind
// calls for. Not found and not allowed are both a 404 that does not say
// whether the app exists (a person who may not see an app learns nothing
// of it); a passing failure is a 503 that says to try again; anything
// internal is logged and a 500.
func (s *Server) engineError(w http.ResponseWriter, r *http.Request, err error) {
	msg, ok := errs.Render(err)
	if !ok {
		s.log.ErrorContext(r.Context(), "dashboard page", "err", err)
		s.errorPage(w, http.StatusInternalServerError, "The page could not be built; see the bot's logs.")
		return
	}
	code := http.StatusNotFound
	switch errs.KindOf(err) {
	case errs.Invalid:
		code = http.StatusBadRequest
	case errs.Conflict:
		code = http.StatusConflict
	case errs.Transient:
		code = http.StatusServiceUnavailable
	case errs.Internal: // an internal error with a message of its own (an endpoint's answer)
		s.log.ErrorContext(r.Context(), "dashboard page", "err", err)
		code = http.StatusBadGateway
	}
	s.errorPage(w, code, msg)
}

func userText(err error) string { return errs.Text(err, "see the bot's logs") }

func (s *Server) errorPage(w http.ResponseWriter, code int, msg string) {
	s.render(w, code, renderError(code, msg))
}

// render writes a whole page.
func (s *Server) render(w http.ResponseWriter, code int, page string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	_, _ = io.WriteString(w, page)
}
