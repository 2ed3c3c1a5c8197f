package awsclient

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// STS accepts RoleSessionName and SourceIdentity only as 2..64 characters
// of [A-Za-z0-9_+=,.@-]. Chat principals ("slack:U123", "discord:1234",
// "day2bot:scheduler") are mapped into that alphabet so CloudTrail shows
// who asked:
//   - ':' becomes '.' ("slack:U123" → "slack.U123"), the readable common case;
//   - '=' and every other byte outside the alphabet become "=XX" (hex), so
//     distinct principals stay distinct;
//   - longer than 64: the first 55 characters, '-', and 8 hex digits of the
//     principal's SHA-256, still distinct and still recognisable;
//   - shorter than 2: padded with '_'.
const (
	identityMin = 2
	identityMax = 64
)

// EncodeIdentity maps a principal to a valid STS session name and source
// identity. Only the empty principal is refused: every run has someone (or
// something) that asked.
func EncodeIdentity(principal string) (string, error) {
	if principal == "" {
		return "", errors.New("encode identity: empty principal")
	}
	var b strings.Builder
	for i := 0; i < len(principal); i++ {
		c := principal[i]
		switch {
		case c == ':':
			b.WriteByte('.')
		case c != '=' && identityByte(c):
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "=%02X", c)
		}
	}
	s := b.String()
	if len(s) > identityMax {
		sum := sha256.Sum256([]byte(principal))
		s = s[:identityMax-9] + "-" + hex.EncodeToString(sum[:4])
	}
	for len(s) < identityMin {
		s += "_"
	}
	return s, nil
}

// ValidateIdentity reports whether s is acceptable to STS as a session name
// or source identity.
func ValidateIdentity(s string) error {
	if len(s) < identityMin || len(s) > identityMax {
		return fmt.Errorf("validate identity %q: length %d, want %d..%d", s, len(s), identityMin, identityMax)
	}
	for i := 0; i < len(s); i++ {
		if !identityByte(s[i]) {
			return fmt.Errorf("validate identity %q: character %q not allowed", s, s[i])
		}
	}
	return nil
}

func identityByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("_+=,.@-", c) >= 0
}
