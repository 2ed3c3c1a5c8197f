package emulator

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
)

// RDS fill-ins. kumo's RDS has no RebootDBInstance and no
// DescribeDBSnapshots, does not paginate DescribeDBInstances and drops tags,
// so the emulator keeps the DB instance and snapshot model itself: every RDS
// operation day2bot uses is answered here, in the awsQuery wire format, from
// one consistent state. Seeding goes through CreateDBInstance on the wire,
// exactly as a real client would create the resource.

const rdsXMLNS = "http://rds.amazonaws.com/doc/2014-10-31/"

// DBInstance is a seedable RDS instance.
type DBInstance struct {
	ID     string
	Class  string // default db.t3.micro
	Engine string // default postgres
	Status string // "available" (default) or "stopped"
	// MultiAZ instances have a standby, the only ones a reboot can fail
	// over.
	MultiAZ bool
	// EngineVersion defaults to 16.3, AllocatedStorage (GiB) to 20.
	EngineVersion    string
	AllocatedStorage int32
	Tags             map[string]string
}

type rdsInstance struct {
	DBInstance
	cluster string // "" for a standalone instance
	// deletionProtection refuses DeleteDBInstance (rds_lifecycle.go).
	deletionProtection bool
	arn                string
	created            time.Time
	reboots            int
}

type rdsSnapshot struct {
	id, instance, engine, typ string
	created                   time.Time
}

type rdsState struct {
	mu        sync.Mutex
	now       func() time.Time
	instances map[string]*rdsInstance
	snapshots []*rdsSnapshot // creation order, which is the order AWS lists them
	// Aurora (rds_cluster.go).
	clusters         map[string]*rdsCluster
	clusterSnapshots []*rdsClusterSnapshot
}

func (s *Server) registerRDS() {
	st := &rdsState{now: time.Now, instances: map[string]*rdsInstance{}, clusters: map[string]*rdsCluster{}}
	s.rds = st
	st.registerClusters(s)
	s.Handle("rds:CreateDBInstance", st.createInstance)
	s.Handle("rds:DescribeDBInstances", st.describeInstances)
	s.Handle("rds:RebootDBInstance", st.transition("RebootDBInstance", "rebooting", "available", "available"))
	s.Handle("rds:StartDBInstance", st.transition("StartDBInstance", "starting", "available", "stopped"))
	s.Handle("rds:StopDBInstance", st.transition("StopDBInstance", "stopping", "stopped", "available"))
	s.Handle("rds:CreateDBSnapshot", st.createSnapshot)
	s.Handle("rds:DescribeDBSnapshots", st.describeSnapshots)
}

// SeedDBInstance creates a DB instance through the emulator's own
// CreateDBInstance (so the call is recorded like any other). A Status of
// "stopped" is reached with a StopDBInstance call.
func (s *Server) SeedDBInstance(ctx context.Context, in DBInstance) error {
	c := rds.NewFromConfig(s.seedConfig())
	if in.Class == "" {
		in.Class = "db.t3.micro"
	}
	if in.Engine == "" {
		in.Engine = "postgres"
	}
	var tags []rdstypes.Tag
	for _, k := range sortedKeys(in.Tags) {
		tags = append(tags, rdstypes.Tag{Key: aws.String(k), Value: aws.String(in.Tags[k])})
	}
	if _, err := c.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{
		DBInstanceIdentifier: aws.String(in.ID), DBInstanceClass: aws.String(in.Class),
		Engine: aws.String(in.Engine), Tags: tags, MultiAZ: aws.Bool(in.MultiAZ),
		EngineVersion: aws.String(cmp.Or(in.EngineVersion, "16.3")), AllocatedStorage: aws.Int32(cmp.Or(in.AllocatedStorage, 20)),
	}); err != nil {
		return fmt.Errorf("seed db instance %s: %w", in.ID, err)
	}
	if in.Status == "stopped" {
		if _, err := c.StopDBInstance(ctx, &rds.StopDBInstanceInput{DBInstanceIdentifier: aws.String(in.ID)}); err != nil {
			return fmt.Errorf("seed stop db instance %s: %w", in.ID, err)
		}
	}
	return nil
}

