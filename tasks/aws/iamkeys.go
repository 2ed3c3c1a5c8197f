package aws

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/tasks"
)

// IAM access keys of the app's users: report old and unused keys, and
// rotate a key without its secret ever passing through chat or logs.
//
// Rotation is three steps, because whoever uses the old key needs time to
// pick up the new one: create the new key and store it in the user's
// Secrets Manager secret (the only place the secret goes: the result, the
// logs and the journal only ever see key ids), deactivate the old key after
// a grace period, delete it later. The last two are follow-ups the engine
// persists and runs on time, so a restart in between loses nothing, and a
// deactivated key can still be switched back on until it is deleted.
//
// The secret must be one the app's operator set up for the user: tagged
// iam-user=<user> and carrying the binding's tags. A parameter alone
// could send a fresh key to any secret the role can write.

// IAMAPI is the part of the IAM API the iam.* actions call.
type IAMAPI interface {
	ListUsers(context.Context, *iam.ListUsersInput, ...func(*iam.Options)) (*iam.ListUsersOutput, error)
	ListUserTags(context.Context, *iam.ListUserTagsInput, ...func(*iam.Options)) (*iam.ListUserTagsOutput, error)
	ListAccessKeys(context.Context, *iam.ListAccessKeysInput, ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error)
	GetAccessKeyLastUsed(context.Context, *iam.GetAccessKeyLastUsedInput, ...func(*iam.Options)) (*iam.GetAccessKeyLastUsedOutput, error)
	CreateAccessKey(context.Context, *iam.CreateAccessKeyInput, ...func(*iam.Options)) (*iam.CreateAccessKeyOutput, error)
	UpdateAccessKey(context.Context, *iam.UpdateAccessKeyInput, ...func(*iam.Options)) (*iam.UpdateAccessKeyOutput, error)
	DeleteAccessKey(context.Context, *iam.DeleteAccessKeyInput, ...func(*iam.Options)) (*iam.DeleteAccessKeyOutput, error)
}

// SecretsAPI is the part of Secrets Manager key rotation calls.
type SecretsAPI interface {
	DescribeSecret(context.Context, *secretsmanager.DescribeSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error)
	PutSecretValue(context.Context, *secretsmanager.PutSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error)
}

var (
	_ IAMAPI     = (*iam.Client)(nil)
	_ SecretsAPI = (*secretsmanager.Client)(nil)
)

// IAMClients builds both clients for one invocation's config.
type IAMClients func(awssdk.Config) (IAMAPI, SecretsAPI)

// SDKIAM is the production IAMClients.
func SDKIAM(cfg awssdk.Config) (IAMAPI, SecretsAPI) {
	return iam.NewFromConfig(cfg), secretsmanager.NewFromConfig(cfg)
}

// Follow-up action names of a rotation.
const (
	DeactivateKeyAction = "iam.deactivate-access-key"
	DeleteKeyAction     = "iam.delete-access-key"
)

var (
	iamUserRe = regexp.MustCompile(`^[A-Za-z0-9+=,.@_-]{1,64}$`)
	keyIDRe   = regexp.MustCompile(`^AKIA[A-Z0-9]{12,124}$`)
)

