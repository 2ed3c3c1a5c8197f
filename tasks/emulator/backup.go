package emulator

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// AWS Backup, in REST-JSON. kumo's Backup keeps vaults, plans and
// selections but has no recovery points, jobs or restores, which are what
// day2 operations are about; the front keeps vaults (with tags), recovery
// points and backup and restore jobs, and answers every call the backup.*
// actions make. A started job completes on its next read.

const backupARN = "arn:aws:backup:us-east-1:000000000000:"

// BackupVault is a seedable vault.
type BackupVault struct {
	Name string
	Tags map[string]string
}

// RecoveryPoint is a seedable recovery point.
type RecoveryPoint struct {
	Vault, ResourceArn, ResourceType string
	Created                          time.Time
	Status                           string // default COMPLETED
}

// BackupJob is a seedable (finished) backup job.
type BackupJob struct {
	Vault, ResourceArn, ResourceType, State, Message string
	Created                                          time.Time
}

type backupVault struct {
	name string
	tags map[string]string
}

type recoveryPoint struct {
	RecoveryPoint
	arn string
}

type backupJob struct {
	BackupJob
	id, role string
}

// RestoreJob is what the emulator knows of a started restore.
type RestoreJob struct {
	ID, RecoveryPointArn, Role, ResourceType string
	Metadata                                 map[string]string
}

type backupState struct {
	mu       sync.Mutex
	now      func() time.Time
	seq      int
	vaults   map[string]*backupVault
	points   []*recoveryPoint
	jobs     []*backupJob
	restores []*RestoreJob
}

func (s *Server) registerBackup() {
	st := &backupState{now: time.Now, vaults: map[string]*backupVault{}}
	s.backup = st
	for op, h := range map[string]Handler{
		"ListBackupVaults": st.listVaults, "ListTags": st.listTags, "ListRecoveryPointsByBackupVault": st.listPoints,
		"GetRecoveryPointRestoreMetadata": st.restoreMetadata, "StartBackupJob": st.startBackup, "StartRestoreJob": st.startRestore,
		"ListBackupJobs": st.listJobs,
	} {
		s.Handle("backup:"+op, h)
	}
}

// SeedBackupVault creates a vault.
func (s *Server) SeedBackupVault(v BackupVault) {
	s.backup.mu.Lock()
	defer s.backup.mu.Unlock()
	s.backup.vaults[v.Name] = &backupVault{name: v.Name, tags: v.Tags}
}

// SeedRecoveryPoint records a recovery point and returns its ARN.
func (s *Server) SeedRecoveryPoint(p RecoveryPoint) string {
	st := s.backup
	st.mu.Lock()
	defer st.mu.Unlock()
	if p.Status == "" {
		p.Status = "COMPLETED"
	}
	st.seq++
	rp := &recoveryPoint{RecoveryPoint: p, arn: fmt.Sprintf("%srecovery-point:%08d-rp", backupARN, st.seq)}
	st.points = append(st.points, rp)
	return rp.arn
}

// SeedBackupJob records a finished backup job.
func (s *Server) SeedBackupJob(j BackupJob) {
	st := s.backup
	st.mu.Lock()
	defer st.mu.Unlock()
	st.seq++
	st.jobs = append(st.jobs, &backupJob{BackupJob: j, id: fmt.Sprintf("job-%08d", st.seq)})
}

// BackupJobs lists the backup jobs of a resource, oldest first.
func (s *Server) BackupJobs(resourceArn string) []BackupJob {
	st := s.backup
	st.mu.Lock()
	defer st.mu.Unlock()
	var out []BackupJob
	for _, j := range st.jobs {
		if j.ResourceArn == resourceArn {
			out = append(out, j.BackupJob)
		}
	}
	return out
}

// RestoreJobs lists the restores started from a recovery point.
func (s *Server) RestoreJobs(recoveryPointArn string) []RestoreJob {
	st := s.backup
	st.mu.Lock()
	defer st.mu.Unlock()
	var out []RestoreJob
	for _, j := range st.restores {
		if j.RecoveryPointArn == recoveryPointArn {
			out = append(out, *j)
		}
	}
	return out
}

func vaultARN(name string) string { return backupARN + "backup-vault:" + name }

