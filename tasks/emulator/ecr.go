package emulator

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

// ECR, in awsJson 1.1. kumo keeps repositories and lifecycle policies but
// ignores tags and has no image scans or tag mutability, so, as for
// Lambda, the front keeps the repository model the ecr.* actions read and
// write: repositories with their tags, tag mutability, scan-on-push and
// lifecycle policy, and per image tag a scan (its status, severity counts
// and findings). Images are seeded with their scan; there is no push.

const (
	ecrARN      = "arn:aws:ecr:us-east-1:000000000000:repository/"
	ecrRegistry = "000000000000"
)

// ECRRepository is a seedable repository.
type ECRRepository struct {
	Name       string
	Tags       map[string]string
	Immutable  bool // IMMUTABLE image tags
	ScanOnPush bool
	Lifecycle  string // lifecycle policy text, "" for none
	Images     []ECRImage
}

// ECRImage is a seeded image tag and its scan: Findings maps a severity
// (CRITICAL, HIGH, MEDIUM, LOW, INFORMATIONAL, UNDEFINED) to finding names
// (CVE ids); ScanStatus "" means COMPLETE, "none" no scan at all.
type ECRImage struct {
	Tag        string
	ScanStatus string
	Findings   map[string][]string
	ScannedAt  time.Time
}

type ecrRepo struct {
	name, mutability string
	scanOnPush       bool
	lifecycle        string
	created          time.Time
	tags             map[string]string
	images           map[string]ECRImage
}

type ecrState struct {
	mu    sync.Mutex
	now   func() time.Time
	repos map[string]*ecrRepo
	order []string
}

func (s *Server) registerECR() {
	st := &ecrState{now: time.Now, repos: map[string]*ecrRepo{}}
	s.ecr = st
	for op, h := range map[string]Handler{
		"CreateRepository": st.create, "DescribeRepositories": st.describe, "ListTagsForResource": st.listTags,
		"GetLifecyclePolicy": st.getLifecycle, "PutImageTagMutability": st.putMutability,
		"DescribeImageScanFindings": st.scanFindings,
	} {
		s.Handle("ecr:"+op, h)
	}
}

// SeedECRRepository creates a repository over the wire, then adds its
// lifecycle policy and images to the model.
func (s *Server) SeedECRRepository(ctx context.Context, r ECRRepository) error {
	c := ecr.NewFromConfig(s.seedConfig())
	in := &ecr.CreateRepositoryInput{RepositoryName: aws.String(r.Name), ImageTagMutability: ecrtypes.ImageTagMutabilityMutable,
		ImageScanningConfiguration: &ecrtypes.ImageScanningConfiguration{ScanOnPush: r.ScanOnPush}}
	if r.Immutable {
		in.ImageTagMutability = ecrtypes.ImageTagMutabilityImmutable
	}
	for _, k := range sortedKeys(r.Tags) {
		in.Tags = append(in.Tags, ecrtypes.Tag{Key: aws.String(k), Value: aws.String(r.Tags[k])})
	}
	if _, err := c.CreateRepository(ctx, in); err != nil {
		return fmt.Errorf("seed ecr repository %s: %w", r.Name, err)
	}
	st := s.ecr
	st.mu.Lock()
	defer st.mu.Unlock()
	repo := st.repos[r.Name]
	repo.lifecycle = r.Lifecycle
	for _, img := range r.Images {
		repo.images[img.Tag] = img
	}
	return nil
}

// ECRTagMutability reports a repository's image tag mutability.
func (s *Server) ECRTagMutability(name string) string {
	s.ecr.mu.Lock()
	defer s.ecr.mu.Unlock()
	if r := s.ecr.repos[name]; r != nil {
		return r.mutability
	}
	return ""
}

// repo finds a repository or answers RepositoryNotFoundException. Caller
// holds st.mu.
func (st *ecrState) repo(w http.ResponseWriter, name string) (*ecrRepo, bool) {
	r, ok := st.repos[name]
	if !ok {
		WriteJSONError(w, http.StatusBadRequest, "RepositoryNotFoundException",
			fmt.Sprintf("The repository with name '%s' does not exist in the registry with id '%s'", name, ecrRegistry))
	}
	return r, ok
}

