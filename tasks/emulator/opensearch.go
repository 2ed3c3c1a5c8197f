package emulator

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// Amazon OpenSearch Service, which kumo lacks: the configuration API in
// REST-JSON under /2021-01-01/, and the one piece of a domain's own REST
// API day2bot uses, manual snapshots (PUT /_snapshot/REPO/NAME, signed
// for "es", addressed to the domain's endpoint; the emulator tells the
// domain by the Host header, search-NAME-emu.REGION.es.amazonaws.com).
// A data-node count change is a blue/green deployment: each read of its
// progress advances it one stage, and the new count applies when it
// completes.

const osARN = "arn:aws:es:us-east-1:000000000000:domain/"

// OpenSearchDomain is a seedable domain.
type OpenSearchDomain struct {
	Name         string
	DataNodes    int
	AZs          int    // availability zones (1 = no zone awareness)
	InstanceType string // default r6g.large.search
	VolumeGiB    int    // EBS per node; default 100
	Health       string // Green, Yellow, Red; default Green
	Repositories []string
	Tags         map[string]string
}

type osChange struct {
	id    string
	stage int // index of the stage in progress
	count int
}

// osStages are the stages of a blue/green change, as the API names them.
var osStages = []string{"Validation", "Creating a new environment", "Provisioning new nodes", "Copying shards to new cluster", "Deleting older resources"}

type osDomain struct {
	OpenSearchDomain
	change    *osChange
	changes   []string // ids, oldest first
	snapshots map[string][]string
}

type osState struct {
	mu      sync.Mutex
	seq     int
	domains map[string]*osDomain
}

func (s *Server) registerOpenSearch() {
	st := &osState{domains: map[string]*osDomain{}}
	s.search = st
	for op, h := range map[string]Handler{
		"ListDomainNames": st.listDomains, "DescribeDomain": st.describeDomain, "ListTags": st.listTags,
		"DescribeDomainHealth": st.health, "UpdateDomainConfig": st.updateConfig, "DescribeDomainChangeProgress": st.progress,
		"CreateSnapshot": st.createSnapshot, "GetSnapshotRepository": st.getRepository,
	} {
		s.Handle("es:"+op, h)
	}
}

// SeedOpenSearchDomain creates a domain.
func (s *Server) SeedOpenSearchDomain(d OpenSearchDomain) {
	if d.InstanceType == "" {
		d.InstanceType = "r6g.large.search"
	}
	if d.VolumeGiB == 0 {
		d.VolumeGiB = 100
	}
	if d.Health == "" {
		d.Health = "Green"
	}
	if d.AZs == 0 {
		d.AZs = 1
	}
	s.search.mu.Lock()
	defer s.search.mu.Unlock()
	s.search.domains[d.Name] = &osDomain{OpenSearchDomain: d, snapshots: map[string][]string{}}
}

// OpenSearchState reports a domain's data-node count and its snapshots in
// repo.
func (s *Server) OpenSearchState(name, repo string) (dataNodes int, snapshots []string) {
	s.search.mu.Lock()
	defer s.search.mu.Unlock()
	d, ok := s.search.domains[name]
	if !ok {
		return 0, nil
	}
	return d.DataNodes, append([]string(nil), d.snapshots[repo]...)
}

func osEndpoint(name string) string { return "search-" + name + "-emu.us-east-1.es.amazonaws.com" }

func (st *osState) domain(w http.ResponseWriter, name string) (*osDomain, bool) {
	d, ok := st.domains[name]
	if !ok {
		WriteJSONError(w, http.StatusNotFound, "ResourceNotFoundException", "Domain not found: "+name)
	}
	return d, ok
}

func (st *osState) listDomains(w http.ResponseWriter, r *http.Request, body []byte) {
	st.mu.Lock()
	defer st.mu.Unlock()
	list := []map[string]string{}
	for _, name := range sortedKeys(st.domains) {
		list = append(list, map[string]string{"DomainName": name, "EngineType": "OpenSearch"})
	}
	writeJSONStatus(w, http.StatusOK, map[string]any{"DomainNames": list})
}

