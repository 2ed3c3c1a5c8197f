package emulator

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	ectypes "github.com/aws/aws-sdk-go-v2/service/elasticache/types"
)

// ElastiCache (Redis OSS, cluster mode disabled), in the awsQuery wire
// format. kumo keeps replication groups but has no TestFailover,
// RebootCacheCluster, CreateSnapshot or tags, so the front keeps
// replication groups and their member clusters entirely. A group has one
// shard, 0001: a primary and replicas, one cache node (0001) each. A
// rebooted node reports "rebooting" for a number of DescribeCacheClusters
// reads (SetCacheRebootReads), a test failover swaps the primary with the
// first replica at once and leaves the group "modifying" for one read.

const (
	ecXMLNS = "http://elasticache.amazonaws.com/doc/2015-02-02/"
	ecARN   = "arn:aws:elasticache:us-east-1:000000000000:"
)

// RedisGroup is a seedable replication group: Nodes cache clusters named
// <id>-001, <id>-002…, the first the primary.
type RedisGroup struct {
	ID       string
	Nodes    int // default 2
	Failover bool
	NodeType string // default cache.t3.medium
	Tags     map[string]string
	AZs      []string // per node; default us-east-1a, -b, -c…
}

type ecNode struct {
	id, az, status string
	rebootReads    int
	reboots        int
}

type ecGroup struct {
	id, nodeType, status string
	failover             bool
	nodes                []*ecNode // nodes[primary] is the primary
	primary              int
	tags                 map[string]string
	modifyingReads       int
}

type ecSnapshot struct{ name, group string }

type ecState struct {
	mu         sync.Mutex
	groups     []*ecGroup
	snapshots  []ecSnapshot
	rebootSlow map[string]int // node id -> reads a reboot takes
}

func (s *Server) registerElastiCache() {
	st := &ecState{rebootSlow: map[string]int{}}
	s.ec = st
	s.Handle("elasticache:CreateReplicationGroup", st.createGroup)
	s.Handle("elasticache:DescribeReplicationGroups", st.describeGroups)
	s.Handle("elasticache:DescribeCacheClusters", st.describeClusters)
	s.Handle("elasticache:ListTagsForResource", st.listTags)
	s.Handle("elasticache:TestFailover", st.testFailover)
	s.Handle("elasticache:RebootCacheCluster", st.reboot)
	s.Handle("elasticache:CreateSnapshot", st.createSnapshot)
}

// SeedRedisGroup creates a replication group over the wire.
func (s *Server) SeedRedisGroup(ctx context.Context, g RedisGroup) error {
	c := elasticache.NewFromConfig(s.seedConfig())
	if g.Nodes == 0 {
		g.Nodes = 2
	}
	in := &elasticache.CreateReplicationGroupInput{ReplicationGroupId: aws.String(g.ID), ReplicationGroupDescription: aws.String("seeded"),
		Engine: aws.String("redis"), NumCacheClusters: aws.Int32(int32(g.Nodes)), AutomaticFailoverEnabled: aws.Bool(g.Failover),
		CacheNodeType: aws.String(cmp.Or(g.NodeType, "cache.t3.medium")), PreferredCacheClusterAZs: g.AZs}
	for _, k := range sortedKeys(g.Tags) {
		in.Tags = append(in.Tags, ectypes.Tag{Key: aws.String(k), Value: aws.String(g.Tags[k])})
	}
	if _, err := c.CreateReplicationGroup(ctx, in); err != nil {
		return fmt.Errorf("seed replication group %s: %w", g.ID, err)
	}
	return nil
}

// SetCacheRebootReads makes a node report "rebooting" for reads
// DescribeCacheClusters reads after each reboot.
func (s *Server) SetCacheRebootReads(node string, reads int) {
	s.ec.mu.Lock()
	defer s.ec.mu.Unlock()
	s.ec.rebootSlow[node] = reads
}

// RedisPrimary reports a group's primary node ("" if unknown).
func (s *Server) RedisPrimary(group string) string {
	s.ec.mu.Lock()
	defer s.ec.mu.Unlock()
	if g := s.ec.group(group); g != nil {
		return g.nodes[g.primary].id
	}
	return ""
}

// RedisReboots reports how often a node was rebooted.
func (s *Server) RedisReboots(node string) int {
	s.ec.mu.Lock()
	defer s.ec.mu.Unlock()
	for _, g := range s.ec.groups {
		for _, n := range g.nodes {
			if n.id == node {
				return n.reboots
			}
		}
	}
	return -1
}

