package emulator

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"
)

// IAM users and access keys, in the awsQuery wire format. kumo's IAM has
// CreateAccessKey, ListAccessKeys and DeleteAccessKey but no
// UpdateAccessKey (deactivation) and no GetAccessKeyLastUsed, the two
// calls key rotation is about, so the emulator keeps users and keys itself
// and answers every call the iam.* actions make from that one state.

const iamXMLNS = "https://iam.amazonaws.com/doc/2010-05-08/"

// IAMUser is a seedable IAM user.
type IAMUser struct {
	Name string
	Tags map[string]string
	Keys []IAMKey
}

// IAMKey is a seedable access key.
type IAMKey struct {
	ID       string // default: generated
	Created  time.Time
	Inactive bool
	LastUsed time.Time // zero: never used
}

type iamKey struct {
	id, secret, status string
	created, lastUsed  time.Time
}

type iamUser struct {
	name string
	tags map[string]string
	keys []*iamKey
}

type iamState struct {
	mu    sync.Mutex
	now   func() time.Time
	seq   int
	users map[string]*iamUser
	order []string
}

func (s *Server) registerIAM() {
	st := &iamState{now: time.Now, users: map[string]*iamUser{}}
	s.iam = st
	s.Handle("iam:ListUsers", st.listUsers)
	s.Handle("iam:ListUserTags", st.listUserTags)
	s.Handle("iam:ListAccessKeys", st.listAccessKeys)
	s.Handle("iam:GetAccessKeyLastUsed", st.getAccessKeyLastUsed)
	s.Handle("iam:CreateAccessKey", st.createAccessKey)
	s.Handle("iam:UpdateAccessKey", st.updateAccessKey)
	s.Handle("iam:DeleteAccessKey", st.deleteAccessKey)
}

// SeedIAMUser creates a user with its keys; it returns the key ids.
func (s *Server) SeedIAMUser(u IAMUser) []string {
	st := s.iam
	st.mu.Lock()
	defer st.mu.Unlock()
	user := &iamUser{name: u.Name, tags: u.Tags}
	var ids []string
	for _, k := range u.Keys {
		key := st.newKey()
		if k.ID != "" {
			key.id = k.ID
		}
		key.created, key.lastUsed = k.Created, k.LastUsed
		if k.Inactive {
			key.status = "Inactive"
		}
		user.keys = append(user.keys, key)
		ids = append(ids, key.id)
	}
	if _, ok := st.users[u.Name]; !ok {
		st.order = append(st.order, u.Name)
	}
	st.users[u.Name] = user
	return ids
}

// IAMKeyStatus reports a key's status ("Active", "Inactive"), "" when it
// does not exist (deleted).
func (s *Server) IAMKeyStatus(user, id string) string {
	st := s.iam
	st.mu.Lock()
	defer st.mu.Unlock()
	if u, ok := st.users[user]; ok {
		for _, k := range u.keys {
			if k.id == id {
				return k.status
			}
		}
	}
	return ""
}

// IAMKeys lists a user's key ids in creation order.
func (s *Server) IAMKeys(user string) []string {
	st := s.iam
	st.mu.Lock()
	defer st.mu.Unlock()
	var ids []string
	if u, ok := st.users[user]; ok {
		for _, k := range u.keys {
			ids = append(ids, k.id)
		}
	}
	return ids
}

// IAMKeySecret returns a key's secret, for tests that must find it in the
// secrets store and nowhere else.
func (s *Server) IAMKeySecret(user, id string) string {
	st := s.iam
	st.mu.Lock()
	defer st.mu.Unlock()
	if u, ok := st.users[user]; ok {
		for _, k := range u.keys {
			if k.id == id {
				return k.secret
			}
		}
	}
	return ""
}

// newKey makes an Active key with AWS's id and secret shapes (the caller
// holds st.mu).
func (st *iamState) newKey() *iamKey {
	st.seq++
	return &iamKey{id: fmt.Sprintf("AKIAEMULATOR%08d", st.seq), secret: fmt.Sprintf("emuSecret/%08d+%s", st.seq, "x0Y1z2W3v4U5t6S7r8Q9p0O1"),
		status: "Active", created: st.now().UTC()}
}

type iamMember struct {
	Key   string `xml:"Key,omitempty"`
	Value string `xml:"Value,omitempty"`
}

// user looks a user up or answers NoSuchEntity (the caller holds st.mu).
func (st *iamState) user(w http.ResponseWriter, name string) (*iamUser, bool) {
	u, ok := st.users[name]
	if !ok {
		WriteQueryError(w, http.StatusNotFound, "NoSuchEntity", fmt.Sprintf("The user with name %s cannot be found.", name))
	}
	return u, ok
}

func userARN(name string) string { return "arn:aws:iam::000000000000:user/" + name }

func (st *iamState) listUsers(w http.ResponseWriter, _ *http.Request, _ []byte) {
	st.mu.Lock()
	defer st.mu.Unlock()
	type user struct {
		UserName   string `xml:"UserName"`
		UserId     string `xml:"UserId"`
		Arn        string `xml:"Arn"`
		Path       string `xml:"Path"`
		CreateDate string `xml:"CreateDate"`
	}
	var out struct {
		Users       []user `xml:"Users>member"`
		IsTruncated bool   `xml:"IsTruncated"`
	}
	for _, n := range st.order {
		out.Users = append(out.Users, user{UserName: n, UserId: "AIDA" + n, Arn: userARN(n), Path: "/", CreateDate: "2026-01-01T00:00:00Z"})
	}
	writeQueryResponse(w, iamXMLNS, "ListUsers", out)
}

