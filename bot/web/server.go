// Package web serves one page per app — the digest, runs, pending
// approvals, schedules and audit of an app — to people who asked for it in
// chat. It is an adapter like bot/slack: it knows HTTP and HTML, the engine
// knows what a person may see and do, and every vote goes through the same
// engine path as a button in chat.
//
// Sign-in needs no password store: `/day2 dashboard APP` answers privately
// with a signed link bound to the person and expiring in minutes (Link); the
// link is exchanged for a session cookie (HttpOnly, SameSite=Lax, Secure
// over TLS) and the page is redirected to a URL without the token, so the
// token is not left in history or a Referer. Every form carries a CSRF token
// derived from the session. Pages are server-rendered (render.go: html/template's
// escaping without its reflection) and work without JavaScript.
package web

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/day2bot/day2bot/bot"
)

// Engine is what the dashboard needs of bot.Engine.
type Engine interface {
	// Dashboard is app's page as the person sees it; a user error when
	// they may not see it or it does not exist.
	Dashboard(ctx context.Context, platform, user, app string) (bot.Dashboard, error)
	// Vote approves or denies an approval as that person, through the same
	// checks as a button in chat; the answer goes to reply.
	Vote(ctx context.Context, platform, user, approval string, approve bool, reply bot.Responder)
}

var _ Engine = (*bot.Engine)(nil)

// Options configure a Server. Engine and Links are required.
type Options struct {
	Engine Engine
	// Links signs and checks sign-in links, sessions and form tokens; the
	// engine hands out its links for `dashboard APP`.
	Links *Links
	// Digest builds an app's health digest (the same builder as `digest
	// APP`); nil leaves health off the page. It is cached per app for
	// DigestTTL (default 5m), so a page costs AWS calls at most that often.
	Digest    func(ctx context.Context, app string) (bot.Message, error)
	DigestTTL time.Duration
	// DigestWait bounds how long a page waits for a digest being built
	// (default 2s); past it the page says health is on its way.
	DigestWait time.Duration
	// SessionTTL is how long a session lasts (default 8h).
	SessionTTL time.Duration
	Logger     *slog.Logger
}

// Links makes the sign-in links of `dashboard APP`. It is built before the
// engine (which hands links out) and shared with the Server (which takes
// them back).
type Links struct {
	sign signer
	base *url.URL
	ttl  time.Duration
	now  func() time.Time
}

// NewLinks checks the key (at least 32 bytes, the same on every replica)
// and the base URL people reach the dashboard at, e.g.
// "https://day2bot.example.com". ttl is how long a link works (default
// 15m); clock is nil for time.Now.
func NewLinks(key []byte, baseURL string, ttl time.Duration, clock func() time.Time) (*Links, error) {
	sg, err := newSigner(key)
	if err != nil {
		return nil, fmt.Errorf("new dashboard links: %w", err)
	}
	base, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" || base.Path != "" || base.RawQuery != "" {
		return nil, fmt.Errorf("new dashboard links: base URL %q must be http(s)://host[:port] (the dashboard is served at the root)", baseURL)
	}
	if ttl <= 0 {
		ttl = 15 * time.Minute
	}
	if clock == nil {
		clock = time.Now
	}
	return &Links{sign: sg, base: base, ttl: ttl, now: clock}, nil
}

// Link is the sign-in URL for a person and an app, and how long it works:
// what `/day2 dashboard APP` answers with (bot.Options.DashboardLink).
func (l *Links) Link(platform, user, app string) (string, time.Duration) {
	tok := l.sign.sign(Claims{Kind: KindLink, Platform: platform, User: user, App: app,
		Expires: l.now().Add(l.ttl).Unix(), Nonce: newNonce()})
	return l.base.String() + "/login?t=" + url.QueryEscape(tok), l.ttl
}

// Server is the dashboard's HTTP side.
type Server struct {
	opts   Options
	sign   signer
	base   *url.URL
	now    func() time.Time
	log    *slog.Logger
	digest digestCache
}

//go:embed templates/*.css
var files embed.FS

// cookie names; the session is scoped to the dashboard's paths.
const (
	sessionCookie = "day2bot_session"
	flashCookie   = "day2bot_flash"
)

// New checks opts and builds the server.
func New(opts Options) (*Server, error) {
	if opts.Engine == nil {
		return nil, errors.New("new dashboard: no engine")
	}
	if opts.Links == nil {
		return nil, errors.New("new dashboard: no links")
	}
	if opts.DigestTTL <= 0 {
		opts.DigestTTL = 5 * time.Minute
	}
	if opts.DigestWait <= 0 {
		opts.DigestWait = 2 * time.Second
	}
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = 8 * time.Hour
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	l := opts.Links
	s := &Server{opts: opts, sign: l.sign, base: l.base, now: l.now, log: opts.Logger}
	s.digest = digestCache{build: opts.Digest, ttl: opts.DigestTTL, now: l.now, entries: map[string]*digestEntry{}}
	return s, nil
}

