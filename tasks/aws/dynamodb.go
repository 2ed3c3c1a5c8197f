package aws

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/tasks"
)

// DynamoDBAPI is the part of DynamoDB the dynamodb.* actions call.
type DynamoDBAPI interface {
	ListTables(context.Context, *dynamodb.ListTablesInput, ...func(*dynamodb.Options)) (*dynamodb.ListTablesOutput, error)
	DescribeTable(context.Context, *dynamodb.DescribeTableInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	ListTagsOfResource(context.Context, *dynamodb.ListTagsOfResourceInput, ...func(*dynamodb.Options)) (*dynamodb.ListTagsOfResourceOutput, error)
	DescribeContinuousBackups(context.Context, *dynamodb.DescribeContinuousBackupsInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeContinuousBackupsOutput, error)
	UpdateContinuousBackups(context.Context, *dynamodb.UpdateContinuousBackupsInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateContinuousBackupsOutput, error)
	ListBackups(context.Context, *dynamodb.ListBackupsInput, ...func(*dynamodb.Options)) (*dynamodb.ListBackupsOutput, error)
	CreateBackup(context.Context, *dynamodb.CreateBackupInput, ...func(*dynamodb.Options)) (*dynamodb.CreateBackupOutput, error)
	RestoreTableToPointInTime(context.Context, *dynamodb.RestoreTableToPointInTimeInput, ...func(*dynamodb.Options)) (*dynamodb.RestoreTableToPointInTimeOutput, error)
	UpdateTable(context.Context, *dynamodb.UpdateTableInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateTableOutput, error)
	TagResource(context.Context, *dynamodb.TagResourceInput, ...func(*dynamodb.Options)) (*dynamodb.TagResourceOutput, error)
}

var _ DynamoDBAPI = (*dynamodb.Client)(nil)

// DynamoDBClient builds the clients for one invocation's config: DynamoDB,
// and CloudWatch for the tables' alarms.
type DynamoDBClient func(awssdk.Config) (DynamoDBAPI, CloudWatchAPI)

// SDKDynamoDB is the production DynamoDBClient.
func SDKDynamoDB(cfg awssdk.Config) (DynamoDBAPI, CloudWatchAPI) {
	return dynamodb.NewFromConfig(cfg), cloudwatch.NewFromConfig(cfg)
}

// tableNamePattern is a DynamoDB table name.
const tableNamePattern = `^[a-zA-Z0-9_.-]{3,255}$`

var tableFormat = "a table name: 3 to 255 letters, digits, dots, dashes or underscores"

// DynamoDBActions returns the dynamodb.* actions.
func DynamoDBActions(newClient DynamoDBClient) []tasks.Action {
	read := []string{"dynamodb:ListTables", "dynamodb:DescribeTable", "dynamodb:ListTagsOfResource"}
	return forTarget("dynamodb:table",
		&stepAction{
			name: "dynamodb.describe", verb: "described", noun: "tables",
			iam: append(slices.Clone(read), "dynamodb:DescribeContinuousBackups", "dynamodb:ListBackups", "cloudwatch:DescribeAlarms"),
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				c, cw := newClient(inv.AWS)
				alarms, err := tableAlarms(ctx, cw)
				if err != nil {
					return tasks.Plan{}, nil, err
				}
				return tablePlan(ctx, c, inv, "describe", func(t ddbTable) decision {
					return decision{Run: func(ctx context.Context) (string, error) {
						d, err := describeTable(ctx, c, t, inv.Now)
						if err != nil {
							return "", err
						}
						if a := alarms[t.name]; len(a) > 0 {
							return d + "; alarms " + strings.Join(a, ", "), nil
						}
						return d + "; no alarms", nil
					}}
				})
			},
		},
		&stepAction{
			name: "dynamodb.enable-pitr", mutating: true, verb: "enabled point-in-time recovery of", noun: "tables",
			iam: append(slices.Clone(read), "dynamodb:DescribeContinuousBackups", "dynamodb:UpdateContinuousBackups"),
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				c, _ := newClient(inv.AWS)
				tables, err := selectTables(ctx, c, inv.Target)
				if err != nil {
					return tasks.Plan{}, nil, err
				}
				b := planBuilder{verb: "enable point-in-time recovery", noun: "tables"}
				for _, t := range tables {
					p, err := tablePITR(ctx, c, t.name)
					if err != nil {
						return tasks.Plan{}, nil, err
					}
					if p.on {
						b.add(t.name, "", decision{Skip: "point-in-time recovery is already on"})
						continue
					}
					b.add(t.name, "point-in-time recovery off", decision{Run: func(ctx context.Context) (string, error) {
						_, err := c.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{TableName: awssdk.String(t.name),
							PointInTimeRecoverySpecification: &ddbtypes.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: awssdk.Bool(true)}})
						if err != nil {
							return "", err
						}
						return "point-in-time recovery on: restorable to any second of the last 35 days from now on", nil
					}})
				}
				return b.plan(), b.steps, nil
			},
		},
		&stepAction{
			name: "dynamodb.backup", mutating: true, verb: "backed up", noun: "tables",
			iam: append(slices.Clone(read), "dynamodb:CreateBackup"),
			params: []tasks.Param{{Name: "label", Type: tasks.TypeString, Default: "manual", Pattern: `^[a-z0-9-]{1,40}$`,
				Format: "1 to 40 lowercase letters, digits or dashes", Description: "label in the backup's name (TABLE-LABEL-TIME)"}},
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				c, _ := newClient(inv.AWS)
				label, err := stringValue(inv.Values, "label", "manual")
				if err != nil {
					return tasks.Plan{}, nil, err
				}
				return tablePlan(ctx, c, inv, "create an on-demand backup of", func(t ddbTable) decision {
					name := backupName(t.name, label, inv.Now)
					return decision{Detail: "backup " + name, Run: func(ctx context.Context) (string, error) {
						out, err := c.CreateBackup(ctx, &dynamodb.CreateBackupInput{TableName: awssdk.String(t.name), BackupName: awssdk.String(name)})
						if err != nil {
							return "", err
						}
						return fmt.Sprintf("backup %s (%s)", name, out.BackupDetails.BackupStatus), nil
					}}
				})
			},
		},
		&stepAction{
			name: "dynamodb.restore-pitr", mutating: true, verb: "restored", noun: "tables",
			iam: append(slices.Clone(read), "dynamodb:DescribeContinuousBackups", "dynamodb:RestoreTableToPointInTime", "dynamodb:TagResource",
				// AWS writes the restored items with the caller's rights.
				"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:BatchWriteItem"),
			params: []tasks.Param{
				{Name: "table", Type: tasks.TypeString, Required: true, Pattern: tableNamePattern, Format: tableFormat, Description: "the app's table to restore from"},
				{Name: "new_table", Type: tasks.TypeString, Required: true, Pattern: tableNamePattern, Format: tableFormat, Description: "name of the new table (the source is left untouched)"},
				{Name: "ago", Type: tasks.TypeDuration, Default: "0s", Min: bound(0), Max: bound(35 * 86400), Description: "how far back to restore to; 0 is the latest restorable time"},
			},
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				c, _ := newClient(inv.AWS)
				return restorePITRPlan(ctx, c, inv)
			},
		},
		&stepAction{
			name: "dynamodb.set-capacity", mutating: true, verb: "set capacity of", noun: "tables",
			iam: append(slices.Clone(read), "dynamodb:UpdateTable"),
			params: []tasks.Param{
				{Name: "read", Type: tasks.TypeInt, Required: true, Min: bound(1), Max: bound(40000), Description: "provisioned read capacity units"},
				{Name: "write", Type: tasks.TypeInt, Required: true, Min: bound(1), Max: bound(40000), Description: "provisioned write capacity units"},
			},
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				c, _ := newClient(inv.AWS)
				rcu, err := intValue(inv.Values, "read", 0)
				if err != nil {
					return tasks.Plan{}, nil, err
				}
				wcu, err := intValue(inv.Values, "write", 0)
				if err != nil {
					return tasks.Plan{}, nil, err
				}
				return tablePlan(ctx, c, inv, fmt.Sprintf("set %d RCU / %d WCU", rcu, wcu), func(t ddbTable) decision {
					switch {
					case t.onDemand:
						return decision{Skip: "on-demand (PAY_PER_REQUEST): capacity follows traffic"}
					case t.read == int64(rcu) && t.write == int64(wcu):
						return decision{Skip: fmt.Sprintf("already %d RCU / %d WCU", rcu, wcu)}
					}
					return decision{Run: func(ctx context.Context) (string, error) {
						_, err := c.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: awssdk.String(t.name),
							ProvisionedThroughput: &ddbtypes.ProvisionedThroughput{ReadCapacityUnits: awssdk.Int64(int64(rcu)), WriteCapacityUnits: awssdk.Int64(int64(wcu))}})
						if err != nil {
							return "", err
						}
						return fmt.Sprintf("%s -> %d RCU / %d WCU (the table is UPDATING)", t.capacity(), rcu, wcu), nil
					}}
				})
			},
		},
	)
}

