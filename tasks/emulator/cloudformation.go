package emulator

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/day2bot/day2bot/internal/cfn"
)

// CloudFormation, answered entirely by the front in the awsQuery wire
// format. kumo's CloudFormation keeps stacks but has no change sets and
// creates nothing, so stacks live here: a change set is computed against
// the stack's resources, and executing it creates, updates and deletes
// real emulator resources (EC2 instances and security groups, S3 buckets,
// RDS instances, CloudWatch alarms; cloudformation_resources.go) by calling
// the emulator's own API with the SDK, as CloudFormation calls AWS. A
// deployed app can then be operated by every other task.
//
// The work is done before the answer (real CloudFormation works in the
// background): a caller's first status read already sees the outcome.
// A resource fails to create the way it would on AWS: inject a fault on
// the operation its provider calls (e.g. "rds:CreateDBInstance"), and the
// stack reports it and rolls back.

const cfnXMLNS = "http://cloudformation.amazonaws.com/doc/2010-05-15/"

type cfnState struct {
	srv *Server
	now func() time.Time

	mu     sync.Mutex
	seq    int
	stacks map[string]*cfnStack // live stacks by name
	byID   map[string]*cfnStack // every stack ever, by id
	sets   map[string]*cfnChangeSet
	drifts map[string]*cfnDetection
}

type cfnStack struct {
	id, name, status, reason, body, role string
	tmpl                                 *cfn.Template
	params                               map[string]string
	tags                                 map[string]string
	res                                  map[string]*cfnRes
	events                               []cfnEvent // oldest first
	created, updated                     time.Time
	outputs                              map[string]string
	drift                                string
	driftChecked                         time.Time
}

// cfnRes is one resource of a stack.
type cfnRes struct {
	logical, typ, physical, status string
	attrs                          map[string]string
	props                          map[string]any // evaluated, as last applied
	tags                           map[string]string
	updated                        time.Time
}

type cfnEvent struct {
	id, logical, physical, typ, status, reason, token string
	at                                                time.Time
}

type cfnChangeSet struct {
	id, name, stackID, stackName, typ, status, exec, reason, desc string
	body                                                          string
	tmpl                                                          *cfn.Template
	params                                                        map[string]string
	tags                                                          map[string]string
	role                                                          string
	changes                                                       []cfnChange
	created                                                       time.Time
}

type cfnChange struct {
	action, logical, physical, typ, replacement string
	details                                     []cfnDetail
}

type cfnDetail struct {
	name, requires, source, before, after string
}

func (s *Server) registerCloudFormation() {
	st := &cfnState{srv: s, now: time.Now, stacks: map[string]*cfnStack{}, byID: map[string]*cfnStack{},
		sets: map[string]*cfnChangeSet{}, drifts: map[string]*cfnDetection{}}
	s.cfn = st
	for op, h := range map[string]Handler{
		"CreateChangeSet": st.createChangeSet, "DescribeChangeSet": st.describeChangeSet,
		"ExecuteChangeSet": st.executeChangeSet, "DeleteChangeSet": st.deleteChangeSet,
		"DescribeStacks": st.describeStacks, "DescribeStackResources": st.describeStackResources,
		"DescribeStackEvents": st.describeStackEvents, "GetTemplate": st.getTemplate,
		"DeleteStack": st.deleteStack, "DetectStackDrift": st.detectDrift,
		"DescribeStackDriftDetectionStatus": st.describeDetection, "DescribeStackResourceDrifts": st.describeResourceDrifts,
	} {
		s.Handle("cloudformation:"+op, h)
	}
}

func cfnError(w http.ResponseWriter, status int, code, format string, args ...any) {
	WriteQueryError(w, status, code, fmt.Sprintf(format, args...))
}

// stack finds a stack by name (live) or id (also deleted ones), or answers
// the ValidationError AWS gives. Caller holds mu.
func (st *cfnState) stack(w http.ResponseWriter, nameOrID string) (*cfnStack, bool) {
	if s, ok := st.stacks[nameOrID]; ok {
		return s, true
	}
	if s, ok := st.byID[nameOrID]; ok {
		return s, true
	}
	cfnError(w, http.StatusBadRequest, "ValidationError", "Stack with id %s does not exist", nameOrID)
	return nil, false
}

