package aws

import (
	"encoding/json"
	"slices"
	"testing"
	"time"
)

// FuzzBucketPolicyEdits checks, for any policy AWS might hold and any
// principal a user might type, that revoking leaves no statement granting
// that principal and every Deny as it was, that statements are never invented, and that a grant
// adds exactly one statement naming the principal.
func FuzzBucketPolicyEdits(f *testing.F) {
	f.Add(`{"Version":"2012-10-17","Statement":[{"Sid":"a","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::1:role/a","arn:aws:iam::1:role/b"]},"Action":"s3:GetObject","Resource":"*"}]}`, "arn:aws:iam::1:role/a")
	f.Add(`{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1:role/a"},"Action":"s3:*"}}`, "arn:aws:iam::1:role/a")
	f.Add(`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject"},{"Principal":{"Service":"x","AWS":"p"}}]}`, "p")
	f.Add(`{"Statement":[{"Sid":"day2bot-grant-0000-x","Principal":{"AWS":[]}}]}`, "")
	f.Add(`{"Statement":[{"Effect":"Allow","Principal":{"AWS":"p"},"Action":"s3:GetObject"},{"Effect":"Deny","Principal":{"AWS":["p","q"]},"Action":"s3:DeleteObject"}]}`, "p")
	f.Add(`[]`, "arn:aws:iam::123456789012:root")
	f.Add(``, "arn:aws:iam::1:user/u")
	f.Fuzz(func(t *testing.T, raw, principal string) {
		p, err := parseBucketPolicy(raw)
		if err != nil {
			return // not a policy: the action reports the parse error
		}
		before := len(p.statements)
		denies := func() []string {
			var out []string
			for _, st := range p.statements {
				if isDeny(st) {
					out = append(out, statementJSON(st))
				}
			}
			return out
		}
		deniesBefore := denies()
		p.removePrincipal(principal)
		if len(p.statements) > before {
			t.Fatalf("revoke added statements: %d -> %d", before, len(p.statements))
		}
		for _, st := range p.statements {
			if aws, _ := awsPrincipals(st); !isDeny(st) && slices.Contains(aws, principal) {
				t.Fatalf("principal %q still in %s", principal, statementJSON(st))
			}
		}
		if got := denies(); !slices.Equal(got, deniesBefore) {
			t.Fatalf("revoke changed Deny statements: %v -> %v", deniesBefore, got)
		}
		doc, err := p.marshal()
		if err != nil {
			t.Fatal(err)
		}
		if doc != "" && !json.Valid([]byte(doc)) {
			t.Fatalf("invalid JSON %s", doc)
		}

		if !principalRe.MatchString(principal) {
			return // the action refuses such a principal before editing
		}
		q, _ := parseBucketPolicy(raw)
		n := len(q.statements)
		if _, err := q.grantRead("b", principal, time.Unix(0, 0)); err != nil {
			t.Fatal(err)
		}
		if len(q.statements) < 1 || len(q.statements) > n+1 {
			t.Fatalf("grant: %d -> %d statements", n, len(q.statements))
		}
		if aws, _ := awsPrincipals(q.statements[len(q.statements)-1]); len(aws) != 1 || aws[0] != principal {
			t.Fatalf("grant statement names %v, want %q", aws, principal)
		}
	})
}
