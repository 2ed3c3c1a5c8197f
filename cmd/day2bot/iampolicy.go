package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/day2bot/day2bot/blueprints"
	"github.com/day2bot/day2bot/bot/alerts"
	"github.com/day2bot/day2bot/bot/digest"
	"github.com/day2bot/day2bot/internal/suggest"
	"github.com/day2bot/day2bot/tasks"
	awsactions "github.com/day2bot/day2bot/tasks/aws"
)

// newIAMPolicyCmd prints the IAM documents an app's role needs: the
// least-privilege permissions of the app's tasks and the trust policy that
// lets day2bot assume the role with the chat user as SourceIdentity.
func newIAMPolicyCmd(g *globals) *cobra.Command {
	var configPath, principal, document string
	cmd := &cobra.Command{
		Use:   "iam-policy APP",
		Short: "Print the least-privilege IAM policy and trust policy for an app's tasks",
		Long: `Print the IAM documents for APP's role, from its blueprints' tasks and the
IAM actions each task's action declares.

--document both (default) prints {"PermissionsPolicy": ..., "TrustPolicy": ...};
permissions or trust print that one document alone, ready for
'aws iam put-role-policy' / 'aws iam update-assume-role-policy'.
The trust principal is --principal (the identity day2bot runs as), else the
root of the account in the app's role_arn. Write actions are scoped to their
resource type in the app's region and the role's account.`,
		Args: argsOrExample(1, false, "day2bot iam-policy APP [--config day2bot.yaml] [--document both|permissions|trust]",
			"day2bot iam-policy shop --config day2bot.yaml --document permissions"),
		RunE: func(c *cobra.Command, args []string) error {
			switch document {
			case "both", "permissions", "trust":
			default:
				return usageError("--document must be both, permissions or trust, got %q", document)
			}
			docs, err := iamDocuments(configPath, args[0], principal, g.Getenv)
			if err != nil {
				return err
			}
			var out []byte
			switch document {
			case "permissions":
				out = docs.Permissions
			case "trust":
				if docs.Trust == nil {
					return usageError("app %s has no role_arn: pass --principal ARN for the trust policy", args[0])
				}
				out = docs.Trust
			default:
				if out, err = docs.both(); err != nil {
					return err
				}
			}
			_, err = g.Stdout.Write(out)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&configPath, "config", "day2bot.yaml", "config file with the apps")
	f.StringVar(&principal, "principal", "", "ARN day2bot runs as, trusted to assume the role (default: the role's account root)")
	f.StringVar(&document, "document", "both", "both, permissions or trust")
	return cmd
}

type iamDocs struct {
	App, RoleARN string
	Permissions  []byte
	Trust        []byte // nil when no principal can be named
}

func (d iamDocs) both() ([]byte, error) {
	v := struct {
		App               string          `json:"App"`
		RoleARN           string          `json:"RoleArn,omitempty"`
		PermissionsPolicy json.RawMessage `json:"PermissionsPolicy"`
		TrustPolicy       json.RawMessage `json:"TrustPolicy,omitempty"`
	}{App: d.App, RoleARN: d.RoleARN, PermissionsPolicy: d.Permissions, TrustPolicy: d.Trust}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("marshal iam documents: %w", err)
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, b, "", "  "); err != nil {
		return nil, fmt.Errorf("indent iam documents: %w", err)
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

func iamDocuments(configPath, appName, principal string, getenv func(string) string) (iamDocs, error) {
	// The one config loader every subcommand uses: the same strictness
	// (unknown keys, misspelt regions) and the same errors as serve.
	cfg, err := loadConfig(configPath, getenv)
	if err != nil {
		return iamDocs{}, usageError("%w", err)
	}
	app, ok := cfg.Apps[appName]
	if !ok {
		names := slices.Sorted(maps.Keys(cfg.Apps))
		return iamDocs{}, usageError("no app %q in %s (apps: %s)%s", appName, configPath, strings.Join(names, ", "), suggest.DidYouMean(appName, names))
	}
	cat := cfg.Catalog
	ra, err := blueprints.ResolveApp(cat, appName, app)
	if err != nil {
		return iamDocs{}, fmt.Errorf("%s: %w", configPath, err)
	}
	reg, err := actionRegistry(awsactions.All(), map[string]*blueprints.ResolvedApp{appName: ra})
	if err != nil {
		return iamDocs{}, err
	}
	var acts []tasks.Action
	var targeted []tasks.Targeted
	for _, tn := range slices.Sorted(maps.Keys(ra.Tasks)) {
		a, ok := reg.Lookup(ra.Tasks[tn].Task.Action)
		if !ok {
			return iamDocs{}, fmt.Errorf("app %s task %s: unknown action %s", appName, tn, ra.Tasks[tn].Task.Action)
		}
		acts = append(acts, a)
		targeted = append(targeted, tasks.Targeted{Action: a, Target: ra.Tasks[tn].Target})
	}
	docs := iamDocs{App: appName, RoleARN: ra.Account.RoleARN}
	// The role's ARN names the partition and account its resources live
	// in: arn:PARTITION:iam::ACCOUNT:role/NAME (validated by blueprints).
	// Changes are held to resources carrying the app's tags where the
	// service supports it (tasks.TargetTags).
	scope := tasks.Scope{Region: ra.Region, Tags: tasks.TargetTags(targeted)}
	if ra.Stack != nil {
		scope.Stack, scope.PassRole = ra.Stack.Name, ra.Stack.RoleARN
	}
	if parts := strings.SplitN(ra.Account.RoleARN, ":", 6); len(parts) == 6 {
		scope.Partition, scope.Account = parts[1], parts[4]
		if principal == "" {
			principal = strings.Join(parts[:5], ":") + ":root"
		}
	}
	// Digests and the alarm watcher read with the app's role too, outside
	// any task; the packages that make those calls list what they need.
	reads := append(digest.IAMActions(), alerts.IAMActions()...)
	if docs.Permissions, err = tasks.IAMPolicyScoped(acts, scope, reads...); err != nil {
		return iamDocs{}, err
	}
	if principal != "" {
		if docs.Trust, err = tasks.TrustPolicy(principal, ra.Account.ExternalID); err != nil {
			return iamDocs{}, usageError("%v", err)
		}
	}
	return docs, nil
}