// changeSet finds a change set by ARN, or by name within a stack.
func (st *cfnState) changeSet(w http.ResponseWriter, q url.Values) (*cfnChangeSet, bool) {
	name := q.Get("ChangeSetName")
	if cs, ok := st.sets[name]; ok {
		return cs, true
	}
	for _, cs := range st.sets {
		if cs.name == name && (cs.stackName == q.Get("StackName") || cs.stackID == q.Get("StackName")) {
			return cs, true
		}
	}
	cfnError(w, http.StatusNotFound, "ChangeSetNotFound", "ChangeSet [%s] does not exist", name)
	return nil, false
}

// The names' patterns are compiled on first use: the binary links the
// emulator for the sandbox, and serve should not pay for them at start.
var (
	cfnNameRe  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-zA-Z][-a-zA-Z0-9]{0,127}$`) })
	cfnTokenRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-zA-Z0-9][-a-zA-Z0-9]{0,127}$`) })
)

// hashID is a stable pseudo-random id part, so a fresh emulator names
// things the same way every run.
func (st *cfnState) hashID(parts ...string) string {
	st.seq++
	h := sha256.Sum256([]byte(strings.Join(append(parts, strconv.Itoa(st.seq)), "\x00")))
	return hex.EncodeToString(h[:])
}

func (st *cfnState) createChangeSet(w http.ResponseWriter, _ *http.Request, body []byte) {
	q, ok := queryForm(w, body)
	if !ok {
		return
	}
	name, csName, typ := q.Get("StackName"), q.Get("ChangeSetName"), q.Get("ChangeSetType")
	if typ == "" {
		typ = "UPDATE"
	}
	if !cfnNameRe().MatchString(name) || !cfnNameRe().MatchString(csName) {
		cfnError(w, http.StatusBadRequest, "ValidationError", "StackName and ChangeSetName must start with a letter and contain only letters, digits and dashes (128 at most)")
		return
	}
	tmpl, err := cfn.Parse([]byte(q.Get("TemplateBody")))
	if err != nil {
		cfnError(w, http.StatusBadRequest, "ValidationError", "Template format error: %v", err)
		return
	}
	params, err := cfnParams(tmpl, q)
	if err != nil {
		cfnError(w, http.StatusBadRequest, "ValidationError", "%v", err)
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	stack := st.stacks[name]
	switch {
	case typ == "CREATE" && stack != nil && stack.status != "REVIEW_IN_PROGRESS":
		cfnError(w, http.StatusBadRequest, "ValidationError", "Stack [%s] already exists and cannot be created again with the changeSet [%s].", name, csName)
		return
	case typ == "UPDATE" && (stack == nil || stack.status == "REVIEW_IN_PROGRESS"):
		cfnError(w, http.StatusBadRequest, "ValidationError", "Stack [%s] does not exist", name)
		return
	case typ != "CREATE" && typ != "UPDATE":
		cfnError(w, http.StatusBadRequest, "ValidationError", "ChangeSetType %s is not supported", typ)
		return
	}
	now := st.now().UTC().Truncate(time.Second)
	if stack == nil {
		stack = &cfnStack{name: name, status: "REVIEW_IN_PROGRESS", created: now, res: map[string]*cfnRes{},
			id: "arn:aws:cloudformation:us-east-1:000000000000:stack/" + name + "/" + uuidLike(st.hashID("stack", name))}
		st.stacks[name], st.byID[stack.id] = stack, stack
		stack.event(st, "", "REVIEW_IN_PROGRESS", "User Initiated", now)
	}
	for _, cs := range st.sets {
		if cs.stackID == stack.id && cs.name == csName {
			cfnError(w, http.StatusBadRequest, "AlreadyExistsException", "ChangeSet %s already exists", csName)
			return
		}
	}
	cs := &cfnChangeSet{
		id:   "arn:aws:cloudformation:us-east-1:000000000000:changeSet/" + csName + "/" + uuidLike(st.hashID("cs", csName)),
		name: csName, stackID: stack.id, stackName: name, typ: typ, body: q.Get("TemplateBody"), tmpl: tmpl, params: params,
		tags: cfnQueryTags(q), role: q.Get("RoleARN"), desc: q.Get("Description"), created: now,
		status: "CREATE_COMPLETE", exec: "AVAILABLE",
	}
	cs.changes, err = st.diff(stack, cs)
	switch {
	case err != nil:
		cs.status, cs.exec, cs.reason = "FAILED", "UNAVAILABLE", err.Error()
	case len(cs.changes) == 0:
		cs.status, cs.exec = "FAILED", "UNAVAILABLE"
		cs.reason = "The submitted information didn't contain changes. Submit different information to create a change set."
	}
	st.sets[cs.id] = cs
	writeQueryResponse(w, cfnXMLNS, "CreateChangeSet", struct {
		ID      string `xml:"Id"`
		StackID string `xml:"StackId"`
	}{cs.id, stack.id})
}

// cfnParams checks the given parameter values against the template the
// way CloudFormation does, and fills defaults.
func cfnParams(t *cfn.Template, q url.Values) (map[string]string, error) {
	out := map[string]string{}
	for i := 1; q.Has(fmt.Sprintf("Parameters.member.%d.ParameterKey", i)); i++ {
		k := q.Get(fmt.Sprintf("Parameters.member.%d.ParameterKey", i))
		if _, ok := t.Parameters[k]; !ok {
			return nil, fmt.Errorf("Parameters: [%s] do not exist in the template", k)
		}
		out[k] = q.Get(fmt.Sprintf("Parameters.member.%d.ParameterValue", i))
	}
	for _, k := range t.ParameterNames() {
		p := t.Parameters[k]
		v, ok := out[k]
		if !ok {
			if p.Default == nil {
				return nil, fmt.Errorf("Parameters: [%s] must have values", k)
			}
			v = fmt.Sprint(p.Default)
			out[k] = v
		}
		if len(p.AllowedValues) > 0 && !slices.ContainsFunc(p.AllowedValues, func(a any) bool { return fmt.Sprint(a) == v }) {
			return nil, fmt.Errorf("Parameter '%s' must be one of AllowedValues", k)
		}
		if p.AllowedPattern != "" {
			if re, err := regexp.Compile(`^(?:` + p.AllowedPattern + `)$`); err != nil || !re.MatchString(v) {
				return nil, fmt.Errorf("Parameter '%s' must match pattern %s", k, p.AllowedPattern)
			}
		}
		if p.Type == "Number" {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return nil, fmt.Errorf("Parameter '%s' must be a number", k)
			}
			if (p.MinValue != nil && n < *p.MinValue) || (p.MaxValue != nil && n > *p.MaxValue) {
				return nil, fmt.Errorf("Parameter '%s' must be a number between MinValue and MaxValue", k)
			}
		}
	}
	return out, nil
}

