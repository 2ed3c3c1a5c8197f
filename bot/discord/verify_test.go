package discord

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
)

// testKey is a fixed Ed25519 key so fuzz seeds stay meaningful.
var testKey = ed25519.NewKeyFromSeed([]byte("day2bot-discord-test-seed-32byte"))

var testNow = time.Date(2026, 11, 25, 22, 0, 0, 0, time.UTC)

func signedHeader(priv ed25519.PrivateKey, ts time.Time, body []byte) http.Header {
	stamp := strconv.FormatInt(ts.Unix(), 10)
	sig := ed25519.Sign(priv, append([]byte(stamp), body...))
	h := http.Header{}
	h.Set("X-Signature-Ed25519", hex.EncodeToString(sig))
	h.Set("X-Signature-Timestamp", stamp)
	return h
}

func TestVerify(t *testing.T) {
	pub := testKey.Public().(ed25519.PublicKey)
	_, other, _ := ed25519.GenerateKey(nil)
	body := []byte(`{"type":1,"id":"1"}`)
	tampered := func(h http.Header) http.Header {
		sig, _ := hex.DecodeString(h.Get("X-Signature-Ed25519"))
		sig[0] ^= 1
		h.Set("X-Signature-Ed25519", hex.EncodeToString(sig))
		return h
	}
	cases := []struct {
		name   string
		header http.Header
		body   []byte
		ok     bool
	}{
		{"valid", signedHeader(testKey, testNow, body), body, true},
		{"valid 4m59s old", signedHeader(testKey, testNow.Add(-4*time.Minute-59*time.Second), body), body, true},
		{"valid 4m in the future", signedHeader(testKey, testNow.Add(4*time.Minute), body), body, true},
		{"stale 6m", signedHeader(testKey, testNow.Add(-6*time.Minute), body), body, false},
		{"future 6m", signedHeader(testKey, testNow.Add(6*time.Minute), body), body, false},
		{"other key", signedHeader(other, testNow, body), body, false},
		{"bit flipped signature", tampered(signedHeader(testKey, testNow, body)), body, false},
		{"body changed", signedHeader(testKey, testNow, body), []byte(`{"type":2,"id":"1"}`), false},
		{"no headers", http.Header{}, body, false},
		{"signature not hex", http.Header{"X-Signature-Ed25519": {"zz"}, "X-Signature-Timestamp": {"1"}}, body, false},
		{"short signature", http.Header{"X-Signature-Ed25519": {"abcd"}, "X-Signature-Timestamp": {"1"}}, body, false},
		{"timestamp not a number", func() http.Header {
			h := signedHeader(testKey, testNow, body)
			h.Set("X-Signature-Timestamp", "yesterday")
			return h
		}(), body, false},
		{"huge timestamp", func() http.Header {
			h := signedHeader(testKey, testNow, body)
			h.Set("X-Signature-Timestamp", "-9223372036854775808")
			return h
		}(), body, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := verify(pub, testNow, tc.header, tc.body)
			if tc.ok && err != nil {
				t.Fatalf("verify: %v", err)
			}
			if !tc.ok && !errors.Is(err, errUnverified) {
				t.Fatalf("verify = %v, want errUnverified", err)
			}
		})
	}
}

func TestParsePublicKey(t *testing.T) {
	pub := testKey.Public().(ed25519.PublicKey)
	got, err := ParsePublicKey(hex.EncodeToString(pub))
	if err != nil || !got.Equal(pub) {
		t.Fatalf("ParsePublicKey = %x, %v", got, err)
	}
	for _, bad := range []string{"", "zz", hex.EncodeToString(pub[:31])} {
		if _, err := ParsePublicKey(bad); err == nil {
			t.Errorf("ParsePublicKey(%q) accepted", bad)
		}
	}
}

