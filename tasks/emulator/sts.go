package emulator

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// STS AssumeRole, answered by the front: kumo ignores SourceIdentity and
// validates nothing. This one checks what real STS checks (role ARN,
// session name and source identity character set and length, duration)
// and remembers each session, so tests can map the access key a later
// request was signed with back to the role, session name and source
// identity it was issued for.

// AssumedSession is one AssumeRole call the emulator granted.
type AssumedSession struct {
	RoleARN, SessionName, SourceIdentity, ExternalID string
	AccessKeyID                                      string
	Expires                                          time.Time
}

type stsState struct {
	now func() time.Time

	mu       sync.Mutex
	sessions map[string]AssumedSession // by access key id
}

// stsNameRe is what STS accepts in RoleSessionName and SourceIdentity.
var stsNameRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[\w+=,.@-]{2,64}$`) })

var stsRoleARNRe = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$`)
})

func (s *Server) registerSTS() {
	st := &stsState{now: time.Now, sessions: map[string]AssumedSession{}}
	s.sts = st
	s.Handle("sts:AssumeRole", st.assumeRole)
}

// SessionFor returns the session whose credentials carry accessKeyID.
func (s *Server) SessionFor(accessKeyID string) (AssumedSession, bool) {
	s.sts.mu.Lock()
	defer s.sts.mu.Unlock()
	as, ok := s.sts.sessions[accessKeyID]
	return as, ok
}

// SigningKey returns the access key id a recorded request was signed with.
func SigningKey(r Request) string {
	auth := r.Header.Get("Authorization")
	i := strings.Index(auth, "Credential=")
	if i < 0 {
		return ""
	}
	key, _, _ := strings.Cut(auth[i+len("Credential="):], "/")
	return key
}

func (st *stsState) assumeRole(w http.ResponseWriter, _ *http.Request, body []byte) {
	q, ok := queryForm(w, body)
	if !ok {
		return
	}
	role, name, srcID := q.Get("RoleArn"), q.Get("RoleSessionName"), q.Get("SourceIdentity")
	switch {
	case !stsRoleARNRe().MatchString(role):
		WriteQueryError(w, http.StatusBadRequest, "ValidationError", fmt.Sprintf("%q is invalid for roleArn", role))
		return
	case !stsNameRe().MatchString(name):
		WriteQueryError(w, http.StatusBadRequest, "ValidationError", "1 validation error detected: Value '"+name+"' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]* and length 2..64")
		return
	case q.Has("SourceIdentity") && !stsNameRe().MatchString(srcID):
		WriteQueryError(w, http.StatusBadRequest, "ValidationError", "1 validation error detected: Value '"+srcID+"' at 'sourceIdentity' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]* and length 2..64")
		return
	}
	duration := 3600
	if v := q.Get("DurationSeconds"); v != "" {
		d, err := strconv.Atoi(v)
		if err != nil || d < 900 || d > 43200 {
			WriteQueryError(w, http.StatusBadRequest, "ValidationError", "DurationSeconds must be between 900 and 43200")
			return
		}
		duration = d
	}
	account := strings.Split(role, ":")[4]
	roleName := role[strings.LastIndexByte(role, '/')+1:]
	as := AssumedSession{RoleARN: role, SessionName: name, SourceIdentity: srcID, ExternalID: q.Get("ExternalId"),
		AccessKeyID: "ASIA" + strings.ToUpper(stsRandomHex(8)), Expires: st.now().UTC().Add(time.Duration(duration) * time.Second).Truncate(time.Second)}
	st.mu.Lock()
	st.sessions[as.AccessKeyID] = as
	st.mu.Unlock()

	type user struct {
		Arn           string `xml:"Arn"`
		AssumedRoleID string `xml:"AssumedRoleId"`
	}
	type creds struct {
		AccessKeyID     string `xml:"AccessKeyId"`
		SecretAccessKey string `xml:"SecretAccessKey"`
		SessionToken    string `xml:"SessionToken"`
		Expiration      string `xml:"Expiration"`
	}
	type result struct {
		AssumedRoleUser user   `xml:"AssumedRoleUser"`
		Credentials     creds  `xml:"Credentials"`
		SourceIdentity  string `xml:"SourceIdentity,omitempty"`
	}
	writeQueryResponse(w, "https://sts.amazonaws.com/doc/2011-06-15/", "AssumeRole", result{
		AssumedRoleUser: user{Arn: fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/%s", account, roleName, name), AssumedRoleID: "AROA" + strings.ToUpper(stsRandomHex(8)) + ":" + name},
		Credentials:     creds{AccessKeyID: as.AccessKeyID, SecretAccessKey: stsRandomHex(20), SessionToken: "emulator-" + stsRandomHex(32), Expiration: as.Expires.Format(time.RFC3339)},
		SourceIdentity:  srcID,
	})
}

func stsRandomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand never fails on supported platforms
	return hex.EncodeToString(b)
}
