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
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/tasks"
)

// CloudWatchAPI is the part of the CloudWatch API the cloudwatch.* actions
// call.
type CloudWatchAPI interface {
	DescribeAlarms(context.Context, *cloudwatch.DescribeAlarmsInput, ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error)
	PutMetricAlarm(context.Context, *cloudwatch.PutMetricAlarmInput, ...func(*cloudwatch.Options)) (*cloudwatch.PutMetricAlarmOutput, error)
	DisableAlarmActions(context.Context, *cloudwatch.DisableAlarmActionsInput, ...func(*cloudwatch.Options)) (*cloudwatch.DisableAlarmActionsOutput, error)
	EnableAlarmActions(context.Context, *cloudwatch.EnableAlarmActionsInput, ...func(*cloudwatch.Options)) (*cloudwatch.EnableAlarmActionsOutput, error)
}

var _ CloudWatchAPI = (*cloudwatch.Client)(nil)

// CloudWatchClient builds the client for one invocation's config.
type CloudWatchClient func(awssdk.Config) CloudWatchAPI

// SDKCloudWatch is the production CloudWatchClient.
func SDKCloudWatch(cfg awssdk.Config) CloudWatchAPI { return cloudwatch.NewFromConfig(cfg) }

// UnmuteAction is the registry name of the follow-up a mute schedules.
const UnmuteAction = "cloudwatch.unmute-alarm"