// tableAlarms lists the account's CloudWatch alarms on DynamoDB tables
// ("NAME (STATE)"), by table, in one paged read for all tables.
func tableAlarms(ctx context.Context, cw CloudWatchAPI) (map[string][]string, error) {
	out := map[string][]string{}
	p := cloudwatch.NewDescribeAlarmsPaginator(cw, &cloudwatch.DescribeAlarmsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe alarms: %w", err)
		}
		for _, a := range page.MetricAlarms {
			if awssdk.ToString(a.Namespace) != "AWS/DynamoDB" {
				continue
			}
			for _, d := range a.Dimensions {
				if awssdk.ToString(d.Name) == "TableName" {
					t := awssdk.ToString(d.Value)
					out[t] = append(out[t], fmt.Sprintf("%s (%s)", awssdk.ToString(a.AlarmName), a.StateValue))
				}
			}
		}
	}
	return out, nil
}

// ddbTable is what the actions read of a table.
type ddbTable struct {
	name, arn   string
	onDemand    bool
	read, write int64
	items, size int64
	tags        map[string]string
}

func (t ddbTable) capacity() string {
	if t.onDemand {
		return "on-demand"
	}
	return fmt.Sprintf("%d RCU / %d WCU", t.read, t.write)
}

// selectTables lists the account's tables and keeps those whose tags, as
// DynamoDB reports them, are the app's.
func selectTables(ctx context.Context, c DynamoDBAPI, sel tasks.Selector) ([]ddbTable, error) {
	if err := checkSelector(sel); err != nil {
		return nil, err
	}
	var out []ddbTable
	p := dynamodb.NewListTablesPaginator(c, &dynamodb.ListTablesInput{Limit: awssdk.Int32(100)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list tables: %w", err)
		}
		for _, name := range page.TableNames {
			if !selects(tasks.Selector{IDs: sel.IDs, Names: sel.Names}, name, "", nil) {
				continue
			}
			d, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: awssdk.String(name)})
			if isNotFound(err) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("describe table %s: %w", name, err)
			}
			td := d.Table
			t := ddbTable{name: name, arn: awssdk.ToString(td.TableArn), items: awssdk.ToInt64(td.ItemCount), size: awssdk.ToInt64(td.TableSizeBytes), tags: map[string]string{}}
			t.onDemand = td.BillingModeSummary != nil && td.BillingModeSummary.BillingMode == ddbtypes.BillingModePayPerRequest
			if pt := td.ProvisionedThroughput; pt != nil {
				t.read, t.write = awssdk.ToInt64(pt.ReadCapacityUnits), awssdk.ToInt64(pt.WriteCapacityUnits)
			}
			for in := (&dynamodb.ListTagsOfResourceInput{ResourceArn: td.TableArn}); ; {
				tags, err := c.ListTagsOfResource(ctx, in)
				if err != nil {
					return nil, fmt.Errorf("list tags of table %s: %w", name, err)
				}
				for _, tag := range tags.Tags {
					t.tags[awssdk.ToString(tag.Key)] = awssdk.ToString(tag.Value)
				}
				if awssdk.ToString(tags.NextToken) == "" {
					break
				}
				in.NextToken = tags.NextToken
			}
			if selects(sel, name, t.arn, t.tags) {
				out = append(out, t)
			}
		}
	}
	return out, nil
}