// IAMActions returns the iam.* actions.
func IAMActions(newClients IAMClients) []tasks.Action {
	userParam := tasks.Param{Name: "user", Type: tasks.TypeString, Required: true, Description: "IAM user name (one of the app's users)",
		Pattern: iamUserRe.String(), Format: "1 to 64 letters, digits or +=,.@_-"}
	keyParam := tasks.Param{Name: "access_key_id", Type: tasks.TypeString, Required: true, Description: "the access key id (AKIA…)",
		Pattern: keyIDRe.String(), Format: "an access key id: AKIA followed by capital letters and digits"}
	read := []string{"iam:ListUsers", "iam:ListUserTags", "iam:ListAccessKeys"}
	return forTarget("iam:user",
		&stepAction{
			name: "iam.access-key-report", verb: "reported keys of", noun: "users",
			iam: append(slices.Clip(read), "iam:GetAccessKeyLastUsed"),
			params: []tasks.Param{
				{Name: "max_age", Type: tasks.TypeInt, Min: bound(1), Max: bound(3650), Default: "90", Description: "flag keys older than this many days"},
				{Name: "unused_days", Type: tasks.TypeInt, Min: bound(1), Max: bound(3650), Default: "90", Description: "flag keys not used for this many days"},
			},
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				c, _ := newClients(inv.AWS)
				maxAge, err := intValue(inv.Values, "max_age", 90)
				if err != nil {
					return tasks.Plan{}, nil, err
				}
				unused, err := intValue(inv.Values, "unused_days", 90)
				if err != nil {
					return tasks.Plan{}, nil, err
				}
				users, err := selectUsers(ctx, c, inv.Target)
				if err != nil {
					return tasks.Plan{}, nil, err
				}
				b := planBuilder{verb: "report keys of", noun: "users"}
				for _, u := range users {
					b.add(u, "", decision{Run: func(ctx context.Context) (string, error) {
						return keyReport(ctx, c, u, inv.Now, maxAge, unused)
					}})
				}
				return b.plan(), b.steps, nil
			},
		},
		&rotateAction{newClients: newClients, iam: append(slices.Clip(read), "iam:CreateAccessKey", "iam:DeleteAccessKey", "secretsmanager:DescribeSecret", "secretsmanager:PutSecretValue"),
			params: []tasks.Param{userParam,
				{Name: "secret", Type: tasks.TypeString, Required: true, Description: "Secrets Manager secret that receives the new key (set up for this user)",
					Pattern: `^[A-Za-z0-9/_+=.@-]{1,512}$`, Format: "a secret name: letters, digits and /_+=.@-"},
				{Name: "grace", Type: tasks.TypeDuration, Min: bound(3600), Max: bound(30 * 86400), Default: "7d", Description: "how long the old key keeps working"},
				{Name: "delete_after", Type: tasks.TypeDuration, Min: bound(86400), Max: bound(90 * 86400), Default: "7d", Description: "how long the old key stays deactivated (and can be switched back on) before it is deleted"},
			}},
		&stepAction{
			name: DeactivateKeyAction, mutating: true, verb: "deactivated", noun: "access keys",
			iam:    append(slices.Clip(read), "iam:UpdateAccessKey"),
			params: []tasks.Param{userParam, keyParam},
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				c, _ := newClients(inv.AWS)
				return keyPlan(ctx, c, inv, "deactivate", func(user string, k iamtypes.AccessKeyMetadata) decision {
					if k.Status == iamtypes.StatusTypeInactive {
						return decision{Skip: "already inactive"}
					}
					return decision{Run: func(ctx context.Context) (string, error) {
						_, err := c.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: awssdk.String(user), AccessKeyId: k.AccessKeyId, Status: iamtypes.StatusTypeInactive})
						if err != nil {
							return "", err
						}
						return "inactive (can be switched back on until it is deleted)", nil
					}}
				})
			},
		},
		&stepAction{
			name: DeleteKeyAction, mutating: true, verb: "deleted", noun: "access keys",
			iam:    append(slices.Clip(read), "iam:DeleteAccessKey"),
			params: []tasks.Param{userParam, keyParam},
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				c, _ := newClients(inv.AWS)
				return keyPlan(ctx, c, inv, "delete", func(user string, k iamtypes.AccessKeyMetadata) decision {
					// Someone switched it back on during the grace period:
					// something still needs it, and deleting would break it.
					if k.Status == iamtypes.StatusTypeActive {
						return decision{Skip: "the key is active again: deactivate it first (something may still use it)"}
					}
					return decision{Run: func(ctx context.Context) (string, error) {
						_, err := c.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: awssdk.String(user), AccessKeyId: k.AccessKeyId})
						if err != nil {
							return "", err
						}
						return "deleted", nil
					}}
				})
			},
		},
	)
}

