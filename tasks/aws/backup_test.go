package aws

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/day2bot/day2bot/tasks"
	"github.com/day2bot/day2bot/tasks/emulator"
)

func backupAction(t *testing.T, name string) tasks.Action {
	t.Helper()
	return findAction(t, BackupActions(SDKBackup), name)
}

func vaultSel(app string) tasks.Selector {
	return tasks.Selector{Type: "backup:vault", Tags: map[string]string{"app": app}}
}

// backupApp seeds the app's vault with two recovery points of its orders
// table and one of its database, and another app's vault.
func backupApp(t *testing.T) (app, table, db, tablePoint, foreignPoint string) {
	app = uniq(t, "bk")
	table = "arn:aws:dynamodb:us-east-1:000000000000:table/" + app + "-orders"
	db = "arn:aws:rds:us-east-1:000000000000:db:" + app + "-db"
	emu.SeedBackupVault(emulator.BackupVault{Name: app + "-vault", Tags: map[string]string{"app": app}})
	emu.SeedBackupVault(emulator.BackupVault{Name: app + "-other", Tags: map[string]string{"app": "other"}})
	emu.SeedRecoveryPoint(emulator.RecoveryPoint{Vault: app + "-vault", ResourceArn: table, ResourceType: "DynamoDB", Created: testNow.Add(-48 * time.Hour)})
	tablePoint = emu.SeedRecoveryPoint(emulator.RecoveryPoint{Vault: app + "-vault", ResourceArn: table, ResourceType: "DynamoDB", Created: testNow.Add(-24 * time.Hour)})
	emu.SeedRecoveryPoint(emulator.RecoveryPoint{Vault: app + "-vault", ResourceArn: db, ResourceType: "RDS", Created: testNow.Add(-24 * time.Hour), Status: "PARTIAL"})
	foreignPoint = emu.SeedRecoveryPoint(emulator.RecoveryPoint{Vault: app + "-other", ResourceArn: "arn:aws:dynamodb:us-east-1:000000000000:table/x", ResourceType: "DynamoDB", Created: testNow})
	return
}

func TestBackupRecoveryPointsAndFailedJobs(t *testing.T) {
	ctx := context.Background()
	app, table, db, tablePoint, _ := backupApp(t)
	_, r := planAndRun(ctx, t, backupAction(t, "backup.recovery-points"), invocation(t, vaultSel(app), nil))
	if len(r.Resources) != 2 || r.Resources[0].Resource != app+"-orders" ||
		r.Resources[0].Detail != "DynamoDB, 2 recovery points in "+app+"-vault, latest 2026-11-24 22:00 UTC (COMPLETED) "+tablePoint ||
		!strings.HasPrefix(r.Resources[1].Detail, "RDS, 1 recovery points in "+app+"-vault, latest 2026-11-24 22:00 UTC (PARTIAL)") {
		t.Fatalf("points %+v", r.Resources)
	}

	act := backupAction(t, "backup.failed-jobs")
	_, r = planAndRun(ctx, t, act, invocation(t, vaultSel(app), nil))
	if r.Summary != "no backup job of the app's vaults ("+app+"-vault) failed in the last 24h" {
		t.Fatalf("no failures: %s", r.Summary)
	}
	emu.SeedBackupJob(emulator.BackupJob{Vault: app + "-vault", ResourceArn: db, ResourceType: "RDS", State: "FAILED", Message: "Insufficient privileges to perform this action.", Created: testNow.Add(-2 * time.Hour)})
	emu.SeedBackupJob(emulator.BackupJob{Vault: app + "-vault", ResourceArn: table, ResourceType: "DynamoDB", State: "COMPLETED", Created: testNow.Add(-2 * time.Hour)})
	emu.SeedBackupJob(emulator.BackupJob{Vault: app + "-vault", ResourceArn: table, ResourceType: "DynamoDB", State: "FAILED", Created: testNow.Add(-72 * time.Hour)})
	emu.SeedBackupJob(emulator.BackupJob{Vault: app + "-other", ResourceArn: db, State: "FAILED", Created: testNow.Add(-time.Hour)})
	_, r = planAndRun(ctx, t, act, invocation(t, vaultSel(app), nil))
	if len(r.Resources) != 1 || r.Resources[0].Resource != app+"-db" ||
		!strings.HasPrefix(r.Resources[0].Detail, "FAILED 2026-11-25 20:00 UTC in "+app+"-vault: Insufficient privileges") {
		t.Fatalf("failed jobs %+v", r.Resources)
	}
}

func TestBackupStartBackupAndRestoreOnlyTheAppsResources(t *testing.T) {
	ctx := context.Background()
	app, table, _, tablePoint, foreignPoint := backupApp(t)
	_, r := planAndRun(ctx, t, backupAction(t, "backup.start-backup"), invocation(t, vaultSel(app), tasks.Values{"resource": table, "retention_days": int64(7)}))
	if jobs := emu.BackupJobs(table); len(jobs) != 1 || jobs[0].Vault != app+"-vault" || !strings.HasPrefix(r.Resources[0].Detail, "backup job job-") {
		t.Fatalf("backup %+v %+v", jobs, r.Resources)
	}
	// A resource the app's vaults do not back up is refused, before any call.
	_, err := backupAction(t, "backup.start-backup").Plan(ctx, invocation(t, vaultSel(app), tasks.Values{"resource": "arn:aws:dynamodb:us-east-1:000000000000:table/x"}))
	if err == nil || !strings.Contains(err.Error(), "has no recovery point in the app's vaults") {
		t.Fatalf("foreign resource: %v", err)
	}

	restore := backupAction(t, "backup.start-restore")
	if _, err := planOnlyReads(ctx, t, restore, invocation(t, vaultSel(app), tasks.Values{"recovery_point": tablePoint, "new_name": "orders-restored"})); err != nil {
		t.Fatal(err)
	}
	p, r := planAndRun(ctx, t, restore, invocation(t, vaultSel(app), tasks.Values{"recovery_point": tablePoint, "new_name": "orders-restored"}))
	jobs := emu.RestoreJobs(tablePoint)
	if len(jobs) != 1 || jobs[0].Metadata["targetTableName"] != "orders-restored" || jobs[0].Role != "arn:aws:iam::000000000000:role/service-role/AWSBackupDefaultServiceRole" ||
		p.Summary != "restore into new orders-restored 1 of 1 recovery points" {
		t.Fatalf("restore %q %+v %+v", p.Summary, jobs, r.Resources)
	}
	if _, err := restore.Plan(ctx, invocation(t, vaultSel(app), tasks.Values{"recovery_point": foreignPoint, "new_name": "x-restored"})); err == nil ||
		!strings.Contains(err.Error(), "is not a recovery point of the app's vaults") {
		t.Fatalf("foreign point: %v", err)
	}

	// Partial failure: AWS refuses the job; the run reports it.
	emu.InjectFault("backup:StartBackupJob", emulator.Fault{Status: 400, Code: "InvalidRequestException", Message: "Backup is already in progress"})
	_, r = planAndRun(ctx, t, backupAction(t, "backup.start-backup"), invocation(t, vaultSel(app), tasks.Values{"resource": table}))
	if r.Failed() != 1 || !strings.Contains(r.Resources[0].Detail, "Backup is already in progress") {
		t.Fatalf("refused %+v", r.Resources)
	}
}
