package main

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var updateSandbox = flag.Bool("update-sandbox", false, "rewrite the sandbox transcript golden files")

// approvalIDs are random; the transcript shows them normalised.
var approvalIDs = regexp.MustCompile(`\ba-[23456789abcdefghjkmnpqrstuvwxyz]{5}\b`)

// Also normalised: the time in change set names and stack events, and
// security group ids (kumo draws them at random).
var (
	changeSetTimes = regexp.MustCompile(`\bday2-\d{8}-\d{6}-`)
	eventTimes     = regexp.MustCompile(`\bevent \d\d:\d\d:\d\d\b`)
	groupIDs       = regexp.MustCompile(`\bsg-[0-9a-f-]{8,}`)
	// Attachments are saved in a new temporary directory.
	attachmentDirs = regexp.MustCompile(`→ \S*/day2bot-attachments-\d+/`)
)

// TestSandboxScript drives `day2bot sandbox` non-interactively with the
// README's walkthrough script and compares the transcript with its golden
// file (-update-sandbox rewrites it), and the README's transcripts with it.
func TestSandboxScript(t *testing.T) {
	for _, name := range []string{"sandbox-walkthrough", "sandbox-deploy"} {
		t.Run(name, func(t *testing.T) {
			script, err := os.ReadFile(filepath.Join("testdata", name+".txt"))
			if err != nil {
				t.Fatal(err)
			}
			code, out, errs := runCLI(t, string(script), "sandbox")
			if code != 0 {
				t.Fatalf("exit %d: %s\n%s", code, errs, out)
			}
			got := approvalIDs.ReplaceAllString(out, "a-XXXXX")
			got = changeSetTimes.ReplaceAllString(got, "day2-YYYYMMDD-HHMMSS-")
			got = eventTimes.ReplaceAllString(got, "event HH:MM:SS")
			got = groupIDs.ReplaceAllString(got, "sg-XXXXXXXX")
			got = attachmentDirs.ReplaceAllString(got, "→ ATTACHMENTS/")
			golden := filepath.Join("testdata", name+".golden")
			if *updateSandbox {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("transcript differs from %s (run with -update-sandbox to accept):\n%s", golden, got)
			}
			if name == "sandbox-walkthrough" {
				checkREADME(t, got, *updateSandbox)
			}
		})
	}
}

func TestSandboxBadInput(t *testing.T) {
	code, _, errs := runCLI(t, "", "sandbox", "--as", "Bob!")
	if code != exitUsage || !strings.Contains(errs, "--as") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	// Nonsense lines get one-line answers; the session goes on.
	code, out, errs := runCLI(t, "as\npress\npress a-zzzzz approve\n\"unterminated\nshop restart-web batch=99\nquit\nhelp\n", "sandbox")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"usage: as USER", "usage: press ID", `no "approve" button on a-zzzzz`, "unterminated quote", "batch must be between 1 and 4, got 99"} {
		if !strings.Contains(out, want) {
			t.Errorf("transcript lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "what you, alice, may run") {
		t.Errorf("a line after quit was run:\n%s", out)
	}
}

// `throttle` makes AWS throttle a call past the SDK's retries: the run
// fails for a passing reason, says to try again and offers Retry, whose
// press runs it again, this time through.
func TestSandboxThrottleOffersRetry(t *testing.T) {
	code, out, errs := runCLI(t, "throttle ec2:RebootInstances\nshop restart-web batch=4\npress last retry\nthrottle nope\n", "sandbox", "--dashboard", "off")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	failed, retried, _ := strings.Cut(out, "press last retry")
	for _, want := range []string{"AWS throttles the next 3 calls of ec2:RebootInstances", "shop restart-web — failed",
		"AWS is throttling RebootInstances (Throttling) and retries did not get through; try again in a minute", "[Retry]  (press r-1 retry)"} {
		if !strings.Contains(failed, want) {
			t.Errorf("before the press, the transcript lacks %q:\n%s", want, failed)
		}
	}
	for _, want := range []string{"run r-2", "shop restart-web — succeeded", "rebooted 4 of 4 instances", "usage: throttle SERVICE:Operation"} {
		if !strings.Contains(retried, want) {
			t.Errorf("after the press, the transcript lacks %q:\n%s", want, retried)
		}
	}
}