// selectUsers lists the users the selector matches, reading tags only
// when it needs them.
func selectUsers(ctx context.Context, c IAMAPI, sel tasks.Selector) ([]string, error) {
	if err := checkSelector(sel); err != nil {
		return nil, err
	}
	var out []string
	p := iam.NewListUsersPaginator(c, &iam.ListUsersInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		for _, u := range page.Users {
			name := awssdk.ToString(u.UserName)
			if !selects(tasks.Selector{IDs: sel.IDs, Names: sel.Names}, name, awssdk.ToString(u.Arn), nil) {
				continue
			}
			tags, err := userTags(ctx, c, name, sel)
			if err != nil {
				return nil, err
			}
			if selects(tasks.Selector{Tags: sel.Tags}, name, "", tags) {
				out = append(out, name)
			}
		}
	}
	return out, nil
}

func userTags(ctx context.Context, c IAMAPI, user string, sel tasks.Selector) (map[string]string, error) {
	tags := map[string]string{}
	if len(sel.Tags) == 0 {
		return tags, nil
	}
	out, err := c.ListUserTags(ctx, &iam.ListUserTagsInput{UserName: awssdk.String(user)})
	if err != nil {
		return nil, fmt.Errorf("list tags of user %s: %w", user, err)
	}
	for _, t := range out.Tags {
		tags[awssdk.ToString(t.Key)] = awssdk.ToString(t.Value)
	}
	return tags, nil
}

// checkUserParam checks the user parameter names one of the app's users,
// as IAM lists them.
func checkUserParam(ctx context.Context, c IAMAPI, inv tasks.Invocation) (string, error) {
	user, err := stringValue(inv.Values, "user", "")
	if err != nil {
		return "", err
	}
	users, err := selectUsers(ctx, c, inv.Target)
	if err != nil {
		return "", err
	}
	if !slices.Contains(users, user) {
		return "", errs.E("find user", errs.NotFound, "user %s is not one of this app's IAM users (%s)", tasks.QuoteInput(user), selectorText(inv.Target))
	}
	return user, nil
}

func accessKeys(ctx context.Context, c IAMAPI, user string) ([]iamtypes.AccessKeyMetadata, error) {
	out, err := c.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: awssdk.String(user)})
	if err != nil {
		return nil, fmt.Errorf("list access keys of %s: %w", user, err)
	}
	return out.AccessKeyMetadata, nil
}

// keyReport describes each key of a user: status, age, last use, and
// what is wrong with it.
func keyReport(ctx context.Context, c IAMAPI, user string, now time.Time, maxAge, unusedDays int) (string, error) {
	keys, err := accessKeys(ctx, c, user)
	if err != nil {
		return "", err
	}
	if len(keys) == 0 {
		return "no access keys", nil
	}
	var parts []string
	for _, k := range keys {
		age := int(now.Sub(awssdk.ToTime(k.CreateDate)).Hours() / 24)
		line := fmt.Sprintf("%s %s, %d days old", awssdk.ToString(k.AccessKeyId), k.Status, age)
		var flags []string
		if age > maxAge {
			flags = append(flags, fmt.Sprintf("older than %d days", maxAge))
		}
		lu, err := c.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: k.AccessKeyId})
		if err != nil {
			return "", fmt.Errorf("get last use of %s: %w", awssdk.ToString(k.AccessKeyId), err)
		}
		switch last := lu.AccessKeyLastUsed; {
		case last == nil || last.LastUsedDate == nil:
			line += ", never used"
			if age > unusedDays {
				flags = append(flags, "unused")
			}
		default:
			idle := int(now.Sub(*last.LastUsedDate).Hours() / 24)
			line += fmt.Sprintf(", last used %s (%s)", last.LastUsedDate.UTC().Format("2006-01-02"), awssdk.ToString(last.ServiceName))
			if idle > unusedDays {
				flags = append(flags, fmt.Sprintf("unused for %d days", idle))
			}
		}
		if len(flags) > 0 {
			line += " — " + strings.Join(flags, ", ")
		}
		parts = append(parts, line)
	}
	return strings.Join(parts, "; "), nil
}

// rotateAction is iam.rotate-access-key. It is not a stepAction because
// its follow-ups name the old key, which only its plan knows.
type rotateAction struct {
	newClients IAMClients
	iam        []string
	params     []tasks.Param
}