// Handler routes the dashboard's paths. Mount it at the server's root:
// GET /login, GET /apps/{app}, POST /apps/{app}/approvals/{id}, POST /logout,
// GET /static/day2bot.css.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", s.login)
	mux.HandleFunc("POST /logout", s.logout)
	mux.HandleFunc("GET /apps/{app}", s.appPage)
	mux.HandleFunc("POST /apps/{app}/approvals/{id}", s.vote)
	mux.HandleFunc("GET /static/day2bot.css", s.css)
	return secureHeaders(http.MaxBytesHandler(mux, 64<<10))
}

// secureHeaders keeps the page from being framed, sniffed, or leaking its
// URL; the CSP allows only our stylesheet and inline chart images.
func secureHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Cache-Control", "no-store")
		h.ServeHTTP(w, r)
	})
}

func (s *Server) css(w http.ResponseWriter, r *http.Request) {
	b, err := files.ReadFile("templates/day2bot.css")
	if err != nil {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "max-age=3600")
	_, _ = w.Write(b)
}

// login exchanges a link for a session and redirects to the app's page.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	c, err := s.sign.verify(r.URL.Query().Get("t"), KindLink, s.now())
	if err != nil {
		msg := "This sign-in link is not valid. Ask for a new one with /day2 dashboard APP."
		if errors.Is(err, ErrExpired) {
			msg = "This sign-in link has expired. Ask for a new one with /day2 dashboard " + c.App + "."
		}
		s.log.InfoContext(r.Context(), "dashboard sign-in refused", "reason", err.Error(), "remote", r.RemoteAddr)
		s.errorPage(w, http.StatusForbidden, msg)
		return
	}
	sess := Claims{Kind: KindSession, Platform: c.Platform, User: c.User,
		Expires: s.now().Add(s.opts.SessionTTL).Unix(), Nonce: newNonce()}
	http.SetCookie(w, s.cookie(r, sessionCookie, s.sign.sign(sess), s.opts.SessionTTL))
	s.log.InfoContext(r.Context(), "dashboard sign-in", "principal", c.Principal(), "app", c.App)
	http.Redirect(w, r, "/apps/"+url.PathEscape(c.App), http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.session(w, r)
	if !ok {
		return
	}
	if !s.sign.checkCSRF(sess, r.PostFormValue("csrf")) {
		s.errorPage(w, http.StatusForbidden, "This form has expired; reload the page and try again.")
		return
	}
	http.SetCookie(w, s.cookie(r, sessionCookie, "", -1))
	s.errorPage(w, http.StatusOK, "Signed out.")
}

// cookie builds a cookie the browser sends only to us, never to scripts,
// and only over TLS when we are served over TLS. A negative ttl deletes it.
func (s *Server) cookie(r *http.Request, name, value string, ttl time.Duration) *http.Cookie {
	c := &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: r.TLS != nil || s.base.Scheme == "https"}
	if ttl < 0 {
		c.MaxAge = -1
	} else {
		c.MaxAge = int(ttl / time.Second)
	}
	return c
}

// session is the signed-in person, or an error page already written.
func (s *Server) session(w http.ResponseWriter, r *http.Request) (Claims, bool) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil {
		s.errorPage(w, http.StatusUnauthorized, "Sign in with the link from /day2 dashboard APP in chat.")
		return Claims{}, false
	}
	c, err := s.sign.verify(ck.Value, KindSession, s.now())
	if err != nil {
		s.errorPage(w, http.StatusUnauthorized, "Your session has ended. Ask for a new link with /day2 dashboard APP.")
		return Claims{}, false
	}
	return c, true
}

// digestCache keeps each app's digest for a while and builds it once for
// concurrent pages, so the page's AWS cost is the digest's, at most once per
// ttl. A page waits a little for a build; past that it renders without.
type digestCache struct {
	build func(ctx context.Context, app string) (bot.Message, error)
	ttl   time.Duration
	now   func() time.Time

	mu      sync.Mutex
	entries map[string]*digestEntry
}

type digestEntry struct {
	done  chan struct{}
	msg   bot.Message
	err   error
	built time.Time
}

// get returns app's digest and whether it is ready within wait.
func (d *digestCache) get(ctx context.Context, app string, wait time.Duration) (bot.Message, error, bool) {
	if d.build == nil {
		return bot.Message{}, nil, false
	}
	d.mu.Lock()
	e := d.entries[app]
	if e != nil {
		select {
		case <-e.done:
			if d.now().Sub(e.built) > d.ttl {
				e = nil
			}
		default:
		}
	}
	if e == nil {
		e = &digestEntry{done: make(chan struct{})}
		d.entries[app] = e
		go func() {
			// Built on its own context: a page that gives up waiting
			// still leaves a digest for the next one.
			bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			defer cancel()
			msg, err := d.build(bctx, app)
			d.mu.Lock()
			e.msg, e.err, e.built = msg, err, d.now()
			if err != nil {
				e.built = time.Time{} // failed builds are retried by the next page
			}
			d.mu.Unlock()
			close(e.done)
		}()
	}
	d.mu.Unlock()
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-e.done:
		d.mu.Lock()
		defer d.mu.Unlock()
		return e.msg, e.err, true
	case <-t.C:
		return bot.Message{}, nil, false
	case <-ctx.Done():
		return bot.Message{}, ctx.Err(), false
	}
}