func (st *osState) status(d *osDomain) map[string]any {
	cc := map[string]any{"InstanceType": d.InstanceType, "InstanceCount": d.DataNodes, "ZoneAwarenessEnabled": d.AZs > 1}
	if d.AZs > 1 {
		cc["ZoneAwarenessConfig"] = map[string]any{"AvailabilityZoneCount": d.AZs}
	}
	return map[string]any{"DomainName": d.Name, "DomainId": "000000000000/" + d.Name, "ARN": osARN + d.Name, "Created": true,
		"Deleted": false, "Processing": d.change != nil, "UpgradeProcessing": false, "EngineVersion": "OpenSearch_2.13",
		"Endpoint": osEndpoint(d.Name), "ClusterConfig": cc, "DomainProcessingStatus": map[bool]string{true: "Modifying", false: "Active"}[d.change != nil],
		"EBSOptions": map[string]any{"EBSEnabled": true, "VolumeType": "gp3", "VolumeSize": d.VolumeGiB}}
}

func (st *osState) describeDomain(w http.ResponseWriter, r *http.Request, body []byte) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if d, ok := st.domain(w, pathSegment(r, 3)); ok {
		writeJSONStatus(w, http.StatusOK, map[string]any{"DomainStatus": st.status(d)})
	}
}

func (st *osState) listTags(w http.ResponseWriter, r *http.Request, body []byte) {
	arn := r.URL.Query().Get("arn")
	st.mu.Lock()
	defer st.mu.Unlock()
	d, ok := st.domain(w, strings.TrimPrefix(arn, osARN))
	if !ok {
		return
	}
	list := []map[string]string{}
	for _, k := range sortedKeys(d.Tags) {
		list = append(list, map[string]string{"Key": k, "Value": d.Tags[k]})
	}
	writeJSONStatus(w, http.StatusOK, map[string]any{"TagList": list})
}

func (st *osState) health(w http.ResponseWriter, r *http.Request, body []byte) {
	st.mu.Lock()
	defer st.mu.Unlock()
	d, ok := st.domain(w, pathSegment(r, 3))
	if !ok {
		return
	}
	state := "Active"
	if d.change != nil {
		state = "Processing"
	}
	writeJSONStatus(w, http.StatusOK, map[string]any{"ClusterHealth": d.Health, "DomainState": state, "DataNodeCount": strconv.Itoa(d.DataNodes),
		"AvailabilityZoneCount": strconv.Itoa(d.AZs), "ActiveAvailabilityZoneCount": strconv.Itoa(d.AZs), "MasterEligibleNodeCount": "3",
		"DedicatedMaster": true, "MasterNode": "Available", "TotalShards": strconv.Itoa(d.DataNodes * 10), "TotalUnAssignedShards": "0"})
}

