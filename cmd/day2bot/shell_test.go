package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/day2bot/day2bot/policies"
	awsactions "github.com/day2bot/day2bot/tasks/aws"
	"github.com/day2bot/day2bot/tasks/emulator"
)

// TestShellAgainstEndpoint runs `day2bot shell` with a real config and the
// default credential chain, pointed at the emulator the way an operator
// points it at AWS (AWS_ENDPOINT_URL is read by the SDK itself).
func TestShellAgainstEndpoint(t *testing.T) {
	emu := emulator.New()
	defer emu.Close()
	ctx := context.Background()
	if _, err := emu.SeedInstances(ctx, 2, emulator.InstanceSpec{Tags: map[string]string{"app": "web1", "tier": "web"}}); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_ENDPOINT_URL", emu.URL)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDSHELL")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "shell")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))

	dir := t.TempDir()
	db := filepath.Join(dir, "day2bot.db")
	st, err := openStore(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	err = st.ImportFile(ctx, "test", policies.File{
		Users: map[string][]string{"alice": {"shell:alice"}, "bob": {"shell:bob"}},
		Rules: []policies.Rule{{ID: "alice-all", Effect: policies.Allow, Subjects: []string{"user:alice"}}},
	})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "day2bot.yaml")
	if err := os.WriteFile(cfg, []byte("database: "+db+"\nadmins: [alice]\napps:\n  web1:\n    blueprints: [ec2-web]\n    region: us-east-1\n    channels: [\"shell:ops\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// In-process with a millisecond settle: the emulator's checks are
	// current at once, so the 10 s AWS needs would only slow the test.
	var stdout, stderr bytes.Buffer
	g := &globals{Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" },
		Stdin: strings.NewReader("web1 describe-web\nweb1 restart-web\nschedules web1\ndigest web1\nas bob\nweb1 restart-web\n")}
	err = runShell(ctx, g, shellOptions{ConfigPath: cfg, As: "alice", Channel: "ops", Attachments: t.TempDir(),
		Pace: awsactions.Pace{Settle: time.Millisecond, Poll: time.Millisecond}})
	out := stdout.String()
	if err != nil {
		t.Fatalf("shell: %v: %s\n%s", err, stderr.String(), out)
	}
	if strings.Contains(out, "not set up") {
		t.Errorf("shell lists digest and schedules but does not answer them:\n%s", out)
	}
	for _, want := range []string{"web1 describe-web — succeeded", "2 instances", "rebooted 2 of 2 instances", "[only bob]", "Denied: web1 restart-web",
		"Health digest — web1", "Schedules of web1"} {
		if !strings.Contains(out, want) {
			t.Errorf("transcript lacks %q:\n%s", want, out)
		}
	}
	if n := emu.Count("ec2:RebootInstances"); n != 2 {
		t.Errorf("RebootInstances calls = %d, want 2 (batch 1)", n)
	}
	code, _, errs := runCLI(t, "", "shell", "--config", cfg)
	if code != exitUsage || !strings.Contains(errs, "as") {
		t.Errorf("without --as: exit %d, %q", code, errs)
	}
}