// CloudWatchActions returns the cloudwatch.* actions.
func CloudWatchActions(newClient CloudWatchClient) []tasks.Action {
	describe := "cloudwatch:DescribeAlarms"
	alarmParam := tasks.Param{Name: "alarm", Type: tasks.TypeString, Required: true, Description: "alarm name"}
	return withChoices("alarm", func(ctx context.Context, inv tasks.Invocation) ([]tasks.Choice, error) {
		return alarmChoices(ctx, newClient(inv.AWS), inv.Target)
	}, forTarget("cloudwatch:alarm",
		&stepAction{
			name: "cloudwatch.list-alarms", iam: []string{describe}, verb: "listed", noun: "alarms",
			params: []tasks.Param{{Name: "state", Type: tasks.TypeEnum, Enum: []string{"ALARM", "OK", "INSUFFICIENT_DATA", "any"}, Default: "any",
				Description: "only alarms in this state"}},
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				state, err := stringValue(inv.Values, "state", "any")
				if err != nil {
					return tasks.Plan{}, nil, err
				}
				alarms, err := selectAlarms(ctx, newClient(inv.AWS), inv.Target, state)
				if err != nil {
					return tasks.Plan{}, nil, err
				}
				b := planBuilder{verb: "list", noun: "alarms"}
				for _, a := range alarms {
					d := alarmSummary(a)
					b.add(awssdk.ToString(a.AlarmName), d, decision{Run: func(context.Context) (string, error) { return d, nil }})
				}
				return b.plan(), b.steps, nil
			},
		},
		&stepAction{
			name: "cloudwatch.mute-alarm", mutating: true, verb: "muted", noun: "alarms",
			iam: []string{describe, "cloudwatch:DisableAlarmActions"},
			params: []tasks.Param{alarmParam, {Name: "duration", Type: tasks.TypeDuration, Default: "1h", Min: bound(60), Max: bound(7 * 24 * 3600),
				Description: "how long the alarm's actions stay disabled"}},
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				c := newClient(inv.AWS)
				d, err := durationValue(inv.Values, "duration", defaultMute)
				if err != nil {
					return tasks.Plan{}, nil, err
				}
				return alarmPlan(ctx, c, inv, func(a cwtypes.MetricAlarm) decision {
					if !awssdk.ToBool(a.ActionsEnabled) {
						// Someone may have disabled it on purpose: a timed mute
						// must not end by enabling what it did not disable.
						return decision{Skip: "actions are already disabled; unmute-alarm enables them"}
					}
					until := inv.Now.Add(d).UTC().Format("2006-01-02 15:04 MST")
					return decision{
						Action: fmt.Sprintf("disable actions for %s (re-enabled at %s)", tasks.FormatDuration(d), until),
						Run: func(ctx context.Context) (string, error) {
							_, err := c.DisableAlarmActions(ctx, &cloudwatch.DisableAlarmActionsInput{AlarmNames: []string{awssdk.ToString(a.AlarmName)}})
							if err != nil {
								return "", err
							}
							return "actions disabled until " + until, nil
						},
					}
				})
			},
			// AWS has no expiry for a disabled alarm: the engine persists this
			// follow-up and re-enables the actions when it is due.
			followUps: func(inv tasks.Invocation) []tasks.FollowUp {
				// Plan already read both values without error.
				d, _ := durationValue(inv.Values, "duration", defaultMute)
				alarm, _ := stringValue(inv.Values, "alarm", "")
				return []tasks.FollowUp{{
					After: d, Action: UnmuteAction,
					Values: tasks.Values{"alarm": alarm},
					Reason: "end of a " + tasks.FormatDuration(d) + " mute",
				}}
			},
		},
		&stepAction{
			name: UnmuteAction, mutating: true, verb: "unmuted", noun: "alarms",
			iam:    []string{describe, "cloudwatch:EnableAlarmActions"},
			params: []tasks.Param{alarmParam},
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				c := newClient(inv.AWS)
				return alarmPlan(ctx, c, inv, func(a cwtypes.MetricAlarm) decision {
					if awssdk.ToBool(a.ActionsEnabled) {
						return decision{Skip: "actions are already enabled"}
					}
					return decision{Action: "enable actions", Run: func(ctx context.Context) (string, error) {
						_, err := c.EnableAlarmActions(ctx, &cloudwatch.EnableAlarmActionsInput{AlarmNames: []string{awssdk.ToString(a.AlarmName)}})
						if err != nil {
							return "", err
						}
						return "actions enabled", nil
					}}
				})
			},
		},
		&stepAction{
			name: "cloudwatch.set-threshold", mutating: true, verb: "changed", noun: "alarms",
			iam:    []string{describe, "cloudwatch:PutMetricAlarm"},
			params: []tasks.Param{alarmParam, {Name: "threshold", Type: tasks.TypeInt, Required: true, Description: "new threshold"}},
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				c := newClient(inv.AWS)
				n, err := intValue(inv.Values, "threshold", -1)
				if err != nil {
					return tasks.Plan{}, nil, err
				}
				if n < 0 {
					return tasks.Plan{}, nil, errs.E(tasks.ParamOp("threshold"), errs.Invalid, "threshold is required")
				}
				threshold := float64(n)
				return alarmPlan(ctx, c, inv, func(a cwtypes.MetricAlarm) decision {
					if a.ThresholdMetricId != nil {
						return decision{Skip: "an anomaly detection alarm has a band, not a threshold"}
					}
					old := awssdk.ToFloat64(a.Threshold)
					if a.Threshold != nil && old == threshold {
						return decision{Skip: fmt.Sprintf("threshold is already %g", threshold)}
					}
					in := alarmInput(a)
					in.Threshold = awssdk.Float64(threshold)
					return decision{Action: fmt.Sprintf("set threshold %g -> %g", old, threshold), Run: func(ctx context.Context) (string, error) {
						if _, err := c.PutMetricAlarm(ctx, in); err != nil {
							return "", err
						}
						return fmt.Sprintf("threshold %g -> %g, every other setting kept", old, threshold), nil
					}}
				})
			},
		},
	))
}

const defaultMute = time.Hour