func (st *backupState) listVaults(w http.ResponseWriter, r *http.Request, body []byte) {
	st.mu.Lock()
	defer st.mu.Unlock()
	list := []map[string]any{}
	for _, name := range sortedKeys(st.vaults) {
		n := 0
		for _, p := range st.points {
			if p.Vault == name {
				n++
			}
		}
		list = append(list, map[string]any{"BackupVaultName": name, "BackupVaultArn": vaultARN(name), "NumberOfRecoveryPoints": n,
			"VaultType": "BACKUP_VAULT", "VaultState": "AVAILABLE"})
	}
	writeJSON(w, map[string]any{"BackupVaultList": list})
}

func (st *backupState) listTags(w http.ResponseWriter, r *http.Request, body []byte) {
	arn, _ := url.PathUnescape(strings.TrimPrefix(r.URL.EscapedPath(), "/tags/"))
	arn = strings.TrimSuffix(arn, "/")
	st.mu.Lock()
	defer st.mu.Unlock()
	v, ok := st.vaults[strings.TrimPrefix(arn, backupARN+"backup-vault:")]
	if !ok {
		WriteJSONError(w, http.StatusBadRequest, "ResourceNotFoundException", "Resource "+arn+" not found")
		return
	}
	writeJSON(w, map[string]any{"Tags": v.tags})
}

func (st *backupState) vault(w http.ResponseWriter, name string) bool {
	if _, ok := st.vaults[name]; !ok {
		WriteJSONError(w, http.StatusBadRequest, "ResourceNotFoundException", "Backup vault "+name+" does not exist")
		return false
	}
	return true
}

func (st *backupState) listPoints(w http.ResponseWriter, r *http.Request, body []byte) {
	name := pathSegment(r, 1)
	q := r.URL.Query()
	st.mu.Lock()
	defer st.mu.Unlock()
	if !st.vault(w, name) {
		return
	}
	var all []map[string]any
	for _, p := range st.points {
		if p.Vault != name || (q.Get("resourceArn") != "" && p.ResourceArn != q.Get("resourceArn")) {
			continue
		}
		all = append(all, map[string]any{"RecoveryPointArn": p.arn, "BackupVaultName": name, "BackupVaultArn": vaultARN(name),
			"ResourceArn": p.ResourceArn, "ResourceType": p.ResourceType, "Status": p.Status, "CreationDate": epoch(p.Created),
			"BackupSizeInBytes": 1 << 30})
	}
	start, ok := parsePageToken(q.Get("nextToken"), "rp-")
	limit, ok2 := parsePageSize(q.Get("maxResults"), 1000, 1, 1000)
	if !ok || !ok2 {
		WriteJSONError(w, http.StatusBadRequest, "InvalidParameterValueException", "bad nextToken or maxResults")
		return
	}
	got, next := page(all, start, limit, "rp-")
	out := map[string]any{"RecoveryPoints": append([]map[string]any{}, got...)}
	if next != "" {
		out["NextToken"] = next
	}
	writeJSON(w, out)
}

func (st *backupState) point(arn string) *recoveryPoint {
	i := slices.IndexFunc(st.points, func(p *recoveryPoint) bool { return p.arn == arn })
	if i < 0 {
		return nil
	}
	return st.points[i]
}

func (st *backupState) restoreMetadata(w http.ResponseWriter, r *http.Request, body []byte) {
	name := pathSegment(r, 1)
	arn, _ := url.PathUnescape(pathSegment(r, 3))
	st.mu.Lock()
	defer st.mu.Unlock()
	p := st.point(arn)
	if p == nil || p.Vault != name {
		WriteJSONError(w, http.StatusBadRequest, "ResourceNotFoundException", "Recovery point "+arn+" not found in "+name)
		return
	}
	md := map[string]string{"resourceType": p.ResourceType}
	switch p.ResourceType {
	case "DynamoDB":
		md["originalTableName"] = p.ResourceArn[strings.LastIndexByte(p.ResourceArn, '/')+1:]
	case "RDS":
		md["DBInstanceIdentifier"] = p.ResourceArn[strings.LastIndexByte(p.ResourceArn, ':')+1:]
		md["Engine"] = "postgres"
	}
	writeJSON(w, map[string]any{"BackupVaultArn": vaultARN(name), "RecoveryPointArn": arn, "RestoreMetadata": md, "ResourceType": p.ResourceType})
}

