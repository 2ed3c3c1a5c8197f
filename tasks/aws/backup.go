package aws

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	backuptypes "github.com/aws/aws-sdk-go-v2/service/backup/types"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/tasks"
)

// BackupAPI is the part of AWS Backup the backup.* actions call.
type BackupAPI interface {
	ListBackupVaults(context.Context, *backup.ListBackupVaultsInput, ...func(*backup.Options)) (*backup.ListBackupVaultsOutput, error)
	ListTags(context.Context, *backup.ListTagsInput, ...func(*backup.Options)) (*backup.ListTagsOutput, error)
	ListRecoveryPointsByBackupVault(context.Context, *backup.ListRecoveryPointsByBackupVaultInput, ...func(*backup.Options)) (*backup.ListRecoveryPointsByBackupVaultOutput, error)
	GetRecoveryPointRestoreMetadata(context.Context, *backup.GetRecoveryPointRestoreMetadataInput, ...func(*backup.Options)) (*backup.GetRecoveryPointRestoreMetadataOutput, error)
	StartBackupJob(context.Context, *backup.StartBackupJobInput, ...func(*backup.Options)) (*backup.StartBackupJobOutput, error)
	StartRestoreJob(context.Context, *backup.StartRestoreJobInput, ...func(*backup.Options)) (*backup.StartRestoreJobOutput, error)
	ListBackupJobs(context.Context, *backup.ListBackupJobsInput, ...func(*backup.Options)) (*backup.ListBackupJobsOutput, error)
}

var _ BackupAPI = (*backup.Client)(nil)

// BackupClient builds the client for one invocation's config.
type BackupClient func(awssdk.Config) BackupAPI

// SDKBackup is the production BackupClient.
func SDKBackup(cfg awssdk.Config) BackupAPI { return backup.NewFromConfig(cfg) }

// The app's resources, for AWS Backup, are those backed up into the app's
// vaults (the binding selects vaults by tag): a backup or restore names a
// resource or recovery point, and only one found in those vaults is
// accepted.

var backupRoleParam = tasks.Param{Name: "role", Type: tasks.TypeString, Default: "service-role/AWSBackupDefaultServiceRole",
	Pattern:     `^(service-role/)?AWSBackup[A-Za-z0-9+=,.@_-]{0,100}$`,
	Format:      "an IAM role name starting with AWSBackup, optionally under service-role/",
	Description: "the role AWS Backup works with (the account's default backup role unless you made another)"}

// BackupActions returns the backup.* actions.
func BackupActions(newClient BackupClient) []tasks.Action {
	read := []string{"backup:ListBackupVaults", "backup:ListTags"}
	points := append(slices.Clone(read), "backup:ListRecoveryPointsByBackupVault")
	return forTarget("backup:vault",
		&stepAction{
			name: "backup.recovery-points", verb: "listed recovery points of", noun: "resources", iam: slices.Clone(points),
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				return recoveryPointsPlan(ctx, newClient(inv.AWS), inv)
			},
		},
		&stepAction{
			name: "backup.start-backup", mutating: true, verb: "started backups of", noun: "resources",
			iam: append(slices.Clone(points), "backup:StartBackupJob", "iam:PassRole"),
			params: []tasks.Param{
				{Name: "resource", Type: tasks.TypeString, Required: true, Pattern: `^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:[0-9]*:\S{1,1000}$`,
					Format: "a resource ARN (arn:aws:SERVICE:REGION:ACCOUNT:…)", Description: "ARN of a resource the app's vaults already back up"},
				{Name: "retention_days", Type: tasks.TypeInt, Default: "35", Min: bound(1), Max: bound(3650), Description: "days AWS Backup keeps the recovery point"},
				backupRoleParam,
			},
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				return startBackupPlan(ctx, newClient(inv.AWS), inv)
			},
		},
		&stepAction{
			name: "backup.start-restore", mutating: true, verb: "started restores of", noun: "recovery points",
			iam: append(slices.Clone(points), "backup:GetRecoveryPointRestoreMetadata", "backup:StartRestoreJob", "iam:PassRole"),
			params: []tasks.Param{
				{Name: "recovery_point", Type: tasks.TypeString, Required: true, Pattern: `^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:[0-9]*:\S{1,1000}$`,
					Format: "a recovery point ARN", Description: "the recovery point to restore (recovery-points lists them)"},
				{Name: "new_name", Type: tasks.TypeString, Required: true, Pattern: `^[a-zA-Z][a-zA-Z0-9_.-]{2,62}$`,
					Format: "3 to 63 letters, digits, dots, dashes or underscores, starting with a letter", Description: "name of the restored resource (the original is untouched)"},
				backupRoleParam,
			},
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				return startRestorePlan(ctx, newClient(inv.AWS), inv)
			},
		},
		&stepAction{
			name: "backup.failed-jobs", verb: "reported", noun: "failed backup jobs",
			iam: append(slices.Clone(read), "backup:ListBackupJobs"),
			params: []tasks.Param{{Name: "window", Type: tasks.TypeDuration, Default: "24h", Min: bound(3600), Max: bound(30 * 86400),
				Description: "how far back to look"}},
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				return failedJobsPlan(ctx, newClient(inv.AWS), inv)
			},
		},
	)
}