var _ tasks.Action = (*rotateAction)(nil)

func (a *rotateAction) Name() string          { return "iam.rotate-access-key" }
func (a *rotateAction) TargetType() string    { return "iam:user" }
func (a *rotateAction) Params() []tasks.Param { return a.params }
func (a *rotateAction) Mutating() bool        { return true }
func (a *rotateAction) IAMActions() []string  { return a.iam }

// rotation is a planned rotation.
type rotation struct {
	user, secret, old  string
	grace, deleteAfter time.Duration
}

func (a *rotateAction) Plan(ctx context.Context, inv tasks.Invocation) (tasks.Plan, error) {
	c, sm := a.newClients(inv.AWS)
	r, err := planRotation(ctx, c, sm, inv)
	if err != nil {
		return tasks.Plan{}, Classify(err, a.iam)
	}
	detail := fmt.Sprintf("create a new key, store it in secret %s", r.secret)
	if r.old != "" {
		detail += fmt.Sprintf("; deactivate %s after %s, delete it %s later", r.old, tasks.FormatDuration(r.grace), tasks.FormatDuration(r.deleteAfter))
	}
	return tasks.Plan{Summary: "rotate the access key of " + r.user, Changes: []tasks.Change{{Resource: r.user, Action: "rotate access key", Detail: detail}}}, nil
}

func (a *rotateAction) Run(ctx context.Context, inv tasks.Invocation, progress func(tasks.Progress)) (tasks.Result, error) {
	c, sm := a.newClients(inv.AWS)
	r, err := planRotation(ctx, c, sm, inv)
	if err != nil {
		return tasks.Result{}, Classify(err, a.iam)
	}
	detail, err := rotate(ctx, c, sm, r.user, r.secret, r.old, inv.Now.Add(r.grace))
	rr := tasks.ResourceResult{Resource: r.user, Status: tasks.StatusOK, Detail: detail}
	var undone *keyUndone
	switch {
	case errors.As(err, &undone):
		rr = Failure(r.user, Classify(undone.err, a.iam))
		rr.Detail = "could not store the new key in secret " + r.secret + " (the new key was deleted again): " + rr.Detail
	case err != nil:
		rr = Failure(r.user, Classify(err, a.iam))
	}
	if progress != nil {
		progress(tasks.Progress{Done: 1, Total: 1, Message: r.user + ": " + string(rr.Status)})
	}
	res := tasks.Result{Summary: Summarize("rotated the key of", "users", []tasks.ResourceResult{rr}), Resources: []tasks.ResourceResult{rr}}
	if rr.Status == tasks.StatusOK && r.old != "" {
		v := tasks.Values{"user": r.user, "access_key_id": r.old}
		res.FollowUps = []tasks.FollowUp{
			{After: r.grace, Action: DeactivateKeyAction, Values: v, Reason: "end of the " + tasks.FormatDuration(r.grace) + " grace period of a rotated key"},
			{After: r.grace + r.deleteAfter, Action: DeleteKeyAction, Values: v, Reason: "deletion of a rotated key, " + tasks.FormatDuration(r.deleteAfter) + " after it was deactivated"},
		}
	}
	return res, nil
}

// planRotation checks the user, its keys and the secret (reads only). The
// old key is the user's one key; a user with two keys is refused.
func planRotation(ctx context.Context, c IAMAPI, sm SecretsAPI, inv tasks.Invocation) (rotation, error) {
	var r rotation
	var err error
	if r.user, err = checkUserParam(ctx, c, inv); err != nil {
		return r, err
	}
	if r.secret, err = stringValue(inv.Values, "secret", ""); err != nil {
		return r, err
	}
	if r.grace, err = durationValue(inv.Values, "grace", 7*24*time.Hour); err != nil {
		return r, err
	}
	if r.deleteAfter, err = durationValue(inv.Values, "delete_after", 7*24*time.Hour); err != nil {
		return r, err
	}
	keys, err := accessKeys(ctx, c, r.user)
	if err != nil {
		return r, err
	}
	if len(keys) >= 2 {
		return r, errs.E("rotate access key", errs.Conflict, "user %s already has two access keys (IAM's limit): delete the one no longer needed first", r.user)
	}
	if len(keys) == 1 {
		r.old = awssdk.ToString(keys[0].AccessKeyId)
	}
	return r, checkKeySecret(ctx, sm, r.secret, r.user, inv.Target)
}

