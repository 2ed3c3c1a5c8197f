package aws

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/configservice"
	cfgtypes "github.com/aws/aws-sdk-go-v2/service/configservice/types"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/tasks"
)

// The governance checks (CloudTrail, AWS Config) are read-only by design:
// nothing here may stop, delete or change a trail, a recorder or a rule —
// the audit trail must not be something the chat can switch off. The
// example policy also denies any task named like stop-logging or
// delete-trail, so a blueprint of your own cannot add one.

// CloudTrailAPI is the part of CloudTrail the checks read.
type CloudTrailAPI interface {
	DescribeTrails(context.Context, *cloudtrail.DescribeTrailsInput, ...func(*cloudtrail.Options)) (*cloudtrail.DescribeTrailsOutput, error)
	GetTrailStatus(context.Context, *cloudtrail.GetTrailStatusInput, ...func(*cloudtrail.Options)) (*cloudtrail.GetTrailStatusOutput, error)
	ListTags(context.Context, *cloudtrail.ListTagsInput, ...func(*cloudtrail.Options)) (*cloudtrail.ListTagsOutput, error)
}

// ConfigAPI is the part of AWS Config the checks read.
type ConfigAPI interface {
	DescribeConfigurationRecorders(context.Context, *configservice.DescribeConfigurationRecordersInput, ...func(*configservice.Options)) (*configservice.DescribeConfigurationRecordersOutput, error)
	DescribeConfigurationRecorderStatus(context.Context, *configservice.DescribeConfigurationRecorderStatusInput, ...func(*configservice.Options)) (*configservice.DescribeConfigurationRecorderStatusOutput, error)
	DescribeConfigRules(context.Context, *configservice.DescribeConfigRulesInput, ...func(*configservice.Options)) (*configservice.DescribeConfigRulesOutput, error)
	DescribeComplianceByConfigRule(context.Context, *configservice.DescribeComplianceByConfigRuleInput, ...func(*configservice.Options)) (*configservice.DescribeComplianceByConfigRuleOutput, error)
	GetComplianceDetailsByConfigRule(context.Context, *configservice.GetComplianceDetailsByConfigRuleInput, ...func(*configservice.Options)) (*configservice.GetComplianceDetailsByConfigRuleOutput, error)
}

var (
	_ CloudTrailAPI = (*cloudtrail.Client)(nil)
	_ ConfigAPI     = (*configservice.Client)(nil)
)

// GovernanceClient builds the clients for one invocation's config.
type GovernanceClient func(awssdk.Config) (CloudTrailAPI, ConfigAPI)

// SDKGovernance is the production GovernanceClient.
func SDKGovernance(cfg awssdk.Config) (CloudTrailAPI, ConfigAPI) {
	return cloudtrail.NewFromConfig(cfg), configservice.NewFromConfig(cfg)
}

// GovernanceActions returns the cloudtrail.* and config.* checks.
func GovernanceActions(newClient GovernanceClient) []tasks.Action {
	return []tasks.Action{
		&stepAction{
			name: "cloudtrail.check-trails", target: "cloudtrail:trail", verb: "checked", noun: "trails",
			iam: []string{"cloudtrail:DescribeTrails", "cloudtrail:ListTags", "cloudtrail:GetTrailStatus"},
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				c, _ := newClient(inv.AWS)
				return trailsPlan(ctx, c, inv.Target)
			},
		},
		&stepAction{
			name: "config.recorder-status", target: "config:recorder", verb: "checked", noun: "recorders",
			iam: []string{"config:DescribeConfigurationRecorders", "config:DescribeConfigurationRecorderStatus"},
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				_, c := newClient(inv.AWS)
				return recordersPlan(ctx, c, inv.Target)
			},
		},
		&stepAction{
			name: "config.noncompliant-rules", target: "config:rule", verb: "checked", noun: "rules",
			iam: []string{"config:DescribeConfigRules", "config:DescribeComplianceByConfigRule", "config:GetComplianceDetailsByConfigRule"},
			params: []tasks.Param{{Name: "limit", Type: tasks.TypeInt, Default: "10", Min: bound(1), Max: bound(100),
				Description: "non-compliant resources named per rule"}},
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				_, c := newClient(inv.AWS)
				limit, err := intValue(inv.Values, "limit", 10)
				if err != nil {
					return tasks.Plan{}, nil, err
				}
				return rulesPlan(ctx, c, inv.Target, limit)
			},
		},
	}
}

