package aws

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/tasks"
)

// The secrets.* actions look after the rotation of the app's Secrets
// Manager secrets. They read metadata only (ListSecrets): no action here
// calls GetSecretValue, so no secret value can reach a plan, a result, the
// journal or a log.

// SecretRotationAPI is the part of the Secrets Manager API the secrets.* actions
// call.
type SecretRotationAPI interface {
	ListSecrets(context.Context, *secretsmanager.ListSecretsInput, ...func(*secretsmanager.Options)) (*secretsmanager.ListSecretsOutput, error)
	RotateSecret(context.Context, *secretsmanager.RotateSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.RotateSecretOutput, error)
}

var _ SecretRotationAPI = (*secretsmanager.Client)(nil)

// SecretRotationClient builds the client for one invocation's config.
type SecretRotationClient func(awssdk.Config) SecretRotationAPI

// SDKSecretRotation is the production SecretRotationClient.
func SDKSecretRotation(cfg awssdk.Config) SecretRotationAPI { return secretsmanager.NewFromConfig(cfg) }

// SecretsActions returns the secrets.* actions.
func SecretsActions(newClient SecretRotationClient) []tasks.Action {
	days := func(name, desc string) tasks.Param {
		return tasks.Param{Name: name, Type: tasks.TypeInt, Default: "90", Min: bound(1), Max: bound(3650), Description: desc}
	}
	return forTarget("secretsmanager:secret",
		&stepAction{
			name: "secrets.rotation-report", verb: "reported", noun: "secrets",
			iam: []string{"secretsmanager:ListSecrets"},
			params: []tasks.Param{days("max_age", "flag secrets not rotated for this many days"),
				days("unused_days", "flag secrets no one has read for this many days")},
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				maxAge, err := intValue(inv.Values, "max_age", 90)
				if err != nil {
					return tasks.Plan{}, nil, err
				}
				unused, err := intValue(inv.Values, "unused_days", 90)
				if err != nil {
					return tasks.Plan{}, nil, err
				}
				ss, err := selectSecrets(ctx, newClient(inv.AWS), inv.Target)
				if err != nil {
					return tasks.Plan{}, nil, err
				}
				b := planBuilder{verb: "report", noun: "secrets"}
				for _, s := range ss {
					b.add(awssdk.ToString(s.Name), "", decision{Run: func(context.Context) (string, error) {
						return rotationText(s, inv.Now, maxAge, unused), nil
					}})
				}
				return b.plan(), b.steps, nil
			},
		},
		&stepAction{
			name: "secrets.rotate", mutating: true, verb: "started rotation of", noun: "secrets",
			iam: []string{"secretsmanager:ListSecrets", "secretsmanager:RotateSecret"},
			params: []tasks.Param{{Name: "secret", Type: tasks.TypeString, Required: true,
				Pattern: `^[A-Za-z0-9/_+=.@*?-]{1,512}$`, Format: "a secret name of the app, or a pattern such as prod/* (* is any run of characters)",
				Description: "the secret to rotate now (one of the app's secrets; * matches several)"}},
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				c := newClient(inv.AWS)
				pattern, err := stringValue(inv.Values, "secret", "")
				if err != nil {
					return tasks.Plan{}, nil, err
				}
				ss, err := selectSecrets(ctx, c, inv.Target)
				if err != nil {
					return tasks.Plan{}, nil, err
				}
				b := planBuilder{verb: "rotate now", noun: "secrets"}
				for _, s := range ss {
					name := awssdk.ToString(s.Name)
					if !globMatch(pattern, name) {
						continue
					}
					last := "last rotated " + agoText(s.LastRotatedDate, inv.Now)
					switch {
					case awssdk.ToString(s.RotationLambdaARN) == "" && awssdk.ToString(s.OwningService) == "":
						b.add(name, last, decision{Skip: "has no rotation function: set rotation up in Secrets Manager first"})
						continue
					case rotationPending(s):
						b.add(name, last, decision{Skip: "a rotation is in progress (a version is AWSPENDING)"})
						continue
					}
					b.add(name, last, decision{Run: func(ctx context.Context) (string, error) {
						out, err := c.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: s.ARN, RotateImmediately: awssdk.Bool(true)})
						if err != nil {
							return "", err
						}
						return fmt.Sprintf("rotation started, new version %s; the old value stays AWSPREVIOUS", awssdk.ToString(out.VersionId)), nil
					}})
				}
				if len(b.changes) == 0 {
					return tasks.Plan{}, nil, errs.E("rotate secret", errs.NotFound, "no secret of this app is called %s (%s)", tasks.QuoteInput(pattern), bindingText(inv.Target))
				}
				return b.plan(), b.steps, nil
			},
		},
	)
}

