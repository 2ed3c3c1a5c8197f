package emulator

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// SQS, in awsJson 1.0. kumo serves queues, messages, tags and dead-letter
// moves; the front adds the DLQ redrive API (StartMessageMoveTask,
// ListMessageMoveTasks). A move runs to the end before the answer — AWS
// moves in the background, which a caller sees only as a RUNNING task
// that later completes. kumo does not record which queue a dead letter came
// from, so a move without DestinationArn needs the DLQ to have exactly one
// source queue.

type sqsMoveTask struct {
	TaskHandle                        string `json:",omitempty"`
	Status                            string
	SourceArn                         string
	DestinationArn                    string `json:",omitempty"`
	MaxNumberOfMessagesPerSecond      *int32 `json:",omitempty"`
	ApproximateNumberOfMessagesMoved  int64
	ApproximateNumberOfMessagesToMove int64
	FailureReason                     string `json:",omitempty"`
	StartedTimestamp                  int64
}

type sqsState struct {
	mu    sync.Mutex
	kumo  *sqs.Client
	now   func() time.Time
	tasks map[string][]*sqsMoveTask // source ARN -> tasks, newest last
	seq   int
	// hold leaves new moves RUNNING with nothing moved, as a long move in
	// AWS is for a while (SetSQSMoveHold).
	hold bool
}

func (s *Server) registerSQS() {
	st := &sqsState{kumo: s.kumoSQS(), now: time.Now, tasks: map[string][]*sqsMoveTask{}}
	s.sqs = st
	s.Handle("sqs:StartMessageMoveTask", st.startMove)
	s.Handle("sqs:ListMessageMoveTasks", st.listMoves)
	s.Handle("sqs:CancelMessageMoveTask", st.cancelMove)
}

// SetSQSMoveHold makes new message moves stay RUNNING with nothing moved
// (true), until cancelled, or run to the end at once (false, the default).
func (s *Server) SetSQSMoveHold(hold bool) {
	s.sqs.mu.Lock()
	defer s.sqs.mu.Unlock()
	s.sqs.hold = hold
}

// SQSQueue is a seedable queue. DeadLetterQueue names another seeded
// queue that gets the messages received MaxReceive times; Messages and
// DeadLetters are sent to the queue and to its DLQ.
type SQSQueue struct {
	Name            string
	Tags            map[string]string
	DeadLetterQueue string
	MaxReceive      int // default 5
	Messages        int
}

// SeedQueue creates a queue over the wire, points its redrive policy at
// its DLQ (which must exist) and sends it Messages messages.
func (s *Server) SeedQueue(ctx context.Context, q SQSQueue) error {
	c := sqs.NewFromConfig(s.seedConfig())
	out, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(q.Name), Tags: q.Tags})
	if err != nil {
		return fmt.Errorf("seed queue %s: %w", q.Name, err)
	}
	if q.DeadLetterQueue != "" {
		mr := q.MaxReceive
		if mr == 0 {
			mr = 5
		}
		policy := fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":"%d"}`, sqsARN(q.DeadLetterQueue), mr)
		if _, err := c.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: out.QueueUrl, Attributes: map[string]string{"RedrivePolicy": policy}}); err != nil {
			return fmt.Errorf("seed queue %s redrive policy: %w", q.Name, err)
		}
	}
	for i := range q.Messages {
		if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: out.QueueUrl, MessageBody: aws.String(q.Name + " message " + strconv.Itoa(i))}); err != nil {
			return fmt.Errorf("seed queue %s message: %w", q.Name, err)
		}
	}
	return nil
}

// QueueDepth reports the visible messages of a queue.
func (s *Server) QueueDepth(ctx context.Context, name string) (int, error) {
	st := &sqsState{kumo: s.kumoSQS()}
	return st.depth(ctx, name)
}

// kumoSQS is an SQS client of kumo itself: the front's own calls are not
// recorded as the caller's.
func (s *Server) kumoSQS() *sqs.Client {
	cfg := s.seedConfig()
	cfg.BaseEndpoint = aws.String(s.KumoURL())
	return sqs.NewFromConfig(cfg)
}

func sqsARN(name string) string { return "arn:aws:sqs:us-east-1:000000000000:" + name }

