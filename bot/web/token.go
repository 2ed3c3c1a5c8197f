package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// A token is what the dashboard hands out instead of a password: a small
// JSON claim and its HMAC-SHA256, both base64url, joined by a dot. Three
// kinds exist and one is never accepted as another: the sign-in link a
// person gets in chat (short-lived), the session cookie it is exchanged for,
// and the one-shot flash cookie that carries the answer of a vote back to the
// page. The key is shared by every replica, so any of them can check a
// token another one signed; nothing is kept server-side.

// Kind says what a token may be used for.
type Kind string

const (
	KindLink    Kind = "link"
	KindSession Kind = "session"
	KindFlash   Kind = "flash"
)

// Claims are what a token says.
type Claims struct {
	Kind     Kind   `json:"k"`
	Platform string `json:"p"`           // "slack", "discord", "shell"
	User     string `json:"u"`           // platform user id
	App      string `json:"a,omitempty"` // the app a link opens
	Expires  int64  `json:"e"`           // unix seconds
	Nonce    string `json:"n"`           // random; a session's CSRF tokens derive from it
	Text     string `json:"t,omitempty"` // a flash's message
}

// Principal is the policy identity the claims are bound to.
func (c Claims) Principal() string { return c.Platform + ":" + c.User }

// maxToken bounds what is decoded: a token is a few hundred bytes, and a
// cookie or query parameter of megabytes is refused before any work.
const maxToken = 4096

// ErrExpired and ErrInvalid are the two ways a token is refused; pages say
// which, since "ask for a new link" helps only the first.
var (
	ErrExpired = errors.New("token expired")
	ErrInvalid = errors.New("token invalid")
)

// b64 decodes what we encode with base64.RawURLEncoding, refusing other
// spellings of the same bytes.
var b64 = base64.RawURLEncoding.Strict()

// signer signs and checks tokens with one key.
type signer struct{ key []byte }

// minKey is the shortest HMAC key accepted: 256 bits.
const minKey = 32

func newSigner(key []byte) (signer, error) {
	if len(key) < minKey {
		return signer{}, fmt.Errorf("dashboard key: %d bytes, need at least %d", len(key), minKey)
	}
	return signer{key: key}, nil
}

func newNonce() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go ≥ 1.24)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s signer) mac(parts ...string) []byte {
	m := hmac.New(sha256.New, s.key)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0}) // parts cannot run into each other
	}
	return m.Sum(nil)
}

// sign returns the token for c.
func (s signer) sign(c Claims) string {
	body, _ := json.Marshal(c) // Claims holds only strings and ints
	p := base64.RawURLEncoding.EncodeToString(body)
	return p + "." + base64.RawURLEncoding.EncodeToString(s.mac("token", p))
}

// verify checks tok's signature, kind and expiry at now.
func (s signer) verify(tok string, kind Kind, now time.Time) (Claims, error) {
	if len(tok) > maxToken {
		return Claims{}, ErrInvalid
	}
	p, sig, ok := strings.Cut(tok, ".")
	if !ok {
		return Claims{}, ErrInvalid
	}
	// Strict: one token has one spelling, so a re-encoded signature is
	// not a second valid token.
	got, err := b64.DecodeString(sig)
	if err != nil || !hmac.Equal(got, s.mac("token", p)) {
		return Claims{}, ErrInvalid
	}
	body, err := b64.DecodeString(p)
	if err != nil {
		return Claims{}, ErrInvalid
	}
	var c Claims
	if err := json.Unmarshal(body, &c); err != nil || c.Kind != kind || c.Platform == "" || c.User == "" {
		return Claims{}, ErrInvalid
	}
	if !now.Before(time.Unix(c.Expires, 0)) {
		return c, ErrExpired
	}
	return c, nil
}

// csrf is the form token of a session: derived from the session's nonce, so
// it needs no storage and changes with every sign-in.
func (s signer) csrf(session Claims) string {
	return base64.RawURLEncoding.EncodeToString(s.mac("csrf", session.Nonce, session.Principal()))
}

// checkCSRF compares a submitted form token with the session's.
func (s signer) checkCSRF(session Claims, tok string) bool {
	got, err := b64.DecodeString(tok)
	if err != nil {
		return false
	}
	return hmac.Equal(got, s.mac("csrf", session.Nonce, session.Principal()))
}