type vault struct{ name, arn string }

// account is the account id in the vault's ARN.
func (v vault) account() string {
	if parts := strings.Split(v.arn, ":"); len(parts) > 4 {
		return parts[4]
	}
	return ""
}

// selectVaults lists the account's vaults whose tags, as AWS Backup
// reports them, are the app's.
func selectVaults(ctx context.Context, c BackupAPI, sel tasks.Selector) ([]vault, error) {
	if err := checkSelector(sel); err != nil {
		return nil, err
	}
	var out []vault
	p := backup.NewListBackupVaultsPaginator(c, &backup.ListBackupVaultsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list backup vaults: %w", err)
		}
		for _, v := range page.BackupVaultList {
			name, arn := awssdk.ToString(v.BackupVaultName), awssdk.ToString(v.BackupVaultArn)
			if !selects(tasks.Selector{IDs: sel.IDs, Names: sel.Names}, name, arn, nil) {
				continue
			}
			tags, err := c.ListTags(ctx, &backup.ListTagsInput{ResourceArn: awssdk.String(arn)})
			if err != nil {
				return nil, fmt.Errorf("list tags of vault %s: %w", name, err)
			}
			if selects(sel, name, arn, tags.Tags) {
				out = append(out, vault{name: name, arn: arn})
			}
		}
	}
	return out, nil
}

// vaultPoints lists a vault's recovery points, of one resource when
// resource is set.
func vaultPoints(ctx context.Context, c BackupAPI, v vault, resource string) ([]backuptypes.RecoveryPointByBackupVault, error) {
	in := &backup.ListRecoveryPointsByBackupVaultInput{BackupVaultName: awssdk.String(v.name)}
	if resource != "" {
		in.ByResourceArn = awssdk.String(resource)
	}
	var out []backuptypes.RecoveryPointByBackupVault
	p := backup.NewListRecoveryPointsByBackupVaultPaginator(c, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list recovery points of vault %s: %w", v.name, err)
		}
		out = append(out, page.RecoveryPoints...)
	}
	return out, nil
}

// shortARN is the last part of an ARN: a table, an instance, a volume.
func shortARN(arn string) string {
	if i := strings.LastIndexAny(arn, "/:"); i >= 0 && i < len(arn)-1 {
		return arn[i+1:]
	}
	return arn
}

const backupTime = "2006-01-02 15:04 UTC"

func recoveryPointsPlan(ctx context.Context, c BackupAPI, inv tasks.Invocation) (tasks.Plan, []step, error) {
	vaults, err := selectVaults(ctx, c, inv.Target)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	b := planBuilder{verb: "list recovery points of", noun: "resources"}
	for _, v := range vaults {
		pts, err := vaultPoints(ctx, c, v, "")
		if err != nil {
			return tasks.Plan{}, nil, err
		}
		byResource := map[string][]backuptypes.RecoveryPointByBackupVault{}
		var order []string
		for _, p := range pts {
			r := awssdk.ToString(p.ResourceArn)
			if _, ok := byResource[r]; !ok {
				order = append(order, r)
			}
			byResource[r] = append(byResource[r], p)
		}
		for _, r := range order {
			ps := byResource[r]
			latest := slices.MaxFunc(ps, func(a, b backuptypes.RecoveryPointByBackupVault) int {
				return awssdk.ToTime(a.CreationDate).Compare(awssdk.ToTime(b.CreationDate))
			})
			detail := fmt.Sprintf("%s, %d recovery points in %s, latest %s (%s) %s", awssdk.ToString(latest.ResourceType), len(ps), v.name,
				awssdk.ToTime(latest.CreationDate).UTC().Format(backupTime), latest.Status, awssdk.ToString(latest.RecoveryPointArn))
			b.add(shortARN(r), r, decision{Run: func(context.Context) (string, error) { return detail, nil }})
		}
	}
	return b.plan(), b.steps, nil
}