// FuzzVerify: arbitrary headers and bodies never panic, and nothing but a
// correct signature over a fresh timestamp passes.
func FuzzVerify(f *testing.F) {
	pub := testKey.Public().(ed25519.PublicKey)
	body := []byte(`{"type":1}`)
	h := signedHeader(testKey, testNow, body)
	f.Add(h.Get("X-Signature-Ed25519"), h.Get("X-Signature-Timestamp"), body)
	f.Add("", "", []byte{})
	f.Add("00", "99999999999999999999", []byte("x"))
	f.Fuzz(func(t *testing.T, sig, ts string, body []byte) {
		hdr := http.Header{}
		hdr.Set("X-Signature-Ed25519", sig)
		hdr.Set("X-Signature-Timestamp", ts)
		err := verify(pub, testNow, hdr, body)
		if err != nil {
			return
		}
		// Accepted: it must really be our signature over a fresh stamp.
		raw, _ := hex.DecodeString(sig)
		sec, perr := strconv.ParseInt(ts, 10, 64)
		if perr != nil || !ed25519.Verify(pub, append([]byte(ts), body...), raw) {
			t.Fatalf("accepted a bad signature: sig=%q ts=%q", sig, ts)
		}
		if d := testNow.Unix() - sec; d > 300 || d < -300 {
			t.Fatalf("accepted stale timestamp %d", sec)
		}
	})
}

// FuzzInteraction: a verified but arbitrary body never panics the parser
// or the conversion into commands, actions and completions.
func FuzzInteraction(f *testing.F) {
	for _, s := range []string{
		`{"id":"1","type":1}`,
		`{"id":"1","type":2,"data":{"name":"day2","options":[{"name":"command","type":3,"value":"shop restart-web"}]},"member":{"user":{"id":"9"}}}`,
		`{"id":"1","type":2,"data":{"name":"day2","options":[{"name":"command","type":3,"value":7}]}}`,
		`{"id":"1","type":3,"data":{"custom_id":"ap:1:approve","component_type":2},"message":{"id":"5"},"user":{"id":"9"}}`,
		`{"id":"1","type":4,"data":{"options":[{"name":"command","value":"sh","focused":true}]}}`,
		`{"id":"1","type":3,"data":null}`,
		`{"id":"1","type":2,"data":{"options":[null]}}`,
		`{"id":"1","type":5,"data":{"custom_id":"day2-form:shop:restart-web","components":[{"type":1,"components":[{"type":4,"custom_id":"batch","value":"2 \"x"}]}]},"member":{"user":{"id":"9"}}}`,
		`{"id":"1","type":5,"data":{"custom_id":"day2-form::","components":[{"type":1,"components":[{"type":2,"custom_id":"b"}]}]},"user":{"id":"9"}}`,
		`{"id":"1","type":5,"data":{"custom_id":"x","components":[{"type":4}]},"user":{"id":"9"}}`,
	} {
		f.Add([]byte(s))
	}
	// DMs allowed, so the seeds (no guild_id) reach the conversion; the
	// refusals of guilds not listed are fuzzed too.
	a := newTestAdapter(f, "http://127.0.0.1:1/api/v10", func(c *Config) {
		c.DMs = true
		c.Guilds = []string{"g1"}
		c.Logger = slog.New(slog.DiscardHandler)
	})
	f.Add([]byte(`{"id":"1","type":2,"guild_id":"g2","data":{"name":"day2"},"member":{"user":{"id":"9"}}}`))
	e := &echoEngine{}
	f.Fuzz(func(t *testing.T, body []byte) {
		ix, err := parseInteraction(body)
		if err != nil {
			return
		}
		var got []*discordgo.InteractionResponse
		a.dispatch(context.Background(), e, ix, func(r *discordgo.InteractionResponse) error {
			got = append(got, r)
			return nil
		})
		if len(got) != 1 {
			t.Fatalf("%d responses to %s, want 1", len(got), body)
		}
		switch got[0].Type {
		case discordgo.InteractionResponsePong, discordgo.InteractionResponseChannelMessageWithSource,
			discordgo.InteractionApplicationCommandAutocompleteResult:
		default:
			t.Fatalf("response type %d to %s", got[0].Type, body)
		}
	})
}
