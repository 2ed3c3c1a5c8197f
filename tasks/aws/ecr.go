package aws

import (
	"context"
	"fmt"
	"slices"
	"strings"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/day2bot/day2bot/tasks"
)

// ECRAPI is the part of the ECR API the ecr.* actions call.
type ECRAPI interface {
	DescribeRepositories(context.Context, *ecr.DescribeRepositoriesInput, ...func(*ecr.Options)) (*ecr.DescribeRepositoriesOutput, error)
	ListTagsForResource(context.Context, *ecr.ListTagsForResourceInput, ...func(*ecr.Options)) (*ecr.ListTagsForResourceOutput, error)
	GetLifecyclePolicy(context.Context, *ecr.GetLifecyclePolicyInput, ...func(*ecr.Options)) (*ecr.GetLifecyclePolicyOutput, error)
	PutImageTagMutability(context.Context, *ecr.PutImageTagMutabilityInput, ...func(*ecr.Options)) (*ecr.PutImageTagMutabilityOutput, error)
	DescribeImageScanFindings(context.Context, *ecr.DescribeImageScanFindingsInput, ...func(*ecr.Options)) (*ecr.DescribeImageScanFindingsOutput, error)
}

var _ ECRAPI = (*ecr.Client)(nil)

// ECRClient builds the client for one invocation's config.
type ECRClient func(awssdk.Config) ECRAPI

// SDKECR is the production ECRClient.
func SDKECR(cfg awssdk.Config) ECRAPI { return ecr.NewFromConfig(cfg) }

// ECRActions returns the ecr.* actions.
func ECRActions(newClient ECRClient) []tasks.Action {
	read := []string{"ecr:DescribeRepositories", "ecr:ListTagsForResource"}
	return forTarget("ecr:repository",
		&stepAction{
			name: "ecr.image-findings", verb: "summarized scans of", noun: "repositories",
			iam: append(slices.Clone(read), "ecr:DescribeImageScanFindings"),
			params: []tasks.Param{{Name: "tag", Type: tasks.TypeString, Default: "latest", Pattern: `^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`,
				Format:      "an image tag: up to 128 letters, digits, underscores, dots or dashes, not starting with a dot or dash",
				Description: "the image tag whose scan to summarize"}},
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				c := newClient(inv.AWS)
				tag, err := stringValue(inv.Values, "tag", "latest")
				if err != nil {
					return tasks.Plan{}, nil, err
				}
				return repoPlan(ctx, c, inv, "summarize the scan of "+tag+" in", func(r ecrtypes.Repository) decision {
					return decision{Run: func(ctx context.Context) (string, error) { return scanSummary(ctx, c, r, tag) }}
				})
			},
		},
		&stepAction{
			name: "ecr.settings", verb: "checked", noun: "repositories",
			iam: append(slices.Clone(read), "ecr:GetLifecyclePolicy"),
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				c := newClient(inv.AWS)
				return repoPlan(ctx, c, inv, "check", func(r ecrtypes.Repository) decision {
					return decision{Run: func(ctx context.Context) (string, error) { return repoSettings(ctx, c, r) }}
				})
			},
		},
		&stepAction{
			name: "ecr.lock-tags", mutating: true, verb: "made tags immutable in", noun: "repositories",
			iam: append(slices.Clone(read), "ecr:PutImageTagMutability"),
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				c := newClient(inv.AWS)
				return repoPlan(ctx, c, inv, "make image tags immutable in", func(r ecrtypes.Repository) decision {
					if r.ImageTagMutability == ecrtypes.ImageTagMutabilityImmutable {
						return decision{Skip: "tags are immutable already"}
					}
					return decision{Run: func(ctx context.Context) (string, error) {
						out, err := c.PutImageTagMutability(ctx, &ecr.PutImageTagMutabilityInput{RepositoryName: r.RepositoryName,
							ImageTagMutability: ecrtypes.ImageTagMutabilityImmutable, RegistryId: r.RegistryId})
						if err != nil {
							return "", err
						}
						return string(r.ImageTagMutability) + " -> " + string(out.ImageTagMutability) + ": a pushed tag can no longer be overwritten", nil
					}}
				})
			},
		},
	)
}

// selectRepositories lists the account's repositories, keeps the
// candidates the ids and names allow, and reads each one's tags: the tags
// AWS reports decide whether it is the app's.
func selectRepositories(ctx context.Context, c ECRAPI, sel tasks.Selector) ([]ecrtypes.Repository, error) {
	if err := checkSelector(sel); err != nil {
		return nil, err
	}
	var out []ecrtypes.Repository
	p := ecr.NewDescribeRepositoriesPaginator(c, &ecr.DescribeRepositoriesInput{MaxResults: awssdk.Int32(1000)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe repositories: %w", err)
		}
		for _, r := range page.Repositories {
			name, arn := awssdk.ToString(r.RepositoryName), awssdk.ToString(r.RepositoryArn)
			if !selects(tasks.Selector{IDs: sel.IDs, Names: sel.Names}, name, arn, nil) {
				continue
			}
			tags, err := c.ListTagsForResource(ctx, &ecr.ListTagsForResourceInput{ResourceArn: r.RepositoryArn})
			if isNotFound(err) || ErrorCode(err) == "RepositoryNotFoundException" {
				continue // deleted since the listing
			}
			if err != nil {
				return nil, fmt.Errorf("list tags of repository %s: %w", name, err)
			}
			m := map[string]string{}
			for _, t := range tags.Tags {
				m[awssdk.ToString(t.Key)] = awssdk.ToString(t.Value)
			}
			if selects(sel, name, arn, m) {
				out = append(out, r)
			}
		}
	}
	slices.SortFunc(out, func(a, b ecrtypes.Repository) int {
		return strings.Compare(awssdk.ToString(a.RepositoryName), awssdk.ToString(b.RepositoryName))
	})
	return out, nil
}

