package emulator

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
)

// Aurora clusters and restores, beside the instances of rds.go and in the
// same state: kumo's CreateDBCluster/DescribeDBClusters know nothing of
// members, fail-overs, cluster snapshots or restores, and its instances are
// not the front's. A cluster's members are ordinary DB instances created
// with DBClusterIdentifier; the first becomes the writer.

// DBCluster is a seedable Aurora cluster with a writer and Readers readers
// named <id>-1 (writer), <id>-2, ...
type DBCluster struct {
	ID            string
	Engine        string // default aurora-postgresql
	EngineVersion string // default 16.4
	Class         string // members' class, default db.r6g.large
	Readers       int
	Tags          map[string]string
}

type rdsCluster struct {
	id, engine, version, status, arn string
	tags                             map[string]string
	members                          []string // instance ids, creation order
	writer                           string
	failovers                        int
	created                          time.Time
}

type rdsClusterSnapshot struct {
	id, cluster, engine, version string
	created                      time.Time
}

func (st *rdsState) registerClusters(s *Server) {
	s.Handle("rds:CreateDBCluster", st.createCluster)
	s.Handle("rds:DescribeDBClusters", st.describeClusters)
	s.Handle("rds:FailoverDBCluster", st.failoverCluster)
	s.Handle("rds:DeleteDBInstance", st.deleteInstance)
	s.Handle("rds:CreateDBClusterSnapshot", st.createClusterSnapshot)
	s.Handle("rds:DescribeDBClusterSnapshots", st.describeClusterSnapshots)
	s.Handle("rds:RestoreDBClusterFromSnapshot", st.restoreCluster)
	s.Handle("rds:RestoreDBInstanceFromDBSnapshot", st.restoreInstance)
}

// SeedDBCluster creates the cluster and its members over the wire.
func (s *Server) SeedDBCluster(ctx context.Context, in DBCluster) error {
	c := rds.NewFromConfig(s.seedConfig())
	in.Engine = cmp.Or(in.Engine, "aurora-postgresql")
	var tags []rdstypes.Tag
	for _, k := range sortedKeys(in.Tags) {
		tags = append(tags, rdstypes.Tag{Key: aws.String(k), Value: aws.String(in.Tags[k])})
	}
	if _, err := c.CreateDBCluster(ctx, &rds.CreateDBClusterInput{
		DBClusterIdentifier: aws.String(in.ID), Engine: aws.String(in.Engine),
		EngineVersion: aws.String(cmp.Or(in.EngineVersion, "16.4")), Tags: tags,
	}); err != nil {
		return fmt.Errorf("seed db cluster %s: %w", in.ID, err)
	}
	for i := range in.Readers + 1 {
		if _, err := c.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{
			DBInstanceIdentifier: aws.String(fmt.Sprintf("%s-%d", in.ID, i+1)), DBClusterIdentifier: aws.String(in.ID),
			DBInstanceClass: aws.String(cmp.Or(in.Class, "db.r6g.large")), Engine: aws.String(in.Engine), Tags: tags,
		}); err != nil {
			return fmt.Errorf("seed db cluster %s member: %w", in.ID, err)
		}
	}
	return nil
}

// SeedDBClusterSnapshot creates a manual snapshot of an existing cluster.
func (s *Server) SeedDBClusterSnapshot(ctx context.Context, clusterID, snapshotID string) error {
	c := rds.NewFromConfig(s.seedConfig())
	if _, err := c.CreateDBClusterSnapshot(ctx, &rds.CreateDBClusterSnapshotInput{
		DBClusterIdentifier: aws.String(clusterID), DBClusterSnapshotIdentifier: aws.String(snapshotID),
	}); err != nil {
		return fmt.Errorf("seed db cluster snapshot %s: %w", snapshotID, err)
	}
	return nil
}

