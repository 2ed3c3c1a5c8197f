package emulator

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/costexplorer"
	cetypes "github.com/aws/aws-sdk-go-v2/service/costexplorer/types"
)

func TestCostAndUsageIsDeterministicByDate(t *testing.T) {
	s := New()
	defer s.Close()
	ctx := context.Background()
	c := costexplorer.NewFromConfig(s.seedConfig())
	day := func(m time.Month, d int) time.Time { return time.Date(2026, m, d, 0, 0, 0, 0, time.UTC) }
	cents := func(from, to time.Time) int64 {
		var n int64
		for d := from; d.Before(to); d = d.AddDate(0, 0, 1) {
			n += DailyCostCents(d)
		}
		return n
	}
	usd := func(c int64) string { return fmt.Sprintf("%d.%02d", c/100, c%100) }

	// Month to date (End exclusive) against the whole previous month.
	out, err := c.GetCostAndUsage(ctx, &costexplorer.GetCostAndUsageInput{
		TimePeriod:  &cetypes.DateInterval{Start: aws.String("2026-10-01"), End: aws.String("2026-11-25")},
		Granularity: cetypes.GranularityMonthly, Metrics: []string{"UnblendedCost"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.ResultsByTime) != 2 {
		t.Fatalf("segments %d", len(out.ResultsByTime))
	}
	oct, nov := out.ResultsByTime[0], out.ResultsByTime[1]
	if aws.ToString(oct.TimePeriod.End) != "2026-11-01" || aws.ToString(nov.TimePeriod.End) != "2026-11-25" {
		t.Fatalf("periods %+v %+v", oct.TimePeriod, nov.TimePeriod)
	}
	if got := aws.ToString(oct.Total["UnblendedCost"].Amount); got != usd(cents(day(10, 1), day(11, 1))) {
		t.Fatalf("october %s", got)
	}
	if got := aws.ToString(nov.Total["UnblendedCost"].Amount); got != usd(cents(day(11, 1), day(11, 25))) || aws.ToString(nov.Total["UnblendedCost"].Unit) != "USD" {
		t.Fatalf("november to date %s", got)
	}

	daily, err := c.GetCostAndUsage(ctx, &costexplorer.GetCostAndUsageInput{
		TimePeriod:  &cetypes.DateInterval{Start: aws.String("2026-11-20"), End: aws.String("2026-11-23")},
		Granularity: cetypes.GranularityDaily, Metrics: []string{"UnblendedCost"},
		GroupBy: []cetypes.GroupDefinition{{Type: cetypes.GroupDefinitionTypeDimension, Key: aws.String("SERVICE")}},
		Filter:  &cetypes.Expression{Tags: &cetypes.TagValues{Key: aws.String("app"), Values: []string{"shop"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(daily.ResultsByTime) != 3 || len(daily.ResultsByTime[0].Groups) != 5 {
		t.Fatalf("daily %+v", daily.ResultsByTime)
	}
	ec2 := daily.ResultsByTime[0].Groups[0]
	if ec2.Keys[0] != "Amazon Elastic Compute Cloud - Compute" || aws.ToString(ec2.Metrics["UnblendedCost"].Amount) == usd(DailyCostCents(day(11, 20))*45/100) {
		t.Fatalf("filtered EC2 cost must be a share of the account's: %+v", ec2.Metrics)
	}

	_, err = c.GetCostAndUsage(ctx, &costexplorer.GetCostAndUsageInput{
		TimePeriod:  &cetypes.DateInterval{Start: aws.String("2026-11-23"), End: aws.String("2026-11-23")},
		Granularity: cetypes.GranularityDaily, Metrics: []string{"UnblendedCost"},
	})
	if errCode(err) != "ValidationException" {
		t.Fatalf("empty range: %v", err)
	}
}