func repoPlan(ctx context.Context, c ECRAPI, inv tasks.Invocation, verb string, decide func(ecrtypes.Repository) decision) (tasks.Plan, []step, error) {
	rs, err := selectRepositories(ctx, c, inv.Target)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	b := planBuilder{verb: verb, noun: "repositories"}
	for _, r := range rs {
		b.add(awssdk.ToString(r.RepositoryName), "tags "+strings.ToLower(string(r.ImageTagMutability)), decide(r))
	}
	return b.plan(), b.steps, nil
}

// ecrSeverityOrder is how ECR ranks findings, worst first.
var ecrSeverityOrder = []ecrtypes.FindingSeverity{ecrtypes.FindingSeverityCritical, ecrtypes.FindingSeverityHigh, ecrtypes.FindingSeverityMedium,
	ecrtypes.FindingSeverityLow, ecrtypes.FindingSeverityInformational, ecrtypes.FindingSeverityUndefined}

// scanSummary reads the scan of one image tag: counts by severity, worst
// first, and the names of up to three critical findings. The findings are
// paged; the counts come with the first page.
func scanSummary(ctx context.Context, c ECRAPI, r ecrtypes.Repository, tag string) (string, error) {
	out, err := c.DescribeImageScanFindings(ctx, &ecr.DescribeImageScanFindingsInput{RepositoryName: r.RepositoryName, RegistryId: r.RegistryId,
		ImageId: &ecrtypes.ImageIdentifier{ImageTag: awssdk.String(tag)}, MaxResults: awssdk.Int32(100)})
	switch ErrorCode(err) {
	case "":
	case "ImageNotFoundException":
		return "no image tagged " + tag, nil
	case "ScanNotFoundException":
		return tag + " was never scanned: turn on scan on push or start a scan", nil
	default:
		return "", fmt.Errorf("describe scan findings of %s:%s: %w", awssdk.ToString(r.RepositoryName), tag, err)
	}
	if out.ImageScanStatus == nil || out.ImageScanStatus.Status != ecrtypes.ScanStatusComplete {
		status, why := "unknown", ""
		if out.ImageScanStatus != nil {
			status, why = string(out.ImageScanStatus.Status), awssdk.ToString(out.ImageScanStatus.Description)
		}
		if why != "" {
			status += " (" + why + ")"
		}
		return fmt.Sprintf("%s: scan %s", tag, status), nil
	}
	f := out.ImageScanFindings
	var counts, critical []string
	total := 0
	for _, sev := range ecrSeverityOrder {
		if n := f.FindingSeverityCounts[string(sev)]; n > 0 {
			counts = append(counts, fmt.Sprintf("%d %s", n, strings.ToLower(string(sev))))
			total += int(n)
		}
	}
	for _, x := range f.Findings {
		if x.Severity == ecrtypes.FindingSeverityCritical && len(critical) < 3 {
			critical = append(critical, awssdk.ToString(x.Name))
		}
	}
	for _, x := range f.EnhancedFindings {
		if awssdk.ToString(x.Severity) == string(ecrtypes.FindingSeverityCritical) && len(critical) < 3 && x.PackageVulnerabilityDetails != nil {
			critical = append(critical, awssdk.ToString(x.PackageVulnerabilityDetails.VulnerabilityId))
		}
	}
	s := tag + ": no findings"
	if total > 0 {
		s = fmt.Sprintf("%s: %d findings (%s)", tag, total, strings.Join(counts, ", "))
	}
	if len(critical) > 0 {
		s += "; critical: " + strings.Join(critical, ", ")
	}
	if f.ImageScanCompletedAt != nil {
		s += "; scanned " + f.ImageScanCompletedAt.UTC().Format("2006-01-02 15:04 UTC")
	}
	return s, nil
}

// repoSettings reads the settings day-2 reviews ask about: tag
// mutability, scan on push and a lifecycle policy.
func repoSettings(ctx context.Context, c ECRAPI, r ecrtypes.Repository) (string, error) {
	var parts, flags []string
	if r.ImageTagMutability == ecrtypes.ImageTagMutabilityImmutable {
		parts = append(parts, "tags immutable")
	} else {
		parts = append(parts, "tags mutable")
		flags = append(flags, "MUTABLE TAGS: a push can overwrite a tag that is deployed")
	}
	if r.ImageScanningConfiguration != nil && r.ImageScanningConfiguration.ScanOnPush {
		parts = append(parts, "scan on push")
	} else {
		parts = append(parts, "no scan on push")
	}
	_, err := c.GetLifecyclePolicy(ctx, &ecr.GetLifecyclePolicyInput{RepositoryName: r.RepositoryName, RegistryId: r.RegistryId})
	switch ErrorCode(err) {
	case "":
		parts = append(parts, "lifecycle policy set")
	case "LifecyclePolicyNotFoundException":
		parts = append(parts, "no lifecycle policy")
		flags = append(flags, "NO LIFECYCLE POLICY: old images are kept (and paid for) forever")
	default:
		return "", fmt.Errorf("get lifecycle policy of %s: %w", awssdk.ToString(r.RepositoryName), err)
	}
	return strings.Join(append(parts, flags...), "; "), nil
}
