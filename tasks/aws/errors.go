// Package aws holds day2bot's AWS actions: one file per service family
// (ec2.go, rds.go, ...), each starting with the narrow SDK client interface it
// needs and a constructor taking a client factory, so tests run the real SDK
// clients against tasks/emulator. actions.go is the one explicit list of them.
//
// Failures the user can act on are *errs.Error values: the actions choose
// the kind where they refuse something themselves, and Classify chooses it
// for an AWS answer.
package aws

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/tasks"
)

// deniedCodes are the error codes AWS uses for a missing permission. EC2
// says UnauthorizedOperation with an encoded message we do not decode: the
// failing operation already names the permission.
var deniedCodes = map[string]bool{
	"AccessDenied":          true,
	"AccessDeniedException": true,
	"UnauthorizedOperation": true,
	"AuthorizationError":    true, // SNS/Auto Scaling style
}

// credentialCodes say the caller's credentials are not accepted at all:
// a refusal, but no one IAM action would fix it.
var credentialCodes = map[string]bool{
	"InvalidClientTokenId": true, "UnrecognizedClientException": true, "AuthFailure": true, "ExpiredToken": true,
	"ExpiredTokenException": true, "SignatureDoesNotMatch": true, "InvalidAccessKeyId": true,
}

// throttleCodes are AWS's "slow down" answers.
var throttleCodes = map[string]bool{
	"Throttling": true, "ThrottlingException": true, "ThrottledException": true, "RequestThrottled": true,
	"RequestThrottledException": true, "RequestLimitExceeded": true, "TooManyRequestsException": true,
	"SlowDown": true, "PriorRequestNotComplete": true,
}

// invalidCodes are AWS's "this request can never work as given" answers.
var invalidCodes = map[string]bool{
	"ValidationError": true, "ValidationException": true,
	"InvalidParameterValue": true, "InvalidParameterCombination": true,
}

// conflictCodes are answers about a resource's state, not the request: it
// is busy, in use, or in a state the operation does not apply to. Codes
// such as InvalidDBInstanceState and InvalidChangeSetStatus are found by
// their shape (see answerKind).
var conflictCodes = map[string]bool{
	"IncorrectInstanceState": true, "IncorrectState": true,
	"ResourceInUse": true, "ResourceInUseException": true, "ScalingActivityInProgress": true,
	"ConflictException": true, "ResourceConflictException": true, "OperationAbortedException": true,
	"ConcurrentModificationException": true,
}

