package emulator

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// SSM patching and Run Command, in awsJson1_1. kumo's SSM is Parameter
// Store only, so the emulator keeps managed instances (agent ping status,
// patches by severity and state, the last patch operation) and commands
// itself. A command advances one wave (MaxConcurrency instances) on each
// ListCommandInvocations call, so a poller sees it progress without any
// clock; once more than MaxErrors invocations failed, the instances not
// yet reached are Cancelled, as SSM stops sending the command. A
// successful AWS-RunPatchBaseline Install marks the instance's missing
// patches installed.

// ManagedInstance is a seedable SSM managed instance (the EC2 instance
// itself is seeded with SeedInstances).
type ManagedInstance struct {
	ID      string
	Offline bool    // agent ping status ConnectionLost
	Patches []Patch // the baseline's view of the instance
	// Fails makes every command on the instance fail (a broken package
	// manager, a full disk).
	Fails bool
}

// Patch is one patch of a managed instance.
type Patch struct {
	Title    string
	Severity string // Critical, Important, Medium, Low
	State    string // Installed, Missing, Failed
}

type ssmInstance struct {
	ManagedInstance
	op     string // last patch operation: Scan or Install
	opTime time.Time
}

type ssmInvocation struct {
	instance, status, details string
}

type ssmCommand struct {
	id, document           string
	params                 map[string][]string
	concurrency, maxErrors int
	invocations            []*ssmInvocation
	requested              time.Time
	comment                string
}

type ssmState struct {
	mu        sync.Mutex
	now       func() time.Time
	seq       int
	instances map[string]*ssmInstance
	commands  map[string]*ssmCommand
}

func (s *Server) registerSSM() {
	st := &ssmState{now: time.Now, instances: map[string]*ssmInstance{}, commands: map[string]*ssmCommand{}}
	s.ssm = st
	for op, h := range map[string]Handler{
		"DescribeInstanceInformation": st.describeInstanceInformation, "DescribeInstancePatchStates": st.describePatchStates,
		"DescribeInstancePatches": st.describePatches, "SendCommand": st.sendCommand, "ListCommandInvocations": st.listInvocations,
	} {
		s.Handle("ssm:"+op, h)
	}
}

// SeedManagedInstance registers an instance with SSM (AWS has no API for
// an agent's registration or a baseline's findings).
func (s *Server) SeedManagedInstance(m ManagedInstance) {
	st := s.ssm
	st.mu.Lock()
	defer st.mu.Unlock()
	st.instances[m.ID] = &ssmInstance{ManagedInstance: m, op: "Scan", opTime: st.now().Add(-24 * time.Hour)}
}

// MissingPatches counts an instance's missing patches.
func (s *Server) MissingPatches(id string) int {
	st := s.ssm
	st.mu.Lock()
	defer st.mu.Unlock()
	n := 0
	if in, ok := st.instances[id]; ok {
		for _, p := range in.Patches {
			if p.State == "Missing" {
				n++
			}
		}
	}
	return n
}

// SSMCommand is what the emulator knows of a sent command.
type SSMCommand struct {
	Document       string
	Parameters     map[string][]string
	Instances      []string
	MaxConcurrency int
	MaxErrors      int
}

// SSMCommands lists the commands sent to an instance, oldest first.
func (s *Server) SSMCommands(instance string) []SSMCommand {
	st := s.ssm
	st.mu.Lock()
	defer st.mu.Unlock()
	var out []SSMCommand
	for _, id := range sortedKeys(st.commands) {
		c := st.commands[id]
		var ids []string
		for _, inv := range c.invocations {
			ids = append(ids, inv.instance)
		}
		if slices.Contains(ids, instance) {
			out = append(out, SSMCommand{Document: c.document, Parameters: c.params, Instances: ids, MaxConcurrency: c.concurrency, MaxErrors: c.maxErrors})
		}
	}
	return out
}

type ssmFilter struct {
	Key    string   `json:"Key"`
	Values []string `json:"Values"`
}