// findResource returns the app's vault that already backs up resource.
func findResource(ctx context.Context, c BackupAPI, vaults []vault, resource string) (vault, bool, error) {
	for _, v := range vaults {
		pts, err := vaultPoints(ctx, c, v, resource)
		if err != nil {
			return vault{}, false, err
		}
		if len(pts) > 0 {
			return v, true, nil
		}
	}
	return vault{}, false, nil
}

func vaultNames(vs []vault) string {
	if len(vs) == 0 {
		return "none"
	}
	var names []string
	for _, v := range vs {
		names = append(names, v.name)
	}
	return strings.Join(names, ", ")
}

func roleARN(account, role string) string { return "arn:aws:iam::" + account + ":role/" + role }

func startBackupPlan(ctx context.Context, c BackupAPI, inv tasks.Invocation) (tasks.Plan, []step, error) {
	resource, err := stringValue(inv.Values, "resource", "")
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	days, err := intValue(inv.Values, "retention_days", 35)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	role, err := stringValue(inv.Values, "role", backupRoleParam.Default)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	vaults, err := selectVaults(ctx, c, inv.Target)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	v, ok, err := findResource(ctx, c, vaults, resource)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	if !ok {
		return tasks.Plan{}, nil, errs.E("start backup", errs.NotFound, "%s has no recovery point in the app's vaults (%s): only resources the app already backs up can be backed up on demand",
			resource, vaultNames(vaults))
	}
	b := planBuilder{verb: fmt.Sprintf("back up into %s, kept %d days", v.name, days), noun: "resources"}
	b.add(shortARN(resource), resource, decision{Run: func(ctx context.Context) (string, error) {
		out, err := c.StartBackupJob(ctx, &backup.StartBackupJobInput{BackupVaultName: awssdk.String(v.name), ResourceArn: awssdk.String(resource),
			IamRoleArn: awssdk.String(roleARN(v.account(), role)), Lifecycle: &backuptypes.Lifecycle{DeleteAfterDays: awssdk.Int64(int64(days))},
			IdempotencyToken: awssdk.String(fmt.Sprintf("day2bot-%s-%d", shortARN(resource), inv.Now.Unix()))})
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("backup job %s started into %s (recovery point %s)", awssdk.ToString(out.BackupJobId), v.name, awssdk.ToString(out.RecoveryPointArn)), nil
	}})
	return b.plan(), b.steps, nil
}

// restoreName is the restore metadata key that names the new resource,
// per resource type; types missing here are refused.
var restoreName = map[string]string{"DynamoDB": "targetTableName", "RDS": "DBInstanceIdentifier", "EFS": "CreationToken"}

