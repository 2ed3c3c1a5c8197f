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
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
)

// EKS, in the REST-JSON wire format. kumo keeps clusters and node groups
// but has no updates (UpdateNodegroupConfig, UpdateNodegroupVersion,
// DescribeUpdate), no add-ons and no health issues, so the front keeps
// EKS entirely, its creates included, so one state answers everything.
// An update stays InProgress for a number of DescribeUpdate reads set with
// SetEKSUpdateReads (0: Successful at the first read), then ends
// Successful (the node group gets its new version) or Failed.

const eksARN = "arn:aws:eks:us-east-1:000000000000:"

// EKSCluster is a seedable cluster with its node groups and add-ons.
type EKSCluster struct {
	Name       string
	Version    string // default 1.30
	Tags       map[string]string
	Nodegroups []EKSNodegroup
	Addons     map[string]string // add-on name -> version
}

// EKSNodegroup is a seedable managed node group.
type EKSNodegroup struct {
	Name              string
	Version           string // default the cluster's
	Min, Max, Desired int
	Tags              map[string]string
}

// EKSIssue is a health issue of a node group or add-on.
type EKSIssue struct {
	Code, Message string
	ResourceIDs   []string
}

type eksIssueJSON struct {
	Code        string   `json:"code"`
	Message     string   `json:"message"`
	ResourceIDs []string `json:"resourceIds,omitempty"`
}

type eksCluster struct {
	name, version string
	tags          map[string]string
	created       float64
	nodegroups    []*eksNodegroup // creation order
	addons        []*eksAddon
	updates       map[string]*eksUpdate
}

type eksNodegroup struct {
	name, version, status string
	min, max, desired     int
	tags                  map[string]string
	issues                []EKSIssue
	created               float64
	// pending is the update in flight, "" when none.
	pending string
}

type eksAddon struct {
	name, version string
	issues        []EKSIssue
}

type eksUpdate struct {
	id, typ, status, nodegroup string
	params                     [][2]string
	created                    float64
	reads                      int
	fail                       bool
	apply                      func() // on success
}

type eksState struct {
	mu       sync.Mutex
	now      func() time.Time
	seq      int
	clusters []*eksCluster
	// slow: "cluster/nodegroup" -> how its next updates end.
	slow map[string]eksSlow
}

type eksSlow struct {
	reads int
	fail  bool
}

func (s *Server) registerEKS() {
	st := &eksState{now: time.Now, slow: map[string]eksSlow{}}
	s.eks = st
	s.Handle("eks:CreateCluster", st.createCluster)
	s.Handle("eks:ListClusters", st.listClusters)
	s.Handle("eks:DescribeCluster", st.describeCluster)
	s.Handle("eks:CreateNodegroup", st.createNodegroup)
	s.Handle("eks:ListNodegroups", st.listNodegroups)
	s.Handle("eks:DescribeNodegroup", st.describeNodegroup)
	s.Handle("eks:UpdateNodegroupConfig", st.updateConfig)
	s.Handle("eks:UpdateNodegroupVersion", st.updateVersion)
	s.Handle("eks:DescribeUpdate", st.describeUpdate)
	s.Handle("eks:CreateAddon", st.createAddon)
	s.Handle("eks:ListAddons", st.listAddons)
	s.Handle("eks:DescribeAddon", st.describeAddon)
}

// SeedEKSCluster creates a cluster, its node groups and add-ons over the wire.
func (s *Server) SeedEKSCluster(ctx context.Context, in EKSCluster) error {
	c := eks.NewFromConfig(s.seedConfig())
	if in.Version == "" {
		in.Version = "1.30"
	}
	if _, err := c.CreateCluster(ctx, &eks.CreateClusterInput{Name: aws.String(in.Name), Version: aws.String(in.Version),
		RoleArn: aws.String("arn:aws:iam::000000000000:role/eks"), ResourcesVpcConfig: &ekstypes.VpcConfigRequest{SubnetIds: []string{"subnet-emulator"}},
		Tags: in.Tags}); err != nil {
		return fmt.Errorf("seed eks cluster %s: %w", in.Name, err)
	}
	for _, ng := range in.Nodegroups {
		if _, err := c.CreateNodegroup(ctx, &eks.CreateNodegroupInput{ClusterName: aws.String(in.Name), NodegroupName: aws.String(ng.Name),
			Version: aws.String(cmp.Or(ng.Version, in.Version)), NodeRole: aws.String("arn:aws:iam::000000000000:role/nodes"), Subnets: []string{"subnet-emulator"},
			ScalingConfig: &ekstypes.NodegroupScalingConfig{MinSize: aws.Int32(int32(ng.Min)), MaxSize: aws.Int32(int32(ng.Max)), DesiredSize: aws.Int32(int32(ng.Desired))},
			Tags:          ng.Tags}); err != nil {
			return fmt.Errorf("seed eks node group %s: %w", ng.Name, err)
		}
	}
	for _, name := range sortedKeys(in.Addons) {
		if _, err := c.CreateAddon(ctx, &eks.CreateAddonInput{ClusterName: aws.String(in.Name), AddonName: aws.String(name), AddonVersion: aws.String(in.Addons[name])}); err != nil {
			return fmt.Errorf("seed eks add-on %s: %w", name, err)
		}
	}
	return nil
}