// ClusterWriter reports a cluster's writer and how often it failed over.
func (s *Server) ClusterWriter(id string) (writer string, failovers int) {
	st := s.rds
	st.mu.Lock()
	defer st.mu.Unlock()
	if c, ok := st.clusters[id]; ok {
		return c.writer, c.failovers
	}
	return "", 0
}

// DBInstanceExists reports whether an instance of that id exists.
func (s *Server) DBInstanceExists(id string) bool {
	s.rds.mu.Lock()
	defer s.rds.mu.Unlock()
	_, ok := s.rds.instances[id]
	return ok
}

func queryTags(q url.Values) map[string]string {
	tags := map[string]string{}
	for i := 1; q.Has(fmt.Sprintf("Tags.Tag.%d.Key", i)); i++ {
		tags[q.Get(fmt.Sprintf("Tags.Tag.%d.Key", i))] = q.Get(fmt.Sprintf("Tags.Tag.%d.Value", i))
	}
	return tags
}

func (st *rdsState) createCluster(w http.ResponseWriter, r *http.Request, body []byte) {
	q, ok := queryForm(w, body)
	if !ok {
		return
	}
	id := q.Get("DBClusterIdentifier")
	if id == "" || q.Get("Engine") == "" {
		WriteQueryError(w, http.StatusBadRequest, "InvalidParameterValue", "DBClusterIdentifier and Engine are required")
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if _, ok := st.clusters[id]; ok {
		WriteQueryError(w, http.StatusBadRequest, "DBClusterAlreadyExistsFault", "DB cluster already exists")
		return
	}
	c := &rdsCluster{id: id, engine: q.Get("Engine"), version: q.Get("EngineVersion"), status: "available",
		arn: "arn:aws:rds:us-east-1:000000000000:cluster:" + id, tags: queryTags(q), created: st.now().UTC()}
	st.clusters[id] = c
	out := st.clusterXML(c)
	out.Status = "creating"
	writeRDS(w, "CreateDBCluster", rdsClusterResult{out})
}

// cluster finds a cluster or answers DBClusterNotFoundFault. Caller holds
// st.mu.
func (st *rdsState) cluster(w http.ResponseWriter, id string) (*rdsCluster, bool) {
	c, ok := st.clusters[id]
	if !ok {
		WriteQueryError(w, http.StatusNotFound, "DBClusterNotFoundFault", "DBCluster "+id+" not found.")
	}
	return c, ok
}

func (st *rdsState) describeClusters(w http.ResponseWriter, r *http.Request, body []byte) {
	q, ok := queryForm(w, body)
	if !ok {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	ids := sortedKeys(st.clusters)
	if id := q.Get("DBClusterIdentifier"); id != "" {
		if _, ok := st.cluster(w, id); !ok {
			return
		}
		ids = []string{id}
	}
	for i := 1; q.Has(fmt.Sprintf("Filters.Filter.%d.Name", i)); i++ {
		if name := q.Get(fmt.Sprintf("Filters.Filter.%d.Name", i)); name != "db-cluster-id" {
			WriteQueryError(w, http.StatusBadRequest, "InvalidParameterValue", "Unrecognized filter name: "+name)
			return
		}
		want := queryList(q, fmt.Sprintf("Filters.Filter.%d.Values.Value", i))
		ids = slices.DeleteFunc(ids, func(id string) bool {
			return !slices.Contains(want, id) && !slices.Contains(want, st.clusters[id].arn)
		})
	}
	out, marker, ok := rdsPage(w, q, ids, func(id string) rdsXMLCluster { return st.clusterXML(st.clusters[id]) })
	if !ok {
		return
	}
	writeRDS(w, "DescribeDBClusters", struct {
		Marker     string          `xml:"Marker,omitempty"`
		DBClusters []rdsXMLCluster `xml:"DBClusters>DBCluster"`
	}{marker, out})
}

func (st *rdsState) failoverCluster(w http.ResponseWriter, r *http.Request, body []byte) {
	q, ok := queryForm(w, body)
	if !ok {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	c, ok := st.cluster(w, q.Get("DBClusterIdentifier"))
	if !ok {
		return
	}
	target := q.Get("TargetDBInstanceIdentifier")
	if target == "" { // AWS picks the first reader by promotion tier
		for _, m := range c.members {
			if m != c.writer {
				target = m
				break
			}
		}
	}
	if !slices.Contains(c.members, target) || target == c.writer {
		WriteQueryError(w, http.StatusBadRequest, "InvalidParameterValue", "The target instance "+target+" is not a reader of cluster "+c.id+".")
		return
	}
	if c.status != "available" {
		WriteQueryError(w, http.StatusBadRequest, "InvalidDBClusterStateFault", "DB cluster "+c.id+" is "+c.status+".")
		return
	}
	c.writer = target
	c.failovers++
	out := st.clusterXML(c)
	out.Status = "failing-over"
	writeRDS(w, "FailoverDBCluster", rdsClusterResult{out})
}

func (st *rdsState) deleteInstance(w http.ResponseWriter, r *http.Request, body []byte) {
	q, ok := queryForm(w, body)
	if !ok {
		return
	}
	id := q.Get("DBInstanceIdentifier")
	st.mu.Lock()
	defer st.mu.Unlock()
	in, ok := st.instance(w, id)
	if !ok {
		return
	}
	if in.deletionProtection {
		WriteQueryError(w, http.StatusBadRequest, "InvalidParameterCombination", "Cannot delete protected DB Instance, please disable deletion protection and try again.")
		return
	}
	if c := st.clusters[in.cluster]; c != nil {
		if c.writer == id && len(c.members) > 1 {
			WriteQueryError(w, http.StatusBadRequest, "InvalidDBClusterStateFault", "Cannot delete the writer "+id+" of cluster "+c.id+" while it has readers; fail over first.")
			return
		}
		c.members = slices.DeleteFunc(c.members, func(m string) bool { return m == id })
	} else if q.Get("SkipFinalSnapshot") != "true" && q.Get("FinalDBSnapshotIdentifier") == "" {
		WriteQueryError(w, http.StatusBadRequest, "InvalidParameterCombination", "FinalDBSnapshotIdentifier is required unless SkipFinalSnapshot is specified.")
		return
	}
	delete(st.instances, id)
	out := in.xml()
	out.DBInstanceStatus = "deleting"
	writeRDS(w, "DeleteDBInstance", rdsInstanceResult{out})
}

func (st *rdsState) createClusterSnapshot(w http.ResponseWriter, r *http.Request, body []byte) {
	q, ok := queryForm(w, body)
	if !ok {
		return
	}
	id := q.Get("DBClusterSnapshotIdentifier")
	st.mu.Lock()
	defer st.mu.Unlock()
	c, ok := st.cluster(w, q.Get("DBClusterIdentifier"))
	if !ok {
		return
	}
	if slices.ContainsFunc(st.clusterSnapshots, func(sn *rdsClusterSnapshot) bool { return sn.id == id }) {
		WriteQueryError(w, http.StatusBadRequest, "DBClusterSnapshotAlreadyExistsFault", "Cannot create the cluster snapshot because one with the identifier "+id+" already exists.")
		return
	}
	sn := &rdsClusterSnapshot{id: id, cluster: c.id, engine: c.engine, version: c.version, created: st.now().UTC()}
	st.clusterSnapshots = append(st.clusterSnapshots, sn)
	out := sn.xml()
	out.Status = "creating"
	writeRDS(w, "CreateDBClusterSnapshot", struct {
		DBClusterSnapshot rdsXMLClusterSnapshot `xml:"DBClusterSnapshot"`
	}{out})
}

func (st *rdsState) describeClusterSnapshots(w http.ResponseWriter, r *http.Request, body []byte) {
	q, ok := queryForm(w, body)
	if !ok {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	var all []*rdsClusterSnapshot
	for _, sn := range st.clusterSnapshots {
		if v := q.Get("DBClusterIdentifier"); v != "" && sn.cluster != v {
			continue
		}
		if v := q.Get("DBClusterSnapshotIdentifier"); v != "" && sn.id != v {
			continue
		}
		all = append(all, sn)
	}
	if v := q.Get("DBClusterSnapshotIdentifier"); v != "" && len(all) == 0 {
		WriteQueryError(w, http.StatusNotFound, "DBClusterSnapshotNotFoundFault", "DBClusterSnapshot "+v+" not found.")
		return
	}
	out, marker, ok := rdsPage(w, q, all, (*rdsClusterSnapshot).xml)
	if !ok {
		return
	}
	writeRDS(w, "DescribeDBClusterSnapshots", struct {
		Marker             string                  `xml:"Marker,omitempty"`
		DBClusterSnapshots []rdsXMLClusterSnapshot `xml:"DBClusterSnapshots>DBClusterSnapshot"`
	}{marker, out})
}

// restoreCluster creates a new, memberless cluster from a cluster snapshot,
// as AWS does: instances are added with CreateDBInstance afterwards.
func (st *rdsState) restoreCluster(w http.ResponseWriter, r *http.Request, body []byte) {
	q, ok := queryForm(w, body)
	if !ok {
		return
	}
	id, snap := q.Get("DBClusterIdentifier"), q.Get("SnapshotIdentifier")
	st.mu.Lock()
	defer st.mu.Unlock()
	i := slices.IndexFunc(st.clusterSnapshots, func(sn *rdsClusterSnapshot) bool { return sn.id == snap })
	if i < 0 {
		WriteQueryError(w, http.StatusNotFound, "DBClusterSnapshotNotFoundFault", "DBClusterSnapshot "+snap+" not found.")
		return
	}
	if _, ok := st.clusters[id]; ok {
		WriteQueryError(w, http.StatusBadRequest, "DBClusterAlreadyExistsFault", "DB cluster "+id+" already exists")
		return
	}
	sn := st.clusterSnapshots[i]
	c := &rdsCluster{id: id, engine: cmp.Or(q.Get("Engine"), sn.engine), version: cmp.Or(q.Get("EngineVersion"), sn.version), status: "available",
		arn: "arn:aws:rds:us-east-1:000000000000:cluster:" + id, tags: queryTags(q), created: st.now().UTC()}
	st.clusters[id] = c
	out := st.clusterXML(c)
	out.Status = "creating"
	writeRDS(w, "RestoreDBClusterFromSnapshot", rdsClusterResult{out})
}

func (st *rdsState) restoreInstance(w http.ResponseWriter, r *http.Request, body []byte) {
	q, ok := queryForm(w, body)
	if !ok {
		return
	}
	id, snap := q.Get("DBInstanceIdentifier"), q.Get("DBSnapshotIdentifier")
	st.mu.Lock()
	defer st.mu.Unlock()
	i := slices.IndexFunc(st.snapshots, func(sn *rdsSnapshot) bool { return sn.id == snap })
	if i < 0 {
		WriteQueryError(w, http.StatusNotFound, "DBSnapshotNotFound", "DBSnapshot "+snap+" not found.")
		return
	}
	if _, ok := st.instances[id]; ok {
		WriteQueryError(w, http.StatusBadRequest, "DBInstanceAlreadyExists", "DB instance already exists")
		return
	}
	sn := st.snapshots[i]
	src := st.instances[sn.instance] // may be gone: a snapshot outlives its instance
	in := &rdsInstance{DBInstance: DBInstance{ID: id, Class: cmp.Or(q.Get("DBInstanceClass"), "db.t3.micro"), Engine: sn.engine,
		Status: "available", Tags: queryTags(q), EngineVersion: "16.3", AllocatedStorage: 20, MultiAZ: q.Get("MultiAZ") == "true"},
		arn: "arn:aws:rds:us-east-1:000000000000:db:" + id, created: st.now().UTC()}
	if src != nil {
		in.Class = cmp.Or(q.Get("DBInstanceClass"), src.Class)
		in.EngineVersion, in.AllocatedStorage = src.EngineVersion, src.AllocatedStorage
	}
	st.instances[id] = in
	out := in.xml()
	out.DBInstanceStatus = "creating"
	writeRDS(w, "RestoreDBInstanceFromDBSnapshot", rdsInstanceResult{out})
}

type rdsClusterResult struct {
	DBCluster rdsXMLCluster `xml:"DBCluster"`
}

type rdsXMLClusterMember struct {
	DBInstanceIdentifier string `xml:"DBInstanceIdentifier"`
	IsClusterWriter      bool   `xml:"IsClusterWriter"`
	PromotionTier        int    `xml:"PromotionTier"`
}

type rdsXMLCluster struct {
	DBClusterIdentifier string                `xml:"DBClusterIdentifier"`
	DBClusterArn        string                `xml:"DBClusterArn"`
	Status              string                `xml:"Status"`
	Engine              string                `xml:"Engine"`
	EngineVersion       string                `xml:"EngineVersion,omitempty"`
	Endpoint            string                `xml:"Endpoint"`
	ReaderEndpoint      string                `xml:"ReaderEndpoint"`
	MultiAZ             bool                  `xml:"MultiAZ"`
	ClusterCreateTime   string                `xml:"ClusterCreateTime"`
	DBClusterMembers    []rdsXMLClusterMember `xml:"DBClusterMembers>DBClusterMember"`
	TagList             []rdsXMLTag           `xml:"TagList>Tag"`
}

// clusterXML renders a cluster. Caller holds st.mu.
func (st *rdsState) clusterXML(c *rdsCluster) rdsXMLCluster {
	out := rdsXMLCluster{
		DBClusterIdentifier: c.id, DBClusterArn: c.arn, Status: c.status, Engine: c.engine, EngineVersion: c.version,
		Endpoint:          c.id + ".cluster-emu.us-east-1.rds.amazonaws.com",
		ReaderEndpoint:    c.id + ".cluster-ro-emu.us-east-1.rds.amazonaws.com",
		MultiAZ:           len(c.members) > 1,
		ClusterCreateTime: c.created.Format(time.RFC3339),
	}
	for i, m := range c.members {
		out.DBClusterMembers = append(out.DBClusterMembers, rdsXMLClusterMember{DBInstanceIdentifier: m, IsClusterWriter: m == c.writer, PromotionTier: min(i, 15)})
	}
	for _, k := range sortedKeys(c.tags) {
		out.TagList = append(out.TagList, rdsXMLTag{k, c.tags[k]})
	}
	return out
}

type rdsXMLClusterSnapshot struct {
	DBClusterSnapshotIdentifier string `xml:"DBClusterSnapshotIdentifier"`
	DBClusterIdentifier         string `xml:"DBClusterIdentifier"`
	DBClusterSnapshotArn        string `xml:"DBClusterSnapshotArn"`
	Engine                      string `xml:"Engine"`
	EngineVersion               string `xml:"EngineVersion"`
	Status                      string `xml:"Status"`
	SnapshotType                string `xml:"SnapshotType"`
	SnapshotCreateTime          string `xml:"SnapshotCreateTime"`
}

func (sn *rdsClusterSnapshot) xml() rdsXMLClusterSnapshot {
	return rdsXMLClusterSnapshot{
		DBClusterSnapshotIdentifier: sn.id, DBClusterIdentifier: sn.cluster,
		DBClusterSnapshotArn: "arn:aws:rds:us-east-1:000000000000:cluster-snapshot:" + sn.id,
		Engine:               sn.engine, EngineVersion: sn.version, Status: "available", SnapshotType: "manual",
		SnapshotCreateTime: sn.created.Format(time.RFC3339Nano),
	}
}
