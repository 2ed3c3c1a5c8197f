// Package aws holds day2bot's AWS actions: one file per service family
// (ec2.go, rds.go, ...), each starting with the narrow SDK client interface it
// needs and a constructor taking a client factory, so tests run the real SDK
// clients against tasks/emulator. actions.go is the one explicit list of them.
package aws

import (
	"errors"
	"fmt"
	"strings"

	"github.com/aws/smithy-go"

	"github.com/day2bot/day2bot/tasks"
)

// UserError is an AWS failure the user (or the app's operator) can act on:
// a missing permission, a resource that does not exist, a value AWS refused.
// The engine finds it with errors.As through UserMessage.
type UserError struct {
	Msg string
	Err error
}

func (e *UserError) Error() string {
	if e.Err == nil {
		return e.Msg
	}
	return e.Msg + ": " + e.Err.Error()
}

// UserMessage is what the chat shows.
func (e *UserError) UserMessage() string { return e.Msg }

func (e *UserError) Unwrap() error { return e.Err }

// AccessDeniedError says which IAM permission the app's role lacks.
type AccessDeniedError struct {
	IAMAction string // e.g. "ec2:RebootInstances"
	Operation string // the SDK operation AWS refused, e.g. "RebootInstances"
	// Declared reports whether IAMAction is in the action's own declared
	// list; if not, the role may be fine and the action's list is wrong.
	Declared bool
	Err      error
}

func (e *AccessDeniedError) Error() string {
	return fmt.Sprintf("access denied for %s: %v", e.IAMAction, e.Err)
}

// UserMessage names the permission to add, so the fix needs no log reading.
func (e *AccessDeniedError) UserMessage() string {
	msg := fmt.Sprintf("AWS denied %s: the app's IAM role needs permission %q", e.Operation, e.IAMAction)
	if !e.Declared {
		msg += " (not in the action's declared IAM list; `day2bot iam-policy` will not include it)"
	}
	return msg
}

func (e *AccessDeniedError) Unwrap() error { return e.Err }

// deniedCodes are the error codes AWS uses for a missing permission. EC2
// says UnauthorizedOperation with an encoded message we do not decode: the
// failing operation already names the permission.
var deniedCodes = map[string]bool{
	"AccessDenied":          true,
	"AccessDeniedException": true,
	"UnauthorizedOperation": true,
	"AuthorizationError":    true, // SNS/Auto Scaling style
}

// throttleCodes are AWS's "slow down" answers.
var throttleCodes = map[string]bool{
	"Throttling": true, "ThrottlingException": true, "ThrottledException": true, "RequestThrottled": true,
	"RequestThrottledException": true, "RequestLimitExceeded": true, "TooManyRequestsException": true,
	"SlowDown": true, "PriorRequestNotComplete": true,
}

// iamPrefix maps an SDK ServiceID to its IAM service prefix.
var iamPrefix = map[string]string{
	"EC2":                       "ec2",
	"Elastic Load Balancing v2": "elasticloadbalancing",
	"Auto Scaling":              "autoscaling",
	"RDS":                       "rds",
	"ECS":                       "ecs",
	"S3":                        "s3",
	"CloudWatch":                "cloudwatch",
	"STS":                       "sts",
	"Cost Explorer":             "ce",
}

// iamName covers operations whose IAM action is not named like the API.
var iamName = map[string]string{
	"S3:PutPublicAccessBlock":    "s3:PutBucketPublicAccessBlock",
	"S3:GetPublicAccessBlock":    "s3:GetBucketPublicAccessBlock",
	"S3:DeletePublicAccessBlock": "s3:PutBucketPublicAccessBlock",
	"S3:PutBucketEncryption":     "s3:PutEncryptionConfiguration",
	"S3:GetBucketEncryption":     "s3:GetEncryptionConfiguration",
	"S3:ListObjectsV2":           "s3:ListBucket",
	"S3:ListObjects":             "s3:ListBucket",
	"S3:HeadBucket":              "s3:ListBucket",
	"S3:GetBucketPolicyStatus":   "s3:GetBucketPolicyStatus",
}

