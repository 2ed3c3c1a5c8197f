// Package emulator is day2bot's in-process AWS: kumo (github.com/sivchari/kumo)
// fronted by a thin HTTP layer that implements, in the real AWS wire format,
// the operations kumo lacks or gets wrong, and that counts and records every
// request so tests can assert on what AWS received. It is not test-only code:
// `day2bot sandbox` runs on it.
//
// Requests reach the front first. The operation is identified from the wire
// (SigV4 credential scope for the service; form Action, X-Amz-Target, the
// rpc-v2-cbor path, or the S3 REST shape for the operation); an override
// registered for "service:Operation" answers it, anything else is proxied to
// kumo unchanged.
package emulator

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sort"
	"strings"
	"sync"

	"github.com/sivchari/kumo"
)

// Handler answers one AWS operation. body is the already-read request body.
type Handler func(w http.ResponseWriter, r *http.Request, body []byte)

// Request is one recorded AWS call.
type Request struct {
	Service   string // SigV4 signing name: "ec2", "rds", "monitoring", "s3"...
	Operation string // e.g. "DescribeInstances"
	Body      []byte
	Header    http.Header
	Query     url.Values
}

// Server is a running emulator. Its URL is the BaseEndpoint for every SDK
// client. kumo's state is process-global, so callers use unique resource
// names per test.
type Server struct {
	URL string

	kumo  *kumo.Server
	front *httptest.Server
	proxy *httputil.ReverseProxy

	mu        sync.Mutex
	overrides map[string]Handler
	faults    map[string][]Fault
	requests  []Request

	// Fill-in state that Seed helpers and test assertions reach; one field
	// per service that needs it, set in registerDefaults.
	ec2     *ec2State
	sts     *stsState
	asg     *asgState
	elb     *elbState
	rds     *rdsState
	cfn     *cfnState
	lambda  *lambdaState
	iam     *iamState
	kinesis *kinesisState
	secrets *smState
	ecr     *ecrState
	sfn     *sfnState
	sqs     *sqsState
	ecs     *ecsState
	ssm     *ssmState
	kms     *kmsState
	images  *ec2Images
	ddb     *ddbState
	eks     *eksState
	backup  *backupState
	config  *configState
	search  *osState
	ec      *ecState
	net     *netState
	emr     *emrState
}

// Fault is an injected error answer for the next call of an operation.
type Fault struct {
	Status  int    // HTTP status, e.g. 400 or 403
	Code    string // AWS error code, e.g. "Throttling", "AccessDenied"
	Message string
}

// New starts kumo and the front layer on loopback.
func New() *Server {
	k := kumo.NewServer()
	target, _ := url.Parse(k.URL) // kumo's URL is always a valid http URL
	s := &Server{
		kumo:      k,
		proxy:     httputil.NewSingleHostReverseProxy(target),
		overrides: map[string]Handler{},
		faults:    map[string][]Fault{},
	}
	s.front = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.front.URL
	s.registerDefaults()
	return s
}

// KumoURL is kumo's own address, for overrides that need to read kumo state
// through an SDK client without being counted twice.
func (s *Server) KumoURL() string { return s.kumo.URL }

// Close stops both servers.
func (s *Server) Close() {
	s.front.Close()
	s.kumo.Close()
}

// Handle registers an override for "service:Operation", e.g.
// "ec2:RebootInstances". The service is the SigV4 signing name.
func (s *Server) Handle(op string, h Handler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.overrides[op] = h
}

// InjectFault makes the next call of op fail with f. Several faults queue.
func (s *Server) InjectFault(op string, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[op] = append(s.faults[op], f)
}

// Count reports how many calls of "service:Operation" the emulator received
// (faulted ones included: AWS received them too).
func (s *Server) Count(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.requests {
		if r.Service+":"+r.Operation == op {
			n++
		}
	}
	return n
}

// Requests returns a copy of the recorded calls of op ("" for all).
func (s *Server) Requests(op string) []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Request
	for _, r := range s.requests {
		if op == "" || r.Service+":"+r.Operation == op {
			out = append(out, r)
		}
	}
	return out
}

