package main

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var updateIAM = flag.Bool("update-iam", false, "rewrite testdata/iam-policy-*.golden")

const iamConfig = `listen: ":8080"
slack: {mode: socket}
apps:
  shop:
    blueprints: [ec2-web, rds]
    region: eu-west-1
    account: {role_arn: "arn:aws:iam::123456789012:role/day2bot-shop", external_id: shop-ext}
  blog:
    blueprints: [s3-data]
`

func writeIAMConfig(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "day2bot.yaml")
	if err := os.WriteFile(path, []byte(iamConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestIAMPolicyCommandGolden(t *testing.T) {
	cfg := writeIAMConfig(t)
	code, out, errs := runCLI(t, "", "iam-policy", "--config", cfg, "shop")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	path := filepath.Join("testdata", "iam-policy-shop.golden")
	if *updateIAM {
		if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update-iam)", err)
	}
	if out != string(want) {
		t.Fatalf("output differs from %s:\n%s", path, out)
	}
	var v map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &v); err != nil || v["PermissionsPolicy"] == nil || v["TrustPolicy"] == nil {
		t.Fatalf("not the documented shape: %v", err)
	}
}

func TestIAMPolicyCommandDocuments(t *testing.T) {
	cfg := writeIAMConfig(t)
	code, out, errs := runCLI(t, "", "iam-policy", "--config", cfg, "--document", "trust", "--principal", "arn:aws:iam::999999999999:role/day2bot-runner", "shop")
	if code != 0 || !strings.Contains(out, `"AWS": "arn:aws:iam::999999999999:role/day2bot-runner"`) || !strings.Contains(out, `"sts:ExternalId": "shop-ext"`) {
		t.Fatalf("trust: exit %d\n%s%s", code, out, errs)
	}
	code, out, _ = runCLI(t, "", "iam-policy", "--config", cfg, "--document", "permissions", "blog")
	if code != 0 || !strings.Contains(out, `"s3:PutBucketPublicAccessBlock"`) || strings.Contains(out, "TrustPolicy") {
		t.Fatalf("permissions: exit %d\n%s", code, out)
	}
	// blog has no role: no account to trust unless --principal is given.
	code, _, errs = runCLI(t, "", "iam-policy", "--config", cfg, "--document", "trust", "blog")
	if code != exitUsage || !strings.Contains(errs, "--principal") {
		t.Fatalf("trust without role: exit %d %s", code, errs)
	}
}

func TestIAMPolicyCommandErrors(t *testing.T) {
	cfg := writeIAMConfig(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"iam-policy", "--config", cfg, "shp"}, `did you mean "shop"`},
		{[]string{"iam-policy", "--config", cfg, "--document", "all", "shop"}, "--document must be"},
		{[]string{"iam-policy", "--config", filepath.Join(t.TempDir(), "missing.yaml"), "shop"}, "start one with `cp day2bot.example.yaml"},
		// The one loader: iam-policy refuses what serve and shell refuse.
		{[]string{"iam-policy", "--config", writeConfigText(t, "apps:\n  shop:\n    blueprints: [ec2-web]\n    region: us-east-1\n    colour: blue\n"), "shop"}, "colour"},
		{[]string{"iam-policy", "--config", writeConfigText(t, "apps:\n  shop:\n    blueprints: [ec2-web]\n    region: us-esat-1\n"), "shop"}, "us-esat-1"},
		{[]string{"iam-policy", "--config", cfg}, "e.g. day2bot iam-policy shop"},
	} {
		code, _, errs := runCLI(t, "", tc.args...)
		if code == 0 || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", tc.args, code, errs, tc.want)
		}
	}
}

func writeConfigText(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "day2bot.yaml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
