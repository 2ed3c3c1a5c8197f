// Package aws holds day2bot's AWS actions: one file per service family
// (ec2.go, rds.go, ...), each starting with the narrow SDK client interface it
// needs and a constructor taking a client factory, so tests run the real SDK
// clients against tasks/emulator. actions.go is the one explicit list of them.
package aws

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
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
	"IAM":                       "iam",
	"Secrets Manager":           "secretsmanager",
	"SFN":                       "states",
}

// iamName covers operations whose IAM action is not named like the API.
var iamName = map[string]string{
	"S3:PutPublicAccessBlock":       "s3:PutBucketPublicAccessBlock",
	"S3:GetPublicAccessBlock":       "s3:GetBucketPublicAccessBlock",
	"S3:DeletePublicAccessBlock":    "s3:PutBucketPublicAccessBlock",
	"S3:PutBucketEncryption":        "s3:PutEncryptionConfiguration",
	"S3:GetBucketEncryption":        "s3:GetEncryptionConfiguration",
	"S3:ListObjectsV2":              "s3:ListBucket",
	"S3:ListObjects":                "s3:ListBucket",
	"S3:HeadBucket":                 "s3:ListBucket",
	"S3:GetBucketPolicyStatus":      "s3:GetBucketPolicyStatus",
	"S3:ListObjectVersions":         "s3:ListBucketVersions",
	"S3:DeleteObjects":              "s3:DeleteObject",
	"S3:GetObjectLockConfiguration": "s3:GetBucketObjectLockConfiguration",
}

// APIError is an error answer from AWS (or from whatever endpoint stands in
// for it): a missing bucket, an API the endpoint does not implement (405,
// 501, an emulator's UnknownAction), a server error that outlasted the
// retries. It is not a bug in day2bot, so it is never "see logs": chat and
// log show it whole, as "OPERATION on RESOURCE: code: message (HTTP status)".
type APIError struct {
	Service   string // SDK ServiceID, e.g. "S3"
	Operation string // e.g. "GetPublicAccessBlock"
	// Resource is what the call was about (a bucket, an instance, the
	// app's binding); "" when not known where the error was classified.
	Resource   string
	Code       string
	Message    string
	HTTPStatus int // 0 when no HTTP answer came back
	Err        error
}

func (e *APIError) Error() string { return e.UserMessage() }

// UserMessage is "OPERATION on RESOURCE: code: message (HTTP status)".
func (e *APIError) UserMessage() string {
	var b strings.Builder
	b.WriteString(e.Operation)
	if e.Resource != "" {
		b.WriteString(" on " + e.Resource)
	}
	b.WriteString(": " + e.Code)
	switch {
	case e.Code == "UnknownError" && (e.Message == "" || e.Message == e.Code):
		// The SDK's name for an answer it could not read an error code
		// from: say so instead of "UnknownError: UnknownError".
		b.WriteString(": the endpoint answered without an AWS error code (is this API supported there?)")
	case e.Message != "" && e.Message != e.Code:
		b.WriteString(": " + e.Message)
	}
	if e.HTTPStatus != 0 {
		fmt.Fprintf(&b, " (HTTP %d %s)", e.HTTPStatus, http.StatusText(e.HTTPStatus))
	}
	return b.String()
}

func (e *APIError) Unwrap() error { return e.Err }

// newAPIError reads the parts of an SDK error: the operation from
// smithy.OperationError, the code and message from smithy.APIError, the
// status from awshttp.ResponseError.
func newAPIError(err error, api smithy.APIError, resource string) *APIError {
	service, op := operationOf(err)
	e := &APIError{Service: service, Operation: op, Resource: resource, Code: api.ErrorCode(), Message: api.ErrorMessage(), Err: err}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		e.HTTPStatus = re.HTTPStatusCode()
	}
	if e.Operation == "" {
		e.Operation = "AWS call"
	}
	return e
}

// onResource records which resource err is about, for Classify to name in
// its message. The text of err is unchanged.
func onResource(resource string, err error) error {
	if err == nil {
		return nil
	}
	return &resourceError{resource: resource, err: err}
}

type resourceError struct {
	resource string
	err      error
}

func (e *resourceError) Error() string { return e.err.Error() }
func (e *resourceError) Unwrap() error { return e.err }

// Classify turns an SDK error into what the engine needs: an
// AccessDeniedError naming the permission from declared (the action's
// IAMActions), a UserError for the caller-fixable codes and for throttling
// that outlasted the shared retryer's retries, an APIError for any other
// AWS answer, or err unchanged when it is not from AWS (a real bug).
func Classify(err error, declared []string) error {
	return ClassifyOn(err, declared, "")
}

// ClassifyOn is Classify for an error about resource (used when the error
// does not name one itself, see onResource). An error classified already
// is returned as it is.
func ClassifyOn(err error, declared []string, resource string) error {
	if err == nil {
		return nil
	}
	var (
		ad  *AccessDeniedError
		ue  *UserError
		ae  *APIError
		api smithy.APIError
	)
	if errors.As(err, &ad) || errors.As(err, &ue) || errors.As(err, &ae) || !errors.As(err, &api) {
		return err
	}
	var re *resourceError
	if errors.As(err, &re) {
		resource = re.resource
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
	case throttleCodes[code]:
		// The shared retryer already backed off and retried; what is left
		// is for the user to try later, not a bug to log.
		return &UserError{Msg: fmt.Sprintf("AWS is throttling %s (%s) and retries did not get through; try again in a minute", op, code), Err: err}
	case strings.HasSuffix(code, "NotFound") || strings.HasSuffix(code, "NotFoundFault") ||
		code == "ValidationError" || code == "InvalidParameterValue" || code == "InvalidParameterCombination" || code == "IncorrectInstanceState" || code == "IncorrectState":
		// Caller-fixable: kept a UserError (callers test for it), with
		// the same full text as any other AWS answer.
		e := newAPIError(err, api, resource)
		return &UserError{Msg: e.UserMessage(), Err: e}
	}
	return newAPIError(err, api, resource)
}

// withResource names resource in an APIError (or a UserError made from
// one) that does not name one yet; used by the frameworks, which know what
// a failing step or listing was about.
func withResource(err error, resource string) error {
	var ae *APIError
	if resource == "" || !errors.As(err, &ae) || ae.Resource != "" {
		return err
	}
	named := *ae
	named.Resource = resource
	var ue *UserError
	if errors.As(err, &ue) && ue.Err == error(ae) {
		return &UserError{Msg: named.UserMessage(), Err: &named}
	}
	if err == error(ae) {
		return &named
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

// Failure is the per-resource result of an error: for an AWS answer,
// "OPERATION on RESOURCE: code: message (HTTP status)" (what an operator
// needs), a user error's message, the error text otherwise.
func Failure(resource string, err error) tasks.ResourceResult {
	err = withResource(ClassifyOn(err, nil, resource), resource)
	detail := err.Error()
	var ue interface{ UserMessage() string }
	if errors.As(err, &ue) {
		detail = ue.UserMessage()
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
