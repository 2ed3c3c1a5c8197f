package emulator

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
)

// AWS Config, in awsJson1_1, and CloudTrail seeding. kumo's CloudTrail
// serves trails, their status and tags as the cloudtrail actions read
// them, so trails are seeded into kumo over the wire. kumo's Config has
// recorders and rules but no recorder status, no compliance summary and
// evaluations that are always empty (and no way to add any), so the front
// keeps recorders, rules and their evaluations itself.

// Trail is a seedable CloudTrail trail.
type Trail struct {
	Name        string
	MultiRegion bool
	Validation  bool
	Logging     bool
	Tags        map[string]string
}

// SeedTrail creates a trail in kumo (and starts its logging) over the wire.
func (s *Server) SeedTrail(ctx context.Context, t Trail) error {
	c := cloudtrail.NewFromConfig(s.seedConfig())
	var tags []cttypes.Tag
	for _, k := range sortedKeys(t.Tags) {
		tags = append(tags, cttypes.Tag{Key: aws.String(k), Value: aws.String(t.Tags[k])})
	}
	if _, err := c.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String(t.Name), S3BucketName: aws.String(t.Name + "-logs"),
		IsMultiRegionTrail: aws.Bool(t.MultiRegion), EnableLogFileValidation: aws.Bool(t.Validation), TagsList: tags}); err != nil {
		return fmt.Errorf("seed trail %s: %w", t.Name, err)
	}
	if t.Logging {
		if _, err := c.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String(t.Name)}); err != nil {
			return fmt.Errorf("seed trail %s: start logging: %w", t.Name, err)
		}
	}
	return nil
}

// ConfigRecorder is a seedable Config recorder.
type ConfigRecorder struct {
	Name          string
	Recording     bool
	AllSupported  bool
	ResourceTypes []string
	LastStatus    string // SUCCESS, FAILURE, PENDING; default SUCCESS
}

// ConfigRule is a seedable Config rule with its evaluations.
type ConfigRule struct {
	Name         string
	NonCompliant []ConfigResource // resources the rule finds non-compliant
	Compliant    []ConfigResource
}

// ConfigResource is one evaluated resource.
type ConfigResource struct{ Type, ID string }

type configState struct {
	mu        sync.Mutex
	now       func() time.Time
	recorders map[string]ConfigRecorder
	rules     map[string]ConfigRule
	order     []string // rule creation order
}

func (s *Server) registerConfig() {
	st := &configState{now: time.Now, recorders: map[string]ConfigRecorder{}, rules: map[string]ConfigRule{}}
	s.config = st
	for op, h := range map[string]Handler{
		"DescribeConfigurationRecorders": st.describeRecorders, "DescribeConfigurationRecorderStatus": st.describeRecorderStatus,
		"DescribeConfigRules": st.describeRules, "DescribeComplianceByConfigRule": st.describeCompliance,
		"GetComplianceDetailsByConfigRule": st.complianceDetails,
	} {
		s.Handle("config:"+op, h)
	}
}

// SeedConfigRecorder sets up a recorder (there is one per region).
func (s *Server) SeedConfigRecorder(r ConfigRecorder) {
	s.config.mu.Lock()
	defer s.config.mu.Unlock()
	if r.LastStatus == "" {
		r.LastStatus = "SUCCESS"
	}
	s.config.recorders[r.Name] = r
}

// SeedConfigRule sets up a rule and its latest evaluations.
func (s *Server) SeedConfigRule(r ConfigRule) {
	st := s.config
	st.mu.Lock()
	defer st.mu.Unlock()
	if _, ok := st.rules[r.Name]; !ok {
		st.order = append(st.order, r.Name)
	}
	st.rules[r.Name] = r
}

func (st *configState) describeRecorders(w http.ResponseWriter, r *http.Request, body []byte) {
	st.mu.Lock()
	defer st.mu.Unlock()
	list := []map[string]any{}
	for _, name := range sortedKeys(st.recorders) {
		rec := st.recorders[name]
		list = append(list, map[string]any{"name": name, "roleARN": "arn:aws:iam::000000000000:role/aws-config",
			"recordingGroup": map[string]any{"allSupported": rec.AllSupported, "resourceTypes": append([]string{}, rec.ResourceTypes...)}})
	}
	writeJSON(w, map[string]any{"ConfigurationRecorders": list})
}

