package emulator

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kinesistypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// Kinesis Data Streams, in awsJson 1.1. kumo serves records but no tags,
// consumers, retention changes or resharding, and a front layer over it
// could not change its shard layout; so, as for Lambda, the front keeps the
// control plane the kinesis.* actions read and write: streams with their
// mode, open shard count, retention, tags and consumers. Records are not
// served for these streams. UpdateShardCount leaves the stream UPDATING
// for a set number of DescribeStreamSummary reads (SetKinesisUpdateReads),
// then ACTIVE with the new count, as AWS does after seconds to minutes.

const kinesisARN = "arn:aws:kinesis:us-east-1:000000000000:stream/"

// KinesisStream is a seedable stream.
type KinesisStream struct {
	Name      string
	Shards    int  // default 1
	OnDemand  bool // on-demand capacity mode (no shard count to set)
	Retention int  // hours, default 24
	Consumers []string
	Tags      map[string]string
}

type kinesisConsumer struct {
	ConsumerName, ConsumerARN, ConsumerStatus string
	ConsumerCreationTimestamp                 float64
}

type kinesisStream struct {
	name, mode, status string
	shards, target     int
	retention          int
	created            time.Time
	tags               map[string]string
	consumers          []kinesisConsumer
	readsLeft          int // DescribeStreamSummary reads until an update completes
}

type kinesisState struct {
	mu          sync.Mutex
	now         func() time.Time
	streams     map[string]*kinesisStream
	order       []string
	updateReads int
}

func (s *Server) registerKinesis() {
	st := &kinesisState{now: time.Now, streams: map[string]*kinesisStream{}, updateReads: 1}
	s.kinesis = st
	for op, h := range map[string]Handler{
		"CreateStream": st.create, "ListStreams": st.list, "DescribeStreamSummary": st.describe,
		"AddTagsToStream": st.addTags, "ListTagsForStream": st.listTags,
		"RegisterStreamConsumer": st.registerConsumer, "ListStreamConsumers": st.listConsumers,
		"UpdateShardCount":              st.updateShardCount,
		"IncreaseStreamRetentionPeriod": st.retention(true), "DecreaseStreamRetentionPeriod": st.retention(false),
	} {
		s.Handle("kinesis:"+op, h)
	}
}

// SeedKinesisStream creates a stream, tags it and registers its
// consumers over the wire.
func (s *Server) SeedKinesisStream(ctx context.Context, k KinesisStream) error {
	c := kinesis.NewFromConfig(s.seedConfig())
	in := &kinesis.CreateStreamInput{StreamName: aws.String(k.Name), Tags: k.Tags}
	if k.OnDemand {
		in.StreamModeDetails = &kinesistypes.StreamModeDetails{StreamMode: kinesistypes.StreamModeOnDemand}
	} else {
		in.ShardCount = aws.Int32(int32(max(k.Shards, 1)))
	}
	if _, err := c.CreateStream(ctx, in); err != nil {
		return fmt.Errorf("seed kinesis stream %s: %w", k.Name, err)
	}
	if k.Retention > 24 {
		if _, err := c.IncreaseStreamRetentionPeriod(ctx, &kinesis.IncreaseStreamRetentionPeriodInput{StreamName: aws.String(k.Name), RetentionPeriodHours: aws.Int32(int32(k.Retention))}); err != nil {
			return fmt.Errorf("seed kinesis stream %s retention: %w", k.Name, err)
		}
	}
	for _, name := range k.Consumers {
		if _, err := c.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: aws.String(kinesisARN + k.Name), ConsumerName: aws.String(name)}); err != nil {
			return fmt.Errorf("seed kinesis stream %s consumer %s: %w", k.Name, name, err)
		}
	}
	return nil
}

// SetKinesisUpdateReads sets how many DescribeStreamSummary reads a
// stream stays UPDATING after UpdateShardCount (default 1).
func (s *Server) SetKinesisUpdateReads(n int) {
	s.kinesis.mu.Lock()
	defer s.kinesis.mu.Unlock()
	s.kinesis.updateReads = n
}

// KinesisStreamState reports a stream's status, open shard count and
// retention hours.
func (s *Server) KinesisStreamState(name string) (status string, shards, retention int) {
	st := s.kinesis
	st.mu.Lock()
	defer st.mu.Unlock()
	if k := st.streams[name]; k != nil {
		return k.status, k.shards, k.retention
	}
	return "", 0, 0
}

// stream finds the stream named by StreamName or StreamARN, or answers
// ResourceNotFoundException. Caller holds st.mu.
func (st *kinesisState) stream(w http.ResponseWriter, name, arn string) (*kinesisStream, bool) {
	if name == "" {
		name = strings.TrimPrefix(arn, kinesisARN)
	}
	k, ok := st.streams[name]
	if !ok {
		WriteJSONError(w, http.StatusBadRequest, "ResourceNotFoundException", fmt.Sprintf("Stream %s under account 000000000000 not found.", name))
	}
	return k, ok
}