// SetNodegroupIssues sets a node group's health issues.
func (s *Server) SetNodegroupIssues(cluster, nodegroup string, issues ...EKSIssue) {
	s.eks.mu.Lock()
	defer s.eks.mu.Unlock()
	if ng := s.eks.nodegroup(cluster, nodegroup); ng != nil {
		ng.issues = issues
	}
}

// SetEKSUpdateReads makes a node group's next updates stay InProgress for
// reads DescribeUpdate reads, then end Successful, or Failed when fail.
func (s *Server) SetEKSUpdateReads(cluster, nodegroup string, reads int, fail bool) {
	s.eks.mu.Lock()
	defer s.eks.mu.Unlock()
	s.eks.slow[cluster+"/"+nodegroup] = eksSlow{reads, fail}
}

// EKSNodegroupState reports a node group's version and min/max/desired.
func (s *Server) EKSNodegroupState(cluster, nodegroup string) (version string, minSize, maxSize, desired int) {
	s.eks.mu.Lock()
	defer s.eks.mu.Unlock()
	if ng := s.eks.nodegroup(cluster, nodegroup); ng != nil {
		return ng.version, ng.min, ng.max, ng.desired
	}
	return "", -1, -1, -1
}

func (st *eksState) epoch() float64 { return float64(st.now().Unix()) }

func (st *eksState) cluster(name string) *eksCluster {
	for _, c := range st.clusters {
		if c.name == name {
			return c
		}
	}
	return nil
}

func (st *eksState) nodegroup(cluster, name string) *eksNodegroup {
	if c := st.cluster(cluster); c != nil {
		for _, ng := range c.nodegroups {
			if ng.name == name {
				return ng
			}
		}
	}
	return nil
}

func eksNotFound(w http.ResponseWriter, what string) {
	WriteJSONError(w, http.StatusNotFound, "ResourceNotFoundException", "No "+what+" found.")
}

// clusterOf resolves the {name} path segment to a cluster.
func (st *eksState) clusterOf(w http.ResponseWriter, r *http.Request) *eksCluster {
	c := st.cluster(pathSegment(r, 1))
	if c == nil {
		eksNotFound(w, "cluster found for name: "+pathSegment(r, 1)+".")
	}
	return c
}