// RedisSnapshots lists the snapshot names taken of a group.
func (s *Server) RedisSnapshots(group string) []string {
	s.ec.mu.Lock()
	defer s.ec.mu.Unlock()
	var out []string
	for _, sn := range s.ec.snapshots {
		if sn.group == group {
			out = append(out, sn.name)
		}
	}
	return out
}

func (st *ecState) group(id string) *ecGroup {
	for _, g := range st.groups {
		if g.id == id {
			return g
		}
	}
	return nil
}

// ecList reads an awsQuery list whose members are named member or name
// (ElastiCache's lists carry their own member names: Tags.Tag.1).
func ecList(q url.Values, prefix, name string) []string {
	if l := queryList(q, prefix+".member"); len(l) > 0 {
		return l
	}
	return queryList(q, prefix+"."+name)
}

func ecTags(q url.Values) map[string]string {
	tags := map[string]string{}
	for _, item := range []string{"member", "Tag"} {
		for i := 1; q.Has("Tags." + item + "." + strconv.Itoa(i) + ".Key"); i++ {
			p := "Tags." + item + "." + strconv.Itoa(i)
			tags[q.Get(p+".Key")] = q.Get(p + ".Value")
		}
	}
	return tags
}

func (st *ecState) createGroup(w http.ResponseWriter, _ *http.Request, body []byte) {
	q, ok := queryForm(w, body)
	if !ok {
		return
	}
	id := q.Get("ReplicationGroupId")
	n, err := strconv.Atoi(cmp.Or(q.Get("NumCacheClusters"), "2"))
	if id == "" || err != nil || n < 1 || n > 6 {
		WriteQueryError(w, http.StatusBadRequest, "InvalidParameterValue", "ReplicationGroupId and NumCacheClusters (1..6) are required")
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.group(id) != nil {
		WriteQueryError(w, http.StatusBadRequest, "ReplicationGroupAlreadyExists", "Replication group "+id+" already exists.")
		return
	}
	azs := ecList(q, "PreferredCacheClusterAZs", "AvailabilityZone")
	g := &ecGroup{id: id, nodeType: q.Get("CacheNodeType"), status: "available", failover: q.Get("AutomaticFailoverEnabled") == "true", tags: ecTags(q)}
	for i := range n {
		az := fmt.Sprintf("us-east-1%c", 'a'+i%3)
		if i < len(azs) {
			az = azs[i]
		}
		g.nodes = append(g.nodes, &ecNode{id: fmt.Sprintf("%s-%03d", id, i+1), az: az, status: "available"})
	}
	st.groups = append(st.groups, g)
	writeQueryResponse(w, ecXMLNS, "CreateReplicationGroup", struct {
		Group ecXMLGroup `xml:"ReplicationGroup"`
	}{st.groupXML(g)})
}

type ecXMLMember struct {
	CacheClusterID string `xml:"CacheClusterId"`
	CacheNodeID    string `xml:"CacheNodeId"`
	Role           string `xml:"CurrentRole"`
	AZ             string `xml:"PreferredAvailabilityZone"`
}

type ecXMLNodeGroup struct {
	ID      string        `xml:"NodeGroupId"`
	Status  string        `xml:"Status"`
	Members []ecXMLMember `xml:"NodeGroupMembers>NodeGroupMember"`
}

type ecXMLGroup struct {
	ID             string           `xml:"ReplicationGroupId"`
	Description    string           `xml:"Description"`
	Status         string           `xml:"Status"`
	MemberClusters []string         `xml:"MemberClusters>ClusterId"`
	NodeGroups     []ecXMLNodeGroup `xml:"NodeGroups>NodeGroup"`
	Failover       string           `xml:"AutomaticFailover"`
	MultiAZ        string           `xml:"MultiAZ"`
	ClusterEnabled bool             `xml:"ClusterEnabled"`
	NodeType       string           `xml:"CacheNodeType"`
	ARN            string           `xml:"ARN"`
	Engine         string           `xml:"Engine"`
}

func (st *ecState) groupXML(g *ecGroup) ecXMLGroup {
	x := ecXMLGroup{ID: g.id, Description: "emulated", Status: g.status, Failover: "disabled", MultiAZ: "disabled", NodeType: g.nodeType,
		ARN: ecARN + "replicationgroup:" + g.id, Engine: "redis"}
	if g.failover {
		x.Failover, x.MultiAZ = "enabled", "enabled"
	}
	ng := ecXMLNodeGroup{ID: "0001", Status: g.status}
	for i, n := range g.nodes {
		x.MemberClusters = append(x.MemberClusters, n.id)
		role := "replica"
		if i == g.primary {
			role = "primary"
		}
		ng.Members = append(ng.Members, ecXMLMember{CacheClusterID: n.id, CacheNodeID: "0001", Role: role, AZ: n.az})
	}
	x.NodeGroups = []ecXMLNodeGroup{ng}
	return x
}

func (st *ecState) describeGroups(w http.ResponseWriter, _ *http.Request, body []byte) {
	q, ok := queryForm(w, body)
	if !ok {
		return
	}
	limit, ok := parsePageSize(q.Get("MaxRecords"), 100, 20, 100)
	start, ok2 := parsePageToken(q.Get("Marker"), "ectok-")
	if !ok || !ok2 {
		WriteQueryError(w, http.StatusBadRequest, "InvalidParameterValue", "MaxRecords must be 20..100 and Marker one this service gave")
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	var matched []*ecGroup
	for _, g := range st.groups {
		if id := q.Get("ReplicationGroupId"); id == "" || id == g.id {
			matched = append(matched, g)
		}
	}
	if id := q.Get("ReplicationGroupId"); id != "" && len(matched) == 0 {
		WriteQueryError(w, http.StatusNotFound, "ReplicationGroupNotFoundFault", "Replication group "+id+" not found.")
		return
	}
	groups, next := page(matched, start, limit, "ectok-")
	out := struct {
		Groups []ecXMLGroup `xml:"ReplicationGroups>ReplicationGroup"`
		Marker string       `xml:"Marker,omitempty"`
	}{Groups: []ecXMLGroup{}, Marker: next}
	for _, g := range groups {
		out.Groups = append(out.Groups, st.groupXML(g))
		if g.modifyingReads > 0 {
			if g.modifyingReads--; g.modifyingReads == 0 {
				g.status = "available"
			}
		}
	}
	writeQueryResponse(w, ecXMLNS, "DescribeReplicationGroups", out)
}

type ecXMLCacheNode struct {
	ID     string `xml:"CacheNodeId"`
	Status string `xml:"CacheNodeStatus"`
}

type ecXMLCluster struct {
	ID       string           `xml:"CacheClusterId"`
	Status   string           `xml:"CacheClusterStatus"`
	NodeType string           `xml:"CacheNodeType"`
	Engine   string           `xml:"Engine"`
	NumNodes int              `xml:"NumCacheNodes"`
	Group    string           `xml:"ReplicationGroupId"`
	AZ       string           `xml:"PreferredAvailabilityZone"`
	ARN      string           `xml:"ARN"`
	Nodes    []ecXMLCacheNode `xml:"CacheNodes>CacheNode"`
}

func clusterXML(g *ecGroup, n *ecNode) ecXMLCluster {
	status := "available"
	if n.status != "available" {
		status = "rebooting cache cluster nodes"
	}
	return ecXMLCluster{ID: n.id, Status: status, NodeType: g.nodeType, Engine: "redis", NumNodes: 1, Group: g.id, AZ: n.az,
		ARN: ecARN + "cluster:" + n.id, Nodes: []ecXMLCacheNode{{ID: "0001", Status: n.status}}}
}

func (st *ecState) describeClusters(w http.ResponseWriter, _ *http.Request, body []byte) {
	q, ok := queryForm(w, body)
	if !ok {
		return
	}
	id := q.Get("CacheClusterId")
	st.mu.Lock()
	defer st.mu.Unlock()
	out := struct {
		Clusters []ecXMLCluster `xml:"CacheClusters>CacheCluster"`
	}{Clusters: []ecXMLCluster{}}
	for _, g := range st.groups {
		for _, n := range g.nodes {
			if id != "" && n.id != id {
				continue
			}
			if n.status == "rebooting" {
				if n.rebootReads > 0 {
					n.rebootReads--
				} else {
					n.status = "available"
				}
			}
			out.Clusters = append(out.Clusters, clusterXML(g, n))
		}
	}
	if id != "" && len(out.Clusters) == 0 {
		WriteQueryError(w, http.StatusNotFound, "CacheClusterNotFound", "CacheCluster "+id+" not found.")
		return
	}
	writeQueryResponse(w, ecXMLNS, "DescribeCacheClusters", out)
}

func (st *ecState) listTags(w http.ResponseWriter, _ *http.Request, body []byte) {
	q, ok := queryForm(w, body)
	if !ok {
		return
	}
	arn := q.Get("ResourceName")
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, g := range st.groups {
		if ecARN+"replicationgroup:"+g.id != arn {
			continue
		}
		type tag struct {
			Key   string `xml:"Key"`
			Value string `xml:"Value"`
		}
		out := struct {
			Tags []tag `xml:"TagList>Tag"`
		}{Tags: []tag{}}
		for _, k := range sortedKeys(g.tags) {
			out.Tags = append(out.Tags, tag{k, g.tags[k]})
		}
		writeQueryResponse(w, ecXMLNS, "ListTagsForResource", out)
		return
	}
	WriteQueryError(w, http.StatusNotFound, "ReplicationGroupNotFoundFault", "No replication group for ARN "+arn)
}

// groupFor finds the request's group, answering the fault if it is missing.
func (st *ecState) groupFor(w http.ResponseWriter, id string) *ecGroup {
	g := st.group(id)
	if g == nil {
		WriteQueryError(w, http.StatusNotFound, "ReplicationGroupNotFoundFault", "Replication group "+id+" not found.")
	}
	return g
}

func (st *ecState) testFailover(w http.ResponseWriter, _ *http.Request, body []byte) {
	q, ok := queryForm(w, body)
	if !ok {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	g := st.groupFor(w, q.Get("ReplicationGroupId"))
	switch {
	case g == nil:
		return
	case q.Get("NodeGroupId") != "0001":
		WriteQueryError(w, http.StatusBadRequest, "NodeGroupNotFoundFault", "Node group "+q.Get("NodeGroupId")+" not found.")
		return
	case g.status != "available":
		WriteQueryError(w, http.StatusBadRequest, "InvalidReplicationGroupState", "Replication group "+g.id+" is not in available state.")
		return
	case !g.failover || len(g.nodes) < 2:
		WriteQueryError(w, http.StatusBadRequest, "TestFailoverNotAvailableFault", "Test failover is not available for replication group "+g.id+": automatic failover must be enabled with a replica.")
		return
	}
	g.primary = (g.primary + 1) % len(g.nodes)
	g.status, g.modifyingReads = "modifying", 1
	writeQueryResponse(w, ecXMLNS, "TestFailover", struct {
		Group ecXMLGroup `xml:"ReplicationGroup"`
	}{st.groupXML(g)})
}

func (st *ecState) reboot(w http.ResponseWriter, _ *http.Request, body []byte) {
	q, ok := queryForm(w, body)
	if !ok {
		return
	}
	id := q.Get("CacheClusterId")
	nodes := ecList(q, "CacheNodeIdsToReboot", "CacheNodeId")
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, g := range st.groups {
		for _, n := range g.nodes {
			if n.id != id {
				continue
			}
			if len(nodes) == 0 || slices.ContainsFunc(nodes, func(x string) bool { return x != "0001" }) {
				WriteQueryError(w, http.StatusBadRequest, "InvalidParameterValue", "CacheNodeIdsToReboot must name the cluster's nodes (0001)")
				return
			}
			if n.status != "available" {
				WriteQueryError(w, http.StatusBadRequest, "InvalidCacheClusterState", "Cache cluster "+id+" is not in available state.")
				return
			}
			n.status, n.rebootReads = "rebooting", st.rebootSlow[n.id]
			n.reboots++
			writeQueryResponse(w, ecXMLNS, "RebootCacheCluster", struct {
				Cluster ecXMLCluster `xml:"CacheCluster"`
			}{clusterXML(g, n)})
			return
		}
	}
	WriteQueryError(w, http.StatusNotFound, "CacheClusterNotFound", "CacheCluster "+id+" not found.")
}

func (st *ecState) createSnapshot(w http.ResponseWriter, _ *http.Request, body []byte) {
	q, ok := queryForm(w, body)
	if !ok {
		return
	}
	name := q.Get("SnapshotName")
	st.mu.Lock()
	defer st.mu.Unlock()
	g := st.groupFor(w, q.Get("ReplicationGroupId"))
	if g == nil {
		return
	}
	if slices.ContainsFunc(st.snapshots, func(s ecSnapshot) bool { return s.name == name }) {
		WriteQueryError(w, http.StatusBadRequest, "SnapshotAlreadyExistsFault", "Snapshot "+name+" already exists.")
		return
	}
	st.snapshots = append(st.snapshots, ecSnapshot{name, g.id})
	writeQueryResponse(w, ecXMLNS, "CreateSnapshot", struct {
		Snapshot ecXMLSnapshot `xml:"Snapshot"`
	}{ecXMLSnapshot{Name: name, Group: g.id, Status: "creating", Source: "manual"}})
}

type ecXMLSnapshot struct {
	Name   string `xml:"SnapshotName"`
	Group  string `xml:"ReplicationGroupId"`
	Status string `xml:"SnapshotStatus"`
	Source string `xml:"SnapshotSource"`
}