func tablePlan(ctx context.Context, c DynamoDBAPI, inv tasks.Invocation, verb string, decide func(ddbTable) decision) (tasks.Plan, []step, error) {
	tables, err := selectTables(ctx, c, inv.Target)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	b := planBuilder{verb: verb, noun: "tables"}
	for _, t := range tables {
		b.add(t.name, t.capacity(), decide(t))
	}
	return b.plan(), b.steps, nil
}

// pitrState is a table's point-in-time recovery and its restorable window.
type pitrState struct {
	on               bool
	earliest, latest time.Time
}

func tablePITR(ctx context.Context, c DynamoDBAPI, name string) (pitrState, error) {
	out, err := c.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: awssdk.String(name)})
	if err != nil {
		return pitrState{}, fmt.Errorf("describe continuous backups of %s: %w", name, err)
	}
	var s pitrState
	if d := out.ContinuousBackupsDescription; d != nil && d.PointInTimeRecoveryDescription != nil {
		p := d.PointInTimeRecoveryDescription
		s.on = p.PointInTimeRecoveryStatus == ddbtypes.PointInTimeRecoveryStatusEnabled
		s.earliest, s.latest = awssdk.ToTime(p.EarliestRestorableDateTime), awssdk.ToTime(p.LatestRestorableDateTime)
	}
	return s, nil
}