func (st *eksState) createCluster(w http.ResponseWriter, _ *http.Request, body []byte) {
	var in struct {
		Name    string            `json:"name"`
		Version string            `json:"version"`
		Tags    map[string]string `json:"tags"`
	}
	if !decodeJSON(w, body, &in) {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if in.Name == "" || st.cluster(in.Name) != nil {
		WriteJSONError(w, http.StatusConflict, "ResourceInUseException", "Cluster already exists with name: "+in.Name)
		return
	}
	c := &eksCluster{name: in.Name, version: cmp.Or(in.Version, "1.30"), tags: in.Tags, created: st.epoch(), updates: map[string]*eksUpdate{}}
	st.clusters = append(st.clusters, c)
	writeJSON(w, map[string]any{"cluster": st.clusterJSON(c)})
}

func (st *eksState) clusterJSON(c *eksCluster) map[string]any {
	return map[string]any{"name": c.name, "arn": eksARN + "cluster/" + c.name, "version": c.version, "status": "ACTIVE",
		"platformVersion": "eks.8", "createdAt": c.created, "endpoint": "https://" + c.name + ".eks.emulator", "tags": c.tags,
		"health": map[string]any{"issues": []any{}}}
}

// listPage answers a REST list operation: maxResults (1..100) and nextToken.
func listPage(w http.ResponseWriter, r *http.Request, key string, all []string) {
	limit, ok := parsePageSize(r.URL.Query().Get("maxResults"), 100, 1, 100)
	if !ok {
		WriteJSONError(w, http.StatusBadRequest, "InvalidParameterException", "maxResults must be between 1 and 100")
		return
	}
	start, ok := parsePageToken(r.URL.Query().Get("nextToken"), "ekstok-")
	if !ok {
		WriteJSONError(w, http.StatusBadRequest, "InvalidParameterException", "The nextToken is invalid.")
		return
	}
	items, next := page(all, start, limit, "ekstok-")
	out := map[string]any{key: append([]string{}, items...)}
	if next != "" {
		out["nextToken"] = next
	}
	writeJSON(w, out)
}

func (st *eksState) listClusters(w http.ResponseWriter, r *http.Request, _ []byte) {
	st.mu.Lock()
	var names []string
	for _, c := range st.clusters {
		names = append(names, c.name)
	}
	st.mu.Unlock()
	listPage(w, r, "clusters", names)
}

func (st *eksState) describeCluster(w http.ResponseWriter, r *http.Request, _ []byte) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if c := st.clusterOf(w, r); c != nil {
		writeJSON(w, map[string]any{"cluster": st.clusterJSON(c)})
	}
}

func (st *eksState) createNodegroup(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct {
		NodegroupName string            `json:"nodegroupName"`
		Version       string            `json:"version"`
		ScalingConfig eksScaling        `json:"scalingConfig"`
		Tags          map[string]string `json:"tags"`
	}
	if !decodeJSON(w, body, &in) {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	c := st.clusterOf(w, r)
	if c == nil {
		return
	}
	if in.NodegroupName == "" || st.nodegroup(c.name, in.NodegroupName) != nil {
		WriteJSONError(w, http.StatusConflict, "ResourceInUseException", "NodeGroup already exists with name "+in.NodegroupName+" and cluster name "+c.name)
		return
	}
	ng := &eksNodegroup{name: in.NodegroupName, version: cmp.Or(in.Version, c.version), status: "ACTIVE", tags: in.Tags, created: st.epoch()}
	if msg := in.ScalingConfig.apply(ng); msg != "" {
		WriteJSONError(w, http.StatusBadRequest, "InvalidParameterException", msg)
		return
	}
	c.nodegroups = append(c.nodegroups, ng)
	writeJSON(w, map[string]any{"nodegroup": st.nodegroupJSON(c, ng)})
}

type eksScaling struct {
	MinSize     *int `json:"minSize"`
	MaxSize     *int `json:"maxSize"`
	DesiredSize *int `json:"desiredSize"`
}

// apply sets the sizes given, refusing what AWS refuses; "" when applied.
func (sc eksScaling) apply(ng *eksNodegroup) string {
	lo, hi, want := ng.min, ng.max, ng.desired
	if sc.MinSize != nil {
		lo = *sc.MinSize
	}
	if sc.MaxSize != nil {
		hi = *sc.MaxSize
	}
	if sc.DesiredSize != nil {
		want = *sc.DesiredSize
	}
	switch {
	case lo < 0 || hi < 1:
		return "Minimum capacity must be at least 0 and maximum capacity at least 1"
	case lo > hi:
		return fmt.Sprintf("Minimum capacity %d can't be greater than maximum capacity %d", lo, hi)
	case want < lo || want > hi:
		return fmt.Sprintf("Desired capacity %d must be between minimum %d and maximum %d", want, lo, hi)
	}
	ng.min, ng.max, ng.desired = lo, hi, want
	return ""
}

func (st *eksState) nodegroupJSON(c *eksCluster, ng *eksNodegroup) map[string]any {
	issues := []eksIssueJSON{}
	for _, is := range ng.issues {
		issues = append(issues, eksIssueJSON(is))
	}
	return map[string]any{"nodegroupName": ng.name, "nodegroupArn": eksARN + "nodegroup/" + c.name + "/" + ng.name + "/emulator",
		"clusterName": c.name, "version": ng.version, "releaseVersion": ng.version + ".0-emulator", "status": ng.status,
		"capacityType": "ON_DEMAND", "instanceTypes": []string{"t3.medium"}, "createdAt": ng.created, "modifiedAt": ng.created,
		"scalingConfig": map[string]int{"minSize": ng.min, "maxSize": ng.max, "desiredSize": ng.desired},
		"updateConfig":  map[string]int{"maxUnavailable": 1}, "health": map[string]any{"issues": issues}, "tags": ng.tags}
}

func (st *eksState) listNodegroups(w http.ResponseWriter, r *http.Request, _ []byte) {
	st.listInCluster(w, r, "nodegroups", func(c *eksCluster) (names []string) {
		for _, ng := range c.nodegroups {
			names = append(names, ng.name)
		}
		return names
	})
}

// listInCluster answers a list of the path's cluster: names reads it
// under the lock.
func (st *eksState) listInCluster(w http.ResponseWriter, r *http.Request, key string, names func(*eksCluster) []string) {
	st.mu.Lock()
	c := st.clusterOf(w, r)
	if c == nil {
		st.mu.Unlock()
		return
	}
	all := names(c)
	st.mu.Unlock()
	listPage(w, r, key, all)
}

// nodegroupOf resolves the {ng} path segment of a node group route.
func (st *eksState) nodegroupOf(w http.ResponseWriter, r *http.Request) (*eksCluster, *eksNodegroup) {
	c := st.clusterOf(w, r)
	if c == nil {
		return nil, nil
	}
	ng := st.nodegroup(c.name, pathSegment(r, 3))
	if ng == nil {
		eksNotFound(w, "node group found for name: "+pathSegment(r, 3)+".")
	}
	return c, ng
}

func (st *eksState) describeNodegroup(w http.ResponseWriter, r *http.Request, _ []byte) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if c, ng := st.nodegroupOf(w, r); ng != nil {
		writeJSON(w, map[string]any{"nodegroup": st.nodegroupJSON(c, ng)})
	}
}