func startRestorePlan(ctx context.Context, c BackupAPI, inv tasks.Invocation) (tasks.Plan, []step, error) {
	arn, err := stringValue(inv.Values, "recovery_point", "")
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	name, err := stringValue(inv.Values, "new_name", "")
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	role, err := stringValue(inv.Values, "role", backupRoleParam.Default)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	vaults, err := selectVaults(ctx, c, inv.Target)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	var (
		point backuptypes.RecoveryPointByBackupVault
		in    vault
		found bool
	)
	for _, v := range vaults {
		pts, err := vaultPoints(ctx, c, v, "")
		if err != nil {
			return tasks.Plan{}, nil, err
		}
		if i := slices.IndexFunc(pts, func(p backuptypes.RecoveryPointByBackupVault) bool { return awssdk.ToString(p.RecoveryPointArn) == arn }); i >= 0 {
			point, in, found = pts[i], v, true
			break
		}
	}
	if !found {
		return tasks.Plan{}, nil, errs.E("start restore", errs.NotFound, "%s is not a recovery point of the app's vaults (%s)", arn, vaultNames(vaults))
	}
	b := planBuilder{verb: "restore into new " + name, noun: "recovery points"}
	rtype := awssdk.ToString(point.ResourceType)
	key, ok := restoreName[rtype]
	detail := fmt.Sprintf("%s of %s, %s", rtype, shortARN(awssdk.ToString(point.ResourceArn)), awssdk.ToTime(point.CreationDate).UTC().Format(backupTime))
	switch {
	case !ok:
		return tasks.Plan{}, nil, errs.E("start restore", errs.Invalid, "restoring %s recovery points is not supported by this task (DynamoDB, RDS and EFS are)", rtype)
	case point.Status != backuptypes.RecoveryPointStatusCompleted:
		b.add(arn, detail, decision{Skip: "the recovery point is " + string(point.Status)})
		return b.plan(), b.steps, nil
	}
	md, err := c.GetRecoveryPointRestoreMetadata(ctx, &backup.GetRecoveryPointRestoreMetadataInput{BackupVaultName: awssdk.String(in.name), RecoveryPointArn: awssdk.String(arn)})
	if err != nil {
		return tasks.Plan{}, nil, fmt.Errorf("get restore metadata of %s: %w", arn, err)
	}
	meta := map[string]string{}
	for k, v := range md.RestoreMetadata {
		meta[k] = v
	}
	meta[key] = name
	if rtype == "EFS" {
		meta["newFileSystem"] = "true"
	}
	b.add(arn, detail+" (the original is untouched)", decision{Run: func(ctx context.Context) (string, error) {
		out, err := c.StartRestoreJob(ctx, &backup.StartRestoreJobInput{RecoveryPointArn: awssdk.String(arn), IamRoleArn: awssdk.String(roleARN(in.account(), role)),
			Metadata: meta, ResourceType: awssdk.String(rtype), IdempotencyToken: awssdk.String("day2bot-" + name)})
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("restore job %s started into %s", awssdk.ToString(out.RestoreJobId), name), nil
	}})
	return b.plan(), b.steps, nil
}

// failedStates are the backup job states that mean no recovery point.
var failedStates = []backuptypes.BackupJobState{backuptypes.BackupJobStateFailed, backuptypes.BackupJobStateAborted, backuptypes.BackupJobStateExpired}

// failedJobsPlan reports the backup jobs of the app's vaults that failed,
// were aborted or expired within the window, one row per job: the routine
// that tells the team a backup is missing (the digest has no section for
// it).
func failedJobsPlan(ctx context.Context, c BackupAPI, inv tasks.Invocation) (tasks.Plan, []step, error) {
	window, err := durationValue(inv.Values, "window", 24*time.Hour)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	vaults, err := selectVaults(ctx, c, inv.Target)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	b := planBuilder{verb: "report", noun: "failed backup jobs"}
	for _, v := range vaults {
		p := backup.NewListBackupJobsPaginator(c, &backup.ListBackupJobsInput{ByBackupVaultName: awssdk.String(v.name), ByCreatedAfter: awssdk.Time(inv.Now.Add(-window))})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return tasks.Plan{}, nil, fmt.Errorf("list backup jobs of vault %s: %w", v.name, err)
			}
			for _, j := range page.BackupJobs {
				if !slices.Contains(failedStates, j.State) {
					continue
				}
				detail := fmt.Sprintf("%s %s in %s: %s (job %s)", j.State, awssdk.ToTime(j.CreationDate).UTC().Format(backupTime), v.name,
					awssdk.ToString(j.StatusMessage), awssdk.ToString(j.BackupJobId))
				b.add(shortARN(awssdk.ToString(j.ResourceArn)), "", decision{Run: func(context.Context) (string, error) { return detail, nil }})
			}
		}
	}
	p := b.plan()
	if len(b.steps) == 0 {
		p.Summary = fmt.Sprintf("no backup job of the app's vaults (%s) failed in the last %s", vaultNames(vaults), tasks.FormatDuration(window))
	}
	return p, b.steps, nil
}