// attention marks a check's finding in a result line.
const attention = "ATTENTION: "

func trailsPlan(ctx context.Context, c CloudTrailAPI, sel tasks.Selector) (tasks.Plan, []step, error) {
	if err := checkSelector(sel); err != nil {
		return tasks.Plan{}, nil, err
	}
	out, err := c.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{IncludeShadowTrails: awssdk.Bool(false)})
	if err != nil {
		return tasks.Plan{}, nil, fmt.Errorf("describe trails: %w", err)
	}
	// Listed in name order: CloudTrail promises no order.
	slices.SortFunc(out.TrailList, func(a, b cttypes.Trail) int { return strings.Compare(awssdk.ToString(a.Name), awssdk.ToString(b.Name)) })
	tags := map[string]map[string]string{}
	var arns []string
	for _, t := range out.TrailList {
		arns = append(arns, awssdk.ToString(t.TrailARN))
	}
	for chunk := range slices.Chunk(arns, 20) {
		lt, err := c.ListTags(ctx, &cloudtrail.ListTagsInput{ResourceIdList: chunk})
		if err != nil {
			return tasks.Plan{}, nil, fmt.Errorf("list tags of trails: %w", err)
		}
		for _, rt := range lt.ResourceTagList {
			m := map[string]string{}
			for _, tag := range rt.TagsList {
				m[awssdk.ToString(tag.Key)] = awssdk.ToString(tag.Value)
			}
			tags[awssdk.ToString(rt.ResourceId)] = m
		}
	}
	b := planBuilder{verb: "check", noun: "trails"}
	for _, t := range out.TrailList {
		name, arn := awssdk.ToString(t.Name), awssdk.ToString(t.TrailARN)
		if !selects(sel, name, arn, tags[arn]) {
			continue
		}
		st, err := c.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: t.TrailARN})
		if err != nil {
			return tasks.Plan{}, nil, fmt.Errorf("get status of trail %s: %w", name, err)
		}
		var good, bad []string
		note := func(ok bool, yes, no string) {
			if ok {
				good = append(good, yes)
			} else {
				bad = append(bad, no)
			}
		}
		note(awssdk.ToBool(st.IsLogging), "logging", "NOT logging")
		note(awssdk.ToBool(t.IsMultiRegionTrail), "multi-region", "single-region (events of other regions are not recorded)")
		note(awssdk.ToBool(t.LogFileValidationEnabled), "log file validation on", "log file validation off (tampering would go unnoticed)")
		if e := awssdk.ToString(st.LatestDeliveryError); e != "" {
			bad = append(bad, "latest delivery error: "+e)
		}
		detail := strings.Join(good, ", ")
		if len(bad) > 0 {
			detail = attention + strings.Join(bad, "; ") + okAlso(good)
		}
		b.add(name, "", decision{Run: func(context.Context) (string, error) { return detail, nil }})
	}
	return b.plan(), b.steps, nil
}

func okAlso(good []string) string {
	if len(good) == 0 {
		return ""
	}
	return " (" + strings.Join(good, ", ") + ")"
}

func recordersPlan(ctx context.Context, c ConfigAPI, sel tasks.Selector) (tasks.Plan, []step, error) {
	if err := checkSelector(sel); err != nil {
		return tasks.Plan{}, nil, err
	}
	recs, err := c.DescribeConfigurationRecorders(ctx, &configservice.DescribeConfigurationRecordersInput{})
	if err != nil {
		return tasks.Plan{}, nil, fmt.Errorf("describe configuration recorders: %w", err)
	}
	sts, err := c.DescribeConfigurationRecorderStatus(ctx, &configservice.DescribeConfigurationRecorderStatusInput{})
	if err != nil {
		return tasks.Plan{}, nil, fmt.Errorf("describe configuration recorder status: %w", err)
	}
	status := map[string]cfgtypes.ConfigurationRecorderStatus{}
	for _, s := range sts.ConfigurationRecordersStatus {
		status[awssdk.ToString(s.Name)] = s
	}
	b := planBuilder{verb: "check", noun: "recorders"}
	for _, r := range recs.ConfigurationRecorders {
		name := awssdk.ToString(r.Name)
		if !selects(sel, name, awssdk.ToString(r.Arn), nil) {
			continue
		}
		what := "selected resource types"
		if g := r.RecordingGroup; g != nil {
			if g.AllSupported {
				what = "all supported resource types"
			} else {
				what = fmt.Sprintf("%d resource types (%s)", len(g.ResourceTypes), strings.Join(typeNames(g.ResourceTypes), ", "))
			}
		}
		s := status[name]
		detail := fmt.Sprintf("recording %s, last status %s", what, s.LastStatus)
		if !s.Recording {
			detail = attention + "NOT recording: changes to resources go unrecorded and rules are not evaluated"
		} else if s.LastStatus == cfgtypes.RecorderStatusFailure {
			detail = attention + fmt.Sprintf("recording, but the last delivery failed: %s: %s", awssdk.ToString(s.LastErrorCode), awssdk.ToString(s.LastErrorMessage))
		}
		b.add(name, "", decision{Run: func(context.Context) (string, error) { return detail, nil }})
	}
	return b.plan(), b.steps, nil
}