// ResetRequests forgets recorded calls.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = nil
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	r.Body.Close()
	svc := signingName(r)
	op := operationName(svc, r, body)
	key := svc + ":" + op

	s.mu.Lock()
	s.requests = append(s.requests, Request{Service: svc, Operation: op, Body: body, Header: r.Header.Clone(), Query: r.URL.Query()})
	var fault *Fault
	if q := s.faults[key]; len(q) > 0 {
		f := q[0]
		fault = &f
		s.faults[key] = q[1:]
	}
	h := s.overrides[key]
	s.mu.Unlock()

	if fault != nil {
		writeFault(w, r, svc, *fault)
		return
	}
	if h != nil {
		h(w, r, body)
		return
	}
	s.forward(w, r, body)
}

// forward hands a request to kumo unchanged. Overrides call it for the
// cases they leave to kumo.
func (s *Server) forward(w http.ResponseWriter, r *http.Request, body []byte) {
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	s.proxy.ServeHTTP(w, r)
}

// signingName reads the service from the SigV4 credential scope:
// Credential=AKID/20260101/us-east-1/ec2/aws4_request.
func signingName(r *http.Request) string {
	auth := r.Header.Get("Authorization")
	i := strings.Index(auth, "Credential=")
	if i < 0 {
		return ""
	}
	scope := auth[i+len("Credential="):]
	if j := strings.IndexAny(scope, ", "); j >= 0 {
		scope = scope[:j]
	}
	parts := strings.Split(scope, "/")
	if len(parts) < 5 {
		return ""
	}
	return parts[3]
}

// operationName identifies the operation from the protocol's own marker.
func operationName(svc string, r *http.Request, body []byte) string {
	if t := r.Header.Get("X-Amz-Target"); t != "" { // awsJson1_0/1_1
		if i := strings.LastIndexByte(t, '.'); i >= 0 {
			return t[i+1:]
		}
		return t
	}
	if i := strings.Index(r.URL.Path, "/operation/"); i >= 0 { // smithy-rpc-v2-cbor
		return r.URL.Path[i+len("/operation/"):]
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") { // awsQuery / ec2Query
		if v, err := url.ParseQuery(string(body)); err == nil && v.Get("Action") != "" {
			return v.Get("Action")
		}
	}
	if a := r.URL.Query().Get("Action"); a != "" {
		return a
	}
	if svc == "s3" {
		return s3Operation(r)
	}
	if op := restOperation(svc, r); op != "" {
		return op
	}
	return r.Method + " " + r.URL.Path
}

// s3Operation names the common S3 REST operations by method and subresource.
func s3Operation(r *http.Request) string {
	q := r.URL.Query()
	sub := ""
	for _, k := range []string{"policy", "publicAccessBlock", "encryption", "versioning", "tagging", "acl", "list-type", "location", "versions", "delete", "object-lock"} {
		if q.Has(k) {
			sub = k
			break
		}
	}
	verb := map[string]string{http.MethodGet: "Get", http.MethodPut: "Put", http.MethodDelete: "Delete", http.MethodHead: "Head", http.MethodPost: "Post"}[r.Method]
	switch sub {
	case "":
		path := strings.Trim(r.URL.Path, "/")
		if !strings.Contains(path, "/") {
			if path == "" {
				return "ListBuckets"
			}
			if r.Method == http.MethodGet {
				return "ListObjects"
			}
			return verb + "Bucket"
		}
		return verb + "Object"
	case "list-type":
		return "ListObjectsV2"
	case "versions":
		return "ListObjectVersions"
	case "delete":
		return "DeleteObjects"
	case "object-lock":
		return verb + "ObjectLockConfiguration"
	case "publicAccessBlock":
		return verb + "PublicAccessBlock"
	case "policy":
		return verb + "BucketPolicy"
	default:
		return verb + "Bucket" + strings.ToUpper(sub[:1]) + sub[1:]
	}
}

// sortedKeys lists the keys of m in order, for answers that do not depend
// on map iteration order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