// alarmPlan plans a change to the one alarm named by the "alarm" parameter,
// which must exist and be one of the alarms the target selects.
func alarmPlan(ctx context.Context, c CloudWatchAPI, inv tasks.Invocation, decide func(cwtypes.MetricAlarm) decision) (tasks.Plan, []step, error) {
	name, err := stringValue(inv.Values, "alarm", "")
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	if name == "" {
		return tasks.Plan{}, nil, errs.E(tasks.ParamOp("alarm"), errs.Invalid, "alarm is required: name the alarm to change")
	}
	out, err := c.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{name}, AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeMetricAlarm}})
	if err != nil {
		return tasks.Plan{}, nil, fmt.Errorf("describe alarm %s: %w", name, err)
	}
	if len(out.MetricAlarms) == 0 {
		return tasks.Plan{}, nil, errs.E("find alarm", errs.NotFound, "there is no metric alarm named %q", name)
	}
	a := out.MetricAlarms[0]
	if err := checkSelector(inv.Target); err != nil {
		return tasks.Plan{}, nil, err
	}
	if !selects(inv.Target, name, awssdk.ToString(a.AlarmArn), nil) {
		return tasks.Plan{}, nil, errs.E("find alarm", errs.NotFound, "alarm %q is not one of this app's alarms (%s)", name, selectorText(inv.Target))
	}
	b := planBuilder{noun: "alarms"}
	b.add(name, alarmSummary(a), decide(a))
	p := b.plan()
	if len(p.Changes) == 1 {
		p.Summary = p.Changes[0].Action + " on " + name
	}
	return p, b.steps, nil
}

// selectAlarms pages through DescribeAlarms, narrowing on the AWS side as
// far as the selector allows: literal names as AlarmNames, a single glob by
// its literal prefix, and the state.
func selectAlarms(ctx context.Context, c CloudWatchAPI, sel tasks.Selector, state string) ([]cwtypes.MetricAlarm, error) {
	if err := checkSelector(sel); err != nil {
		return nil, err
	}
	if len(sel.Tags) > 0 {
		return nil, errs.E("select alarms", errs.Invalid, "alarms are selected by name, not by tags: bind them with names (globs like shop-*)")
	}
	base := cloudwatch.DescribeAlarmsInput{AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeMetricAlarm}, MaxRecords: awssdk.Int32(100)}
	if state != "" && state != "any" {
		base.StateValue = cwtypes.StateValue(state)
	}
	var inputs []*cloudwatch.DescribeAlarmsInput
	literal := append(append([]string(nil), sel.IDs...), sel.Names...)
	switch {
	case len(sel.IDs) == 0 && len(sel.Names) == 1 && strings.IndexAny(sel.Names[0], "*?") > 0:
		in := base
		in.AlarmNamePrefix = awssdk.String(sel.Names[0][:strings.IndexAny(sel.Names[0], "*?")])
		inputs = append(inputs, &in)
	case !strings.ContainsAny(strings.Join(literal, ""), "*?:"): // names only, no globs, no ARNs
		for chunk := range slices.Chunk(literal, 100) {
			in := base
			in.AlarmNames = chunk
			inputs = append(inputs, &in)
		}
	default:
		in := base
		inputs = append(inputs, &in)
	}
	var out []cwtypes.MetricAlarm
	for _, in := range inputs {
		p := cloudwatch.NewDescribeAlarmsPaginator(c, in)
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("describe alarms: %w", err)
			}
			for _, a := range page.MetricAlarms {
				if selects(sel, awssdk.ToString(a.AlarmName), awssdk.ToString(a.AlarmArn), nil) {
					out = append(out, a)
				}
			}
		}
	}
	return out, nil
}

// alarmChoices are the selected alarms, labelled with their state.
func alarmChoices(ctx context.Context, c CloudWatchAPI, sel tasks.Selector) ([]tasks.Choice, error) {
	alarms, err := selectAlarms(ctx, c, sel, "any")
	if err != nil {
		return nil, err
	}
	out := make([]tasks.Choice, len(alarms))
	for i, a := range alarms {
		name := awssdk.ToString(a.AlarmName)
		out[i] = tasks.Choice{Value: name, Label: name + " (" + string(a.StateValue) + ")"}
	}
	return out, nil
}

