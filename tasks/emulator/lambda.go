package emulator

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// Lambda, in REST-JSON. kumo's Lambda lists versions and aliases but cannot
// create or update an alias, publish a version or reserve concurrency, and
// a front-layer alias would not see kumo's functions; so, as for RDS, the
// front keeps the whole model the lambda.* actions read and write:
// functions, published versions, aliases with weighted routing, reserved
// and provisioned concurrency, tags.

const lambdaARN = "arn:aws:lambda:us-east-1:000000000000:function:"

// LambdaFunction is a seedable function. Versions are published 1..Versions;
// each alias in Aliases points at the version given.
type LambdaFunction struct {
	Name     string
	Runtime  string // default python3.12
	Versions int
	Aliases  map[string]string // alias -> version
	Reserved *int32            // reserved concurrency, nil for none
	Tags     map[string]string
}

type lambdaAlias struct {
	Name, Version string
	Weights       map[string]float64 // additional version -> weight
	revision      int
}

type lambdaFunc struct {
	name, runtime string
	versions      []string // published, in order
	aliases       map[string]*lambdaAlias
	reserved      *int32
	provisioned   map[string]int32 // qualifier -> provisioned concurrency
	tags          map[string]string
	modified      time.Time
}

type lambdaState struct {
	mu    sync.Mutex
	now   func() time.Time
	funcs map[string]*lambdaFunc
}

func (s *Server) registerLambda() {
	st := &lambdaState{now: time.Now, funcs: map[string]*lambdaFunc{}}
	s.lambda = st
	for op, h := range map[string]Handler{
		"CreateFunction": st.createFunction, "ListFunctions": st.listFunctions, "GetFunction": st.getFunction,
		"ListVersionsByFunction": st.listVersions, "PublishVersion": st.publishVersion,
		"ListAliases": st.listAliases, "CreateAlias": st.createAlias, "GetAlias": st.getAlias, "UpdateAlias": st.updateAlias,
		"PutFunctionConcurrency": st.putConcurrency, "DeleteFunctionConcurrency": st.deleteConcurrency,
		"GetFunctionConcurrency": st.getConcurrency, "ListProvisionedConcurrencyConfigs": st.listProvisioned,
		"ListTags": st.listTags,
	} {
		s.Handle("lambda:"+op, h)
	}
}

// SeedLambdaFunction creates a function, publishes its versions and creates
// its aliases over the wire.
func (s *Server) SeedLambdaFunction(ctx context.Context, f LambdaFunction) error {
	c := lambda.NewFromConfig(s.seedConfig())
	if _, err := c.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String(f.Name), Runtime: lambdatypes.Runtime(cmp.Or(f.Runtime, "python3.12")),
		Role: aws.String("arn:aws:iam::000000000000:role/" + f.Name), Handler: aws.String("app.handler"),
		Code: &lambdatypes.FunctionCode{ZipFile: []byte("PK")}, Tags: f.Tags,
	}); err != nil {
		return fmt.Errorf("seed lambda %s: %w", f.Name, err)
	}
	for range f.Versions {
		if _, err := c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String(f.Name)}); err != nil {
			return fmt.Errorf("seed lambda %s version: %w", f.Name, err)
		}
	}
	for _, a := range sortedKeys(f.Aliases) {
		if _, err := c.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String(f.Name), Name: aws.String(a), FunctionVersion: aws.String(f.Aliases[a])}); err != nil {
			return fmt.Errorf("seed lambda %s alias %s: %w", f.Name, a, err)
		}
	}
	if f.Reserved != nil {
		if _, err := c.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String(f.Name), ReservedConcurrentExecutions: f.Reserved}); err != nil {
			return fmt.Errorf("seed lambda %s concurrency: %w", f.Name, err)
		}
	}
	return nil
}

// LambdaAlias reports where an alias points and its extra weights.
func (s *Server) LambdaAlias(function, alias string) (version string, weights map[string]float64) {
	st := s.lambda
	st.mu.Lock()
	defer st.mu.Unlock()
	if f := st.funcs[function]; f != nil && f.aliases[alias] != nil {
		return f.aliases[alias].Version, f.aliases[alias].Weights
	}
	return "", nil
}

