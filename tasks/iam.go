package tasks

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// IAM documents for an app's role: the permissions its tasks need and the
// trust policy that lets day2bot assume it with a SourceIdentity.

// iamActionRe is an IAM action name: service prefix and action, e.g.
// "ec2:RebootInstances". Wildcards are refused: least privilege means the
// actions list names every call.
var iamActionRe = regexp.MustCompile(`^[a-z0-9-]+:[A-Za-z0-9]+$`)

// PolicyDocument is an IAM policy. Field order is the order AWS shows.
type PolicyDocument struct {
	Version   string            `json:"Version"`
	Statement []PolicyStatement `json:"Statement"`
}

// PolicyStatement is one statement of a PolicyDocument.
type PolicyStatement struct {
	Sid       string                       `json:"Sid,omitempty"`
	Effect    string                       `json:"Effect"`
	Principal map[string]string            `json:"Principal,omitempty"`
	Action    []string                     `json:"Action"`
	Resource  string                       `json:"Resource,omitempty"`
	Condition map[string]map[string]string `json:"Condition,omitempty"`
}

// IAMPolicy returns the least-privilege permissions policy for actions: the
// union of their IAMActions, deduplicated, sorted, one statement per AWS
// service so a reader sees at a glance what the app may touch. Resource is
// "*": the Describe calls the actions start with do not support
// resource-level permissions, and the app's resources are chosen by tag at
// run time. The output is deterministic (golden-testable, diffable).
func IAMPolicy(actions []Action) ([]byte, error) {
	byService := map[string][]string{}
	for _, a := range actions {
		for _, ia := range a.IAMActions() {
			if !iamActionRe.MatchString(ia) {
				return nil, fmt.Errorf("iam policy: action %s declares %q, not an IAM action like ec2:RebootInstances", a.Name(), ia)
			}
			svc, _, _ := strings.Cut(ia, ":")
			if !slices.Contains(byService[svc], ia) {
				byService[svc] = append(byService[svc], ia)
			}
		}
	}
	if len(byService) == 0 {
		return nil, errors.New("iam policy: the actions need no IAM permissions")
	}
	doc := PolicyDocument{Version: "2012-10-17"}
	services := make([]string, 0, len(byService))
	for svc := range byService {
		services = append(services, svc)
	}
	slices.Sort(services)
	for _, svc := range services {
		acts := byService[svc]
		slices.Sort(acts)
		doc.Statement = append(doc.Statement, PolicyStatement{Sid: "Day2bot" + sidWord(svc), Effect: "Allow", Action: acts, Resource: "*"})
	}
	return marshalPolicy(doc)
}

// TrustPolicy returns the trust policy of an app's role: principalARN (the
// identity day2bot runs as) may assume it and must be allowed to set the
// SourceIdentity day2bot passes (the chat user). externalID, when set, is
// required on AssumeRole.
func TrustPolicy(principalARN, externalID string) ([]byte, error) {
	if !strings.HasPrefix(principalARN, "arn:") {
		return nil, fmt.Errorf("trust policy: principal %q is not an ARN", principalARN)
	}
	st := PolicyStatement{
		Sid: "Day2botAssumeWithSourceIdentity", Effect: "Allow",
		Principal: map[string]string{"AWS": principalARN},
		Action:    []string{"sts:AssumeRole", "sts:SetSourceIdentity"},
	}
	if externalID != "" {
		st.Condition = map[string]map[string]string{"StringEquals": {"sts:ExternalId": externalID}}
	}
	return marshalPolicy(PolicyDocument{Version: "2012-10-17", Statement: []PolicyStatement{st}})
}

func marshalPolicy(doc PolicyDocument) ([]byte, error) {
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("marshal policy: %w", err)
	}
	return append(b, '\n'), nil
}

// sidWord turns a service prefix into the alphanumeric Sid IAM requires:
// "elasticloadbalancing" → "Elasticloadbalancing", "cost-explorer" →
// "CostExplorer".
func sidWord(svc string) string {
	var b strings.Builder
	for part := range strings.SplitSeq(svc, "-") {
		if part == "" {
			continue
		}
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}