// unimplementedCodes are an endpoint's "I do not have this API" answers (an
// emulator's, a proxy's): nothing the user can change, shown whole all the
// same.
var unimplementedCodes = map[string]bool{
	"NotImplemented": true, "UnknownAction": true, "InvalidAction": true, "UnknownOperationException": true,
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
// retries. It is not a bug in day2bot, so it is never "see logs": Classify
// makes it the cause of an *errs.Error whose message is its whole text,
// "OPERATION on RESOURCE: code: message (HTTP status)".
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

func (e *APIError) Error() string { return e.text() }

// text is "OPERATION on RESOURCE: code: message (HTTP status)".
func (e *APIError) text() string {
	var b strings.Builder
	b.WriteString(e.Operation)
	if e.Resource != "" {
		b.WriteString(" on " + e.Resource)
	}
	b.WriteString(": " + e.Code)
	switch {
	case e.unreadable():
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

// unreadable reports an answer the SDK found no error code in.
func (e *APIError) unreadable() bool {
	return e.Code == "UnknownError" && (e.Message == "" || e.Message == e.Code)
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

// Classify turns an SDK error into an *errs.Error the engine can show:
// Permission naming the IAM action from declared (the action's
// IAMActions) for a denial, Transient for throttling that outlasted the
// shared retryer's retries and for server errors, and for any other AWS
// answer the kind its code or status says (see answerKind) with the
// answer's whole text as the message. An error that is not from AWS (a
// real bug) is returned unchanged.
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
		ae  *APIError
		api smithy.APIError
	)
	if classified(err) || errors.As(err, &ae) || !errors.As(err, &api) {
		return err
	}
	var re *resourceError
	if errors.As(err, &re) {
		resource = re.resource
	}
	service, op := operationOf(err)
	code := api.ErrorCode()
	callOp := "call AWS"
	if op != "" {
		callOp = "call " + op
	}
	switch {
	case deniedCodes[code]:
		action, declaredOK := deniedAction(service, op, declared)
		msg := fmt.Sprintf("AWS denied %s: the app's IAM role needs permission %q", op, action)
		if !declaredOK {
			msg += " (not in the action's declared IAM list; `day2bot iam-policy` will not include it)"
		}
		return &errs.Error{Op: callOp, Kind: errs.Permission, Msg: msg, IAMAction: action, Err: err}
	case throttleCodes[code]:
		// The shared retryer already backed off and retried; what is left
		// is for the user to try later, not a bug to log.
		return &errs.Error{Op: callOp, Kind: errs.Transient,
			Msg: fmt.Sprintf("AWS is throttling %s (%s) and retries did not get through; try again in a minute", op, code), Err: err}
	}
	e := newAPIError(err, api, resource)
	return &errs.Error{Op: callOp, Kind: answerKind(e), Msg: e.text(), Err: e}
}

// classified reports whether err already says what kind of failure it is
// or what to tell the user.
func classified(err error) bool {
	for ; err != nil; err = errors.Unwrap(err) {
		if e, ok := err.(*errs.Error); ok && (e.Kind != errs.Internal || e.Msg != "") {
			return true
		}
	}
	return false
}

// deniedAction names the IAM action a denied operation needed, spelled as
// in declared when the action declares it (declaredOK).
func deniedAction(service, op string, declared []string) (action string, declaredOK bool) {
	want := iamActionFor(service, op)
	for _, d := range declared {
		if strings.EqualFold(d, want) {
			return d, true
		}
	}
	// The declared list may use a different prefix spelling; match on
	// the operation part alone before giving up.
	for _, d := range declared {
		if _, name, ok := strings.Cut(d, ":"); ok && strings.EqualFold(name, op) {
			return d, true
		}
	}
	return want, false
}

// answerKind is the kind of an AWS answer that is neither a denial nor
// throttling: by its code where the code says, else by its HTTP status.
// Every kind, Internal too, keeps the answer's text as the message: an
// answer from AWS is shown whole, never "see logs".
func answerKind(e *APIError) errs.Kind {
	code := e.Code
	switch {
	case strings.HasSuffix(code, "NotFound") || strings.HasSuffix(code, "NotFoundFault") ||
		strings.HasSuffix(code, "NotFoundException") || strings.HasPrefix(code, "NoSuch") ||
		(code == "ValidationError" && strings.Contains(e.Message, "does not exist")):
		return errs.NotFound
	case credentialCodes[code]:
		return errs.Permission
	case conflictCodes[code] || strings.HasSuffix(code, "AlreadyExists") || strings.HasSuffix(code, "AlreadyExistsException") ||
		strings.HasSuffix(code, ".Duplicate") ||
		((strings.HasPrefix(code, "Invalid") || strings.HasPrefix(code, "Incorrect")) &&
			(strings.Contains(code, "State") || strings.Contains(code, "Status"))):
		return errs.Conflict
	case invalidCodes[code]:
		return errs.Invalid
	case unimplementedCodes[code] || (e.unreadable() && e.HTTPStatus < 500):
		// The endpoint lacks the API, or answered in a way the SDK
		// could not read: not the user's input, not likely to pass.
		return errs.Internal
	}
	return statusKind(e.HTTPStatus)
}

// statusKind is the kind of an HTTP error status: 501 and 405 (an API the
// endpoint does not have) are Internal, other 5xx and 429 Transient, 401
// and 403 Permission, 404 NotFound, 409 Conflict, other 4xx Invalid.
func statusKind(status int) errs.Kind {
	switch {
	case status == http.StatusNotImplemented || status == http.StatusMethodNotAllowed:
		return errs.Internal
	case status >= 500 || status == http.StatusTooManyRequests:
		return errs.Transient
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return errs.Permission
	case status == http.StatusNotFound:
		return errs.NotFound
	case status == http.StatusConflict:
		return errs.Conflict
	case status >= 400:
		return errs.Invalid
	}
	return errs.Internal
}

// codeKind is the kind of an error code AWS reports for one item of an
// answer that itself succeeded (CreateFlowLogs' Unsuccessful).
func codeKind(code, message string) errs.Kind {
	switch {
	case deniedCodes[code]:
		return errs.Permission
	case throttleCodes[code]:
		return errs.Transient
	}
	return answerKind(&APIError{Code: code, Message: message, HTTPStatus: http.StatusBadRequest})
}

// withResource names resource in an APIError (or an *errs.Error made from
// one by Classify) that does not name one yet; used by the frameworks,
// which know what a failing step or listing was about.
func withResource(err error, resource string) error {
	var ae *APIError
	if resource == "" || !errors.As(err, &ae) || ae.Resource != "" {
		return err
	}
	named := *ae
	named.Resource = resource
	if err == error(ae) {
		return &named
	}
	var e *errs.Error
	if errors.As(err, &e) && e.Err == error(ae) {
		c := *e
		c.Err = &named
		if c.Msg == ae.text() {
			c.Msg = named.text()
		}
		return &c
	}
	return err
}

// awsDenied reports whether AWS refused err's call for a missing IAM
// permission: once it has, the calls after it would be refused too.
// Refusals of day2bot's own (a resource outside the app) are Permission
// errors without an IAM action and do not stop a run.
func awsDenied(err error) bool {
	return errs.Is(errs.Permission, err) && errs.IAMActionOf(err) != ""
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
// needs), the rendered message of any other classified error (errs.Text),
// the error text otherwise.
func Failure(resource string, err error) tasks.ResourceResult {
	err = withResource(ClassifyOn(err, nil, resource), resource)
	return tasks.ResourceResult{Resource: resource, Status: tasks.StatusFailed, Detail: oneLineOf(err),
		Transient: errs.Is(errs.Transient, err)}
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