// alarmInput copies every setting of an alarm into a PutMetricAlarm input:
// PutMetricAlarm replaces the whole alarm, so anything left out would be
// reset. Tags are not returned by DescribeAlarms and PutMetricAlarm ignores
// them on an existing alarm, so they survive by being left out.
func alarmInput(a cwtypes.MetricAlarm) *cloudwatch.PutMetricAlarmInput {
	return &cloudwatch.PutMetricAlarmInput{
		AlarmName:                        a.AlarmName,
		ActionConfiguration:              a.ActionConfiguration,
		ActionsEnabled:                   a.ActionsEnabled,
		AlarmActions:                     a.AlarmActions,
		AlarmDescription:                 a.AlarmDescription,
		ComparisonOperator:               a.ComparisonOperator,
		DatapointsToAlarm:                a.DatapointsToAlarm,
		Dimensions:                       a.Dimensions,
		EvaluateLowSampleCountPercentile: a.EvaluateLowSampleCountPercentile,
		EvaluationCriteria:               a.EvaluationCriteria,
		EvaluationInterval:               a.EvaluationInterval,
		EvaluationPeriods:                a.EvaluationPeriods,
		EvaluationWindow:                 a.EvaluationWindow,
		ExtendedStatistic:                a.ExtendedStatistic,
		InsufficientDataActions:          a.InsufficientDataActions,
		MetricName:                       a.MetricName,
		Metrics:                          a.Metrics,
		Namespace:                        a.Namespace,
		OKActions:                        a.OKActions,
		Period:                           a.Period,
		Statistic:                        a.Statistic,
		Threshold:                        a.Threshold,
		ThresholdMetricId:                a.ThresholdMetricId,
		TreatMissingData:                 a.TreatMissingData,
		Unit:                             a.Unit,
		WarmUpConfiguration:              a.WarmUpConfiguration,
	}
}

// alarmSummary is one line: state, condition, whether actions fire.
func alarmSummary(a cwtypes.MetricAlarm) string {
	stat := string(a.Statistic)
	if a.ExtendedStatistic != nil {
		stat = *a.ExtendedStatistic
	}
	metric := awssdk.ToString(a.MetricName)
	if metric == "" && len(a.Metrics) > 0 {
		metric = "metric math"
	}
	actions := "actions enabled"
	if !awssdk.ToBool(a.ActionsEnabled) {
		actions = "actions DISABLED"
	}
	return fmt.Sprintf("%s, %s %s %g (%s %ds x%d), %s", a.StateValue, metric, comparisonSymbol[a.ComparisonOperator],
		awssdk.ToFloat64(a.Threshold), stat, awssdk.ToInt32(a.Period), awssdk.ToInt32(a.EvaluationPeriods), actions)
}

var comparisonSymbol = map[cwtypes.ComparisonOperator]string{
	cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold:            ">=",
	cwtypes.ComparisonOperatorGreaterThanThreshold:                     ">",
	cwtypes.ComparisonOperatorLessThanThreshold:                        "<",
	cwtypes.ComparisonOperatorLessThanOrEqualToThreshold:               "<=",
	cwtypes.ComparisonOperatorLessThanLowerOrGreaterThanUpperThreshold: "outside band",
	cwtypes.ComparisonOperatorLessThanLowerThreshold:                   "below band",
	cwtypes.ComparisonOperatorGreaterThanUpperThreshold:                "above band",
}

func selectorText(sel tasks.Selector) string {
	var parts []string
	if len(sel.IDs) > 0 {
		parts = append(parts, "ids "+strings.Join(sel.IDs, ", "))
	}
	if len(sel.Names) > 0 {
		parts = append(parts, "names "+strings.Join(sel.Names, ", "))
	}
	for _, k := range slices.Sorted(maps.Keys(sel.Tags)) {
		parts = append(parts, "tag "+k+"="+sel.Tags[k])
	}
	return strings.Join(parts, "; ")
}