func cfnQueryTags(q url.Values) map[string]string {
	out := map[string]string{}
	for i := 1; q.Has(fmt.Sprintf("Tags.member.%d.Key", i)); i++ {
		out[q.Get(fmt.Sprintf("Tags.member.%d.Key", i))] = q.Get(fmt.Sprintf("Tags.member.%d.Value", i))
	}
	return out
}

func uuidLike(h string) string {
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func (s *cfnStack) event(st *cfnState, logical, status, reason string, at time.Time) {
	s.eventFor(st, logical, "", "", status, reason, "", at)
}

func (s *cfnStack) eventFor(st *cfnState, logical, physical, typ, status, reason, token string, at time.Time) {
	if logical == "" {
		logical, physical, typ = s.name, s.id, "AWS::CloudFormation::Stack"
	}
	s.events = append(s.events, cfnEvent{id: uuidLike(st.hashID("ev", s.id)), logical: logical, physical: physical,
		typ: typ, status: status, reason: reason, token: token, at: at})
}

func (st *cfnState) describeChangeSet(w http.ResponseWriter, _ *http.Request, body []byte) {
	q, ok := queryForm(w, body)
	if !ok {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	cs, ok := st.changeSet(w, q)
	if !ok {
		return
	}
	withValues := q.Get("IncludePropertyValues") == "true"
	out := cfnXMLChangeSet{ChangeSetName: cs.name, ChangeSetID: cs.id, StackID: cs.stackID, StackName: cs.stackName,
		Status: cs.status, StatusReason: cs.reason, ExecutionStatus: cs.exec, Description: cs.desc,
		CreationTime: cs.created.Format(time.RFC3339), RoleARN: cs.role}
	for _, k := range sortedKeys(cs.params) {
		out.Parameters = append(out.Parameters, cfnXMLParam{k, cs.params[k]})
	}
	for _, k := range sortedKeys(cs.tags) {
		out.Tags = append(out.Tags, cfnXMLTag{k, cs.tags[k]})
	}
	for _, c := range cs.changes {
		rc := cfnXMLResourceChange{Action: c.action, LogicalResourceID: c.logical, PhysicalResourceID: c.physical,
			ResourceType: c.typ, Replacement: c.replacement}
		if c.action == "Modify" {
			rc.Scope = []string{"Properties"}
		}
		for _, d := range c.details {
			x := cfnXMLDetail{ChangeSource: d.source, Evaluation: "Static"}
			x.Target.Attribute, x.Target.Name, x.Target.RequiresRecreation = "Properties", d.name, d.requires
			if withValues {
				x.Target.BeforeValue, x.Target.AfterValue = d.before, d.after
			}
			rc.Details = append(rc.Details, x)
		}
		out.Changes = append(out.Changes, cfnXMLChange{Type: "Resource", ResourceChange: rc})
	}
	writeQueryResponse(w, cfnXMLNS, "DescribeChangeSet", out)
}

func (st *cfnState) deleteChangeSet(w http.ResponseWriter, _ *http.Request, body []byte) {
	q, ok := queryForm(w, body)
	if !ok {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	cs, ok := st.changeSet(w, q)
	if !ok {
		return
	}
	delete(st.sets, cs.id)
	writeQueryResponse(w, cfnXMLNS, "DeleteChangeSet", struct{}{})
}

func (st *cfnState) executeChangeSet(w http.ResponseWriter, r *http.Request, body []byte) {
	q, ok := queryForm(w, body)
	if !ok {
		return
	}
	token := q.Get("ClientRequestToken")
	if token != "" && !cfnTokenRe().MatchString(token) {
		cfnError(w, http.StatusBadRequest, "ValidationError", "ClientRequestToken must be letters, digits and dashes")
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	cs, ok := st.changeSet(w, q)
	if !ok {
		return
	}
	if cs.exec != "AVAILABLE" {
		cfnError(w, http.StatusBadRequest, "InvalidChangeSetStatus", "ChangeSet [%s] cannot be executed in its current status of [%s]", cs.id, cs.exec)
		return
	}
	stack := st.byID[cs.stackID]
	// CloudFormation deletes a stack's change sets once one is executed:
	// the others were computed against a stack that no longer is.
	for id, other := range st.sets {
		if other.stackID == stack.id && id != cs.id {
			delete(st.sets, id)
		}
	}
	cs.exec = "EXECUTE_IN_PROGRESS"
	if st.apply(r.Context(), stack, cs, token) {
		delete(st.sets, cs.id)
	} else {
		cs.exec = "EXECUTE_FAILED"
	}
	writeQueryResponse(w, cfnXMLNS, "ExecuteChangeSet", struct{}{})
}

func (st *cfnState) describeStacks(w http.ResponseWriter, _ *http.Request, body []byte) {
	q, ok := queryForm(w, body)
	if !ok {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	var list []*cfnStack
	if n := q.Get("StackName"); n != "" {
		s, ok := st.stack(w, n)
		if !ok {
			return
		}
		list = []*cfnStack{s}
	} else {
		for _, n := range sortedKeys(st.stacks) {
			list = append(list, st.stacks[n])
		}
	}
	var out []cfnXMLStack
	for _, s := range list {
		x := cfnXMLStack{StackID: s.id, StackName: s.name, StackStatus: s.status, StackStatusReason: s.reason,
			CreationTime: s.created.Format(time.RFC3339), RoleARN: s.role}
		if !s.updated.IsZero() {
			x.LastUpdatedTime = s.updated.Format(time.RFC3339)
		}
		for _, k := range sortedKeys(s.params) {
			x.Parameters = append(x.Parameters, cfnXMLParam{k, s.params[k]})
		}
		for _, k := range sortedKeys(s.outputs) {
			x.Outputs = append(x.Outputs, cfnXMLOutput{k, s.outputs[k]})
		}
		for _, k := range sortedKeys(s.tags) {
			x.Tags = append(x.Tags, cfnXMLTag{k, s.tags[k]})
		}
		x.DriftInformation.StackDriftStatus = "NOT_CHECKED"
		if s.drift != "" {
			x.DriftInformation.StackDriftStatus = s.drift
			x.DriftInformation.LastCheckTimestamp = s.driftChecked.Format(time.RFC3339)
		}
		out = append(out, x)
	}
	writeQueryResponse(w, cfnXMLNS, "DescribeStacks", struct {
		Stacks []cfnXMLStack `xml:"Stacks>member"`
	}{out})
}

func (st *cfnState) describeStackResources(w http.ResponseWriter, _ *http.Request, body []byte) {
	q, ok := queryForm(w, body)
	if !ok {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	s, ok := st.stack(w, q.Get("StackName"))
	if !ok {
		return
	}
	var out []cfnXMLResource
	for _, k := range sortedKeys(s.res) {
		r := s.res[k]
		out = append(out, cfnXMLResource{StackName: s.name, StackID: s.id, LogicalResourceID: r.logical,
			PhysicalResourceID: r.physical, ResourceType: r.typ, ResourceStatus: r.status, Timestamp: r.updated.Format(time.RFC3339)})
	}
	writeQueryResponse(w, cfnXMLNS, "DescribeStackResources", struct {
		StackResources []cfnXMLResource `xml:"StackResources>member"`
	}{out})
}

func (st *cfnState) describeStackEvents(w http.ResponseWriter, _ *http.Request, body []byte) {
	q, ok := queryForm(w, body)
	if !ok {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	s, ok := st.stack(w, q.Get("StackName"))
	if !ok {
		return
	}
	// Newest first, 100 a page, as AWS pages them.
	start, _ := strconv.Atoi(q.Get("NextToken"))
	var out []cfnXMLEvent
	for i := len(s.events) - 1 - start; i >= 0 && len(out) < 100; i-- {
		e := s.events[i]
		out = append(out, cfnXMLEvent{StackID: s.id, StackName: s.name, EventID: e.id, LogicalResourceID: e.logical,
			PhysicalResourceID: e.physical, ResourceType: e.typ, ResourceStatus: e.status, ResourceStatusReason: e.reason,
			ClientRequestToken: e.token, Timestamp: e.at.Format(time.RFC3339)})
	}
	next := ""
	if start+len(out) < len(s.events) {
		next = strconv.Itoa(start + len(out))
	}
	writeQueryResponse(w, cfnXMLNS, "DescribeStackEvents", struct {
		StackEvents []cfnXMLEvent `xml:"StackEvents>member"`
		NextToken   string        `xml:"NextToken,omitempty"`
	}{out, next})
}

func (st *cfnState) getTemplate(w http.ResponseWriter, _ *http.Request, body []byte) {
	q, ok := queryForm(w, body)
	if !ok {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	s, ok := st.stack(w, q.Get("StackName"))
	if !ok {
		return
	}
	writeQueryResponse(w, cfnXMLNS, "GetTemplate", struct {
		TemplateBody    string   `xml:"TemplateBody"`
		StagesAvailable []string `xml:"StagesAvailable>member"`
	}{s.body, []string{"Original", "Processed"}})
}

func (st *cfnState) deleteStack(w http.ResponseWriter, r *http.Request, body []byte) {
	q, ok := queryForm(w, body)
	if !ok {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	s, ok := st.stacks[q.Get("StackName")]
	if !ok {
		if s, ok = st.byID[q.Get("StackName")]; !ok || s.status == "DELETE_COMPLETE" {
			// Deleting a stack that does not exist succeeds, as on AWS.
			writeQueryResponse(w, cfnXMLNS, "DeleteStack", struct{}{})
			return
		}
	}
	for id, cs := range st.sets {
		if cs.stackID == s.id {
			delete(st.sets, id)
		}
	}
	st.remove(r.Context(), s, q.Get("ClientRequestToken"))
	writeQueryResponse(w, cfnXMLNS, "DeleteStack", struct{}{})
}
