package discord

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/day2bot/day2bot/internal/replay"
)

// maxBodyBytes bounds an interaction body before anything reads it; real
// interactions are a few kilobytes.
const maxBodyBytes = 64 << 10

// maxSkew is how far an interaction's timestamp may be from our clock.
// discordgo.VerifyInteraction checks only the signature, so a captured
// request could be replayed forever; the freshness check closes that.
const maxSkew = 5 * time.Minute

// errUnverified is every reason a request is refused with 401.
var errUnverified = errors.New("interaction not verified")

// verify checks Discord's Ed25519 signature over timestamp+body and that
// the timestamp (unix seconds) is within maxSkew of now.
func verify(pub ed25519.PublicKey, now time.Time, header http.Header, body []byte) error {
	sigHex := header.Get("X-Signature-Ed25519")
	ts := header.Get("X-Signature-Timestamp")
	if sigHex == "" || ts == "" {
		return fmt.Errorf("%w: missing signature headers", errUnverified)
	}
	sig, err := hex.DecodeString(sigHex)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return fmt.Errorf("%w: malformed signature", errUnverified)
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: malformed timestamp %.20q", errUnverified, ts)
	}
	// Compare in seconds without subtracting the untrusted value, which
	// could overflow.
	skew := int64(maxSkew / time.Second)
	if n := now.Unix(); sec < n-skew || sec > n+skew {
		return fmt.Errorf("%w: timestamp %d is more than %v from now (%d)", errUnverified, sec, maxSkew, n)
	}
	if len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("%w: no public key configured", errUnverified)
	}
	msg := make([]byte, 0, len(ts)+len(body))
	msg = append(append(msg, ts...), body...)
	if !ed25519.Verify(pub, msg, sig) {
		return fmt.Errorf("%w: bad signature", errUnverified)
	}
	return nil
}

// ReplayMemory remembers the interactions already served. The store
// implements it, so a restart does not forget; without one the adapter
// keeps the memory in process (internal/replay).
type ReplayMemory interface {
	// SeenOnce records key until the given time and reports whether it
	// was new.
	SeenOnce(ctx context.Context, key string, until time.Time) (first bool, err error)
}

var _ ReplayMemory = (*replay.Memory)(nil)

// replayUntil is when a verified request's timestamp stops passing the
// freshness check; a second more covers rounding.
func replayUntil(header http.Header, now time.Time) time.Time {
	sec, err := strconv.ParseInt(header.Get("X-Signature-Timestamp"), 10, 64)
	if err != nil {
		return now.Add(2 * maxSkew) // not reached: verify parsed it
	}
	return time.Unix(sec, 0).Add(maxSkew + time.Second)
}

// ParsePublicKey decodes DISCORD_PUBLIC_KEY (hex, as the developer portal
// shows it).
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("parse discord public key: want %d hex-encoded bytes", ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(b), nil
}