type ecrTag struct{ Key, Value string }

func (st *ecrState) create(w http.ResponseWriter, _ *http.Request, body []byte) {
	var in struct {
		RepositoryName             string `json:"repositoryName"`
		Tags                       []ecrTag
		ImageTagMutability         string `json:"imageTagMutability"`
		ImageScanningConfiguration *struct {
			ScanOnPush bool `json:"scanOnPush"`
		} `json:"imageScanningConfiguration"`
	}
	if !decodeJSON(w, body, &in) {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if _, dup := st.repos[in.RepositoryName]; dup || in.RepositoryName == "" {
		WriteJSONError(w, http.StatusBadRequest, "RepositoryAlreadyExistsException",
			fmt.Sprintf("The repository with name '%s' already exists in the registry with id '%s'", in.RepositoryName, ecrRegistry))
		return
	}
	r := &ecrRepo{name: in.RepositoryName, mutability: "MUTABLE", created: st.now().UTC().Truncate(time.Second),
		tags: map[string]string{}, images: map[string]ECRImage{}}
	if in.ImageTagMutability != "" {
		r.mutability = in.ImageTagMutability
	}
	if in.ImageScanningConfiguration != nil {
		r.scanOnPush = in.ImageScanningConfiguration.ScanOnPush
	}
	for _, t := range in.Tags {
		r.tags[t.Key] = t.Value
	}
	st.repos[r.name] = r
	st.order = append(st.order, r.name)
	writeJSON(w, map[string]any{"repository": r.wire()})
}

func (r *ecrRepo) wire() map[string]any {
	return map[string]any{
		"repositoryArn": ecrARN + r.name, "registryId": ecrRegistry, "repositoryName": r.name,
		"repositoryUri": ecrRegistry + ".dkr.ecr.us-east-1.amazonaws.com/" + r.name, "createdAt": epoch(r.created),
		"imageTagMutability": r.mutability, "imageScanningConfiguration": map[string]bool{"scanOnPush": r.scanOnPush},
		"encryptionConfiguration": map[string]string{"encryptionType": "AES256"},
	}
}

func (st *ecrState) describe(w http.ResponseWriter, _ *http.Request, body []byte) {
	var in struct {
		RepositoryNames []string `json:"repositoryNames"`
		NextToken       string   `json:"nextToken"`
		MaxResults      *int     `json:"maxResults"`
	}
	if !decodeJSON(w, body, &in) {
		return
	}
	limit := 100
	if in.MaxResults != nil {
		limit = *in.MaxResults
	}
	start, ok := parsePageToken(in.NextToken, "ecrtok-")
	if !ok || limit < 1 || limit > 1000 || (len(in.RepositoryNames) > 0 && in.MaxResults != nil) {
		WriteJSONError(w, http.StatusBadRequest, "InvalidParameterException", "bad nextToken or maxResults")
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	names := st.order
	if len(in.RepositoryNames) > 0 {
		names = in.RepositoryNames
		limit = 0
	}
	got, next := page(names, start, limit, "ecrtok-")
	repos := []map[string]any{}
	for _, n := range got {
		r, ok := st.repo(w, n)
		if !ok {
			return
		}
		repos = append(repos, r.wire())
	}
	out := map[string]any{"repositories": repos}
	if next != "" {
		out["nextToken"] = next
	}
	writeJSON(w, out)
}

func (st *ecrState) listTags(w http.ResponseWriter, _ *http.Request, body []byte) {
	var in struct {
		ResourceArn string `json:"resourceArn"`
	}
	if !decodeJSON(w, body, &in) {
		return
	}
	if !strings.HasPrefix(in.ResourceArn, ecrARN) {
		WriteJSONError(w, http.StatusBadRequest, "InvalidParameterException", "Invalid parameter at 'resourceArn' failed to satisfy constraint: 'Invalid ARN'")
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	r, ok := st.repo(w, strings.TrimPrefix(in.ResourceArn, ecrARN))
	if !ok {
		return
	}
	tags := []ecrTag{}
	for _, k := range sortedKeys(r.tags) {
		tags = append(tags, ecrTag{k, r.tags[k]})
	}
	writeJSON(w, map[string]any{"tags": tags})
}

func (st *ecrState) getLifecycle(w http.ResponseWriter, _ *http.Request, body []byte) {
	var in struct {
		RepositoryName string `json:"repositoryName"`
	}
	if !decodeJSON(w, body, &in) {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	r, ok := st.repo(w, in.RepositoryName)
	if !ok {
		return
	}
	if r.lifecycle == "" {
		WriteJSONError(w, http.StatusBadRequest, "LifecyclePolicyNotFoundException",
			fmt.Sprintf("Lifecycle policy does not exist for the repository with name '%s' in the registry with id '%s'", r.name, ecrRegistry))
		return
	}
	writeJSON(w, map[string]any{"registryId": ecrRegistry, "repositoryName": r.name, "lifecyclePolicyText": r.lifecycle})
}

func (st *ecrState) putMutability(w http.ResponseWriter, _ *http.Request, body []byte) {
	var in struct {
		RepositoryName     string `json:"repositoryName"`
		ImageTagMutability string `json:"imageTagMutability"`
	}
	if !decodeJSON(w, body, &in) {
		return
	}
	if in.ImageTagMutability != "MUTABLE" && in.ImageTagMutability != "IMMUTABLE" {
		WriteJSONError(w, http.StatusBadRequest, "InvalidParameterException", "imageTagMutability must be MUTABLE or IMMUTABLE")
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	r, ok := st.repo(w, in.RepositoryName)
	if !ok {
		return
	}
	r.mutability = in.ImageTagMutability
	writeJSON(w, map[string]any{"registryId": ecrRegistry, "repositoryName": r.name, "imageTagMutability": r.mutability})
}

// severities in the order AWS ranks them.
var ecrSeverities = []string{"CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNDEFINED"}

func (st *ecrState) scanFindings(w http.ResponseWriter, _ *http.Request, body []byte) {
	var in struct {
		RepositoryName string `json:"repositoryName"`
		ImageID        struct {
			ImageTag    string `json:"imageTag"`
			ImageDigest string `json:"imageDigest"`
		} `json:"imageId"`
	}
	if !decodeJSON(w, body, &in) {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	r, ok := st.repo(w, in.RepositoryName)
	if !ok {
		return
	}
	img, ok := r.images[in.ImageID.ImageTag]
	if !ok || in.ImageID.ImageTag == "" {
		WriteJSONError(w, http.StatusBadRequest, "ImageNotFoundException",
			fmt.Sprintf("The image with imageId {imageDigest:'null', imageTag:'%s'} does not exist within the repository with name '%s' in the registry with id '%s'", in.ImageID.ImageTag, r.name, ecrRegistry))
		return
	}
	if img.ScanStatus == "none" {
		WriteJSONError(w, http.StatusBadRequest, "ScanNotFoundException",
			fmt.Sprintf("Image scan does not exist for the image with '{imageDigest:'null', imageTag:'%s'}' in the repository with name '%s' in the registry with id '%s'", img.Tag, r.name, ecrRegistry))
		return
	}
	status := img.ScanStatus
	if status == "" {
		status = "COMPLETE"
	}
	digest := fmt.Sprintf("sha256:%064x", len(r.name)*1000+len(img.Tag))
	out := map[string]any{"registryId": ecrRegistry, "repositoryName": r.name,
		"imageId": map[string]string{"imageTag": img.Tag, "imageDigest": digest}, "imageScanStatus": map[string]string{"status": status}}
	if status == "COMPLETE" {
		counts := map[string]int{}
		findings := []map[string]string{}
		for _, sev := range ecrSeverities {
			for _, name := range img.Findings[sev] {
				counts[sev]++
				findings = append(findings, map[string]string{"name": name, "severity": sev, "uri": "https://nvd.nist.gov/vuln/detail/" + name})
			}
		}
		out["imageScanFindings"] = map[string]any{"imageScanCompletedAt": epoch(img.ScannedAt), "findingSeverityCounts": counts, "findings": findings}
	}
	writeJSON(w, out)
}