// SeedDBSnapshot creates a manual snapshot of an existing instance.
func (s *Server) SeedDBSnapshot(ctx context.Context, instanceID, snapshotID string) error {
	c := rds.NewFromConfig(s.seedConfig())
	if _, err := c.CreateDBSnapshot(ctx, &rds.CreateDBSnapshotInput{
		DBInstanceIdentifier: aws.String(instanceID), DBSnapshotIdentifier: aws.String(snapshotID),
	}); err != nil {
		return fmt.Errorf("seed db snapshot %s: %w", snapshotID, err)
	}
	return nil
}

func (st *rdsState) createInstance(w http.ResponseWriter, r *http.Request, body []byte) {
	q, ok := queryForm(w, body)
	if !ok {
		return
	}
	id := q.Get("DBInstanceIdentifier")
	if id == "" || q.Get("DBInstanceClass") == "" || q.Get("Engine") == "" {
		WriteQueryError(w, http.StatusBadRequest, "InvalidParameterValue", "DBInstanceIdentifier, DBInstanceClass and Engine are required")
		return
	}
	storage, _ := strconv.Atoi(q.Get("AllocatedStorage"))
	st.mu.Lock()
	defer st.mu.Unlock()
	if _, ok := st.instances[id]; ok {
		WriteQueryError(w, http.StatusBadRequest, "DBInstanceAlreadyExists", "DB instance already exists")
		return
	}
	in := &rdsInstance{
		DBInstance: DBInstance{ID: id, Class: q.Get("DBInstanceClass"), Engine: q.Get("Engine"), Status: "available", Tags: queryTags(q),
			MultiAZ: q.Get("MultiAZ") == "true", EngineVersion: q.Get("EngineVersion"), AllocatedStorage: int32(storage)},
		cluster:            q.Get("DBClusterIdentifier"),
		arn:                "arn:aws:rds:us-east-1:000000000000:db:" + id,
		created:            st.now().UTC(),
		deletionProtection: q.Get("DeletionProtection") == "true",
	}
	if in.cluster != "" { // an Aurora member: the first one is the writer
		c, ok := st.cluster(w, in.cluster)
		if !ok {
			return
		}
		in.EngineVersion = c.version
		if len(c.members) == 0 {
			c.writer = id
		}
		c.members = append(c.members, id)
	}
	st.instances[id] = in
	out := in.xml()
	out.DBInstanceStatus = "creating"
	writeRDS(w, "CreateDBInstance", rdsInstanceResult{out})
}