// selectSecrets lists the account's secrets with their tags, as AWS
// reports them, and keeps the app's, by name.
func selectSecrets(ctx context.Context, c SecretRotationAPI, sel tasks.Selector) ([]smtypes.SecretListEntry, error) {
	if err := checkSelector(sel); err != nil {
		return nil, err
	}
	var out []smtypes.SecretListEntry
	p := secretsmanager.NewListSecretsPaginator(c, &secretsmanager.ListSecretsInput{MaxResults: awssdk.Int32(100)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list secrets: %w", err)
		}
		for _, s := range page.SecretList {
			tags := map[string]string{}
			for _, t := range s.Tags {
				tags[awssdk.ToString(t.Key)] = awssdk.ToString(t.Value)
			}
			if s.DeletedDate == nil && sel.Matches(tasks.Candidate{ID: awssdk.ToString(s.Name), ARN: awssdk.ToString(s.ARN), Tags: tags}) {
				out = append(out, s)
			}
		}
	}
	slices.SortFunc(out, func(a, b smtypes.SecretListEntry) int {
		return strings.Compare(awssdk.ToString(a.Name), awssdk.ToString(b.Name))
	})
	return out, nil
}

// rotationPending reports a version staged AWSPENDING and not AWSCURRENT:
// a rotation that has not finished (or failed half-way).
func rotationPending(s smtypes.SecretListEntry) bool {
	for _, stages := range s.SecretVersionsToStages {
		if slices.Contains(stages, "AWSPENDING") && !slices.Contains(stages, "AWSCURRENT") {
			return true
		}
	}
	return false
}

// daysSince counts whole days from t to now (0 for a t after now).
func daysSince(t, now time.Time) int { return max(0, int(now.Sub(t)/(24*time.Hour))) }

func agoText(t *time.Time, now time.Time) string {
	if t == nil {
		return "never"
	}
	switch d := daysSince(*t, now); d {
	case 0:
		return "today"
	case 1:
		return "1 day ago"
	default:
		return fmt.Sprintf("%d days ago", d)
	}
}

// rotationText describes one secret's rotation and use, with flags.
func rotationText(s smtypes.SecretListEntry, now time.Time, maxAge, unused int) string {
	var parts, flags []string
	if awssdk.ToBool(s.RotationEnabled) {
		r := "rotation on"
		if s.RotationRules != nil && awssdk.ToInt64(s.RotationRules.AutomaticallyAfterDays) > 0 {
			r += fmt.Sprintf(", every %d days", awssdk.ToInt64(s.RotationRules.AutomaticallyAfterDays))
		}
		parts = append(parts, r)
	} else {
		parts = append(parts, "rotation off")
	}
	parts = append(parts, "last rotated "+agoText(s.LastRotatedDate, now))
	if s.NextRotationDate != nil && awssdk.ToBool(s.RotationEnabled) {
		if s.NextRotationDate.Before(now) {
			flags = append(flags, "OVERDUE: the scheduled rotation did not happen")
		} else {
			parts = append(parts, fmt.Sprintf("next in %d days", daysSince(now, *s.NextRotationDate)))
		}
	}
	// A secret never rotated is as old as its creation.
	since := s.LastRotatedDate
	if since == nil {
		since = s.CreatedDate
	}
	if since != nil && daysSince(*since, now) > maxAge {
		flags = append(flags, fmt.Sprintf("OLD: same value for %d days (max %d)", daysSince(*since, now), maxAge))
	}
	parts = append(parts, "last read "+agoText(s.LastAccessedDate, now))
	if s.LastAccessedDate == nil || daysSince(*s.LastAccessedDate, now) > unused {
		flags = append(flags, fmt.Sprintf("UNUSED: not read for over %d days; delete it if nothing needs it", unused))
	}
	return strings.Join(append(parts, flags...), "; ")
}