// startUpdate records an update of ng, refusing a second one in flight.
func (st *eksState) startUpdate(w http.ResponseWriter, c *eksCluster, ng *eksNodegroup, typ string, params [][2]string, apply func()) {
	if ng.pending != "" {
		WriteJSONError(w, http.StatusConflict, "ResourceInUseException", "Nodegroup "+ng.name+" is currently being updated by update "+ng.pending)
		return
	}
	st.seq++
	slow := st.slow[c.name+"/"+ng.name]
	u := &eksUpdate{id: fmt.Sprintf("%08x-0000-4000-8000-%012x", st.seq, st.seq), typ: typ, status: "InProgress", nodegroup: ng.name,
		params: params, created: st.epoch(), reads: slow.reads, fail: slow.fail, apply: apply}
	c.updates[u.id] = u
	ng.pending, ng.status = u.id, "UPDATING"
	writeJSON(w, map[string]any{"update": u.json()})
}

func (u *eksUpdate) json() map[string]any {
	params := []map[string]string{}
	for _, p := range u.params {
		params = append(params, map[string]string{"type": p[0], "value": p[1]})
	}
	errs := []map[string]any{}
	if u.status == "Failed" {
		errs = append(errs, map[string]any{"errorCode": "NodeCreationFailure", "errorMessage": "Instances failed to join the kubernetes cluster", "resourceIds": []string{u.nodegroup}})
	}
	return map[string]any{"id": u.id, "status": u.status, "type": u.typ, "params": params, "createdAt": u.created, "errors": errs}
}