func typeNames(ts []cfgtypes.ResourceType) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = string(t)
	}
	return out
}

func rulesPlan(ctx context.Context, c ConfigAPI, sel tasks.Selector, limit int) (tasks.Plan, []step, error) {
	if err := checkSelector(sel); err != nil {
		return tasks.Plan{}, nil, err
	}
	if len(sel.Tags) > 0 {
		return tasks.Plan{}, nil, errs.E("select config rules", errs.Invalid, "the app's config:rule binding selects by tags, which Config rule listings do not carry: bind the rules by name (e.g. APP-*)")
	}
	var names []string
	p := configservice.NewDescribeConfigRulesPaginator(c, &configservice.DescribeConfigRulesInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return tasks.Plan{}, nil, fmt.Errorf("describe config rules: %w", err)
		}
		for _, r := range page.ConfigRules {
			if name := awssdk.ToString(r.ConfigRuleName); selects(sel, name, awssdk.ToString(r.ConfigRuleArn), nil) {
				names = append(names, name)
			}
		}
	}
	compliance := map[string]cfgtypes.ComplianceType{}
	for chunk := range slices.Chunk(names, 25) {
		out, err := c.DescribeComplianceByConfigRule(ctx, &configservice.DescribeComplianceByConfigRuleInput{ConfigRuleNames: chunk})
		if err != nil {
			return tasks.Plan{}, nil, fmt.Errorf("describe compliance of config rules: %w", err)
		}
		for _, r := range out.ComplianceByConfigRules {
			if r.Compliance != nil {
				compliance[awssdk.ToString(r.ConfigRuleName)] = r.Compliance.ComplianceType
			}
		}
	}
	b := planBuilder{verb: "check", noun: "rules"}
	for _, name := range names {
		ct := compliance[name]
		if ct != cfgtypes.ComplianceTypeNonCompliant {
			detail := string(cmp.Or(ct, cfgtypes.ComplianceTypeInsufficientData))
			b.add(name, "", decision{Run: func(context.Context) (string, error) { return detail, nil }})
			continue
		}
		out, err := c.GetComplianceDetailsByConfigRule(ctx, &configservice.GetComplianceDetailsByConfigRuleInput{ConfigRuleName: awssdk.String(name),
			ComplianceTypes: []cfgtypes.ComplianceType{cfgtypes.ComplianceTypeNonCompliant}, Limit: int32(limit)})
		if err != nil {
			return tasks.Plan{}, nil, fmt.Errorf("get compliance details of %s: %w", name, err)
		}
		var res []string
		for _, e := range out.EvaluationResults {
			if id := e.EvaluationResultIdentifier; id != nil && id.EvaluationResultQualifier != nil {
				q := id.EvaluationResultQualifier
				res = append(res, awssdk.ToString(q.ResourceType)+" "+awssdk.ToString(q.ResourceId))
			}
		}
		more := ""
		if out.NextToken != nil {
			more = fmt.Sprintf(" (first %d)", limit)
		}
		detail := fmt.Sprintf("%sNON_COMPLIANT%s: %s", attention, more, strings.Join(res, ", "))
		b.add(name, "", decision{Run: func(context.Context) (string, error) { return detail, nil }})
	}
	return b.plan(), b.steps, nil
}
