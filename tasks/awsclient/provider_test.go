package awsclient_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/day2bot/day2bot/tasks/awsclient"
	"github.com/day2bot/day2bot/tasks/emulator"
)

func testProvider(t *testing.T, maxSessions int) (*awsclient.Provider, *emulator.Server) {
	t.Helper()
	emu := emulator.New()
	t.Cleanup(emu.Close)
	base := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDBASE", "secret", "")}
	return awsclient.NewFromConfig(base, awsclient.Options{EndpointURL: emu.URL, Retry: awsclient.RetryOptions{MaxAttempts: 3, Backoff: awsclient.NoBackoff}, MaxSessions: maxSessions}), emu
}

// describe makes one EC2 call with cfg and returns the access key it was
// signed with.
func describe(t *testing.T, emu *emulator.Server, cfg aws.Config) string {
	t.Helper()
	if _, err := ec2.NewFromConfig(cfg).DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{}); err != nil {
		t.Fatal(err)
	}
	reqs := emu.Requests("ec2:DescribeInstances")
	return emulator.SigningKey(reqs[len(reqs)-1])
}

func TestAssumeRoleCarriesSourceIdentity(t *testing.T) {
	p, emu := testProvider(t, 0)
	ctx := context.Background()
	acct := awsclient.Account{RoleARN: "arn:aws:iam::123456789012:role/day2bot-shop", ExternalID: "ext-42"}

	cfg, err := p.Config(ctx, acct, "eu-west-1", "slack:U123")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "eu-west-1" {
		t.Fatalf("region %q", cfg.Region)
	}
	key := describe(t, emu, cfg)
	as, ok := emu.SessionFor(key)
	if !ok {
		t.Fatalf("EC2 call signed with %q, not an assumed-role key", key)
	}
	if as.RoleARN != acct.RoleARN || as.SessionName != "slack.U123" || as.SourceIdentity != "slack.U123" || as.ExternalID != "ext-42" {
		t.Fatalf("session %+v", as)
	}
	reqs := emu.Requests("sts:AssumeRole")
	if len(reqs) != 1 || !strings.Contains(string(reqs[0].Body), "SourceIdentity=slack.U123") {
		t.Fatalf("AssumeRole requests %d: %s", len(reqs), reqs[0].Body)
	}

	// Same (role, user): cached, even for another region.
	cfg2, err := p.Config(ctx, acct, "us-west-2", "slack:U123")
	if err != nil {
		t.Fatal(err)
	}
	if describe(t, emu, cfg2) != key || emu.Count("sts:AssumeRole") != 1 {
		t.Fatalf("cached session not reused: %d AssumeRole calls", emu.Count("sts:AssumeRole"))
	}

	// Another user gets their own session.
	cfg3, err := p.Config(ctx, acct, "eu-west-1", "discord:42")
	if err != nil {
		t.Fatal(err)
	}
	as3, _ := emu.SessionFor(describe(t, emu, cfg3))
	if as3.SourceIdentity != "discord.42" || emu.Count("sts:AssumeRole") != 2 {
		t.Fatalf("second user: %+v, %d calls", as3, emu.Count("sts:AssumeRole"))
	}
}

func TestNoRoleUsesBaseCredentials(t *testing.T) {
	p, emu := testProvider(t, 0)
	cfg, err := p.Config(context.Background(), awsclient.Account{}, "", "slack:U1")
	if err != nil {
		t.Fatal(err)
	}
	if key := describe(t, emu, cfg); key != "AKIDBASE" || cfg.Region != "us-east-1" {
		t.Fatalf("key %q region %q", key, cfg.Region)
	}
	if emu.Count("sts:AssumeRole") != 0 {
		t.Fatal("assumed a role without one configured")
	}
}

func TestSessionCacheIsBounded(t *testing.T) {
	p, emu := testProvider(t, 1)
	ctx := context.Background()
	acct := awsclient.Account{RoleARN: "arn:aws:iam::123456789012:role/r"}
	for _, user := range []string{"slack:A1", "slack:B2", "slack:A1"} {
		cfg, err := p.Config(ctx, acct, "", user)
		if err != nil {
			t.Fatal(err)
		}
		describe(t, emu, cfg)
	}
	// A1 was evicted by B2, so its return costs a fresh AssumeRole.
	if n := emu.Count("sts:AssumeRole"); n != 3 || awsclient.CachedSessions(p) != 1 {
		t.Fatalf("AssumeRole calls %d, cached %d", n, awsclient.CachedSessions(p))
	}
}

func TestConfigRejectsEmptyPrincipal(t *testing.T) {
	p, _ := testProvider(t, 0)
	if _, err := p.Config(context.Background(), awsclient.Account{RoleARN: "arn:aws:iam::123456789012:role/r"}, "", ""); err == nil {
		t.Fatal("empty principal accepted")
	}
}

// The emulator's STS validates like AWS, so an unencoded principal would
// fail there: this guards the emulator against drifting permissive.
func TestEmulatorSTSRejectsRawPrincipal(t *testing.T) {
	emu := emulator.New()
	defer emu.Close()
	base := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDBASE", "secret", ""), BaseEndpoint: aws.String(emu.URL)}
	_, err := stsAssume(context.Background(), base, "arn:aws:iam::123456789012:role/r", "slack:U123")
	if err == nil || !strings.Contains(err.Error(), "ValidationError") {
		t.Fatalf("err = %v", err)
	}
}

func stsAssume(ctx context.Context, cfg aws.Config, role, name string) (*sts.AssumeRoleOutput, error) {
	return sts.NewFromConfig(cfg).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String(name), SourceIdentity: aws.String(name)})
}

func TestByRoleLooksUpExternalID(t *testing.T) {
	p, emu := testProvider(t, 0)
	role := "arn:aws:iam::123456789012:role/day2bot-blog"
	cfg, err := awsclient.ByRole{Provider: p, ExternalIDs: map[string]string{role: "blog-ext"}}.Config(context.Background(), role, "us-east-2", "day2bot:scheduler")
	if err != nil {
		t.Fatal(err)
	}
	as, ok := emu.SessionFor(describe(t, emu, cfg))
	if !ok || as.ExternalID != "blog-ext" || as.SourceIdentity != "day2bot.scheduler" || cfg.Region != "us-east-2" {
		t.Fatalf("session %+v", as)
	}
}
