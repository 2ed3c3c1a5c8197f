package emulator

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// DynamoDB's control plane, in awsJson1_0. kumo's DynamoDB is about items:
// its UpdateTable ignores capacity, point-in-time recovery is always off,
// and it has no on-demand backups or restores. The front keeps the tables'
// control-plane model (capacity mode and throughput, tags, PITR with its
// restorable window, backups) and answers every call the dynamodb.*
// actions make from it; item operations still go to kumo.

const ddbARN = "arn:aws:dynamodb:us-east-1:000000000000:table/"

// DynamoTable is a seedable table.
type DynamoTable struct {
	Name         string
	OnDemand     bool  // PAY_PER_REQUEST; otherwise PROVISIONED
	Read, Write  int64 // provisioned capacity units (default 5)
	Items        int64
	PITR         bool
	PITRSince    time.Time // earliest restorable time when PITR is on (default: a day ago)
	Tags         map[string]string
	RestoredFrom string

	restoreAt, created time.Time
}

type ddbBackup struct {
	arn, name, table string
	created          time.Time
}

type ddbState struct {
	mu      sync.Mutex
	now     func() time.Time
	tables  map[string]*DynamoTable
	backups []*ddbBackup
}

func (s *Server) registerDynamoDB() {
	st := &ddbState{now: time.Now, tables: map[string]*DynamoTable{}}
	s.ddb = st
	for op, h := range map[string]Handler{
		"ListTables": st.listTables, "DescribeTable": st.describeTable, "ListTagsOfResource": st.listTags, "UpdateTable": st.updateTable,
		"DescribeContinuousBackups": st.describePITR, "UpdateContinuousBackups": st.updatePITR,
		"CreateBackup": st.createBackup, "ListBackups": st.listBackups, "RestoreTableToPointInTime": st.restorePITR, "TagResource": st.tagResource,
	} {
		s.Handle("dynamodb:"+op, h)
	}
}

// SeedDynamoTable creates a table (AWS's CreateTable needs a key schema
// the actions never read; the control-plane model is seeded directly).
func (s *Server) SeedDynamoTable(t DynamoTable) {
	st := s.ddb
	st.mu.Lock()
	defer st.mu.Unlock()
	if !t.OnDemand && t.Read == 0 {
		t.Read, t.Write = 5, 5
	}
	t.created = st.now().Add(-30 * 24 * time.Hour)
	if t.PITR && t.PITRSince.IsZero() {
		t.PITRSince = st.now().Add(-24 * time.Hour)
	}
	st.tables[t.Name] = &t
}

// DynamoTableState reports a table as the emulator holds it; ok is false
// when there is no such table.
func (s *Server) DynamoTableState(name string) (t DynamoTable, backups int, ok bool) {
	st := s.ddb
	st.mu.Lock()
	defer st.mu.Unlock()
	p, ok := st.tables[name]
	if !ok {
		return DynamoTable{}, 0, false
	}
	n := 0
	for _, b := range st.backups {
		if b.table == name {
			n++
		}
	}
	return *p, n, true
}

// DynamoRestoredAt is the point in time a restored table was restored to.
func (s *Server) DynamoRestoredAt(name string) time.Time {
	s.ddb.mu.Lock()
	defer s.ddb.mu.Unlock()
	if t, ok := s.ddb.tables[name]; ok {
		return t.restoreAt
	}
	return time.Time{}
}

func (st *ddbState) table(w http.ResponseWriter, name string) (*DynamoTable, bool) {
	name = strings.TrimPrefix(name, ddbARN)
	t, ok := st.tables[name]
	if !ok {
		WriteJSONError(w, http.StatusBadRequest, "ResourceNotFoundException", "Requested resource not found: Table: "+name+" not found")
	}
	return t, ok
}