func (st *rdsState) describeInstances(w http.ResponseWriter, r *http.Request, body []byte) {
	q, ok := queryForm(w, body)
	if !ok {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	ids := sortedKeys(st.instances)
	if id := q.Get("DBInstanceIdentifier"); id != "" {
		if _, ok := st.instance(w, id); !ok {
			return
		}
		ids = []string{id}
	}
	for i := 1; q.Has(fmt.Sprintf("Filters.Filter.%d.Name", i)); i++ {
		name := q.Get(fmt.Sprintf("Filters.Filter.%d.Name", i))
		if name != "db-instance-id" {
			WriteQueryError(w, http.StatusBadRequest, "InvalidParameterValue", "Unrecognized filter name: "+name)
			return
		}
		want := map[string]bool{}
		for _, v := range queryList(q, fmt.Sprintf("Filters.Filter.%d.Values.Value", i)) {
			want[v] = true
		}
		var kept []string
		for _, id := range ids {
			if want[id] || want[st.instances[id].arn] {
				kept = append(kept, id)
			}
		}
		ids = kept
	}
	out, marker, ok := rdsPage(w, q, ids, func(id string) rdsXMLInstance { return st.instances[id].xml() })
	if !ok {
		return
	}
	writeRDS(w, "DescribeDBInstances", struct {
		Marker      string           `xml:"Marker,omitempty"`
		DBInstances []rdsXMLInstance `xml:"DBInstances>DBInstance"`
	}{marker, out})
}

// instance finds a DB instance or answers DBInstanceNotFound. Caller holds
// st.mu.
func (st *rdsState) instance(w http.ResponseWriter, id string) (*rdsInstance, bool) {
	in, ok := st.instances[id]
	if !ok {
		WriteQueryError(w, http.StatusNotFound, "DBInstanceNotFound", "DBInstance "+id+" not found.")
	}
	return in, ok
}

// transition answers Reboot/Start/Stop: the response shows the transient
// status AWS reports, the stored state is where the instance settles.
func (st *rdsState) transition(op, transient, settled, from string) Handler {
	return func(w http.ResponseWriter, r *http.Request, body []byte) {
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
		if in.Status != from {
			WriteQueryError(w, http.StatusBadRequest, "InvalidDBInstanceState", fmt.Sprintf("Instance %s is %s, not %s.", id, in.Status, from))
			return
		}
		if op == "RebootDBInstance" {
			if q.Get("ForceFailover") == "true" && !in.MultiAZ {
				WriteQueryError(w, http.StatusBadRequest, "InvalidParameterCombination", "Reboot with failover is only valid for Multi-AZ instances.")
				return
			}
			in.reboots++
		}
		in.Status = settled
		out := in.xml()
		out.DBInstanceStatus = transient
		writeRDS(w, op, rdsInstanceResult{out})
	}
}

func (st *rdsState) createSnapshot(w http.ResponseWriter, r *http.Request, body []byte) {
	q, ok := queryForm(w, body)
	if !ok {
		return
	}
	id, inst := q.Get("DBSnapshotIdentifier"), q.Get("DBInstanceIdentifier")
	st.mu.Lock()
	defer st.mu.Unlock()
	in, ok := st.instance(w, inst)
	if !ok {
		return
	}
	for _, sn := range st.snapshots {
		if sn.id == id {
			WriteQueryError(w, http.StatusBadRequest, "DBSnapshotAlreadyExists", "Cannot create the snapshot because a snapshot with the identifier "+id+" already exists.")
			return
		}
	}
	sn := &rdsSnapshot{id: id, instance: inst, engine: in.Engine, typ: "manual", created: st.now().UTC()}
	st.snapshots = append(st.snapshots, sn)
	out := sn.xml()
	out.Status = "creating"
	writeRDS(w, "CreateDBSnapshot", struct {
		DBSnapshot rdsXMLSnapshot `xml:"DBSnapshot"`
	}{out})
}

func (st *rdsState) describeSnapshots(w http.ResponseWriter, r *http.Request, body []byte) {
	q, ok := queryForm(w, body)
	if !ok {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	var all []*rdsSnapshot
	for _, sn := range st.snapshots {
		if v := q.Get("DBInstanceIdentifier"); v != "" && sn.instance != v {
			continue
		}
		if v := q.Get("DBSnapshotIdentifier"); v != "" && sn.id != v {
			continue
		}
		if v := q.Get("SnapshotType"); v != "" && sn.typ != v {
			continue
		}
		all = append(all, sn)
	}
	if v := q.Get("DBSnapshotIdentifier"); v != "" && len(all) == 0 {
		WriteQueryError(w, http.StatusNotFound, "DBSnapshotNotFound", "DBSnapshot "+v+" not found.")
		return
	}
	out, marker, ok := rdsPage(w, q, all, (*rdsSnapshot).xml)
	if !ok {
		return
	}
	writeRDS(w, "DescribeDBSnapshots", struct {
		Marker      string           `xml:"Marker,omitempty"`
		DBSnapshots []rdsXMLSnapshot `xml:"DBSnapshots>DBSnapshot"`
	}{marker, out})
}

// rdsPage applies MaxRecords (20..100, default 100, as AWS enforces) and an
// opaque Marker, which here is the offset of the next record, to all and
// renders the page's records with xmlOf.
func rdsPage[T, X any](w http.ResponseWriter, q url.Values, all []T, xmlOf func(T) X) ([]X, string, bool) {
	limit, ok := parsePageSize(q.Get("MaxRecords"), 100, 20, 100)
	if !ok {
		WriteQueryError(w, http.StatusBadRequest, "InvalidParameterValue", "MaxRecords must be between 20 and 100.")
		return nil, "", false
	}
	start, ok := parsePageToken(q.Get("Marker"), "")
	if !ok || start > len(all) {
		WriteQueryError(w, http.StatusBadRequest, "InvalidParameterValue", "Invalid Marker.")
		return nil, "", false
	}
	items, marker := page(all, start, limit, "")
	var out []X // nil when empty: the answer then has no list element, as before
	for _, it := range items {
		out = append(out, xmlOf(it))
	}
	return out, marker, true
}

// rdsInstanceResult is the answer of the calls that act on one instance.
type rdsInstanceResult struct {
	DBInstance rdsXMLInstance `xml:"DBInstance"`
}

type rdsXMLTag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

type rdsXMLInstance struct {
	DBInstanceIdentifier string      `xml:"DBInstanceIdentifier"`
	DBClusterIdentifier  string      `xml:"DBClusterIdentifier,omitempty"`
	DBInstanceClass      string      `xml:"DBInstanceClass"`
	Engine               string      `xml:"Engine"`
	DBInstanceStatus     string      `xml:"DBInstanceStatus"`
	EngineVersion        string      `xml:"EngineVersion,omitempty"`
	AllocatedStorage     int32       `xml:"AllocatedStorage"`
	MultiAZ              bool        `xml:"MultiAZ"`
	DBInstanceArn        string      `xml:"DBInstanceArn"`
	InstanceCreateTime   string      `xml:"InstanceCreateTime"`
	AvailabilityZone     string      `xml:"AvailabilityZone"`
	TagList              []rdsXMLTag `xml:"TagList>Tag"`
}

func (in *rdsInstance) xml() rdsXMLInstance {
	out := rdsXMLInstance{
		DBInstanceIdentifier: in.ID, DBClusterIdentifier: in.cluster, DBInstanceClass: in.Class, Engine: in.Engine,
		DBInstanceStatus: in.Status, DBInstanceArn: in.arn,
		EngineVersion: in.EngineVersion, AllocatedStorage: in.AllocatedStorage, MultiAZ: in.MultiAZ,
		InstanceCreateTime: in.created.Format(time.RFC3339), AvailabilityZone: "us-east-1a",
	}
	for _, k := range sortedKeys(in.Tags) {
		out.TagList = append(out.TagList, rdsXMLTag{k, in.Tags[k]})
	}
	return out
}

type rdsXMLSnapshot struct {
	DBSnapshotIdentifier string `xml:"DBSnapshotIdentifier"`
	DBInstanceIdentifier string `xml:"DBInstanceIdentifier"`
	DBSnapshotArn        string `xml:"DBSnapshotArn"`
	Engine               string `xml:"Engine"`
	Status               string `xml:"Status"`
	SnapshotType         string `xml:"SnapshotType"`
	SnapshotCreateTime   string `xml:"SnapshotCreateTime"`
}

func (sn *rdsSnapshot) xml() rdsXMLSnapshot {
	return rdsXMLSnapshot{
		DBSnapshotIdentifier: sn.id, DBInstanceIdentifier: sn.instance,
		DBSnapshotArn: "arn:aws:rds:us-east-1:000000000000:snapshot:" + sn.id,
		Engine:        sn.engine, Status: "available", SnapshotType: sn.typ,
		SnapshotCreateTime: sn.created.Format(time.RFC3339Nano),
	}
}

// writeRDS answers in the awsQuery envelope:
// <OpResponse xmlns><OpResult>result</OpResult><ResponseMetadata/></OpResponse>.
func writeRDS(w http.ResponseWriter, op string, result any) {
	writeQueryResponse(w, rdsXMLNS, op, result)
}
