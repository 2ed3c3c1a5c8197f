package policies

import (
	"fmt"
	"strings"
)

// subject is a compiled "who" of a rule or an approver.
type subject struct {
	kind subjectKind
	name string // user principal/handle or group name
}

type subjectKind uint8

const (
	subjectUser subjectKind = iota + 1
	subjectGroup
	subjectOwner
	subjectAnyone
)

// parseSubject parses "user:slack:U123", "user:carol", "group:ops", "owner"
// or "*".
func parseSubject(s string) (subject, error) {
	switch {
	case s == "*":
		return subject{kind: subjectAnyone}, nil
	case s == "owner":
		return subject{kind: subjectOwner}, nil
	}
	if name, ok := strings.CutPrefix(s, "user:"); ok {
		if err := checkIdentity(name); err != nil {
			return subject{}, err
		}
		return subject{kind: subjectUser, name: name}, nil
	}
	if name, ok := strings.CutPrefix(s, "group:"); ok {
		if !validName(name) {
			return subject{}, fmt.Errorf("bad group name %q (lowercase letters, digits, '-', '_', '.')", name)
		}
		return subject{kind: subjectGroup, name: name}, nil
	}
	return subject{}, fmt.Errorf("bad subject %q: want user:NAME, group:NAME, owner or *", s)
}

// checkIdentity accepts a handle ("carol") or a principal
// ("slack:U123", "shell:alice").
func checkIdentity(s string) error {
	if s == "" {
		return fmt.Errorf("empty user")
	}
	if platform, id, ok := strings.Cut(s, ":"); ok {
		if !validName(platform) || id == "" || strings.ContainsAny(id, " \t\r\n") {
			return fmt.Errorf("bad principal %q: want PLATFORM:ID such as slack:U123", s)
		}
		return nil
	}
	if !ValidHandle(s) {
		return fmt.Errorf("bad handle %q: lowercase letters, digits and '-', starting with a letter or digit", s)
	}
	return nil
}

// ValidHandle reports whether s is a handle: a lowercase, DNS-label-safe
// name (1–63 of a-z, 0-9, '-', not starting or ending with '-'), so it can be
// spliced into bucket and resource names by the {user} placeholder.
func ValidHandle(s string) bool {
	if len(s) == 0 || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// validName is the syntax for group names and platform prefixes.
func validName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// matches reports whether the subject covers the caller.
func (s *subject) matches(req *Request) bool {
	switch s.kind {
	case subjectAnyone:
		return true
	case subjectUser:
		return s.name == req.Principal || (req.Handle != "" && s.name == req.Handle)
	case subjectGroup:
		for _, g := range req.Groups {
			if g == s.name {
				return true
			}
		}
	case subjectOwner:
		for _, o := range req.Owners {
			if o != "" && (o == req.Principal || o == req.Handle) {
				return true
			}
		}
	}
	return false
}