func (st *kinesisState) create(w http.ResponseWriter, _ *http.Request, body []byte) {
	var in struct {
		StreamName        string
		ShardCount        *int
		StreamModeDetails *struct{ StreamMode string }
		Tags              map[string]string
	}
	if !decodeJSON(w, body, &in) {
		return
	}
	mode := "PROVISIONED"
	if in.StreamModeDetails != nil && in.StreamModeDetails.StreamMode != "" {
		mode = in.StreamModeDetails.StreamMode
	}
	shards := 4 // what AWS gives an on-demand stream to start with
	if mode == "PROVISIONED" {
		if in.ShardCount == nil || *in.ShardCount < 1 {
			WriteJSONError(w, http.StatusBadRequest, "ValidationException", "ShardCount is required for a PROVISIONED stream and must be at least 1")
			return
		}
		shards = *in.ShardCount
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if _, dup := st.streams[in.StreamName]; dup || in.StreamName == "" {
		WriteJSONError(w, http.StatusBadRequest, "ResourceInUseException", fmt.Sprintf("Stream %s under account 000000000000 already exists.", in.StreamName))
		return
	}
	st.streams[in.StreamName] = &kinesisStream{name: in.StreamName, mode: mode, status: "ACTIVE", shards: shards, retention: 24,
		created: st.now().UTC().Truncate(time.Second), tags: in.Tags}
	st.order = append(st.order, in.StreamName)
	writeJSON(w, struct{}{})
}

func (st *kinesisState) list(w http.ResponseWriter, _ *http.Request, body []byte) {
	var in struct {
		Limit     *int
		NextToken string
	}
	if !decodeJSON(w, body, &in) {
		return
	}
	limit := 100
	if in.Limit != nil {
		limit = *in.Limit
	}
	start, ok := parsePageToken(in.NextToken, "kintok-")
	if !ok || limit < 1 || limit > 10000 {
		WriteJSONError(w, http.StatusBadRequest, "InvalidArgumentException", "bad NextToken or Limit")
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	names, next := page(st.order, start, limit, "kintok-")
	type summary struct {
		StreamName, StreamARN, StreamStatus string
		StreamModeDetails                   map[string]string
		StreamCreationTimestamp             float64
	}
	out := struct {
		StreamNames     []string
		StreamSummaries []summary
		HasMoreStreams  bool
		NextToken       string `json:",omitempty"`
	}{StreamNames: []string{}, StreamSummaries: []summary{}, HasMoreStreams: next != "", NextToken: next}
	for _, n := range names {
		k := st.streams[n]
		out.StreamNames = append(out.StreamNames, n)
		out.StreamSummaries = append(out.StreamSummaries, summary{n, kinesisARN + n, k.status, map[string]string{"StreamMode": k.mode}, epoch(k.created)})
	}
	writeJSON(w, out)
}

func epoch(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

func (st *kinesisState) describe(w http.ResponseWriter, _ *http.Request, body []byte) {
	var in struct{ StreamName, StreamARN string }
	if !decodeJSON(w, body, &in) {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	k, ok := st.stream(w, in.StreamName, in.StreamARN)
	if !ok {
		return
	}
	if k.status == "UPDATING" {
		if k.readsLeft <= 0 {
			k.status, k.shards = "ACTIVE", k.target
		} else {
			k.readsLeft--
		}
	}
	writeJSON(w, map[string]any{"StreamDescriptionSummary": map[string]any{
		"StreamName": k.name, "StreamARN": kinesisARN + k.name, "StreamStatus": k.status,
		"StreamModeDetails": map[string]string{"StreamMode": k.mode}, "RetentionPeriodHours": k.retention,
		"StreamCreationTimestamp": epoch(k.created), "EnhancedMonitoring": []any{map[string]any{"ShardLevelMetrics": []string{}}},
		"EncryptionType": "NONE", "OpenShardCount": k.shards, "ConsumerCount": len(k.consumers),
	}})
}

func (st *kinesisState) addTags(w http.ResponseWriter, _ *http.Request, body []byte) {
	var in struct {
		StreamName, StreamARN string
		Tags                  map[string]string
	}
	if !decodeJSON(w, body, &in) {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	k, ok := st.stream(w, in.StreamName, in.StreamARN)
	if !ok {
		return
	}
	if k.tags == nil {
		k.tags = map[string]string{}
	}
	for key, v := range in.Tags {
		k.tags[key] = v
	}
	writeJSON(w, struct{}{})
}

func (st *kinesisState) listTags(w http.ResponseWriter, _ *http.Request, body []byte) {
	var in struct{ StreamName, StreamARN string }
	if !decodeJSON(w, body, &in) {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	k, ok := st.stream(w, in.StreamName, in.StreamARN)
	if !ok {
		return
	}
	type tag struct{ Key, Value string }
	tags := []tag{}
	for _, key := range sortedKeys(k.tags) {
		tags = append(tags, tag{key, k.tags[key]})
	}
	writeJSON(w, map[string]any{"Tags": tags, "HasMoreTags": false})
}

func (st *kinesisState) registerConsumer(w http.ResponseWriter, _ *http.Request, body []byte) {
	var in struct{ StreamARN, ConsumerName string }
	if !decodeJSON(w, body, &in) {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	k, ok := st.stream(w, "", in.StreamARN)
	if !ok {
		return
	}
	now := st.now().UTC().Truncate(time.Second)
	c := kinesisConsumer{ConsumerName: in.ConsumerName, ConsumerARN: fmt.Sprintf("%s%s/consumer/%s:%d", kinesisARN, k.name, in.ConsumerName, now.Unix()),
		ConsumerStatus: "ACTIVE", ConsumerCreationTimestamp: epoch(now)}
	k.consumers = append(k.consumers, c)
	writeJSON(w, map[string]any{"Consumer": c})
}

func (st *kinesisState) listConsumers(w http.ResponseWriter, _ *http.Request, body []byte) {
	var in struct{ StreamARN string }
	if !decodeJSON(w, body, &in) {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	k, ok := st.stream(w, "", in.StreamARN)
	if !ok {
		return
	}
	writeJSON(w, map[string]any{"Consumers": append([]kinesisConsumer{}, k.consumers...)})
}

// updateShardCount applies AWS's rules for one UNIFORM_SCALING step: an
// ACTIVE provisioned stream, at most double and at least half the open
// shards.
func (st *kinesisState) updateShardCount(w http.ResponseWriter, _ *http.Request, body []byte) {
	var in struct {
		StreamName, StreamARN, ScalingType string
		TargetShardCount                   int
	}
	if !decodeJSON(w, body, &in) {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	k, ok := st.stream(w, in.StreamName, in.StreamARN)
	if !ok {
		return
	}
	switch {
	case in.ScalingType != "UNIFORM_SCALING":
		WriteJSONError(w, http.StatusBadRequest, "ValidationException", "ScalingType must be UNIFORM_SCALING")
	case k.mode != "PROVISIONED":
		WriteJSONError(w, http.StatusBadRequest, "ValidationException", "UpdateShardCount is not supported for streams in ON_DEMAND mode")
	case k.status != "ACTIVE":
		WriteJSONError(w, http.StatusBadRequest, "ResourceInUseException", fmt.Sprintf("Stream %s under account 000000000000 not ACTIVE, instead in state %s", k.name, k.status))
	case in.TargetShardCount > 2*k.shards || 2*in.TargetShardCount < k.shards || in.TargetShardCount < 1:
		WriteJSONError(w, http.StatusBadRequest, "InvalidArgumentException", fmt.Sprintf("TargetShardCount %d must be between half and double the current open shard count %d", in.TargetShardCount, k.shards))
	default:
		cur := k.shards
		k.status, k.target, k.readsLeft = "UPDATING", in.TargetShardCount, st.updateReads
		writeJSON(w, map[string]any{"StreamName": k.name, "StreamARN": kinesisARN + k.name, "CurrentShardCount": cur, "TargetShardCount": in.TargetShardCount})
	}
}

// retention answers Increase- or DecreaseStreamRetentionPeriod: 24 to
// 8760 hours, and only in the direction the operation says.
func (st *kinesisState) retention(increase bool) Handler {
	return func(w http.ResponseWriter, _ *http.Request, body []byte) {
		var in struct {
			StreamName, StreamARN string
			RetentionPeriodHours  int
		}
		if !decodeJSON(w, body, &in) {
			return
		}
		st.mu.Lock()
		defer st.mu.Unlock()
		k, ok := st.stream(w, in.StreamName, in.StreamARN)
		if !ok {
			return
		}
		switch h := in.RetentionPeriodHours; {
		case h < 24 || h > 8760:
			WriteJSONError(w, http.StatusBadRequest, "InvalidArgumentException", fmt.Sprintf("Minimum allowed retention period is 24 hours and maximum is 8760 hours; got %d", h))
		case increase && h < k.retention:
			WriteJSONError(w, http.StatusBadRequest, "InvalidArgumentException", fmt.Sprintf("Requested retention period (%d hours) for stream %s can not be shorter than existing retention period (%d hours). Use DecreaseRetentionPeriod API.", h, k.name, k.retention))
		case !increase && h > k.retention:
			WriteJSONError(w, http.StatusBadRequest, "InvalidArgumentException", fmt.Sprintf("Requested retention period (%d hours) for stream %s can not be longer than existing retention period (%d hours). Use IncreaseRetentionPeriod API.", h, k.name, k.retention))
		case k.status != "ACTIVE":
			WriteJSONError(w, http.StatusBadRequest, "ResourceInUseException", fmt.Sprintf("Stream %s under account 000000000000 not ACTIVE, instead in state %s", k.name, k.status))
		default:
			k.retention = h
			writeJSON(w, struct{}{})
		}
	}
}
