package aws

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"
)

// principalRe is what a principal parameter must be: an IAM role or user
// ARN, or an account root. Anything else (a typo, "*") could widen access.
var principalRe = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:(root|(role|user)/[A-Za-z0-9+=,.@_/-]{1,512})$`)

// Bucket policy documents, edited without losing what day2bot does not
// understand: statements are kept as raw JSON fields, and only Principal
// and Sid are interpreted.

// bucketPolicy is a parsed policy. Statements keep every field as sent
// (only Principal and Sid are interpreted), so an edit changes nothing else.
type bucketPolicy struct {
	top        map[string]json.RawMessage
	statements []map[string]json.RawMessage
}

func parseBucketPolicy(raw string) (*bucketPolicy, error) {
	p := &bucketPolicy{top: map[string]json.RawMessage{}}
	if strings.TrimSpace(raw) == "" {
		p.top["Version"] = json.RawMessage(`"2012-10-17"`)
		return p, nil
	}
	if err := json.Unmarshal([]byte(raw), &p.top); err != nil {
		return nil, fmt.Errorf("parse bucket policy: %w", err)
	}
	st := p.top["Statement"]
	if len(st) > 0 && st[0] == '{' { // a single statement may be an object
		st = json.RawMessage("[" + string(st) + "]")
	}
	if len(st) > 0 {
		if err := json.Unmarshal(st, &p.statements); err != nil {
			return nil, fmt.Errorf("parse bucket policy statements: %w", err)
		}
	}
	return p, nil
}

// marshal renders the policy; "" means no statement is left.
func (p *bucketPolicy) marshal() (string, error) {
	if len(p.statements) == 0 {
		return "", nil
	}
	st, err := json.Marshal(p.statements)
	if err != nil {
		return "", fmt.Errorf("render bucket policy: %w", err)
	}
	top := maps.Clone(p.top)
	top["Statement"] = st
	b, err := json.Marshal(top)
	if err != nil {
		return "", fmt.Errorf("render bucket policy: %w", err)
	}
	return string(b), nil
}

// awsPrincipals reads Principal.AWS (string or list). other reports
// principals that are not AWS ones ("*", Service, Federated...).
func awsPrincipals(st map[string]json.RawMessage) (aws []string, other bool) {
	raw, ok := st["Principal"]
	if !ok {
		return nil, false
	}
	var star string
	if json.Unmarshal(raw, &star) == nil {
		return nil, true
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return nil, true
	}
	for k, v := range m {
		if k != "AWS" {
			other = true
			continue
		}
		var one string
		if json.Unmarshal(v, &one) == nil {
			aws = []string{one}
		} else {
			_ = json.Unmarshal(v, &aws)
		}
	}
	return aws, other
}

func setAWSPrincipals(st map[string]json.RawMessage, aws []string) {
	var m map[string]json.RawMessage
	_ = json.Unmarshal(st["Principal"], &m)
	if m == nil {
		m = map[string]json.RawMessage{}
	}
	if len(aws) == 0 {
		delete(m, "AWS")
	} else if len(aws) == 1 {
		m["AWS"], _ = json.Marshal(aws[0])
	} else {
		m["AWS"], _ = json.Marshal(aws)
	}
	st["Principal"], _ = json.Marshal(m)
}

func statementName(st map[string]json.RawMessage, i int) string {
	var sid string
	if json.Unmarshal(st["Sid"], &sid) == nil && sid != "" {
		return fmt.Sprintf("%q", sid)
	}
	return fmt.Sprintf("#%d", i+1)
}

func statementJSON(st map[string]json.RawMessage) string {
	b, _ := json.Marshal(st) // raw messages re-encode as they were parsed
	return string(b)
}

// removePrincipal takes principal out of every statement but a Deny, dropping
// the statements left without any principal. Deny statements stay as they
// are: removing a principal from a Deny would widen its access, the
// opposite of a revoke. It returns what it changed.
func (p *bucketPolicy) removePrincipal(principal string) []string {
	var lines []string
	kept := p.statements[:0:0]
	for i, st := range p.statements {
		aws, other := awsPrincipals(st)
		if isDeny(st) || !slices.Contains(aws, principal) {
			kept = append(kept, st)
			continue
		}
		rest := slices.DeleteFunc(slices.Clone(aws), func(s string) bool { return s == principal })
		if len(rest) == 0 && !other {
			lines = append(lines, fmt.Sprintf("- remove statement %s: %s", statementName(st, i), statementJSON(st)))
			continue
		}
		setAWSPrincipals(st, rest)
		lines = append(lines, fmt.Sprintf("~ statement %s: remove principal %s (%d other principals stay)", statementName(st, i), principal, len(rest)))
		kept = append(kept, st)
	}
	p.statements = kept
	return lines
}

// isDeny reports a statement with "Effect": "Deny".
func isDeny(st map[string]json.RawMessage) bool {
	var effect string
	return json.Unmarshal(st["Effect"], &effect) == nil && effect == "Deny"
}

// grantSidPrefix starts the Sid of every grant-read statement; the hash
// ties a grant to its principal so a new grant replaces the old one.
func grantSidPrefix(principal string) string {
	h := sha256.Sum256([]byte(principal))
	return "day2bot-grant-" + hex.EncodeToString(h[:4]) + "-"
}

// grantRead adds (or replaces) the time-bound read statement for principal.
func (p *bucketPolicy) grantRead(bucket, principal string, expiry time.Time) ([]string, error) {
	var lines []string
	prefix := grantSidPrefix(principal)
	kept := p.statements[:0:0]
	for i, st := range p.statements {
		var sid string
		_ = json.Unmarshal(st["Sid"], &sid)
		if strings.HasPrefix(sid, prefix) {
			lines = append(lines, fmt.Sprintf("- replace statement %s: %s", statementName(st, i), statementJSON(st)))
			continue
		}
		kept = append(kept, st)
	}
	st := map[string]any{
		"Sid":       prefix + expiry.Format("20060102T150405Z"),
		"Effect":    "Allow",
		"Principal": map[string]string{"AWS": principal},
		"Action":    []string{"s3:GetObject", "s3:ListBucket"},
		"Resource":  []string{"arn:aws:s3:::" + bucket, "arn:aws:s3:::" + bucket + "/*"},
		"Condition": map[string]any{"DateLessThan": map[string]string{"aws:CurrentTime": expiry.Format(time.RFC3339)}},
	}
	b, err := json.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("render grant statement: %w", err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("render grant statement: %w", err)
	}
	p.statements = append(kept, raw)
	lines = append(lines, "+ add statement: "+statementJSON(raw))
	return lines, nil
}

// principals lists the distinct principals of Allow statements.
func (p *bucketPolicy) principals() []string {
	var out []string
	for _, st := range p.statements {
		var effect string
		_ = json.Unmarshal(st["Effect"], &effect)
		if effect != "Allow" {
			continue
		}
		aws, other := awsPrincipals(st)
		if other {
			var star string
			if json.Unmarshal(st["Principal"], &star) == nil && star == "*" {
				aws = append(aws, "* (public)")
			} else {
				aws = append(aws, "service/federated")
			}
		}
		for _, a := range aws {
			if !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	if len(out) == 0 {
		return []string{"none"}
	}
	return out
}