func (st *iamState) listUserTags(w http.ResponseWriter, _ *http.Request, body []byte) {
	q, ok := queryForm(w, body)
	if !ok {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	u, ok := st.user(w, q.Get("UserName"))
	if !ok {
		return
	}
	var out struct {
		Tags        []iamMember `xml:"Tags>member"`
		IsTruncated bool        `xml:"IsTruncated"`
	}
	for _, k := range sortedKeys(u.tags) {
		out.Tags = append(out.Tags, iamMember{Key: k, Value: u.tags[k]})
	}
	writeQueryResponse(w, iamXMLNS, "ListUserTags", out)
}

type iamKeyMeta struct {
	UserName    string `xml:"UserName"`
	AccessKeyId string `xml:"AccessKeyId"`
	Status      string `xml:"Status"`
	CreateDate  string `xml:"CreateDate"`
}

func (st *iamState) listAccessKeys(w http.ResponseWriter, _ *http.Request, body []byte) {
	q, ok := queryForm(w, body)
	if !ok {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	u, ok := st.user(w, q.Get("UserName"))
	if !ok {
		return
	}
	var out struct {
		Keys        []iamKeyMeta `xml:"AccessKeyMetadata>member"`
		IsTruncated bool         `xml:"IsTruncated"`
	}
	for _, k := range u.keys {
		out.Keys = append(out.Keys, iamKeyMeta{UserName: u.name, AccessKeyId: k.id, Status: k.status, CreateDate: k.created.Format(time.RFC3339)})
	}
	writeQueryResponse(w, iamXMLNS, "ListAccessKeys", out)
}

// findKey looks a key up across users (the caller holds st.mu).
func (st *iamState) findKey(id string) (*iamUser, *iamKey) {
	for _, u := range st.users {
		for _, k := range u.keys {
			if k.id == id {
				return u, k
			}
		}
	}
	return nil, nil
}

func (st *iamState) getAccessKeyLastUsed(w http.ResponseWriter, _ *http.Request, body []byte) {
	q, ok := queryForm(w, body)
	if !ok {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	u, k := st.findKey(q.Get("AccessKeyId"))
	if k == nil {
		WriteQueryError(w, http.StatusNotFound, "NoSuchEntity", "The Access Key with id "+q.Get("AccessKeyId")+" cannot be found.")
		return
	}
	type lastUsed struct {
		LastUsedDate string `xml:"LastUsedDate,omitempty"`
		ServiceName  string `xml:"ServiceName"`
		Region       string `xml:"Region"`
	}
	var out struct {
		UserName string   `xml:"UserName"`
		LastUsed lastUsed `xml:"AccessKeyLastUsed"`
	}
	out.UserName, out.LastUsed = u.name, lastUsed{ServiceName: "N/A", Region: "N/A"}
	if !k.lastUsed.IsZero() {
		out.LastUsed = lastUsed{LastUsedDate: k.lastUsed.UTC().Format(time.RFC3339), ServiceName: "s3", Region: "us-east-1"}
	}
	writeQueryResponse(w, iamXMLNS, "GetAccessKeyLastUsed", out)
}

func (st *iamState) createAccessKey(w http.ResponseWriter, _ *http.Request, body []byte) {
	q, ok := queryForm(w, body)
	if !ok {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	u, ok := st.user(w, q.Get("UserName"))
	if !ok {
		return
	}
	if len(u.keys) >= 2 {
		WriteQueryError(w, http.StatusConflict, "LimitExceeded", "Cannot exceed quota for AccessKeysPerUser: 2")
		return
	}
	k := st.newKey()
	u.keys = append(u.keys, k)
	type key struct {
		UserName        string `xml:"UserName"`
		AccessKeyId     string `xml:"AccessKeyId"`
		Status          string `xml:"Status"`
		SecretAccessKey string `xml:"SecretAccessKey"`
		CreateDate      string `xml:"CreateDate"`
	}
	writeQueryResponse(w, iamXMLNS, "CreateAccessKey", struct {
		Key key `xml:"AccessKey"`
	}{key{u.name, k.id, k.status, k.secret, k.created.Format(time.RFC3339)}})
}

func (st *iamState) updateAccessKey(w http.ResponseWriter, _ *http.Request, body []byte) {
	q, ok := queryForm(w, body)
	if !ok {
		return
	}
	if s := q.Get("Status"); s != "Active" && s != "Inactive" {
		WriteQueryError(w, http.StatusBadRequest, "ValidationError", "Status must be Active or Inactive")
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	k, ok := st.userKey(w, q.Get("UserName"), q.Get("AccessKeyId"))
	if !ok {
		return
	}
	k.status = q.Get("Status")
	writeQueryResponse(w, iamXMLNS, "UpdateAccessKey", struct{}{})
}

func (st *iamState) deleteAccessKey(w http.ResponseWriter, _ *http.Request, body []byte) {
	q, ok := queryForm(w, body)
	if !ok {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	k, ok := st.userKey(w, q.Get("UserName"), q.Get("AccessKeyId"))
	if !ok {
		return
	}
	u := st.users[q.Get("UserName")]
	u.keys = slices.DeleteFunc(u.keys, func(x *iamKey) bool { return x == k })
	writeQueryResponse(w, iamXMLNS, "DeleteAccessKey", struct{}{})
}

// userKey finds a user's key or answers NoSuchEntity (the caller holds st.mu).
func (st *iamState) userKey(w http.ResponseWriter, user, id string) (*iamKey, bool) {
	u, ok := st.user(w, user)
	if !ok {
		return nil, false
	}
	for _, k := range u.keys {
		if k.id == id {
			return k, true
		}
	}
	WriteQueryError(w, http.StatusNotFound, "NoSuchEntity", "The Access Key with id "+id+" cannot be found.")
	return nil, false
}
