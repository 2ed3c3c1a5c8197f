package emulator

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// Step Functions, in awsJson 1.0. kumo runs state machines for real, but
// in the background and on the wall clock: an execution that failed at a
// given time cannot be seeded, nor its end awaited without sleeping, and
// kumo has no RedriveExecution. So, as for Lambda, the front keeps the
// model the sfn.* actions read and write: state machines with their type
// and tags, and executions with status, times, input, error, cause and
// redrives. A started or redriven execution stays RUNNING: nothing here
// runs a definition.

const (
	sfnMachineARN   = "arn:aws:states:us-east-1:000000000000:stateMachine:"
	sfnExecutionARN = "arn:aws:states:us-east-1:000000000000:execution:"
)

// SFNStateMachine is a seedable state machine with past executions.
type SFNStateMachine struct {
	Name       string
	Express    bool
	Tags       map[string]string
	Executions []SFNExecution
}

// SFNExecution is a seeded execution: Status RUNNING, SUCCEEDED, FAILED,
// TIMED_OUT or ABORTED; Stopped is when it ended (none when RUNNING).
type SFNExecution struct {
	Name, Status, Input, Error, Cause string
	Started, Stopped                  time.Time
}

type sfnExecution struct {
	SFNExecution
	machine      string
	redriveCount int
	redriveDate  time.Time
}

type sfnMachine struct {
	name, typ string
	created   time.Time
	tags      map[string]string
	execs     []*sfnExecution // oldest first
}

type sfnState struct {
	mu       sync.Mutex
	now      func() time.Time
	machines map[string]*sfnMachine
	order    []string
}

func (s *Server) registerStepFunctions() {
	st := &sfnState{now: time.Now, machines: map[string]*sfnMachine{}}
	s.sfn = st
	for op, h := range map[string]Handler{
		"CreateStateMachine": st.create, "ListStateMachines": st.list, "ListTagsForResource": st.listTags,
		"ListExecutions": st.listExecutions, "DescribeExecution": st.describeExecution,
		"StartExecution": st.start, "RedriveExecution": st.redrive,
	} {
		s.Handle("states:"+op, h)
	}
}

// SetStepFunctionsClock sets the clock of starts and redrives (tests pin
// it to their own now).
func (s *Server) SetStepFunctionsClock(now func() time.Time) {
	s.sfn.mu.Lock()
	defer s.sfn.mu.Unlock()
	s.sfn.now = now
}

// SeedStateMachine creates a state machine over the wire and adds its
// past executions to the model.
func (s *Server) SeedStateMachine(ctx context.Context, m SFNStateMachine) error {
	c := sfn.NewFromConfig(s.seedConfig())
	in := &sfn.CreateStateMachineInput{Name: aws.String(m.Name), Type: sfntypes.StateMachineTypeStandard,
		RoleArn:    aws.String("arn:aws:iam::000000000000:role/" + m.Name),
		Definition: aws.String(`{"StartAt":"Done","States":{"Done":{"Type":"Succeed"}}}`)}
	if m.Express {
		in.Type = sfntypes.StateMachineTypeExpress
	}
	for _, k := range sortedKeys(m.Tags) {
		in.Tags = append(in.Tags, sfntypes.Tag{Key: aws.String(k), Value: aws.String(m.Tags[k])})
	}
	if _, err := c.CreateStateMachine(ctx, in); err != nil {
		return fmt.Errorf("seed state machine %s: %w", m.Name, err)
	}
	st := s.sfn
	st.mu.Lock()
	defer st.mu.Unlock()
	sm := st.machines[m.Name]
	for _, e := range m.Executions {
		sm.execs = append(sm.execs, &sfnExecution{SFNExecution: e, machine: m.Name})
	}
	return nil
}

// SFNExecutionState reports an execution's status and redrive count; the
// newest execution whose name starts with prefix when name ends in "*".
func (s *Server) SFNExecutionState(machine, name string) (status string, redrives int) {
	st := s.sfn
	st.mu.Lock()
	defer st.mu.Unlock()
	sm := st.machines[machine]
	if sm == nil {
		return "", 0
	}
	for i := len(sm.execs) - 1; i >= 0; i-- {
		e := sm.execs[i]
		if e.Name == name || strings.HasSuffix(name, "*") && strings.HasPrefix(e.Name, strings.TrimSuffix(name, "*")) {
			return e.Status, e.redriveCount
		}
	}
	return "", 0
}

// SFNExecutionInput reports the input of an execution.
func (s *Server) SFNExecutionInput(machine, name string) string {
	st := s.sfn
	st.mu.Lock()
	defer st.mu.Unlock()
	if e := st.find(machine, name); e != nil {
		return e.Input
	}
	return ""
}

// find returns an execution. Caller holds st.mu.
func (st *sfnState) find(machine, name string) *sfnExecution {
	if sm := st.machines[machine]; sm != nil {
		for _, e := range sm.execs {
			if e.Name == name {
				return e
			}
		}
	}
	return nil
}