// LambdaReserved reports a function's reserved concurrency (-1 for none).
func (s *Server) LambdaReserved(function string) int32 {
	st := s.lambda
	st.mu.Lock()
	defer st.mu.Unlock()
	if f := st.funcs[function]; f != nil && f.reserved != nil {
		return *f.reserved
	}
	return -1
}

// function finds the function named in path segment 2 (a name or an ARN)
// or answers ResourceNotFoundException. Caller holds st.mu.
func (st *lambdaState) function(w http.ResponseWriter, r *http.Request) (*lambdaFunc, bool) {
	name := strings.TrimPrefix(pathSegment(r, 2), lambdaARN)
	name, _, _ = strings.Cut(name, ":") // a qualified ARN names the function too
	f, ok := st.funcs[name]
	if !ok {
		WriteJSONError(w, http.StatusNotFound, "ResourceNotFoundException", "Function not found: "+lambdaARN+name)
	}
	return f, ok
}

type lambdaConfig struct {
	FunctionName, FunctionArn, Runtime, Role, Handler, Version, LastModified, State, LastUpdateStatus, PackageType string
	MemorySize, Timeout                                                                                            int32
	CodeSize                                                                                                       int64
}

func (f *lambdaFunc) config(version string) lambdaConfig {
	arn := lambdaARN + f.name
	if version != "$LATEST" {
		arn += ":" + version
	}
	return lambdaConfig{FunctionName: f.name, FunctionArn: arn, Runtime: f.runtime, Role: "arn:aws:iam::000000000000:role/" + f.name,
		Handler: "app.handler", Version: version, LastModified: f.modified.Format("2006-01-02T15:04:05.000-0700"),
		State: "Active", LastUpdateStatus: "Successful", PackageType: "Zip", MemorySize: 128, Timeout: 3, CodeSize: 2}
}