func (st *configState) describeRecorderStatus(w http.ResponseWriter, r *http.Request, body []byte) {
	st.mu.Lock()
	defer st.mu.Unlock()
	list := []map[string]any{}
	for _, name := range sortedKeys(st.recorders) {
		rec := st.recorders[name]
		list = append(list, map[string]any{"name": name, "recording": rec.Recording, "lastStatus": rec.LastStatus,
			"lastStatusChangeTime": epoch(st.now().Add(-time.Hour))})
	}
	writeJSON(w, map[string]any{"ConfigurationRecordersStatus": list})
}

func (st *configState) describeRules(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct {
		ConfigRuleNames []string
		NextToken       string
	}
	if !decodeJSON(w, body, &in) {
		return
	}
	start, ok := parsePageToken(in.NextToken, "rules-")
	if !ok {
		WriteJSONError(w, http.StatusBadRequest, "InvalidNextTokenException", "bad NextToken")
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	var all []map[string]any
	for _, name := range st.order {
		if len(in.ConfigRuleNames) > 0 && !slices.Contains(in.ConfigRuleNames, name) {
			continue
		}
		all = append(all, map[string]any{"ConfigRuleName": name, "ConfigRuleArn": "arn:aws:config:us-east-1:000000000000:config-rule/config-rule-" + name,
			"ConfigRuleState": "ACTIVE", "Source": map[string]any{"Owner": "AWS", "SourceIdentifier": "S3_BUCKET_VERSIONING_ENABLED"}})
	}
	got, next := page(all, start, 25, "rules-")
	out := map[string]any{"ConfigRules": append([]map[string]any{}, got...)}
	if next != "" {
		out["NextToken"] = next
	}
	writeJSON(w, out)
}

func (st *configState) describeCompliance(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct{ ConfigRuleNames []string }
	if !decodeJSON(w, body, &in) {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	list := []map[string]any{}
	for _, name := range in.ConfigRuleNames {
		rule, ok := st.rules[name]
		if !ok {
			WriteJSONError(w, http.StatusBadRequest, "NoSuchConfigRuleException", "The ConfigRule '"+name+"' provided in the request is invalid.")
			return
		}
		c := map[string]any{"ComplianceType": "INSUFFICIENT_DATA"}
		switch {
		case len(rule.NonCompliant) > 0:
			c = map[string]any{"ComplianceType": "NON_COMPLIANT", "ComplianceContributorCount": map[string]any{"CappedCount": len(rule.NonCompliant), "CapExceeded": false}}
		case len(rule.Compliant) > 0:
			c = map[string]any{"ComplianceType": "COMPLIANT"}
		}
		list = append(list, map[string]any{"ConfigRuleName": name, "Compliance": c})
	}
	writeJSON(w, map[string]any{"ComplianceByConfigRules": list})
}

func (st *configState) complianceDetails(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct {
		ConfigRuleName  string
		ComplianceTypes []string
		Limit           int
		NextToken       string
	}
	if !decodeJSON(w, body, &in) {
		return
	}
	start, ok := parsePageToken(in.NextToken, "eval-")
	if !ok || in.Limit < 0 || in.Limit > 100 {
		WriteJSONError(w, http.StatusBadRequest, "InvalidParameterValueException", "bad NextToken or Limit")
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	rule, found := st.rules[in.ConfigRuleName]
	if !found {
		WriteJSONError(w, http.StatusBadRequest, "NoSuchConfigRuleException", "The ConfigRule '"+in.ConfigRuleName+"' provided in the request is invalid.")
		return
	}
	var all []map[string]any
	add := func(kind string, rs []ConfigResource) {
		if len(in.ComplianceTypes) > 0 && !slices.Contains(in.ComplianceTypes, kind) {
			return
		}
		for _, res := range rs {
			all = append(all, map[string]any{"ComplianceType": kind, "ResultRecordedTime": epoch(st.now().Add(-time.Hour)),
				"EvaluationResultIdentifier": map[string]any{"EvaluationResultQualifier": map[string]any{
					"ConfigRuleName": rule.Name, "ResourceType": res.Type, "ResourceId": res.ID}}})
		}
	}
	add("NON_COMPLIANT", rule.NonCompliant)
	add("COMPLIANT", rule.Compliant)
	got, next := page(all, start, or0(in.Limit, 10), "eval-")
	out := map[string]any{"EvaluationResults": append([]map[string]any{}, got...)}
	if next != "" {
		out["NextToken"] = next
	}
	writeJSON(w, out)
}