// execution finds the execution an ARN names or answers
// ExecutionDoesNotExist. Caller holds st.mu.
func (st *sfnState) execution(w http.ResponseWriter, arn string) (*sfnExecution, bool) {
	machine, name, _ := strings.Cut(strings.TrimPrefix(arn, sfnExecutionARN), ":")
	e := st.find(machine, name)
	if e == nil || !strings.HasPrefix(arn, sfnExecutionARN) {
		WriteJSONError(w, http.StatusBadRequest, "ExecutionDoesNotExist", "Execution Does Not Exist: '"+arn+"'")
		return nil, false
	}
	return e, true
}

// machine finds the state machine an ARN names or answers
// StateMachineDoesNotExist. Caller holds st.mu.
func (st *sfnState) machine(w http.ResponseWriter, arn string) (*sfnMachine, bool) {
	sm, ok := st.machines[strings.TrimPrefix(arn, sfnMachineARN)]
	if !ok || !strings.HasPrefix(arn, sfnMachineARN) {
		WriteJSONError(w, http.StatusBadRequest, "StateMachineDoesNotExist", "State Machine Does Not Exist: '"+arn+"'")
	}
	return sm, ok
}

type sfnTag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

func (st *sfnState) create(w http.ResponseWriter, _ *http.Request, body []byte) {
	var in struct {
		Name string `json:"name"`
		Type string `json:"type"`
		Tags []sfnTag
	}
	if !decodeJSON(w, body, &in) {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if _, dup := st.machines[in.Name]; dup || in.Name == "" {
		WriteJSONError(w, http.StatusBadRequest, "StateMachineAlreadyExists", "State Machine Already Exists: '"+sfnMachineARN+in.Name+"'")
		return
	}
	sm := &sfnMachine{name: in.Name, typ: in.Type, created: st.now().UTC().Truncate(time.Second), tags: map[string]string{}}
	if sm.typ == "" {
		sm.typ = "STANDARD"
	}
	for _, t := range in.Tags {
		sm.tags[t.Key] = t.Value
	}
	st.machines[in.Name] = sm
	st.order = append(st.order, in.Name)
	writeJSON(w, map[string]any{"stateMachineArn": sfnMachineARN + in.Name, "creationDate": epoch(sm.created)})
}

func (st *sfnState) list(w http.ResponseWriter, _ *http.Request, body []byte) {
	var in struct {
		MaxResults int    `json:"maxResults"`
		NextToken  string `json:"nextToken"`
	}
	if !decodeJSON(w, body, &in) {
		return
	}
	start, ok := parsePageToken(in.NextToken, "sfntok-")
	if !ok || in.MaxResults < 0 || in.MaxResults > 1000 {
		WriteJSONError(w, http.StatusBadRequest, "InvalidToken", "bad nextToken or maxResults")
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	names, next := page(st.order, start, cmp.Or(in.MaxResults, 100), "sfntok-")
	items := []map[string]any{}
	for _, n := range names {
		sm := st.machines[n]
		items = append(items, map[string]any{"stateMachineArn": sfnMachineARN + n, "name": n, "type": sm.typ, "creationDate": epoch(sm.created)})
	}
	out := map[string]any{"stateMachines": items}
	if next != "" {
		out["nextToken"] = next
	}
	writeJSON(w, out)
}

func (st *sfnState) listTags(w http.ResponseWriter, _ *http.Request, body []byte) {
	var in struct {
		ResourceArn string `json:"resourceArn"`
	}
	if !decodeJSON(w, body, &in) {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	sm, ok := st.machines[strings.TrimPrefix(in.ResourceArn, sfnMachineARN)]
	if !ok {
		WriteJSONError(w, http.StatusBadRequest, "ResourceNotFound", "Resource not found: '"+in.ResourceArn+"'")
		return
	}
	tags := []sfnTag{}
	for _, k := range sortedKeys(sm.tags) {
		tags = append(tags, sfnTag{k, sm.tags[k]})
	}
	writeJSON(w, map[string]any{"tags": tags})
}

func (e *sfnExecution) arn() string { return sfnExecutionARN + e.machine + ":" + e.Name }

func (e *sfnExecution) item() map[string]any {
	m := map[string]any{"executionArn": e.arn(), "stateMachineArn": sfnMachineARN + e.machine, "name": e.Name,
		"status": e.Status, "startDate": epoch(e.Started)}
	if !e.Stopped.IsZero() && e.Status != "RUNNING" {
		m["stopDate"] = epoch(e.Stopped)
	}
	if e.redriveCount > 0 {
		m["redriveCount"] = e.redriveCount
		m["redriveDate"] = epoch(e.redriveDate)
	}
	return m
}

// listExecutions pages newest first, as AWS does.
func (st *sfnState) listExecutions(w http.ResponseWriter, _ *http.Request, body []byte) {
	var in struct {
		StateMachineArn string `json:"stateMachineArn"`
		StatusFilter    string `json:"statusFilter"`
		MaxResults      int    `json:"maxResults"`
		NextToken       string `json:"nextToken"`
	}
	if !decodeJSON(w, body, &in) {
		return
	}
	start, ok := parsePageToken(in.NextToken, "sfnex-")
	if !ok || in.MaxResults < 0 || in.MaxResults > 1000 {
		WriteJSONError(w, http.StatusBadRequest, "InvalidToken", "bad nextToken or maxResults")
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	sm, ok := st.machine(w, in.StateMachineArn)
	if !ok {
		return
	}
	if sm.typ == "EXPRESS" {
		WriteJSONError(w, http.StatusBadRequest, "StateMachineTypeNotSupported", "This operation is not supported by this type of state machine")
		return
	}
	var match []*sfnExecution
	for i := len(sm.execs) - 1; i >= 0; i-- {
		if e := sm.execs[i]; in.StatusFilter == "" || e.Status == in.StatusFilter {
			match = append(match, e)
		}
	}
	got, next := page(match, start, cmp.Or(in.MaxResults, 100), "sfnex-")
	items := []map[string]any{}
	for _, e := range got {
		items = append(items, e.item())
	}
	out := map[string]any{"executions": items}
	if next != "" {
		out["nextToken"] = next
	}
	writeJSON(w, out)
}

// redriveBlock says why AWS would refuse to redrive e now, "" if it
// would not: only executions that failed, timed out or were aborted,
// within 14 days of their end, fewer than 1000 times. (Express
// executions are not kept: neither listed nor described.)
func (st *sfnState) redriveBlock(e *sfnExecution) string {
	switch {
	case e.Status != "FAILED" && e.Status != "TIMED_OUT" && e.Status != "ABORTED":
		return "Execution is " + e.Status
	case st.now().Sub(e.Stopped) > 14*24*time.Hour:
		return "Execution stopped more than 14 days ago"
	case e.redriveCount >= 1000:
		return "Execution has been redriven 1000 times"
	}
	return ""
}

func (st *sfnState) describeExecution(w http.ResponseWriter, _ *http.Request, body []byte) {
	var in struct {
		ExecutionArn string `json:"executionArn"`
	}
	if !decodeJSON(w, body, &in) {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	e, ok := st.execution(w, in.ExecutionArn)
	if !ok {
		return
	}
	if st.machines[e.machine].typ == "EXPRESS" {
		WriteJSONError(w, http.StatusBadRequest, "StateMachineTypeNotSupported", "This operation is not supported by this type of state machine")
		return
	}
	out := e.item()
	out["input"] = e.Input
	out["inputDetails"] = map[string]bool{"included": true}
	if e.Error != "" {
		out["error"] = e.Error
	}
	if e.Cause != "" {
		out["cause"] = e.Cause
	}
	if why := st.redriveBlock(e); why != "" {
		out["redriveStatus"], out["redriveStatusReason"] = "NOT_REDRIVABLE", why
	} else {
		out["redriveStatus"] = "REDRIVABLE"
	}
	writeJSON(w, out)
}

var sfnNameRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_.-]{1,80}$`) })

func (st *sfnState) start(w http.ResponseWriter, _ *http.Request, body []byte) {
	var in struct {
		StateMachineArn string `json:"stateMachineArn"`
		Name            string `json:"name"`
		Input           string `json:"input"`
	}
	if !decodeJSON(w, body, &in) {
		return
	}
	if !sfnNameRe().MatchString(in.Name) {
		WriteJSONError(w, http.StatusBadRequest, "InvalidName", "Invalid Name: '"+in.Name+"'")
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	sm, ok := st.machine(w, in.StateMachineArn)
	if !ok {
		return
	}
	if e := st.find(sm.name, in.Name); e != nil {
		WriteJSONError(w, http.StatusBadRequest, "ExecutionAlreadyExists", "Execution Already Exists: '"+e.arn()+"'")
		return
	}
	e := &sfnExecution{SFNExecution: SFNExecution{Name: in.Name, Status: "RUNNING", Input: in.Input, Started: st.now().UTC()}, machine: sm.name}
	sm.execs = append(sm.execs, e)
	writeJSON(w, map[string]any{"executionArn": e.arn(), "startDate": epoch(e.Started)})
}

func (st *sfnState) redrive(w http.ResponseWriter, _ *http.Request, body []byte) {
	var in struct {
		ExecutionArn string `json:"executionArn"`
	}
	if !decodeJSON(w, body, &in) {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	e, ok := st.execution(w, in.ExecutionArn)
	if !ok {
		return
	}
	if why := st.redriveBlock(e); why != "" {
		WriteJSONError(w, http.StatusBadRequest, "ExecutionNotRedrivable", why)
		return
	}
	e.Status, e.Stopped, e.Error, e.Cause = "RUNNING", time.Time{}, "", ""
	e.redriveCount++
	e.redriveDate = st.now().UTC()
	writeJSON(w, map[string]any{"redriveDate": epoch(e.redriveDate)})
}
