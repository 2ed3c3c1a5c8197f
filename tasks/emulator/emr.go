package emulator

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Amazon EMR on EC2 clusters, in awsJson1_1 (X-Amz-Target
// ElasticMapReduce.*), which kumo lacks (it has EMR Serverless only):
// clusters with tags, instance groups and steps. A resize is RESIZING
// until the groups are next listed; a terminated cluster is TERMINATING
// until it is next described.

const emrARN = "arn:aws:elasticmapreduce:us-east-1:000000000000:cluster/"

// EMRCluster is a seedable cluster.
type EMRCluster struct {
	Name         string
	State        string // default WAITING
	Ready        time.Time
	Groups       []EMRGroup
	Steps        []EMRStep // oldest first
	Protected    bool      // termination protection
	Fleets       bool      // uses instance fleets instead of groups
	Tags         map[string]string
	ReleaseLabel string
}

// EMRGroup is an instance group.
type EMRGroup struct {
	Type         string // MASTER, CORE, TASK
	InstanceType string
	Count        int
}

// EMRStep is a step of a cluster.
type EMRStep struct {
	Name       string
	State      string // COMPLETED, RUNNING, PENDING, FAILED, CANCELLED
	Start, End time.Time
}

type emrGroup struct {
	EMRGroup
	id       string
	running  int
	resizing bool
}

type emrCluster struct {
	EMRCluster
	id     string
	groups []*emrGroup
}

type emrState struct {
	mu       sync.Mutex
	seq      int
	clusters []*emrCluster
}

func (s *Server) registerEMR() {
	st := &emrState{}
	s.emr = st
	for op, h := range map[string]Handler{
		"ListClusters": st.listClusters, "DescribeCluster": st.describeCluster, "ListInstanceGroups": st.listGroups,
		"ListSteps": st.listSteps, "ModifyInstanceGroups": st.modifyGroups, "TerminateJobFlows": st.terminate,
	} {
		s.Handle("elasticmapreduce:"+op, h)
	}
}

// SeedEMRCluster creates a cluster and returns its id (j-…).
func (s *Server) SeedEMRCluster(c EMRCluster) string {
	st := s.emr
	st.mu.Lock()
	defer st.mu.Unlock()
	if c.State == "" {
		c.State = "WAITING"
	}
	if c.ReleaseLabel == "" {
		c.ReleaseLabel = "emr-7.1.0"
	}
	st.seq++
	cl := &emrCluster{EMRCluster: c, id: fmt.Sprintf("j-%013X", st.seq)}
	for _, g := range c.Groups {
		st.seq++
		cl.groups = append(cl.groups, &emrGroup{EMRGroup: g, id: fmt.Sprintf("ig-%013X", st.seq), running: g.Count})
	}
	st.clusters = append(st.clusters, cl)
	return cl.id
}

// EMRClusterState reports a cluster's state and its groups' requested
// counts by type.
func (s *Server) EMRClusterState(id string) (state string, counts map[string]int) {
	st := s.emr
	st.mu.Lock()
	defer st.mu.Unlock()
	counts = map[string]int{}
	for _, c := range st.clusters {
		if c.id == id {
			for _, g := range c.groups {
				counts[g.Type] += g.Count
			}
			return c.State, counts
		}
	}
	return "", nil
}

func (st *emrState) cluster(w http.ResponseWriter, id string) (*emrCluster, bool) {
	for _, c := range st.clusters {
		if c.id == id {
			return c, true
		}
	}
	WriteJSONError(w, http.StatusBadRequest, "InvalidRequestException", "Cluster id '"+id+"' is not valid.")
	return nil, false
}

func (st *emrState) listClusters(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct {
		ClusterStates []string
		Marker        string
	}
	if !decodeJSON(w, body, &in) {
		return
	}
	start, ok := parsePageToken(in.Marker, "emr-")
	if !ok {
		WriteJSONError(w, http.StatusBadRequest, "InvalidRequestException", "bad Marker")
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	var all []map[string]any
	for _, c := range st.clusters {
		if len(in.ClusterStates) > 0 && !slices.Contains(in.ClusterStates, c.State) {
			continue
		}
		all = append(all, map[string]any{"Id": c.id, "Name": c.Name, "ClusterArn": emrARN + c.id, "Status": map[string]any{"State": c.State}})
	}
	got, next := page(all, start, 50, "emr-")
	out := map[string]any{"Clusters": append([]map[string]any{}, got...)}
	if next != "" {
		out["Marker"] = next
	}
	writeJSON(w, out)
}

func (st *emrState) describeCluster(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct{ ClusterId string }
	if !decodeJSON(w, body, &in) {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	c, ok := st.cluster(w, in.ClusterId)
	if !ok {
		return
	}
	state := c.State
	if c.State == "TERMINATING" {
		c.State = "TERMINATED"
	}
	tags := []map[string]string{}
	for _, k := range sortedKeys(c.Tags) {
		tags = append(tags, map[string]string{"Key": k, "Value": c.Tags[k]})
	}
	coll := "INSTANCE_GROUP"
	if c.Fleets {
		coll = "INSTANCE_FLEET"
	}
	writeJSON(w, map[string]any{"Cluster": map[string]any{"Id": c.id, "Name": c.Name, "ClusterArn": emrARN + c.id, "ReleaseLabel": c.ReleaseLabel,
		"InstanceCollectionType": coll, "TerminationProtected": c.Protected, "Tags": tags,
		"Status": map[string]any{"State": state, "Timeline": map[string]any{"CreationDateTime": epoch(c.Ready.Add(-10 * time.Minute)), "ReadyDateTime": epoch(c.Ready)}}}})
}

func (st *emrState) listGroups(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct{ ClusterId string }
	if !decodeJSON(w, body, &in) {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	c, ok := st.cluster(w, in.ClusterId)
	if !ok {
		return
	}
	list := []map[string]any{}
	for _, g := range c.groups {
		state := "RUNNING"
		if g.resizing {
			state = "RESIZING"
		} else {
			g.running = g.Count
		}
		g.resizing = false
		list = append(list, map[string]any{"Id": g.id, "Name": g.Type, "InstanceGroupType": g.Type, "InstanceType": g.InstanceType,
			"Market": "ON_DEMAND", "RequestedInstanceCount": g.Count, "RunningInstanceCount": g.running, "Status": map[string]any{"State": state}})
	}
	writeJSON(w, map[string]any{"InstanceGroups": list})
}

func (st *emrState) listSteps(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct{ ClusterId string }
	if !decodeJSON(w, body, &in) {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	c, ok := st.cluster(w, in.ClusterId)
	if !ok {
		return
	}
	list := []map[string]any{}
	for i := len(c.Steps) - 1; i >= 0; i-- { // newest first, as EMR lists them
		s := c.Steps[i]
		tl := map[string]any{"CreationDateTime": epoch(s.Start)}
		if !s.Start.IsZero() && s.State != "PENDING" {
			tl["StartDateTime"] = epoch(s.Start)
		}
		if !s.End.IsZero() {
			tl["EndDateTime"] = epoch(s.End)
		}
		list = append(list, map[string]any{"Id": fmt.Sprintf("s-%s-%d", c.id, i), "Name": s.Name, "Status": map[string]any{"State": s.State, "Timeline": tl}})
	}
	writeJSON(w, map[string]any{"Steps": list})
}

func (st *emrState) modifyGroups(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct {
		ClusterId      string
		InstanceGroups []struct {
			InstanceGroupId string
			InstanceCount   *int
		}
	}
	if !decodeJSON(w, body, &in) {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	c, ok := st.cluster(w, in.ClusterId)
	if !ok {
		return
	}
	for _, m := range in.InstanceGroups {
		i := slices.IndexFunc(c.groups, func(g *emrGroup) bool { return g.id == m.InstanceGroupId })
		switch {
		case i < 0:
			WriteJSONError(w, http.StatusBadRequest, "InvalidRequestException", "Instance group id '"+m.InstanceGroupId+"' is not valid.")
			return
		case m.InstanceCount == nil || *m.InstanceCount < 0:
			WriteJSONError(w, http.StatusBadRequest, "ValidationException", "InstanceCount is required")
			return
		case c.groups[i].Type == "MASTER":
			WriteJSONError(w, http.StatusBadRequest, "ValidationException", "A master instance group cannot be resized.")
			return
		case c.groups[i].Type == "CORE" && *m.InstanceCount < 1:
			WriteJSONError(w, http.StatusBadRequest, "ValidationException", "A core instance group needs at least one instance.")
			return
		}
	}
	for _, m := range in.InstanceGroups {
		for _, g := range c.groups {
			if g.id == m.InstanceGroupId {
				g.Count, g.resizing = *m.InstanceCount, true
			}
		}
	}
	writeJSON(w, map[string]any{})
}

func (st *emrState) terminate(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct{ JobFlowIds []string }
	if !decodeJSON(w, body, &in) {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, id := range in.JobFlowIds {
		c, ok := st.cluster(w, id)
		if !ok {
			return
		}
		if c.Protected {
			WriteJSONError(w, http.StatusBadRequest, "ValidationException", "Could not shut down one or more job flows since they are termination protected.")
			return
		}
	}
	for _, id := range in.JobFlowIds {
		for _, c := range st.clusters {
			if c.id == id {
				c.State = "TERMINATING"
			}
		}
	}
	writeJSON(w, map[string]any{})
}