func (st *osState) updateConfig(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct {
		ClusterConfig *struct{ InstanceCount *int }
	}
	if !decodeJSON(w, body, &in) {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	d, ok := st.domain(w, pathSegment(r, 3))
	if !ok {
		return
	}
	if in.ClusterConfig != nil && in.ClusterConfig.InstanceCount != nil {
		n := *in.ClusterConfig.InstanceCount
		switch {
		case d.change != nil:
			WriteJSONError(w, http.StatusConflict, "ResourceConflictException", "A change is already in progress for domain "+d.Name)
			return
		case n < 1 || n%d.AZs != 0:
			WriteJSONError(w, http.StatusBadRequest, "ValidationException", fmt.Sprintf("You must choose a number of data nodes that is a multiple of the number of Availability Zones (%d).", d.AZs))
			return
		}
		st.seq++
		d.change = &osChange{id: fmt.Sprintf("%08d-0000-4000-8000-%012d", st.seq, st.seq), count: n}
		d.changes = append(d.changes, d.change.id)
	}
	cfg := map[string]any{"ClusterConfig": map[string]any{"Options": st.status(d)["ClusterConfig"], "Status": map[string]any{"State": "Processing"}}}
	if d.change != nil {
		cfg["ChangeProgressDetails"] = map[string]any{"ChangeId": d.change.id, "Message": "blue/green deployment started"}
	}
	writeJSONStatus(w, http.StatusOK, map[string]any{"DomainConfig": cfg})
}

func (st *osState) progress(w http.ResponseWriter, r *http.Request, body []byte) {
	st.mu.Lock()
	defer st.mu.Unlock()
	d, ok := st.domain(w, pathSegment(r, 3))
	if !ok {
		return
	}
	id := r.URL.Query().Get("changeid")
	if id == "" && len(d.changes) > 0 {
		id = d.changes[len(d.changes)-1]
	}
	status := "COMPLETED"
	stage := len(osStages)
	if d.change != nil && d.change.id == id {
		d.change.stage++
		stage, status = d.change.stage, "PROCESSING"
		if stage >= len(osStages) {
			d.DataNodes, d.change, status, stage = d.change.count, nil, "COMPLETED", len(osStages)
		}
	}
	var stages []map[string]any
	for i, name := range osStages {
		s := "COMPLETED"
		switch {
		case i == stage:
			s = "IN_PROGRESS"
		case i > stage:
			s = "PENDING"
		}
		stages = append(stages, map[string]any{"Name": name, "Status": s})
	}
	writeJSONStatus(w, http.StatusOK, map[string]any{"ChangeProgressStatus": map[string]any{"ChangeId": id, "Status": status,
		"TotalNumberOfStages": len(osStages), "ChangeProgressStages": stages}})
}

// dataPlaneDomain names the domain a request to a domain endpoint is for.
func (st *osState) dataPlaneDomain(w http.ResponseWriter, r *http.Request) (*osDomain, bool) {
	host, _, _ := strings.Cut(r.Host, ":")
	name := strings.TrimSuffix(strings.TrimPrefix(host, "search-"), "-emu.us-east-1.es.amazonaws.com")
	d, ok := st.domains[name]
	if !ok || !strings.HasPrefix(host, "search-") {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, `{"error":"no domain at %s","status":404}`, r.Host)
	}
	return d, ok
}

func (st *osState) getRepository(w http.ResponseWriter, r *http.Request, body []byte) {
	st.mu.Lock()
	defer st.mu.Unlock()
	d, ok := st.dataPlaneDomain(w, r)
	if !ok {
		return
	}
	repo := pathSegment(r, 1)
	for _, rp := range d.Repositories {
		if rp == repo {
			writeJSONStatus(w, http.StatusOK, map[string]any{repo: map[string]any{"type": "s3", "settings": map[string]any{"bucket": d.Name + "-snapshots"}}})
			return
		}
	}
	writeJSONStatus(w, http.StatusNotFound, map[string]any{"error": map[string]any{"type": "repository_missing_exception",
		"reason": "[" + repo + "] missing"}, "status": 404})
}

func (st *osState) createSnapshot(w http.ResponseWriter, r *http.Request, body []byte) {
	st.mu.Lock()
	defer st.mu.Unlock()
	d, ok := st.dataPlaneDomain(w, r)
	if !ok {
		return
	}
	repo, snap := pathSegment(r, 1), pathSegment(r, 2)
	found := false
	for _, rp := range d.Repositories {
		found = found || rp == repo
	}
	if !found {
		writeJSONStatus(w, http.StatusNotFound, map[string]any{"error": map[string]any{"type": "repository_missing_exception", "reason": "[" + repo + "] missing"}, "status": 404})
		return
	}
	d.snapshots[repo] = append(d.snapshots[repo], snap)
	writeJSONStatus(w, http.StatusOK, map[string]any{"accepted": true})
}
