package emulator

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// Secrets Manager, in awsJson 1.1. kumo serves secrets, values and tags
// but has no RotateSecret, so no secret ever has rotation on. The front
// adds RotateSecret and keeps each secret's rotation (function, schedule,
// last and next rotation) itself, written into kumo's DescribeSecret and
// ListSecrets answers. A rotation runs at once and does what a rotation
// function's four steps end with: a new random value becomes AWSCURRENT.
// Seeding may also pin a secret's last access (kumo stamps it with the
// wall clock on GetSecretValue).

// Secret is a seedable secret.
type Secret struct {
	Name  string
	Value string
	Tags  map[string]string
	// RotationLambda turns rotation on with this function, every
	// RotateEveryDays days (default 30).
	RotationLambda  string
	RotateEveryDays int
	// LastRotated and LastAccessed, when set, are what AWS reports.
	LastRotated, LastAccessed time.Time
}

type smRotation struct {
	lambda       string
	everyDays    int
	lastRotated  time.Time
	lastAccessed time.Time
}

type smState struct {
	mu       sync.Mutex
	now      func() time.Time
	kumo     *secretsmanager.Client
	forward  func(w http.ResponseWriter, r *http.Request, body []byte)
	rotation map[string]*smRotation // by secret name
}

func (s *Server) registerSecretsManager() {
	cfg := s.seedConfig()
	cfg.BaseEndpoint = aws.String(s.KumoURL())
	st := &smState{now: time.Now, kumo: secretsmanager.NewFromConfig(cfg), forward: s.forward, rotation: map[string]*smRotation{}}
	s.secrets = st
	s.Handle("secretsmanager:RotateSecret", st.rotate)
	s.Handle("secretsmanager:DescribeSecret", st.describe)
	s.Handle("secretsmanager:ListSecrets", st.list)
}

// SeedSecret creates a secret over the wire and sets its rotation.
func (s *Server) SeedSecret(ctx context.Context, sec Secret) error {
	c := secretsmanager.NewFromConfig(s.seedConfig())
	in := &secretsmanager.CreateSecretInput{Name: aws.String(sec.Name), SecretString: aws.String(sec.Value)}
	for _, k := range sortedKeys(sec.Tags) {
		in.Tags = append(in.Tags, smtypes.Tag{Key: aws.String(k), Value: aws.String(sec.Tags[k])})
	}
	if _, err := c.CreateSecret(ctx, in); err != nil {
		return fmt.Errorf("seed secret %s: %w", sec.Name, err)
	}
	st := s.secrets
	st.mu.Lock()
	defer st.mu.Unlock()
	r := &smRotation{lambda: sec.RotationLambda, everyDays: sec.RotateEveryDays, lastRotated: sec.LastRotated, lastAccessed: sec.LastAccessed}
	if r.lambda != "" && r.everyDays == 0 {
		r.everyDays = 30
	}
	st.rotation[sec.Name] = r
	return nil
}

// patch writes the front's rotation state of one secret into an answer's
// entry. Caller holds st.mu.
func (st *smState) patch(entry map[string]any) {
	name, _ := entry["Name"].(string)
	r := st.rotation[name]
	if r == nil {
		return
	}
	if r.lambda != "" {
		entry["RotationEnabled"] = true
		entry["RotationLambdaARN"] = r.lambda
		entry["RotationRules"] = map[string]any{"AutomaticallyAfterDays": r.everyDays}
		base := r.lastRotated
		if base.IsZero() {
			if c, ok := entry["CreatedDate"].(float64); ok {
				base = time.Unix(int64(c), 0)
			}
		}
		entry["NextRotationDate"] = epoch(base.AddDate(0, 0, r.everyDays))
	}
	if !r.lastRotated.IsZero() {
		entry["LastRotatedDate"] = epoch(r.lastRotated)
	}
	if !r.lastAccessed.IsZero() {
		entry["LastAccessedDate"] = epoch(r.lastAccessed.Truncate(24 * time.Hour)) // AWS reports the day only
	}
}

// kumoAnswer has kumo answer the request and decodes its JSON, or passes
// kumo's error answer through and reports false.
func (st *smState) kumoAnswer(w http.ResponseWriter, r *http.Request, body []byte) (map[string]any, bool) {
	rec := httptest.NewRecorder()
	st.forward(rec, r, body)
	if rec.Code != http.StatusOK {
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
		return nil, false
	}
	var out map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		WriteJSONError(w, http.StatusInternalServerError, "InternalServiceError", "decode kumo answer: "+err.Error())
		return nil, false
	}
	return out, true
}

func (st *smState) describe(w http.ResponseWriter, r *http.Request, body []byte) {
	out, ok := st.kumoAnswer(w, r, body)
	if !ok {
		return
	}
	st.mu.Lock()
	st.patch(out)
	st.mu.Unlock()
	writeJSON(w, out)
}

func (st *smState) list(w http.ResponseWriter, r *http.Request, body []byte) {
	out, ok := st.kumoAnswer(w, r, body)
	if !ok {
		return
	}
	st.mu.Lock()
	if list, ok := out["SecretList"].([]any); ok {
		for _, e := range list {
			if m, ok := e.(map[string]any); ok {
				st.patch(m)
			}
		}
	}
	st.mu.Unlock()
	writeJSON(w, out)
}

// rotate answers RotateSecret: rotation needs a function (given now or
// set before); the rotation itself puts a new random AWSCURRENT value.
func (st *smState) rotate(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct {
		SecretId, RotationLambdaARN string
		RotationRules               *struct{ AutomaticallyAfterDays int }
		RotateImmediately           *bool
	}
	if !decodeJSON(w, body, &in) {
		return
	}
	ctx := r.Context()
	d, err := st.kumo.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(in.SecretId)})
	if err != nil {
		WriteJSONError(w, http.StatusBadRequest, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
		return
	}
	name := aws.ToString(d.Name)
	st.mu.Lock()
	rot := st.rotation[name]
	if rot == nil {
		rot = &smRotation{}
		st.rotation[name] = rot
	}
	if in.RotationLambdaARN != "" {
		rot.lambda = in.RotationLambdaARN
	}
	if in.RotationRules != nil && in.RotationRules.AutomaticallyAfterDays > 0 {
		rot.everyDays = in.RotationRules.AutomaticallyAfterDays
	}
	if rot.lambda == "" {
		st.mu.Unlock()
		WriteJSONError(w, http.StatusBadRequest, "InvalidRequestException", "No Lambda rotation function ARN is associated with this secret.")
		return
	}
	if rot.everyDays == 0 {
		rot.everyDays = 30
	}
	st.mu.Unlock()
	versionID := ""
	if in.RotateImmediately == nil || *in.RotateImmediately {
		b := make([]byte, 16)
		_, _ = rand.Read(b) // never fails
		out, err := st.kumo.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: d.ARN, SecretString: aws.String(hex.EncodeToString(b))})
		if err != nil {
			WriteJSONError(w, http.StatusInternalServerError, "InternalServiceError", "rotate: "+err.Error())
			return
		}
		versionID = aws.ToString(out.VersionId)
		st.mu.Lock()
		rot.lastRotated = st.now().UTC().Truncate(time.Second)
		st.mu.Unlock()
	}
	writeJSON(w, map[string]string{"ARN": aws.ToString(d.ARN), "Name": name, "VersionId": versionID})
}