func (st *sqsState) depth(ctx context.Context, name string) (int, error) {
	u, err := st.kumo.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
	if err != nil {
		return 0, fmt.Errorf("get queue %s: %w", name, err)
	}
	a, err := st.kumo.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: u.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages}})
	if err != nil {
		return 0, fmt.Errorf("get queue %s attributes: %w", name, err)
	}
	return strconv.Atoi(a.Attributes["ApproximateNumberOfMessages"])
}

// sourcesOf lists the ARNs of the queues whose redrive policy targets dlq.
func (st *sqsState) sourcesOf(ctx context.Context, dlq string) ([]string, error) {
	var out []string
	p := sqs.NewListQueuesPaginator(st.kumo, &sqs.ListQueuesInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, u := range page.QueueUrls {
			a, err := st.kumo.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(u),
				AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}})
			if err != nil {
				continue // deleted meanwhile
			}
			var rp struct{ DeadLetterTargetArn string }
			if json.Unmarshal([]byte(a.Attributes["RedrivePolicy"]), &rp) == nil && rp.DeadLetterTargetArn == dlq {
				out = append(out, a.Attributes["QueueArn"])
			}
		}
	}
	return out, nil
}

func (st *sqsState) queueURL(ctx context.Context, arn string) (string, bool) {
	name := arn[strings.LastIndexByte(arn, ':')+1:]
	u, err := st.kumo.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
	if err != nil || sqsARN(name) != arn {
		return "", false
	}
	return aws.ToString(u.QueueUrl), true
}

func (st *sqsState) startMove(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct {
		SourceArn, DestinationArn    string
		MaxNumberOfMessagesPerSecond *int32
	}
	if !decodeJSON(w, body, &in) {
		return
	}
	ctx := r.Context()
	if in.MaxNumberOfMessagesPerSecond != nil && (*in.MaxNumberOfMessagesPerSecond < 1 || *in.MaxNumberOfMessagesPerSecond > 500) {
		WriteJSONError(w, http.StatusBadRequest, "InvalidParameterValue", "MaxNumberOfMessagesPerSecond must be between 1 and 500")
		return
	}
	src, ok := st.queueURL(ctx, in.SourceArn)
	if !ok {
		WriteJSONError(w, http.StatusBadRequest, "ResourceNotFoundException", "The resource that you specified for the SourceArn parameter doesn't exist.")
		return
	}
	sources, err := st.sourcesOf(ctx, in.SourceArn)
	if err != nil {
		WriteJSONError(w, http.StatusInternalServerError, "InternalError", err.Error())
		return
	}
	if len(sources) == 0 {
		WriteJSONError(w, http.StatusBadRequest, "InvalidParameterValue", "Source queue must be configured as a Dead Letter Queue.")
		return
	}
	dest := in.DestinationArn
	if dest == "" {
		if len(sources) > 1 {
			WriteJSONError(w, http.StatusBadRequest, "UnsupportedOperation", "emulator: this DLQ has several source queues; give DestinationArn")
			return
		}
		dest = sources[0]
	}
	dst, ok := st.queueURL(ctx, dest)
	if !ok {
		WriteJSONError(w, http.StatusBadRequest, "ResourceNotFoundException", "The resource that you specified for the DestinationArn parameter doesn't exist.")
		return
	}
	st.mu.Lock()
	if ts := st.tasks[in.SourceArn]; len(ts) > 0 && ts[len(ts)-1].Status == "RUNNING" {
		st.mu.Unlock()
		WriteJSONError(w, http.StatusBadRequest, "UnsupportedOperation", "There is already a task running. Only one active task is allowed for a source queue arn at a given time.")
		return
	}
	st.seq++
	t := &sqsMoveTask{TaskHandle: fmt.Sprintf("emulator-move-%d", st.seq), Status: "RUNNING", SourceArn: in.SourceArn,
		DestinationArn: in.DestinationArn, MaxNumberOfMessagesPerSecond: in.MaxNumberOfMessagesPerSecond, StartedTimestamp: st.now().UnixMilli()}
	st.tasks[in.SourceArn] = append(st.tasks[in.SourceArn], t)
	hold := st.hold
	st.mu.Unlock()

	if hold {
		depth, err := st.depth(ctx, in.SourceArn[strings.LastIndexByte(in.SourceArn, ':')+1:])
		if err != nil {
			WriteJSONError(w, http.StatusInternalServerError, "InternalError", err.Error())
			return
		}
		st.mu.Lock()
		t.ApproximateNumberOfMessagesToMove = int64(depth)
		st.mu.Unlock()
		writeJSON(w, map[string]string{"TaskHandle": t.TaskHandle})
		return
	}
	moved, toMove, err := st.move(ctx, src, dst)
	st.mu.Lock()
	t.ApproximateNumberOfMessagesMoved, t.ApproximateNumberOfMessagesToMove, t.Status = moved, toMove, "COMPLETED"
	if err != nil {
		t.Status, t.FailureReason = "FAILED", err.Error()
	}
	st.mu.Unlock()
	writeJSON(w, map[string]string{"TaskHandle": t.TaskHandle})
}