func (st *ddbState) listTables(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct {
		ExclusiveStartTableName string
		Limit                   int
	}
	if !decodeJSON(w, body, &in) {
		return
	}
	if in.Limit < 0 || in.Limit > 100 {
		WriteJSONError(w, http.StatusBadRequest, "ValidationException", "Limit must be between 1 and 100")
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	names := sortedKeys(st.tables)
	start := 0
	if in.ExclusiveStartTableName != "" {
		start, _ = slices.BinarySearch(names, in.ExclusiveStartTableName)
		if start < len(names) && names[start] == in.ExclusiveStartTableName {
			start++
		}
	}
	end := min(start+or0(in.Limit, 100), len(names))
	out := map[string]any{"TableNames": append([]string{}, names[start:end]...)}
	if end < len(names) {
		out["LastEvaluatedTableName"] = names[end-1]
	}
	writeJSON(w, out)
}

func (st *ddbState) describe(t *DynamoTable) map[string]any {
	mode := "PROVISIONED"
	if t.OnDemand {
		mode = "PAY_PER_REQUEST"
	}
	return map[string]any{"TableName": t.Name, "TableArn": ddbARN + t.Name, "TableStatus": "ACTIVE", "ItemCount": t.Items,
		"TableSizeBytes": t.Items * 200, "CreationDateTime": epoch(t.created),
		"BillingModeSummary":    map[string]any{"BillingMode": mode},
		"ProvisionedThroughput": map[string]any{"ReadCapacityUnits": t.Read, "WriteCapacityUnits": t.Write, "NumberOfDecreasesToday": 0},
		"KeySchema":             []map[string]string{{"AttributeName": "pk", "KeyType": "HASH"}},
		"AttributeDefinitions":  []map[string]string{{"AttributeName": "pk", "AttributeType": "S"}}}
}

func (st *ddbState) describeTable(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct{ TableName string }
	if !decodeJSON(w, body, &in) {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if t, ok := st.table(w, in.TableName); ok {
		writeJSON(w, map[string]any{"Table": st.describe(t)})
	}
}

func (st *ddbState) listTags(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct{ ResourceArn string }
	if !decodeJSON(w, body, &in) {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	t, ok := st.table(w, in.ResourceArn)
	if !ok {
		return
	}
	tags := []map[string]string{}
	for _, k := range sortedKeys(t.Tags) {
		tags = append(tags, map[string]string{"Key": k, "Value": t.Tags[k]})
	}
	writeJSON(w, map[string]any{"Tags": tags})
}

func (st *ddbState) tagResource(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct {
		ResourceArn string
		Tags        []struct{ Key, Value string }
	}
	if !decodeJSON(w, body, &in) {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	t, ok := st.table(w, in.ResourceArn)
	if !ok {
		return
	}
	if t.Tags == nil {
		t.Tags = map[string]string{}
	}
	for _, tag := range in.Tags {
		t.Tags[tag.Key] = tag.Value
	}
	writeJSON(w, map[string]any{})
}

func (st *ddbState) updateTable(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct {
		TableName             string
		BillingMode           string
		ProvisionedThroughput *struct{ ReadCapacityUnits, WriteCapacityUnits int64 }
	}
	if !decodeJSON(w, body, &in) {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	t, ok := st.table(w, in.TableName)
	if !ok {
		return
	}
	if p := in.ProvisionedThroughput; p != nil {
		if t.OnDemand && in.BillingMode != "PROVISIONED" {
			WriteJSONError(w, http.StatusBadRequest, "ValidationException", "One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST")
			return
		}
		if p.ReadCapacityUnits < 1 || p.WriteCapacityUnits < 1 {
			WriteJSONError(w, http.StatusBadRequest, "ValidationException", "capacity units must be at least 1")
			return
		}
		if p.ReadCapacityUnits == t.Read && p.WriteCapacityUnits == t.Write {
			WriteJSONError(w, http.StatusBadRequest, "ValidationException", "The provisioned throughput for the table will not change.")
			return
		}
		t.Read, t.Write, t.OnDemand = p.ReadCapacityUnits, p.WriteCapacityUnits, false
	}
	d := st.describe(t)
	d["TableStatus"] = "UPDATING"
	writeJSON(w, map[string]any{"TableDescription": d})
}

func (st *ddbState) pitr(t *DynamoTable) map[string]any {
	p := map[string]any{"PointInTimeRecoveryStatus": "DISABLED"}
	if t.PITR {
		p = map[string]any{"PointInTimeRecoveryStatus": "ENABLED", "RecoveryPeriodInDays": 35,
			"EarliestRestorableDateTime": epoch(t.PITRSince), "LatestRestorableDateTime": epoch(st.now().Add(-5 * time.Minute))}
	}
	return map[string]any{"ContinuousBackupsDescription": map[string]any{"ContinuousBackupsStatus": "ENABLED", "PointInTimeRecoveryDescription": p}}
}

func (st *ddbState) describePITR(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct{ TableName string }
	if !decodeJSON(w, body, &in) {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if t, ok := st.table(w, in.TableName); ok {
		writeJSON(w, st.pitr(t))
	}
}

func (st *ddbState) updatePITR(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct {
		TableName                        string
		PointInTimeRecoverySpecification struct{ PointInTimeRecoveryEnabled bool }
	}
	if !decodeJSON(w, body, &in) {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	t, ok := st.table(w, in.TableName)
	if !ok {
		return
	}
	on := in.PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled
	if on && !t.PITR {
		t.PITRSince = st.now()
	}
	t.PITR = on
	writeJSON(w, st.pitr(t))
}

func (st *ddbState) createBackup(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct{ TableName, BackupName string }
	if !decodeJSON(w, body, &in) {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	t, ok := st.table(w, in.TableName)
	if !ok {
		return
	}
	now := st.now()
	b := &ddbBackup{arn: fmt.Sprintf("%s%s/backup/%013d-%d", ddbARN, t.Name, now.UnixMilli(), len(st.backups)), name: in.BackupName, table: t.Name, created: now}
	st.backups = append(st.backups, b)
	writeJSON(w, map[string]any{"BackupDetails": map[string]any{"BackupArn": b.arn, "BackupName": b.name, "BackupStatus": "CREATING",
		"BackupType": "USER", "BackupCreationDateTime": epoch(now), "BackupSizeBytes": t.Items * 200}})
}

func (st *ddbState) listBackups(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct {
		TableName               string
		ExclusiveStartBackupArn string
		Limit                   int
	}
	if !decodeJSON(w, body, &in) {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	var all []map[string]any
	for _, b := range st.backups {
		if in.TableName == "" || b.table == in.TableName {
			all = append(all, map[string]any{"BackupArn": b.arn, "BackupName": b.name, "TableName": b.table, "TableArn": ddbARN + b.table,
				"BackupStatus": "AVAILABLE", "BackupType": "USER", "BackupCreationDateTime": epoch(b.created)})
		}
	}
	start := 0
	if in.ExclusiveStartBackupArn != "" {
		start = slices.IndexFunc(all, func(m map[string]any) bool { return m["BackupArn"] == in.ExclusiveStartBackupArn }) + 1
	}
	end := min(start+or0(in.Limit, 100), len(all))
	out := map[string]any{"BackupSummaries": append([]map[string]any{}, all[start:end]...)}
	if end < len(all) {
		out["LastEvaluatedBackupArn"] = all[end-1]["BackupArn"]
	}
	writeJSON(w, out)
}

func (st *ddbState) restorePITR(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct {
		SourceTableName, TargetTableName string
		RestoreDateTime                  *float64
		UseLatestRestorableTime          bool
	}
	if !decodeJSON(w, body, &in) {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	src, ok := st.tables[in.SourceTableName]
	switch {
	case !ok:
		WriteJSONError(w, http.StatusBadRequest, "SourceTableNotFoundException", "Source table not found: "+in.SourceTableName)
		return
	case !src.PITR:
		WriteJSONError(w, http.StatusBadRequest, "PointInTimeRecoveryUnavailableException", "Point in time recovery is not enabled for table '"+src.Name+"'")
		return
	case st.tables[in.TargetTableName] != nil:
		WriteJSONError(w, http.StatusBadRequest, "TableAlreadyExistsException", "Table already exists: "+in.TargetTableName)
		return
	}
	at := st.now().Add(-5 * time.Minute)
	if !in.UseLatestRestorableTime {
		if in.RestoreDateTime == nil {
			WriteJSONError(w, http.StatusBadRequest, "ValidationException", "RestoreDateTime or UseLatestRestorableTime is required")
			return
		}
		at = time.Unix(0, int64(*in.RestoreDateTime*1e9))
		if at.Before(src.PITRSince) || at.After(st.now()) {
			WriteJSONError(w, http.StatusBadRequest, "InvalidRestoreTimeException", "Restore time is outside the restorable window")
			return
		}
	}
	t := &DynamoTable{Name: in.TargetTableName, OnDemand: src.OnDemand, Read: src.Read, Write: src.Write, Items: src.Items,
		RestoredFrom: src.Name, restoreAt: at, created: st.now()}
	st.tables[t.Name] = t
	d := st.describe(t)
	d["TableStatus"] = "CREATING"
	d["RestoreSummary"] = map[string]any{"SourceTableArn": ddbARN + src.Name, "RestoreDateTime": epoch(at), "RestoreInProgress": true}
	writeJSON(w, map[string]any{"TableDescription": d})
}