const minuteFormat = "2006-01-02 15:04 UTC"

func describeTable(ctx context.Context, c DynamoDBAPI, t ddbTable, now time.Time) (string, error) {
	parts := []string{t.capacity(), fmt.Sprintf("%d items, %s", t.items, bytesText(t.size))}
	p, err := tablePITR(ctx, c, t.name)
	if err != nil {
		return "", err
	}
	if p.on {
		parts = append(parts, fmt.Sprintf("PITR on (restorable %s to %s)", p.earliest.UTC().Format(minuteFormat), p.latest.UTC().Format(minuteFormat)))
	} else {
		parts = append(parts, "PITR off")
	}
	var n int
	var latest ddbtypes.BackupSummary
	for in := (&dynamodb.ListBackupsInput{TableName: awssdk.String(t.name)}); ; {
		page, err := c.ListBackups(ctx, in)
		if err != nil {
			return "", fmt.Errorf("list backups of %s: %w", t.name, err)
		}
		for _, b := range page.BackupSummaries {
			n++
			if awssdk.ToTime(b.BackupCreationDateTime).After(awssdk.ToTime(latest.BackupCreationDateTime)) {
				latest = b
			}
		}
		if page.LastEvaluatedBackupArn == nil {
			break
		}
		in.ExclusiveStartBackupArn = page.LastEvaluatedBackupArn
	}
	switch n {
	case 0:
		parts = append(parts, "no on-demand backups")
	default:
		parts = append(parts, fmt.Sprintf("%d on-demand backups (latest %s, %s ago)", n, awssdk.ToString(latest.BackupName),
			tasks.FormatDuration(now.Sub(awssdk.ToTime(latest.BackupCreationDateTime)).Round(time.Minute))))
	}
	return strings.Join(parts, "; "), nil
}

