package emulator

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// KMS fill-ins, in awsJson1_1. kumo keeps the keys, their tags and
// metadata, but its ListKeys returns at most one page, in map order, with
// no marker, and it has no EnableKeyRotation (its GetKeyRotationStatus
// always answers false). The front pages ListKeys over kumo's full list in
// a stable order and keeps each key's rotation itself.

type kmsRotation struct {
	period int32
	next   time.Time
}

type kmsState struct {
	srv      *Server
	mu       sync.Mutex
	now      func() time.Time
	rotation map[string]kmsRotation // key id -> rotation, absent when off
}

func (s *Server) registerKMS() {
	st := &kmsState{srv: s, now: time.Now, rotation: map[string]kmsRotation{}}
	s.kms = st
	s.Handle("kms:ListKeys", st.listKeys)
	s.Handle("kms:GetKeyRotationStatus", st.getRotation)
	s.Handle("kms:EnableKeyRotation", st.enableRotation)
}

// KMSKey is a seedable customer managed key.
type KMSKey struct {
	Tags     map[string]string
	Rotation int32 // days; 0 leaves rotation off
	Disabled bool
}

// SeedKMSKey creates a key over the wire and returns its id.
func (s *Server) SeedKMSKey(ctx context.Context, k KMSKey) (string, error) {
	c := kms.NewFromConfig(s.seedConfig())
	var tags []kmstypes.Tag
	for _, key := range sortedKeys(k.Tags) {
		tags = append(tags, kmstypes.Tag{TagKey: aws.String(key), TagValue: aws.String(k.Tags[key])})
	}
	out, err := c.CreateKey(ctx, &kms.CreateKeyInput{Tags: tags, Description: aws.String("seeded")})
	if err != nil {
		return "", fmt.Errorf("seed kms key: %w", err)
	}
	id := aws.ToString(out.KeyMetadata.KeyId)
	if k.Disabled {
		if _, err := c.DisableKey(ctx, &kms.DisableKeyInput{KeyId: aws.String(id)}); err != nil {
			return "", fmt.Errorf("seed kms key: disable: %w", err)
		}
	}
	if k.Rotation > 0 {
		if _, err := c.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: aws.String(id), RotationPeriodInDays: aws.Int32(k.Rotation)}); err != nil {
			return "", fmt.Errorf("seed kms key: rotation: %w", err)
		}
	}
	return id, nil
}

// KMSRotation reports a key's rotation period in days, 0 when off.
func (s *Server) KMSRotation(id string) int32 {
	s.kms.mu.Lock()
	defer s.kms.mu.Unlock()
	return s.kms.rotation[id].period
}

// kumoKMS is a KMS client of kumo itself.
func (st *kmsState) kumoKMS() *kms.Client {
	cfg := st.srv.seedConfig()
	cfg.BaseEndpoint = aws.String(st.srv.KumoURL())
	return kms.NewFromConfig(cfg)
}

func (st *kmsState) listKeys(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct {
		Limit  int
		Marker string
	}
	if !decodeJSON(w, body, &in) {
		return
	}
	start, ok := parsePageToken(in.Marker, "keys-")
	if !ok || in.Limit < 0 || in.Limit > 1000 {
		WriteJSONError(w, http.StatusBadRequest, "ValidationException", "bad Marker or Limit")
		return
	}
	out, err := st.kumoKMS().ListKeys(r.Context(), &kms.ListKeysInput{Limit: aws.Int32(1 << 30)})
	if err != nil {
		WriteJSONError(w, http.StatusInternalServerError, "KMSInternalException", err.Error())
		return
	}
	keys := out.Keys
	slices.SortFunc(keys, func(a, b kmstypes.KeyListEntry) int {
		return strings.Compare(aws.ToString(a.KeyId), aws.ToString(b.KeyId))
	})
	var all []map[string]string
	for _, k := range keys {
		all = append(all, map[string]string{"KeyId": aws.ToString(k.KeyId), "KeyArn": aws.ToString(k.KeyArn)})
	}
	got, next := page(all, start, or0(in.Limit, 100), "keys-")
	resp := map[string]any{"Keys": append([]map[string]string{}, got...), "Truncated": next != ""}
	if next != "" {
		resp["NextMarker"] = next
	}
	writeJSON(w, resp)
}

// key reads the request's KeyId (an id or ARN) and checks it with kumo.
func (st *kmsState) key(w http.ResponseWriter, r *http.Request, body []byte, in *kmsKeyRequest) (*kmstypes.KeyMetadata, bool) {
	if !decodeJSON(w, body, in) {
		return nil, false
	}
	id := in.KeyId
	out, err := st.kumoKMS().DescribeKey(r.Context(), &kms.DescribeKeyInput{KeyId: aws.String(id)})
	if err != nil {
		WriteJSONError(w, http.StatusBadRequest, "NotFoundException", "Key '"+id+"' does not exist")
		return nil, false
	}
	return out.KeyMetadata, true
}

type kmsKeyRequest struct {
	KeyId                string
	RotationPeriodInDays int32
}

func (st *kmsState) getRotation(w http.ResponseWriter, r *http.Request, body []byte) {
	var in kmsKeyRequest
	md, ok := st.key(w, r, body, &in)
	if !ok {
		return
	}
	id := aws.ToString(md.KeyId)
	st.mu.Lock()
	rot, on := st.rotation[id]
	st.mu.Unlock()
	resp := map[string]any{"KeyId": aws.ToString(md.Arn), "KeyRotationEnabled": on}
	if on {
		resp["RotationPeriodInDays"] = rot.period
		resp["NextRotationDate"] = epoch(rot.next)
	}
	writeJSON(w, resp)
}

func (st *kmsState) enableRotation(w http.ResponseWriter, r *http.Request, body []byte) {
	var in kmsKeyRequest
	md, ok := st.key(w, r, body, &in)
	if !ok {
		return
	}
	if in.RotationPeriodInDays == 0 {
		in.RotationPeriodInDays = 365
	}
	switch {
	case in.RotationPeriodInDays < 90 || in.RotationPeriodInDays > 2560:
		WriteJSONError(w, http.StatusBadRequest, "ValidationException", "RotationPeriodInDays must be between 90 and 2560")
		return
	case md.KeyState != kmstypes.KeyStateEnabled:
		WriteJSONError(w, http.StatusBadRequest, "KMSInvalidStateException", fmt.Sprintf("%s is %s", aws.ToString(md.Arn), md.KeyState))
		return
	}
	st.mu.Lock()
	st.rotation[aws.ToString(md.KeyId)] = kmsRotation{period: in.RotationPeriodInDays, next: st.now().AddDate(0, 0, int(in.RotationPeriodInDays))}
	st.mu.Unlock()
	writeJSON(w, map[string]any{})
}