func (st *lambdaState) createFunction(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct {
		FunctionName, Runtime string
		Tags                  map[string]string
	}
	if !decodeJSON(w, body, &in) {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if _, ok := st.funcs[in.FunctionName]; ok || in.FunctionName == "" {
		WriteJSONError(w, http.StatusConflict, "ResourceConflictException", "Function already exist: "+in.FunctionName)
		return
	}
	f := &lambdaFunc{name: in.FunctionName, runtime: in.Runtime, aliases: map[string]*lambdaAlias{}, provisioned: map[string]int32{},
		tags: in.Tags, modified: st.now().UTC()}
	st.funcs[f.name] = f
	writeJSONStatus(w, http.StatusCreated, f.config("$LATEST"))
}

func (st *lambdaState) listFunctions(w http.ResponseWriter, r *http.Request, body []byte) {
	st.mu.Lock()
	defer st.mu.Unlock()
	names := sortedKeys(st.funcs)
	limit, ok := parsePageSize(r.URL.Query().Get("MaxItems"), 50, 1, 50)
	start, ok2 := parsePageToken(r.URL.Query().Get("Marker"), "")
	if !ok || !ok2 || start > len(names) {
		WriteJSONError(w, http.StatusBadRequest, "InvalidParameterValueException", "invalid MaxItems or Marker")
		return
	}
	items, next := page(names, start, limit, "")
	out := struct {
		Functions  []lambdaConfig
		NextMarker string `json:",omitempty"`
	}{Functions: []lambdaConfig{}, NextMarker: next}
	for _, n := range items {
		out.Functions = append(out.Functions, st.funcs[n].config("$LATEST"))
	}
	writeJSON(w, out)
}

func (st *lambdaState) getFunction(w http.ResponseWriter, r *http.Request, body []byte) {
	st.mu.Lock()
	defer st.mu.Unlock()
	f, ok := st.function(w, r)
	if !ok {
		return
	}
	out := map[string]any{
		"Configuration": f.config("$LATEST"),
		"Code":          map[string]string{"RepositoryType": "S3", "Location": "https://emulator/" + f.name + ".zip"},
		"Tags":          f.tags,
	}
	if f.reserved != nil {
		out["Concurrency"] = map[string]int32{"ReservedConcurrentExecutions": *f.reserved}
	}
	writeJSON(w, out)
}

func (st *lambdaState) listVersions(w http.ResponseWriter, r *http.Request, body []byte) {
	st.mu.Lock()
	defer st.mu.Unlock()
	f, ok := st.function(w, r)
	if !ok {
		return
	}
	vs := []lambdaConfig{f.config("$LATEST")}
	for _, v := range f.versions {
		vs = append(vs, f.config(v))
	}
	writeJSON(w, map[string]any{"Versions": vs})
}

func (st *lambdaState) publishVersion(w http.ResponseWriter, r *http.Request, body []byte) {
	st.mu.Lock()
	defer st.mu.Unlock()
	f, ok := st.function(w, r)
	if !ok {
		return
	}
	v := strconv.Itoa(len(f.versions) + 1)
	f.versions = append(f.versions, v)
	writeJSONStatus(w, http.StatusCreated, f.config(v))
}

type lambdaAliasJSON struct {
	AliasArn, Name, FunctionVersion, RevisionId string
	RoutingConfig                               *lambdaRouting `json:",omitempty"`
}

type lambdaRouting struct {
	AdditionalVersionWeights map[string]float64
}

func (f *lambdaFunc) aliasJSON(a *lambdaAlias) lambdaAliasJSON {
	out := lambdaAliasJSON{AliasArn: lambdaARN + f.name + ":" + a.Name, Name: a.Name, FunctionVersion: a.Version, RevisionId: fmt.Sprintf("rev-%d", a.revision)}
	if len(a.Weights) > 0 {
		out.RoutingConfig = &lambdaRouting{AdditionalVersionWeights: a.Weights}
	}
	return out
}

func (st *lambdaState) listAliases(w http.ResponseWriter, r *http.Request, body []byte) {
	st.mu.Lock()
	defer st.mu.Unlock()
	f, ok := st.function(w, r)
	if !ok {
		return
	}
	out := []lambdaAliasJSON{}
	for _, n := range sortedKeys(f.aliases) {
		out = append(out, f.aliasJSON(f.aliases[n]))
	}
	writeJSON(w, map[string]any{"Aliases": out})
}

// checkRouting validates an alias target the way Lambda does: published
// versions only, weights in [0, 1], one additional version at most.
func (f *lambdaFunc) checkRouting(w http.ResponseWriter, version string, rc *lambdaRouting) bool {
	if !slices.Contains(f.versions, version) {
		WriteJSONError(w, http.StatusNotFound, "ResourceNotFoundException", "Function not found: "+lambdaARN+f.name+":"+version)
		return false
	}
	if rc == nil {
		return true
	}
	if len(rc.AdditionalVersionWeights) > 1 {
		WriteJSONError(w, http.StatusBadRequest, "InvalidParameterValueException", "Number of items in AdditionalVersionWeights cannot be greater than 1")
		return false
	}
	for v, wt := range rc.AdditionalVersionWeights {
		if !slices.Contains(f.versions, v) || v == version || wt < 0 || wt > 1 {
			WriteJSONError(w, http.StatusBadRequest, "InvalidParameterValueException", "Invalid AdditionalVersionWeights: version "+v)
			return false
		}
	}
	return true
}

func (st *lambdaState) createAlias(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct {
		Name, FunctionVersion string
		RoutingConfig         *lambdaRouting
	}
	if !decodeJSON(w, body, &in) {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	f, ok := st.function(w, r)
	if !ok || !f.checkRouting(w, in.FunctionVersion, in.RoutingConfig) {
		return
	}
	if _, dup := f.aliases[in.Name]; dup {
		WriteJSONError(w, http.StatusConflict, "ResourceConflictException", "Alias already exists: "+in.Name)
		return
	}
	a := &lambdaAlias{Name: in.Name, Version: in.FunctionVersion, revision: 1}
	if in.RoutingConfig != nil {
		a.Weights = in.RoutingConfig.AdditionalVersionWeights
	}
	f.aliases[in.Name] = a
	writeJSONStatus(w, http.StatusCreated, f.aliasJSON(a))
}

// alias finds the alias in path segment 4. Caller holds st.mu.
func (st *lambdaState) alias(w http.ResponseWriter, r *http.Request) (*lambdaFunc, *lambdaAlias, bool) {
	f, ok := st.function(w, r)
	if !ok {
		return nil, nil, false
	}
	a, ok := f.aliases[pathSegment(r, 4)]
	if !ok {
		WriteJSONError(w, http.StatusNotFound, "ResourceNotFoundException", "Alias not found: "+lambdaARN+f.name+":"+pathSegment(r, 4))
	}
	return f, a, ok
}

func (st *lambdaState) getAlias(w http.ResponseWriter, r *http.Request, body []byte) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if f, a, ok := st.alias(w, r); ok {
		writeJSON(w, f.aliasJSON(a))
	}
}

func (st *lambdaState) updateAlias(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct {
		FunctionVersion, RevisionId string
		RoutingConfig               *lambdaRouting
	}
	if !decodeJSON(w, body, &in) {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	f, a, ok := st.alias(w, r)
	if !ok {
		return
	}
	if in.RevisionId != "" && in.RevisionId != fmt.Sprintf("rev-%d", a.revision) {
		WriteJSONError(w, http.StatusPreconditionFailed, "PreconditionFailedException", "The Revision Id provided does not match the latest Revision Id.")
		return
	}
	version := cmp.Or(in.FunctionVersion, a.Version)
	if !f.checkRouting(w, version, in.RoutingConfig) {
		return
	}
	a.Version = version
	if in.RoutingConfig != nil { // an empty map clears the routing
		a.Weights = in.RoutingConfig.AdditionalVersionWeights
	}
	a.revision++
	writeJSON(w, f.aliasJSON(a))
}

func (st *lambdaState) putConcurrency(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct{ ReservedConcurrentExecutions *int32 }
	if !decodeJSON(w, body, &in) {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	f, ok := st.function(w, r)
	if !ok {
		return
	}
	if in.ReservedConcurrentExecutions == nil || *in.ReservedConcurrentExecutions < 0 || *in.ReservedConcurrentExecutions > 1000 {
		WriteJSONError(w, http.StatusBadRequest, "InvalidParameterValueException", "ReservedConcurrentExecutions must be between 0 and the account's unreserved concurrency")
		return
	}
	n := *in.ReservedConcurrentExecutions
	f.reserved = &n
	writeJSON(w, map[string]int32{"ReservedConcurrentExecutions": n})
}

func (st *lambdaState) deleteConcurrency(w http.ResponseWriter, r *http.Request, body []byte) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if f, ok := st.function(w, r); ok {
		f.reserved = nil
		w.WriteHeader(http.StatusNoContent)
	}
}

func (st *lambdaState) getConcurrency(w http.ResponseWriter, r *http.Request, body []byte) {
	st.mu.Lock()
	defer st.mu.Unlock()
	f, ok := st.function(w, r)
	if !ok {
		return
	}
	out := map[string]int32{}
	if f.reserved != nil {
		out["ReservedConcurrentExecutions"] = *f.reserved
	}
	writeJSON(w, out)
}

func (st *lambdaState) listProvisioned(w http.ResponseWriter, r *http.Request, body []byte) {
	st.mu.Lock()
	defer st.mu.Unlock()
	f, ok := st.function(w, r)
	if !ok {
		return
	}
	type cfg struct {
		FunctionArn                                                                        string
		RequestedProvisionedConcurrentExecutions, AllocatedProvisionedConcurrentExecutions int32
		Status                                                                             string
	}
	out := []cfg{}
	for _, q := range sortedKeys(f.provisioned) {
		out = append(out, cfg{lambdaARN + f.name + ":" + q, f.provisioned[q], f.provisioned[q], "READY"})
	}
	writeJSON(w, map[string]any{"ProvisionedConcurrencyConfigs": out})
}

func (st *lambdaState) listTags(w http.ResponseWriter, r *http.Request, body []byte) {
	st.mu.Lock()
	defer st.mu.Unlock()
	name := strings.TrimPrefix(pathSegment(r, 2), lambdaARN)
	f, ok := st.funcs[name]
	if !ok {
		WriteJSONError(w, http.StatusNotFound, "ResourceNotFoundException", "Function not found: "+lambdaARN+name)
		return
	}
	writeJSON(w, map[string]any{"Tags": f.tags})
}