func (st *ssmState) describeInstanceInformation(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct {
		Filters []ssmFilter
	}
	if !decodeJSON(w, body, &in) {
		return
	}
	var ids []string
	for _, f := range in.Filters {
		if f.Key == "InstanceIds" {
			ids = f.Values
		}
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if ids == nil {
		ids = sortedKeys(st.instances)
	}
	list := []map[string]any{}
	for _, id := range ids {
		m, ok := st.instances[id]
		if !ok {
			continue
		}
		ping := "Online"
		if m.Offline {
			ping = "ConnectionLost"
		}
		list = append(list, map[string]any{"InstanceId": id, "PingStatus": ping, "PlatformType": "Linux", "PlatformName": "Amazon Linux",
			"AgentVersion": "3.3.0.0", "ResourceType": "EC2Instance"})
	}
	writeJSON(w, map[string]any{"InstanceInformationList": list})
}

func (st *ssmState) describePatchStates(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct {
		InstanceIds []string
	}
	if !decodeJSON(w, body, &in) {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	list := []map[string]any{}
	for _, id := range in.InstanceIds {
		m, ok := st.instances[id]
		if !ok {
			continue
		}
		count := map[string]int{}
		critical := 0
		for _, p := range m.Patches {
			count[p.State]++
			if p.State == "Missing" && p.Severity == "Critical" {
				critical++
			}
		}
		list = append(list, map[string]any{"InstanceId": id, "PatchGroup": "", "BaselineId": "pb-0123456789abcdef0",
			"InstalledCount": count["Installed"], "MissingCount": count["Missing"], "FailedCount": count["Failed"],
			"CriticalNonCompliantCount": critical, "Operation": m.op,
			"OperationStartTime": epoch(m.opTime), "OperationEndTime": epoch(m.opTime)})
	}
	writeJSON(w, map[string]any{"InstancePatchStates": list})
}

func (st *ssmState) describePatches(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct {
		InstanceId string
		Filters    []ssmFilter
		MaxResults int
		NextToken  string
	}
	if !decodeJSON(w, body, &in) {
		return
	}
	start, ok := parsePageToken(in.NextToken, "patches-")
	if !ok || (in.MaxResults != 0 && (in.MaxResults < 10 || in.MaxResults > 100)) {
		WriteJSONError(w, http.StatusBadRequest, "ValidationException", "bad NextToken or MaxResults")
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	m, found := st.instances[in.InstanceId]
	if !found {
		WriteJSONError(w, http.StatusBadRequest, "InvalidInstanceId", "Instance Id "+in.InstanceId+" is not a managed instance")
		return
	}
	var all []map[string]any
	for i, p := range m.Patches {
		keep := true
		for _, f := range in.Filters {
			if f.Key == "State" && !slices.Contains(f.Values, p.State) {
				keep = false
			}
		}
		if keep {
			all = append(all, map[string]any{"Title": p.Title, "KBId": fmt.Sprintf("KB%06d", i), "Classification": "Security",
				"Severity": p.Severity, "State": p.State})
		}
	}
	got, next := page(all, start, in.MaxResults, "patches-")
	out := map[string]any{"Patches": append([]map[string]any{}, got...)}
	if next != "" {
		out["NextToken"] = next
	}
	writeJSON(w, out)
}

func (st *ssmState) sendCommand(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct {
		DocumentName              string
		InstanceIds               []string
		Parameters                map[string][]string
		MaxConcurrency, MaxErrors string
		Comment                   string
	}
	if !decodeJSON(w, body, &in) {
		return
	}
	conc, err1 := strconv.Atoi(or(in.MaxConcurrency, "50"))
	maxErr, err2 := strconv.Atoi(or(in.MaxErrors, "0"))
	if in.DocumentName == "" || len(in.InstanceIds) == 0 || err1 != nil || err2 != nil || conc < 1 || maxErr < 0 {
		WriteJSONError(w, http.StatusBadRequest, "ValidationException", "DocumentName, InstanceIds and numeric MaxConcurrency/MaxErrors are required")
		return
	}
	if !strings.HasPrefix(in.DocumentName, "AWS-") {
		WriteJSONError(w, http.StatusBadRequest, "InvalidDocument", "Document "+in.DocumentName+" does not exist")
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, id := range in.InstanceIds {
		if m, ok := st.instances[id]; !ok || m.Offline {
			WriteJSONError(w, http.StatusBadRequest, "InvalidInstanceId", "Instances ["+id+"] not in a valid state for account 000000000000")
			return
		}
	}
	st.seq++
	c := &ssmCommand{id: fmt.Sprintf("%08d-0000-4000-8000-%012d", st.seq, st.seq), document: in.DocumentName, params: in.Parameters,
		concurrency: conc, maxErrors: maxErr, requested: st.now(), comment: in.Comment}
	for _, id := range in.InstanceIds {
		c.invocations = append(c.invocations, &ssmInvocation{instance: id, status: "Pending", details: "Pending"})
	}
	st.commands[c.id] = c
	writeJSON(w, map[string]any{"Command": map[string]any{"CommandId": c.id, "DocumentName": c.document, "Status": "Pending",
		"InstanceIds": in.InstanceIds, "MaxConcurrency": in.MaxConcurrency, "MaxErrors": in.MaxErrors, "Comment": c.comment,
		"RequestedDateTime": epoch(c.requested), "TargetCount": len(in.InstanceIds)}})
}

// advance runs the command's next wave: once more than MaxErrors
// invocations failed, the ones not yet started are cancelled.
func (st *ssmState) advance(c *ssmCommand) {
	errs := 0
	for _, inv := range c.invocations {
		if inv.status == "Failed" {
			errs++
		}
	}
	started := 0
	for _, inv := range c.invocations {
		switch {
		case inv.status != "Pending":
			continue
		case errs > c.maxErrors:
			inv.status, inv.details = "Cancelled", "Cancelled"
			continue
		case started == c.concurrency:
			return
		}
		started++
		m := st.instances[inv.instance]
		if m.Fails {
			inv.status, inv.details = "Failed", "Failed"
			continue
		}
		inv.status, inv.details = "Success", "Success"
		if c.document == "AWS-RunPatchBaseline" {
			st.patch(m, c.params)
		}
	}
}

// patch records a successful AWS-RunPatchBaseline on an instance.
func (st *ssmState) patch(m *ssmInstance, params map[string][]string) {
	op := "Scan"
	if ops := params["Operation"]; len(ops) > 0 {
		op = ops[0]
	}
	m.op, m.opTime = op, st.now()
	if op != "Install" {
		return
	}
	for i := range m.Patches {
		if m.Patches[i].State == "Missing" {
			m.Patches[i].State = "Installed"
		}
	}
}

func (st *ssmState) listInvocations(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct {
		CommandId  string
		MaxResults int
		NextToken  string
	}
	if !decodeJSON(w, body, &in) {
		return
	}
	start, ok := parsePageToken(in.NextToken, "inv-")
	if !ok || in.MaxResults < 0 || in.MaxResults > 50 {
		WriteJSONError(w, http.StatusBadRequest, "ValidationException", "bad NextToken or MaxResults")
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	c, found := st.commands[in.CommandId]
	if !found {
		WriteJSONError(w, http.StatusBadRequest, "InvalidCommandId", "Command "+in.CommandId+" does not exist")
		return
	}
	if start == 0 { // a new read of the whole list: the command moves on
		st.advance(c)
	}
	var all []map[string]any
	for _, inv := range c.invocations {
		all = append(all, map[string]any{"CommandId": c.id, "InstanceId": inv.instance, "DocumentName": c.document,
			"Status": inv.status, "StatusDetails": inv.details, "RequestedDateTime": epoch(c.requested), "Comment": c.comment})
	}
	got, next := page(all, start, or0(in.MaxResults, 50), "inv-")
	out := map[string]any{"CommandInvocations": append([]map[string]any{}, got...)}
	if next != "" {
		out["NextToken"] = next
	}
	writeJSON(w, out)
}

func or0(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
