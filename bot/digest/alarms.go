package digest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// FiringAlarm is an alarm of the app in ALARM.
type FiringAlarm struct {
	Name   string
	Reason string
	Since  time.Time
}

// firingAlarms lists the app's alarms in ALARM: one DescribeAlarms per
// prefix and page (100 a page; CloudWatch's default of 50 would double the
// calls), state filtered by CloudWatch rather than here.
func firingAlarms(ctx context.Context, c CloudWatchAPI, prefixes []string) ([]FiringAlarm, error) {
	seen := map[string]bool{}
	var out []FiringAlarm
	for _, p := range prefixes {
		in := &cloudwatch.DescribeAlarmsInput{
			AlarmNamePrefix: aws.String(p), StateValue: cwtypes.StateValueAlarm,
			AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeMetricAlarm}, MaxRecords: aws.Int32(100),
		}
		for {
			page, err := c.DescribeAlarms(ctx, in)
			if err != nil {
				return out, fmt.Errorf("describe alarms %s*: %w", p, err)
			}
			for _, a := range page.MetricAlarms {
				n := aws.ToString(a.AlarmName)
				if seen[n] {
					continue
				}
				seen[n] = true
				out = append(out, FiringAlarm{Name: n, Reason: aws.ToString(a.StateReason), Since: aws.ToTime(a.StateTransitionedTimestamp)})
			}
			if aws.ToString(page.NextToken) == "" {
				break
			}
			in.NextToken = page.NextToken
		}
	}
	slices.SortFunc(out, func(a, b FiringAlarm) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}
