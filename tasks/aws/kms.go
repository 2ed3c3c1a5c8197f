package aws

import (
	"context"
	"fmt"
	"slices"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/day2bot/day2bot/tasks"
)

// KMSAPI is the part of KMS the kms.* actions call.
type KMSAPI interface {
	ListKeys(context.Context, *kms.ListKeysInput, ...func(*kms.Options)) (*kms.ListKeysOutput, error)
	DescribeKey(context.Context, *kms.DescribeKeyInput, ...func(*kms.Options)) (*kms.DescribeKeyOutput, error)
	ListResourceTags(context.Context, *kms.ListResourceTagsInput, ...func(*kms.Options)) (*kms.ListResourceTagsOutput, error)
	GetKeyRotationStatus(context.Context, *kms.GetKeyRotationStatusInput, ...func(*kms.Options)) (*kms.GetKeyRotationStatusOutput, error)
	EnableKeyRotation(context.Context, *kms.EnableKeyRotationInput, ...func(*kms.Options)) (*kms.EnableKeyRotationOutput, error)
}

var _ KMSAPI = (*kms.Client)(nil)

// KMSClient builds the client for one invocation's config.
type KMSClient func(awssdk.Config) KMSAPI

// SDKKMS is the production KMSClient.
func SDKKMS(cfg awssdk.Config) KMSAPI { return kms.NewFromConfig(cfg) }

// KMSActions returns the kms.* actions.
func KMSActions(newClient KMSClient) []tasks.Action {
	read := []string{"kms:ListKeys", "kms:DescribeKey", "kms:ListResourceTags", "kms:GetKeyRotationStatus"}
	return forTarget("kms:key",
		&stepAction{
			name: "kms.rotation-status", verb: "read rotation of", noun: "keys", iam: slices.Clone(read),
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				return kmsKeyPlan(ctx, newClient(inv.AWS), inv, "read rotation of", func(k kmsKey) decision {
					return decision{Run: func(context.Context) (string, error) { return k.describe(), nil }}
				})
			},
		},
		&stepAction{
			name: "kms.enable-rotation", mutating: true, verb: "enabled rotation of", noun: "keys",
			iam: append(slices.Clone(read), "kms:EnableKeyRotation"),
			params: []tasks.Param{{Name: "period_days", Type: tasks.TypeInt, Default: "365", Min: bound(90), Max: bound(2560),
				Description: "days between automatic rotations (KMS allows 90 to 2560)"}},
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				c := newClient(inv.AWS)
				days, err := intValue(inv.Values, "period_days", 365)
				if err != nil {
					return tasks.Plan{}, nil, err
				}
				return kmsKeyPlan(ctx, c, inv, fmt.Sprintf("rotate every %d days", days), func(k kmsKey) decision {
					switch {
					case k.spec != kmstypes.KeySpecSymmetricDefault:
						return decision{Skip: "KMS rotates only symmetric encryption keys (this is " + string(k.spec) + ")"}
					case k.state != kmstypes.KeyStateEnabled:
						return decision{Skip: "the key is " + string(k.state)}
					case k.rotation == int32(days):
						return decision{Skip: fmt.Sprintf("already rotates every %d days", days)}
					}
					return decision{Detail: "now " + k.rotationText(), Run: func(ctx context.Context) (string, error) {
						if _, err := c.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: awssdk.String(k.id), RotationPeriodInDays: awssdk.Int32(int32(days))}); err != nil {
							return "", err
						}
						return fmt.Sprintf("%s -> every %d days", k.rotationText(), days), nil
					}}
				})
			},
		},
	)
}

// kmsKey is what the actions read of a customer managed key.
type kmsKey struct {
	id, arn  string
	spec     kmstypes.KeySpec
	state    kmstypes.KeyState
	rotation int32 // days, 0 when off
	next     string
}

func (k kmsKey) rotationText() string {
	if k.rotation == 0 {
		return "rotation off"
	}
	return fmt.Sprintf("rotates every %d days", k.rotation)
}

func (k kmsKey) describe() string {
	s := fmt.Sprintf("%s, %s, %s", k.spec, k.state, k.rotationText())
	if k.next != "" {
		s += " (next " + k.next + ")"
	}
	return s
}

// selectKeys lists the account's keys and keeps the customer managed ones
// whose tags, as KMS reports them, are the app's. AWS managed keys are
// never the app's: KMS rotates them itself.
func selectKeys(ctx context.Context, c KMSAPI, sel tasks.Selector) ([]kmsKey, error) {
	if err := checkSelector(sel); err != nil {
		return nil, err
	}
	var out []kmsKey
	p := kms.NewListKeysPaginator(c, &kms.ListKeysInput{Limit: awssdk.Int32(100)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list keys: %w", err)
		}
		for _, e := range page.Keys {
			id, arn := awssdk.ToString(e.KeyId), awssdk.ToString(e.KeyArn)
			if !selects(tasks.Selector{IDs: sel.IDs}, id, arn, nil) {
				continue
			}
			d, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: awssdk.String(id)})
			if isNotFound(err) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("describe key %s: %w", id, err)
			}
			md := d.KeyMetadata
			if md.KeyManager == kmstypes.KeyManagerTypeAws || md.KeyState == kmstypes.KeyStatePendingDeletion {
				continue
			}
			tags, err := keyTags(ctx, c, id)
			if err != nil {
				return nil, err
			}
			if !selects(sel, id, arn, tags) {
				continue
			}
			k := kmsKey{id: id, arn: arn, spec: md.KeySpec, state: md.KeyState}
			if k.spec == "" {
				k.spec = kmstypes.KeySpecSymmetricDefault
			}
			rot, err := c.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: awssdk.String(id)})
			if err != nil {
				return nil, fmt.Errorf("get rotation of key %s: %w", id, err)
			}
			if rot.KeyRotationEnabled {
				k.rotation = max(awssdk.ToInt32(rot.RotationPeriodInDays), 1)
				if rot.NextRotationDate != nil {
					k.next = rot.NextRotationDate.UTC().Format("2006-01-02")
				}
			}
			out = append(out, k)
		}
	}
	return out, nil
}

func keyTags(ctx context.Context, c KMSAPI, id string) (map[string]string, error) {
	tags := map[string]string{}
	p := kms.NewListResourceTagsPaginator(c, &kms.ListResourceTagsInput{KeyId: awssdk.String(id)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list tags of key %s: %w", id, err)
		}
		for _, t := range page.Tags {
			tags[awssdk.ToString(t.TagKey)] = awssdk.ToString(t.TagValue)
		}
	}
	return tags, nil
}

func kmsKeyPlan(ctx context.Context, c KMSAPI, inv tasks.Invocation, verb string, decide func(kmsKey) decision) (tasks.Plan, []step, error) {
	keys, err := selectKeys(ctx, c, inv.Target)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	b := planBuilder{verb: verb, noun: "keys"}
	for _, k := range keys {
		b.add(k.id, k.rotationText(), decide(k))
	}
	return b.plan(), b.steps, nil
}