// checkKeySecret refuses a secret that was not set up for this user of
// this app: it must be tagged iam-user=<user> and carry the binding's tags.
func checkKeySecret(ctx context.Context, sm SecretsAPI, secret, user string, sel tasks.Selector) error {
	out, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: awssdk.String(secret)})
	if ErrorCode(err) == "ResourceNotFoundException" {
		return errs.Wrap("check key secret", errs.NotFound, err, "secret %s does not exist: create it for user %s (tagged iam-user=%s) first", tasks.QuoteInput(secret), user, user)
	}
	if err != nil {
		return fmt.Errorf("describe secret %s: %w", secret, err)
	}
	tags := map[string]string{}
	for _, t := range out.Tags {
		tags[awssdk.ToString(t.Key)] = awssdk.ToString(t.Value)
	}
	want := map[string]string{"iam-user": user}
	for k, v := range sel.Tags {
		want[k] = v
	}
	if !selects(tasks.Selector{Tags: want}, "", "", tags) {
		return errs.E("check key secret", errs.Permission, "secret %s is not set up for user %s of this app: it needs the tags %s", tasks.QuoteInput(secret), user, selectorText(tasks.Selector{Tags: want}))
	}
	return nil
}

// rotate creates the key and stores it. If the secret cannot be written
// the new key is deleted again: a key whose secret nobody holds is only a
// liability.
func rotate(ctx context.Context, c IAMAPI, sm SecretsAPI, user, secret, old string, deactivateAt time.Time) (string, error) {
	out, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: awssdk.String(user)})
	if err != nil {
		return "", err
	}
	id := awssdk.ToString(out.AccessKey.AccessKeyId)
	value, err := json.Marshal(map[string]string{"AccessKeyId": id, "SecretAccessKey": awssdk.ToString(out.AccessKey.SecretAccessKey)})
	if err == nil {
		_, err = sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: awssdk.String(secret), SecretString: awssdk.String(string(value))})
	}
	if err != nil {
		if _, derr := c.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: awssdk.String(user), AccessKeyId: awssdk.String(id)}); derr != nil {
			return "", fmt.Errorf("store the new key %s in secret %s: %w (and deleting it again failed: %v; delete it by hand)", id, secret, err, derr)
		}
		return "", &keyUndone{err: err}
	}
	if old == "" {
		return fmt.Sprintf("new key %s stored in secret %s", id, secret), nil
	}
	return fmt.Sprintf("new key %s stored in secret %s; %s stays active until %s", id, secret, old, deactivateAt.UTC().Format(time.RFC3339)), nil
}

// keyUndone is a failed delivery of a new key that was deleted again.
type keyUndone struct{ err error }

func (e *keyUndone) Error() string { return "store the new key (deleted again): " + e.err.Error() }
func (e *keyUndone) Unwrap() error { return e.err }

// keyPlan checks the user and that the key is theirs, then decides.
func keyPlan(ctx context.Context, c IAMAPI, inv tasks.Invocation, verb string, decide func(user string, k iamtypes.AccessKeyMetadata) decision) (tasks.Plan, []step, error) {
	user, err := checkUserParam(ctx, c, inv)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	id, err := stringValue(inv.Values, "access_key_id", "")
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	keys, err := accessKeys(ctx, c, user)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	b := planBuilder{verb: verb, noun: "access keys"}
	i := slices.IndexFunc(keys, func(k iamtypes.AccessKeyMetadata) bool { return awssdk.ToString(k.AccessKeyId) == id })
	if i < 0 {
		b.add(id, "", decision{Skip: "user " + user + " has no such key (already deleted?)"})
		return b.plan(), b.steps, nil
	}
	b.add(id, "", decide(user, keys[i]))
	return b.plan(), b.steps, nil
}
