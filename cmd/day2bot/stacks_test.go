package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/day2bot/day2bot/tasks"
)

// The stack's permissions name the app's stack only, and the service role
// may be passed to CloudFormation only.
func TestIAMPolicyForAStack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "day2bot.yaml")
	cfg := `apps:
  blog:
    blueprints: [ec2-web, rds]
    region: eu-west-1
    account: {role_arn: "arn:aws:iam::123456789012:role/day2bot-blog"}
    stack: {role_arn: "arn:aws:iam::123456789012:role/day2bot-cloudformation"}
`
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, "", "iam-policy", "--config", path, "--document", "permissions", "blog")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var doc tasks.PolicyDocument
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	var stack, pass *tasks.PolicyStatement
	for i, st := range doc.Statement {
		for _, a := range st.Action {
			if strings.HasPrefix(a, "cloudformation:") && st.Resource != "arn:aws:cloudformation:eu-west-1:123456789012:stack/day2-blog/*" {
				t.Errorf("%s on %v, want the app's stack only", a, st.Resource)
			}
		}
		switch st.Sid {
		case "Day2botCloudformationStack":
			stack = &doc.Statement[i]
		case "Day2botPassStackRole":
			pass = &doc.Statement[i]
		}
	}
	if stack == nil || !strings.Contains(strings.Join(stack.Action, " "), "cloudformation:ExecuteChangeSet") {
		t.Errorf("no CloudFormation statement with ExecuteChangeSet:\n%s", out)
	}
	if pass == nil || pass.Resource != "arn:aws:iam::123456789012:role/day2bot-cloudformation" ||
		pass.Condition["StringEquals"]["iam:PassedToService"] != "cloudformation.amazonaws.com" {
		t.Errorf("PassRole statement %+v", pass)
	}
	for _, create := range []string{"ec2:RunInstances", "rds:CreateDBInstance"} {
		if strings.Contains(out, create) {
			t.Errorf("the bot's role holds %s; the stack's service role creates resources", create)
		}
	}
}

func TestBlueprintsTemplate(t *testing.T) {
	code, out, errs := runCLI(t, "", "blueprints", "template", "ec2-web")
	if code != 0 || !strings.Contains(out, "Type: AWS::EC2::Instance") || !strings.Contains(out, "Encrypted: true") {
		t.Fatalf("exit %d: %s%s", code, out, errs)
	}
	code, _, errs = runCLI(t, "", "blueprints", "template", "s3-data")
	if code != exitUsage || !strings.Contains(errs, "has no template") {
		t.Fatalf("exit %d: %s", code, errs)
	}
}

// A deploy ops may run directly makes its own change set; the app's
// digest then reads what the stack created.
func TestSandboxDeployThenDigest(t *testing.T) {
	code, out, errs := runCLI(t, "as alice\nblog deploy\ndigest blog\nblog teardown\n", "sandbox")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{
		"create of stack day2-blog complete: 5 changes",
		"Resources up: db 1/1 · instances 1/1",
		"stack day2-blog DELETE_COMPLETE: deleted 4 of 5 resources, 1 skipped",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("transcript lacks %q:\n%s", want, out)
		}
	}
}
