package aws

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/day2bot/day2bot/tasks"
	"github.com/day2bot/day2bot/tasks/emulator"
)

func TestClassifyOverHTTP(t *testing.T) {
	tests := []struct {
		name     string
		fault    emulator.Fault
		declared []string
		wantIAM  string
		wantDecl bool
		wantUser string // substring of UserMessage; "" = not a user error
		faults   int    // how many times to inject fault; 0 means once
	}{
		{
			name:     "ec2 unauthorized names declared action",
			fault:    emulator.Fault{Status: 403, Code: "UnauthorizedOperation", Message: "You are not authorized to perform this operation. Encoded authorization failure message: AbCd"},
			declared: []string{"ec2:DescribeInstances", "ec2:RebootInstances"},
			wantIAM:  "ec2:DescribeInstances",
			wantDecl: true,
			wantUser: `needs permission "ec2:DescribeInstances"`,
		},
		{
			name:     "undeclared action is still named",
			fault:    emulator.Fault{Status: 403, Code: "UnauthorizedOperation"},
			declared: []string{"ec2:RebootInstances"},
			wantIAM:  "ec2:DescribeInstances",
			wantUser: "not in the action's declared IAM list",
		},
		{
			name:     "not found is a user error",
			fault:    emulator.Fault{Status: 400, Code: "InvalidInstanceID.NotFound", Message: "The instance ID 'i-1' does not exist"},
			wantUser: "i-1' does not exist",
		},
		{
			name:     "throttling past the retries",
			fault:    emulator.Fault{Status: 400, Code: "RequestLimitExceeded"},
			faults:   3,
			wantUser: "AWS is throttling DescribeInstances (RequestLimitExceeded)",
		},
		{
			// An AWS answer is never an internal error: it is shown
			// whole, operation, code, message and status.
			name:     "any other AWS answer is shown whole",
			fault:    emulator.Fault{Status: 501, Code: "NotImplemented", Message: "not here"},
			wantUser: "DescribeInstances: NotImplemented: not here (HTTP 501 Not Implemented)",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			client := ec2.NewFromConfig(testConfig(t))
			for range max(tc.faults, 1) {
				emu.InjectFault("ec2:DescribeInstances", tc.fault)
			}
			_, err := client.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{})
			if err == nil {
				t.Fatal("want error")
			}
			got := Classify(err, tc.declared)
			var ad *AccessDeniedError
			if tc.wantIAM != "" {
				if !errors.As(got, &ad) {
					t.Fatalf("got %T %v, want AccessDeniedError", got, got)
				}
				if ad.IAMAction != tc.wantIAM || ad.Declared != tc.wantDecl || ad.Operation != "DescribeInstances" {
					t.Fatalf("got %+v", ad)
				}
			}
			var ue interface{ UserMessage() string }
			if tc.wantUser == "" {
				if errors.As(got, &ue) {
					t.Fatalf("unexpected user error %q", ue.UserMessage())
				}
				if ErrorCode(got) != tc.fault.Code {
					t.Fatalf("code = %q", ErrorCode(got))
				}
				return
			}
			if !errors.As(got, &ue) || !strings.Contains(ue.UserMessage(), tc.wantUser) {
				t.Fatalf("user message of %v does not contain %q", got, tc.wantUser)
			}
		})
	}
}

func TestClassifyNonAPIError(t *testing.T) {
	base := errors.New("dial tcp: refused")
	if got := Classify(base, nil); got != base {
		t.Fatalf("got %v", got)
	}
	if Classify(nil, nil) != nil {
		t.Fatal("nil in, non-nil out")
	}
}

func TestSummarizeAndFailure(t *testing.T) {
	rs := []tasks.ResourceResult{
		{Resource: "i-1", Status: tasks.StatusOK},
		Failure("i-2", &UserError{Msg: "AWS refused RebootInstances: no"}),
		{Resource: "i-3", Status: tasks.StatusSkipped},
	}
	if got, want := Summarize("rebooted", "instances", rs), "rebooted 1 of 3 instances, 1 failed, 1 skipped"; got != want {
		t.Fatalf("got %q want %q", got, want)
	}
	if rs[1].Detail != "AWS refused RebootInstances: no" || rs[1].Status != tasks.StatusFailed {
		t.Fatalf("failure = %+v", rs[1])
	}
}
