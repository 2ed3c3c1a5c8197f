package aws

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/tasks"
	"github.com/day2bot/day2bot/tasks/emulator"
)

// Classify over HTTP: the real SDK against the emulator answering with a
// fault, and the kind and the exact message the user is shown.
func TestClassifyOverHTTP(t *testing.T) {
	tests := []struct {
		name     string
		fault    emulator.Fault
		faults   int // how many times to inject fault (the retryer tries 3 times); 0 means once
		declared []string
		wantKind errs.Kind
		wantIAM  string // the IAM action a Permission error names
		wantMsg  string // errs.Render's message
	}{
		{
			name:     "ec2 unauthorized names declared action",
			fault:    emulator.Fault{Status: 403, Code: "UnauthorizedOperation", Message: "You are not authorized to perform this operation. Encoded authorization failure message: AbCd"},
			declared: []string{"ec2:DescribeInstances", "ec2:RebootInstances"},
			wantKind: errs.Permission,
			wantIAM:  "ec2:DescribeInstances",
			wantMsg:  `AWS denied DescribeInstances: the app's IAM role needs permission "ec2:DescribeInstances"`,
		},
		{
			name:     "declared with another prefix spelling",
			fault:    emulator.Fault{Status: 403, Code: "UnauthorizedOperation"},
			declared: []string{"EC2:describeinstances"},
			wantKind: errs.Permission,
			wantIAM:  "EC2:describeinstances",
			wantMsg:  `AWS denied DescribeInstances: the app's IAM role needs permission "EC2:describeinstances"`,
		},
		{
			name:     "undeclared action is still named",
			fault:    emulator.Fault{Status: 403, Code: "UnauthorizedOperation"},
			declared: []string{"ec2:RebootInstances"},
			wantKind: errs.Permission,
			wantIAM:  "ec2:DescribeInstances",
			wantMsg: `AWS denied DescribeInstances: the app's IAM role needs permission "ec2:DescribeInstances"` +
				" (not in the action's declared IAM list; `day2bot iam-policy` will not include it)",
		},
		{
			name:     "credentials refused",
			fault:    emulator.Fault{Status: 401, Code: "AuthFailure", Message: "AWS was not able to validate the provided access credentials"},
			wantKind: errs.Permission,
			wantMsg:  "DescribeInstances: AuthFailure: AWS was not able to validate the provided access credentials (HTTP 401 Unauthorized)",
		},
		{
			name:     "not found",
			fault:    emulator.Fault{Status: 400, Code: "InvalidInstanceID.NotFound", Message: "The instance ID 'i-1' does not exist"},
			wantKind: errs.NotFound,
			wantMsg:  "DescribeInstances: InvalidInstanceID.NotFound: The instance ID 'i-1' does not exist (HTTP 400 Bad Request)",
		},
		{
			name:     "a value AWS refuses",
			fault:    emulator.Fault{Status: 400, Code: "InvalidParameterValue", Message: "Value (x) for parameter instanceId is invalid"},
			wantKind: errs.Invalid,
			wantMsg:  "DescribeInstances: InvalidParameterValue: Value (x) for parameter instanceId is invalid (HTTP 400 Bad Request)",
		},
		{
			name:     "any other 4xx is invalid",
			fault:    emulator.Fault{Status: 400, Code: "MissingParameter", Message: "The request must contain the parameter Filter.1.Value"},
			wantKind: errs.Invalid,
			wantMsg:  "DescribeInstances: MissingParameter: The request must contain the parameter Filter.1.Value (HTTP 400 Bad Request)",
		},
		{
			name:     "wrong state",
			fault:    emulator.Fault{Status: 400, Code: "IncorrectInstanceState", Message: "The instance 'i-1' is not in a state from which it can be stopped"},
			wantKind: errs.Conflict,
			wantMsg:  "DescribeInstances: IncorrectInstanceState: The instance 'i-1' is not in a state from which it can be stopped (HTTP 400 Bad Request)",
		},
		{
			name:     "already exists",
			fault:    emulator.Fault{Status: 400, Code: "InvalidGroup.Duplicate", Message: "The security group 'web' already exists"},
			wantKind: errs.Conflict,
			wantMsg:  "DescribeInstances: InvalidGroup.Duplicate: The security group 'web' already exists (HTTP 400 Bad Request)",
		},
		{
			name:     "throttling past the retries",
			fault:    emulator.Fault{Status: 400, Code: "RequestLimitExceeded"},
			faults:   3,
			wantKind: errs.Transient,
			wantMsg:  "AWS is throttling DescribeInstances (RequestLimitExceeded) and retries did not get through; try again in a minute",
		},
		{
			// Render completes a Transient message: the answer's text,
			// then what to do.
			name:     "server error past the retries",
			fault:    emulator.Fault{Status: 503, Code: "Unavailable", Message: "The service is unavailable"},
			faults:   3,
			wantKind: errs.Transient,
			wantMsg:  "DescribeInstances: Unavailable: The service is unavailable (HTTP 503 Service Unavailable); try again in a minute",
		},
		{
			// An AWS answer is never "see logs": an API the endpoint
			// does not have is Internal, and shown whole all the same.
			name:     "not implemented is shown whole",
			fault:    emulator.Fault{Status: 501, Code: "NotImplemented", Message: "not here"},
			wantKind: errs.Internal,
			wantMsg:  "DescribeInstances: NotImplemented: not here (HTTP 501 Not Implemented)",
		},
		{
			name:     "method not allowed is shown whole",
			fault:    emulator.Fault{Status: 405, Code: "MethodNotAllowed", Message: "The specified method is not allowed against this resource."},
			wantKind: errs.Internal,
			wantMsg:  "DescribeInstances: MethodNotAllowed: The specified method is not allowed against this resource. (HTTP 405 Method Not Allowed)",
		},
		{
			name:     "unknown action is shown whole",
			fault:    emulator.Fault{Status: 400, Code: "InvalidAction", Message: "The action DescribeInstances is not valid for this web service."},
			wantKind: errs.Internal,
			wantMsg:  "DescribeInstances: InvalidAction: The action DescribeInstances is not valid for this web service. (HTTP 400 Bad Request)",
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
			wantErr(t, got, tc.wantKind, tc.wantMsg)
			if a := errs.IAMActionOf(got); a != tc.wantIAM {
				t.Errorf("IAM action %q, want %q", a, tc.wantIAM)
			}
			if ErrorCode(got) != tc.fault.Code {
				t.Errorf("code = %q, want %q", ErrorCode(got), tc.fault.Code)
			}
			if again := Classify(got, nil); again != got {
				t.Errorf("classifying again changed %v to %v", got, again)
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
	// An error an action classified itself keeps its kind and message,
	// however it is wrapped.
	own := fmt.Errorf("plan: %w", errs.E("find bucket", errs.NotFound, "no bucket x"))
	if got := Classify(own, nil); got != own {
		t.Fatalf("got %v", got)
	}
}

// withResource names the resource in the message of an AWS answer that
// did not name one.
func TestWithResource(t *testing.T) {
	client := ec2.NewFromConfig(testConfig(t))
	emu.InjectFault("ec2:DescribeInstances", emulator.Fault{Status: 400, Code: "InvalidInstanceID.NotFound", Message: "gone"})
	_, err := client.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{})
	named := withResource(Classify(err, nil), "ec2:instance tag app=shop")
	wantErr(t, named, errs.NotFound, "DescribeInstances on ec2:instance tag app=shop: InvalidInstanceID.NotFound: gone (HTTP 400 Bad Request)")
	if again := withResource(named, "other"); again != named {
		t.Fatalf("a named resource was renamed: %v", again)
	}
}

func TestSummarizeAndFailure(t *testing.T) {
	rs := []tasks.ResourceResult{
		{Resource: "i-1", Status: tasks.StatusOK},
		Failure("i-2", errs.E("reboot instance", errs.Conflict, "i-2 is stopped")),
		{Resource: "i-3", Status: tasks.StatusSkipped},
	}
	if got, want := Summarize("rebooted", "instances", rs), "rebooted 1 of 3 instances, 1 failed, 1 skipped"; got != want {
		t.Fatalf("got %q want %q", got, want)
	}
	if rs[1].Detail != "i-2 is stopped" || rs[1].Status != tasks.StatusFailed {
		t.Fatalf("failure = %+v", rs[1])
	}
}