// Classify turns an SDK error into what the engine needs: an
// AccessDeniedError naming the permission from declared (the action's
// IAMActions), a UserError for the caller-fixable codes and for throttling
// that outlasted the shared retryer's retries, or err unchanged.
func Classify(err error, declared []string) error {
	if err == nil {
		return nil
	}
	var api smithy.APIError
	if !errors.As(err, &api) {
		return err
	}
	service, op := operationOf(err)
	code := api.ErrorCode()
	switch {
	case deniedCodes[code]:
		want := iamActionFor(service, op)
		for _, d := range declared {
			if strings.EqualFold(d, want) {
				return &AccessDeniedError{IAMAction: d, Operation: op, Declared: true, Err: err}
			}
		}
		// The declared list may use a different prefix spelling; match on
		// the operation part alone before giving up.
		for _, d := range declared {
			if _, name, ok := strings.Cut(d, ":"); ok && strings.EqualFold(name, op) {
				return &AccessDeniedError{IAMAction: d, Operation: op, Declared: true, Err: err}
			}
		}
		return &AccessDeniedError{IAMAction: want, Operation: op, Err: err}
	case strings.HasSuffix(code, ".NotFound") || strings.HasSuffix(code, "NotFound") || strings.HasSuffix(code, "NotFoundFault"):
		return &UserError{Msg: fmt.Sprintf("%s: %s", op, apiMessage(api)), Err: err}
	case throttleCodes[code]:
		// The shared retryer already backed off and retried; what is left
		// is for the user to try later, not a bug to log.
		return &UserError{Msg: fmt.Sprintf("AWS is throttling %s (%s) and retries did not get through; try again in a minute", op, code), Err: err}
	case code == "ValidationError" || code == "InvalidParameterValue" || code == "InvalidParameterCombination" || code == "IncorrectInstanceState" || code == "IncorrectState":
		return &UserError{Msg: fmt.Sprintf("AWS refused %s: %s", op, apiMessage(api)), Err: err}
	}
	return err
}

// ErrorCode returns the AWS error code of err, or "".
func ErrorCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

// operationOf reads the SDK's operation wrapper: (ServiceID, OperationName).
func operationOf(err error) (string, string) {
	var oe *smithy.OperationError
	if errors.As(err, &oe) {
		return oe.ServiceID, oe.OperationName
	}
	return "", ""
}

// iamActionFor names the IAM action for an SDK operation.
func iamActionFor(service, op string) string {
	if n, ok := iamName[service+":"+op]; ok {
		return n
	}
	prefix, ok := iamPrefix[service]
	if !ok {
		prefix = strings.ToLower(strings.ReplaceAll(service, " ", ""))
	}
	return prefix + ":" + op
}

func apiMessage(api smithy.APIError) string {
	if m := api.ErrorMessage(); m != "" {
		return m
	}
	return api.ErrorCode()
}

// Failure is the per-resource result of an error: the AWS code and message
// when there is one (what an operator needs), the error text otherwise.
func Failure(resource string, err error) tasks.ResourceResult {
	detail := err.Error()
	var ue interface{ UserMessage() string }
	var api smithy.APIError
	switch {
	case errors.As(err, &ue):
		detail = ue.UserMessage()
	case errors.As(err, &api):
		detail = api.ErrorCode() + ": " + apiMessage(api)
	}
	return tasks.ResourceResult{Resource: resource, Status: tasks.StatusFailed, Detail: detail}
}

// Summarize states a run's outcome in one line: "rebooted 3 of 4 instances,
// 1 failed".
func Summarize(verb, noun string, rs []tasks.ResourceResult) string {
	ok, failed, skipped := 0, 0, 0
	for _, r := range rs {
		switch r.Status {
		case tasks.StatusOK:
			ok++
		case tasks.StatusFailed:
			failed++
		case tasks.StatusSkipped:
			skipped++
		}
	}
	s := fmt.Sprintf("%s %d of %d %s", verb, ok, len(rs), noun)
	if failed > 0 {
		s += fmt.Sprintf(", %d failed", failed)
	}
	if skipped > 0 {
		s += fmt.Sprintf(", %d skipped", skipped)
	}
	return s
}