func bytesText(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// backupName is TABLE-LABEL-YYYYMMDD-HHMM, cut to DynamoDB's 255.
func backupName(table, label string, now time.Time) string {
	suffix := "-" + label + "-" + now.UTC().Format("20060102-1504")
	if len(table)+len(suffix) > 255 {
		table = table[:255-len(suffix)]
	}
	return table + suffix
}

// restorePITRPlan restores one of the app's tables to a new table as it
// was ago before now. The source must be the app's (by its tags), have
// point-in-time recovery on and cover the time; the new name must be
// free. The new table gets the source's tags, so it is the app's too.
func restorePITRPlan(ctx context.Context, c DynamoDBAPI, inv tasks.Invocation) (tasks.Plan, []step, error) {
	src, err := stringValue(inv.Values, "table", "")
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	dst, err := stringValue(inv.Values, "new_table", "")
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	ago, err := durationValue(inv.Values, "ago", 0)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	tables, err := selectTables(ctx, c, inv.Target)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	i := slices.IndexFunc(tables, func(t ddbTable) bool { return t.name == src })
	if i < 0 {
		return tasks.Plan{}, nil, errs.E("restore table", errs.NotFound, "%s is not one of the app's tables (%s)", src, tableNames(tables))
	}
	t := tables[i]
	if _, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: awssdk.String(dst)}); err == nil {
		return tasks.Plan{}, nil, errs.E("restore table", errs.Conflict, "a table %s already exists: choose another new_table", dst)
	} else if !isNotFound(err) {
		return tasks.Plan{}, nil, fmt.Errorf("describe table %s: %w", dst, err)
	}
	p, err := tablePITR(ctx, c, src)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	b := planBuilder{verb: "restore " + src + " to " + dst, noun: "tables"}
	in := &dynamodb.RestoreTableToPointInTimeInput{SourceTableName: awssdk.String(src), TargetTableName: awssdk.String(dst)}
	at := inv.Now.Add(-ago)
	when := "the latest restorable time"
	switch {
	case !p.on:
		b.add(src, "", decision{Skip: "point-in-time recovery is off: enable it first (it covers changes from then on)"})
		return b.plan(), b.steps, nil
	case ago == 0:
		in.UseLatestRestorableTime = awssdk.Bool(true)
	case at.Before(p.earliest) || at.After(p.latest):
		return tasks.Plan{}, nil, errs.E("restore table", errs.Invalid, "%s is outside %s's restorable window, %s to %s", at.UTC().Format(minuteFormat), src,
			p.earliest.UTC().Format(minuteFormat), p.latest.UTC().Format(minuteFormat))
	default:
		in.RestoreDateTime = awssdk.Time(at)
		when = at.UTC().Format(minuteFormat)
	}
	b.add(src, fmt.Sprintf("as of %s into new table %s (%s untouched)", when, dst, src), decision{Run: func(ctx context.Context) (string, error) {
		out, err := c.RestoreTableToPointInTime(ctx, in)
		if err != nil {
			return "", err
		}
		var tags []ddbtypes.Tag
		for _, k := range slices.Sorted(maps.Keys(t.tags)) {
			tags = append(tags, ddbtypes.Tag{Key: awssdk.String(k), Value: awssdk.String(t.tags[k])})
		}
		if len(tags) > 0 {
			if _, err := c.TagResource(ctx, &dynamodb.TagResourceInput{ResourceArn: out.TableDescription.TableArn, Tags: tags}); err != nil {
				return "", fmt.Errorf("restored into %s, but tagging it failed: %w", dst, err)
			}
		}
		return fmt.Sprintf("restoring into %s as of %s (%s)", dst, when, out.TableDescription.TableStatus), nil
	}})
	return b.plan(), b.steps, nil
}

func tableNames(ts []ddbTable) string {
	if len(ts) == 0 {
		return "none"
	}
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = t.name
	}
	return strings.Join(names, ", ")
}