func (st *backupState) startBackup(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct {
		BackupVaultName, ResourceArn, IamRoleArn string
		Lifecycle                                *struct{ DeleteAfterDays int }
	}
	if !decodeJSON(w, body, &in) {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if !st.vault(w, in.BackupVaultName) {
		return
	}
	if in.ResourceArn == "" || !strings.HasPrefix(in.IamRoleArn, "arn:aws:iam::") {
		WriteJSONError(w, http.StatusBadRequest, "InvalidParameterValueException", "ResourceArn and IamRoleArn are required")
		return
	}
	st.seq++
	now := st.now()
	j := &backupJob{BackupJob: BackupJob{Vault: in.BackupVaultName, ResourceArn: in.ResourceArn, State: "CREATED", Created: now}, id: fmt.Sprintf("job-%08d", st.seq), role: in.IamRoleArn}
	st.jobs = append(st.jobs, j)
	st.seq++
	rp := &recoveryPoint{RecoveryPoint: RecoveryPoint{Vault: in.BackupVaultName, ResourceArn: in.ResourceArn, Created: now, Status: "PARTIAL"},
		arn: fmt.Sprintf("%srecovery-point:%08d-rp", backupARN, st.seq)}
	st.points = append(st.points, rp)
	writeJSON(w, map[string]any{"BackupJobId": j.id, "RecoveryPointArn": rp.arn, "CreationDate": epoch(now), "IsParent": false})
}

func (st *backupState) startRestore(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct {
		RecoveryPointArn, IamRoleArn, ResourceType string
		Metadata                                   map[string]string
	}
	if !decodeJSON(w, body, &in) {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	p := st.point(in.RecoveryPointArn)
	switch {
	case p == nil:
		WriteJSONError(w, http.StatusBadRequest, "ResourceNotFoundException", "Recovery point "+in.RecoveryPointArn+" not found")
		return
	case p.Status != "COMPLETED":
		WriteJSONError(w, http.StatusBadRequest, "InvalidRequestException", "Recovery point "+in.RecoveryPointArn+" is "+p.Status)
		return
	case !strings.HasPrefix(in.IamRoleArn, "arn:aws:iam::"):
		WriteJSONError(w, http.StatusBadRequest, "InvalidParameterValueException", "IamRoleArn is required")
		return
	}
	st.seq++
	j := &RestoreJob{ID: fmt.Sprintf("restore-%08d", st.seq), RecoveryPointArn: p.arn, Role: in.IamRoleArn, ResourceType: in.ResourceType, Metadata: in.Metadata}
	st.restores = append(st.restores, j)
	writeJSON(w, map[string]any{"RestoreJobId": j.ID})
}

func (st *backupState) listJobs(w http.ResponseWriter, r *http.Request, body []byte) {
	q := r.URL.Query()
	var after time.Time
	if v := q.Get("createdAfter"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			WriteJSONError(w, http.StatusBadRequest, "InvalidParameterValueException", "createdAfter: "+err.Error())
			return
		}
		after = t
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	var all []map[string]any
	for _, j := range st.jobs {
		switch {
		case q.Get("backupVaultName") != "" && j.Vault != q.Get("backupVaultName"),
			q.Get("state") != "" && j.State != q.Get("state"),
			q.Get("resourceArn") != "" && j.ResourceArn != q.Get("resourceArn"),
			j.Created.Before(after):
			continue
		}
		all = append(all, map[string]any{"BackupJobId": j.id, "BackupVaultName": j.Vault, "BackupVaultArn": vaultARN(j.Vault),
			"ResourceArn": j.ResourceArn, "ResourceType": j.ResourceType, "State": j.State, "StatusMessage": j.Message,
			"CreationDate": epoch(j.Created)})
	}
	start, ok := parsePageToken(q.Get("nextToken"), "jobs-")
	limit, ok2 := parsePageSize(q.Get("maxResults"), 1000, 1, 1000)
	if !ok || !ok2 {
		WriteJSONError(w, http.StatusBadRequest, "InvalidParameterValueException", "bad nextToken or maxResults")
		return
	}
	got, next := page(all, start, limit, "jobs-")
	out := map[string]any{"BackupJobs": append([]map[string]any{}, got...)}
	if next != "" {
		out["NextToken"] = next
	}
	writeJSON(w, out)
}