func (st *eksState) updateConfig(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct {
		ScalingConfig *eksScaling `json:"scalingConfig"`
	}
	if !decodeJSON(w, body, &in) {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	c, ng := st.nodegroupOf(w, r)
	if ng == nil {
		return
	}
	if in.ScalingConfig == nil {
		WriteJSONError(w, http.StatusBadRequest, "InvalidParameterException", "The emulator updates only scalingConfig")
		return
	}
	probe := *ng
	if msg := in.ScalingConfig.apply(&probe); msg != "" {
		WriteJSONError(w, http.StatusBadRequest, "InvalidParameterException", msg)
		return
	}
	params := [][2]string{{"MinSize", strconv.Itoa(probe.min)}, {"MaxSize", strconv.Itoa(probe.max)}, {"DesiredSize", strconv.Itoa(probe.desired)}}
	st.startUpdate(w, c, ng, "ConfigUpdate", params, func() { ng.min, ng.max, ng.desired = probe.min, probe.max, probe.desired })
}

func (st *eksState) updateVersion(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct {
		Version string `json:"version"`
	}
	if !decodeJSON(w, body, &in) {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	c, ng := st.nodegroupOf(w, r)
	if ng == nil {
		return
	}
	to := cmp.Or(in.Version, c.version)
	if versionLess(c.version, to) {
		WriteJSONError(w, http.StatusBadRequest, "InvalidParameterException", "Requested Nodegroup Kubernetes version "+to+" is newer than the cluster version "+c.version)
		return
	}
	params := [][2]string{{"Version", to}, {"ReleaseVersion", to + ".0-emulator"}}
	st.startUpdate(w, c, ng, "VersionUpdate", params, func() { ng.version = to })
}

// versionLess compares Kubernetes minor versions like 1.29 < 1.30.
func versionLess(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) && i < len(pb); i++ {
		x, _ := strconv.Atoi(pa[i])
		y, _ := strconv.Atoi(pb[i])
		if x != y {
			return x < y
		}
	}
	return len(pa) < len(pb)
}

func (st *eksState) describeUpdate(w http.ResponseWriter, r *http.Request, _ []byte) {
	st.mu.Lock()
	defer st.mu.Unlock()
	c := st.clusterOf(w, r)
	if c == nil {
		return
	}
	u, ok := c.updates[pathSegment(r, 3)]
	if !ok || (r.URL.Query().Get("nodegroupName") != "" && r.URL.Query().Get("nodegroupName") != u.nodegroup) {
		eksNotFound(w, "update found for id: "+pathSegment(r, 3)+".")
		return
	}
	if u.status == "InProgress" {
		if u.reads > 0 {
			u.reads--
		} else {
			ng := st.nodegroup(c.name, u.nodegroup)
			u.status = "Successful"
			if u.fail {
				u.status = "Failed"
			} else {
				u.apply()
			}
			ng.pending, ng.status = "", "ACTIVE"
		}
	}
	writeJSON(w, map[string]any{"update": u.json()})
}

func (st *eksState) createAddon(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct {
		AddonName    string `json:"addonName"`
		AddonVersion string `json:"addonVersion"`
	}
	if !decodeJSON(w, body, &in) {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	c := st.clusterOf(w, r)
	if c == nil {
		return
	}
	if slices.ContainsFunc(c.addons, func(a *eksAddon) bool { return a.name == in.AddonName }) {
		WriteJSONError(w, http.StatusConflict, "ResourceInUseException", "Addon already exists with name "+in.AddonName)
		return
	}
	a := &eksAddon{name: in.AddonName, version: in.AddonVersion}
	c.addons = append(c.addons, a)
	writeJSON(w, map[string]any{"addon": st.addonJSON(c, a)})
}

func (st *eksState) addonJSON(c *eksCluster, a *eksAddon) map[string]any {
	issues := []eksIssueJSON{}
	for _, is := range a.issues {
		issues = append(issues, eksIssueJSON(is))
	}
	status := "ACTIVE"
	if len(issues) > 0 {
		status = "DEGRADED"
	}
	return map[string]any{"addonName": a.name, "clusterName": c.name, "addonVersion": a.version, "status": status,
		"addonArn": eksARN + "addon/" + c.name + "/" + a.name + "/emulator", "createdAt": c.created, "modifiedAt": c.created,
		"health": map[string]any{"issues": issues}}
}

// SetAddonIssues sets an add-on's health issues (DEGRADED while any).
func (s *Server) SetAddonIssues(cluster, addon string, issues ...EKSIssue) {
	s.eks.mu.Lock()
	defer s.eks.mu.Unlock()
	if c := s.eks.cluster(cluster); c != nil {
		for _, a := range c.addons {
			if a.name == addon {
				a.issues = issues
			}
		}
	}
}

func (st *eksState) listAddons(w http.ResponseWriter, r *http.Request, _ []byte) {
	st.listInCluster(w, r, "addons", func(c *eksCluster) (names []string) {
		for _, a := range c.addons {
			names = append(names, a.name)
		}
		return names
	})
}

func (st *eksState) describeAddon(w http.ResponseWriter, r *http.Request, _ []byte) {
	st.mu.Lock()
	defer st.mu.Unlock()
	c := st.clusterOf(w, r)
	if c == nil {
		return
	}
	for _, a := range c.addons {
		if a.name == pathSegment(r, 3) {
			writeJSON(w, map[string]any{"addon": st.addonJSON(c, a)})
			return
		}
	}
	eksNotFound(w, "addon found for name: "+pathSegment(r, 3)+".")
}