// move receives every visible message of src, sends it to dst and deletes
// it from src.
func (st *sqsState) move(ctx context.Context, src, dst string) (moved, toMove int64, err error) {
	a, err := st.kumo.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(src),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages}})
	if err != nil {
		return 0, 0, err
	}
	toMove, _ = strconv.ParseInt(a.Attributes["ApproximateNumberOfMessages"], 10, 64)
	for moved < toMove {
		out, err := st.kumo.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(src), MaxNumberOfMessages: 10,
			VisibilityTimeout: 30, MessageAttributeNames: []string{"All"}})
		if err != nil {
			return moved, toMove, err
		}
		if len(out.Messages) == 0 {
			break
		}
		for _, m := range out.Messages {
			if _, err := st.kumo.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(dst), MessageBody: m.Body, MessageAttributes: m.MessageAttributes}); err != nil {
				return moved, toMove, err
			}
			if _, err := st.kumo.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(src), ReceiptHandle: m.ReceiptHandle}); err != nil {
				return moved, toMove, err
			}
			moved++
		}
	}
	return moved, toMove, nil
}

func (st *sqsState) listMoves(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct {
		SourceArn  string
		MaxResults *int32
	}
	if !decodeJSON(w, body, &in) {
		return
	}
	max := int32(1)
	if in.MaxResults != nil {
		max = *in.MaxResults
	}
	if max < 1 || max > 10 {
		WriteJSONError(w, http.StatusBadRequest, "InvalidParameterValue", "MaxResults must be between 1 and 10")
		return
	}
	if _, ok := st.queueURL(r.Context(), in.SourceArn); !ok {
		WriteJSONError(w, http.StatusBadRequest, "ResourceNotFoundException", "The resource that you specified for the SourceArn parameter doesn't exist.")
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	ts := st.tasks[in.SourceArn]
	results := []sqsMoveTask{}
	for i := len(ts) - 1; i >= 0 && int32(len(results)) < max; i-- {
		t := *ts[i]
		if t.Status != "RUNNING" {
			t.TaskHandle = "" // AWS gives the handle of running tasks only
		}
		results = append(results, t)
	}
	writeJSON(w, map[string]any{"Results": results})
}

// cancelMove answers CancelMessageMoveTask: only a RUNNING task can be
// cancelled; what it moved stays moved.
func (st *sqsState) cancelMove(w http.ResponseWriter, _ *http.Request, body []byte) {
	var in struct{ TaskHandle string }
	if !decodeJSON(w, body, &in) {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, ts := range st.tasks {
		for _, t := range ts {
			if t.TaskHandle != in.TaskHandle {
				continue
			}
			if t.Status != "RUNNING" {
				WriteJSONError(w, http.StatusBadRequest, "UnsupportedOperation", "Only a RUNNING task can be cancelled; this one is "+t.Status)
				return
			}
			t.Status = "CANCELLED"
			writeJSON(w, map[string]int64{"ApproximateNumberOfMessagesMoved": t.ApproximateNumberOfMessagesMoved})
			return
		}
	}
	WriteJSONError(w, http.StatusBadRequest, "ResourceNotFoundException", "The task handle "+in.TaskHandle+" does not exist.")
}
