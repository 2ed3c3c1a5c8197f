package emulator

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

func TestCloudWatchAlarmsPaginateFilterAndToggle(t *testing.T) {
	s := New()
	defer s.Close()
	ctx := context.Background()
	for i := range 120 {
		state := "OK"
		if i%10 == 0 {
			state = "ALARM"
		}
		if err := s.SeedAlarm(ctx, Alarm{Name: fmt.Sprintf("shop-cpu-%03d", i), Namespace: "AWS/EC2", Metric: "CPUUtilization", Threshold: 80, State: state}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SeedAlarm(ctx, Alarm{Name: "other-disk", Namespace: "CWAgent", Metric: "disk_used", Threshold: 90}); err != nil {
		t.Fatal(err)
	}
	c := cloudwatch.NewFromConfig(s.seedConfig())

	var names []string
	p := cloudwatch.NewDescribeAlarmsPaginator(c, &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String("shop-")})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range out.MetricAlarms {
			names = append(names, aws.ToString(a.AlarmName))
		}
	}
	if len(names) != 120 || names[50] != "shop-cpu-050" || s.Count("monitoring:DescribeAlarms") != 3 {
		t.Fatalf("got %d names over %d calls", len(names), s.Count("monitoring:DescribeAlarms"))
	}

	out, err := c.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{StateValue: cwtypes.StateValueAlarm, MaxRecords: aws.Int32(100)})
	if err != nil || len(out.MetricAlarms) != 12 || out.NextToken != nil {
		t.Fatalf("state filter: %v %d", err, len(out.MetricAlarms))
	}
	a := out.MetricAlarms[0]
	if aws.ToString(a.AlarmName) != "shop-cpu-000" || a.StateValue != cwtypes.StateValueAlarm || !aws.ToBool(a.ActionsEnabled) ||
		aws.ToFloat64(a.Threshold) != 80 || aws.ToInt32(a.Period) != 300 || a.StateUpdatedTimestamp == nil {
		t.Fatalf("alarm fields: %+v", a)
	}

	if _, err := c.DisableAlarmActions(ctx, &cloudwatch.DisableAlarmActionsInput{AlarmNames: []string{"shop-cpu-000", "missing"}}); err != nil {
		t.Fatal(err)
	}
	got, err := c.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"shop-cpu-000", "shop-cpu-001"}})
	if err != nil || len(got.MetricAlarms) != 2 || aws.ToBool(got.MetricAlarms[0].ActionsEnabled) || !aws.ToBool(got.MetricAlarms[1].ActionsEnabled) {
		t.Fatalf("after disable: %v %+v", err, got)
	}
	if _, err := c.EnableAlarmActions(ctx, &cloudwatch.EnableAlarmActionsInput{AlarmNames: []string{"shop-cpu-000"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String("shop-cpu-000"), StateValue: cwtypes.StateValueOk, StateReason: aws.String("test")}); err != nil {
		t.Fatal(err)
	}
	got, err = c.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"shop-cpu-000"}})
	if err != nil || !aws.ToBool(got.MetricAlarms[0].ActionsEnabled) || got.MetricAlarms[0].StateValue != cwtypes.StateValueOk {
		t.Fatalf("after enable+set state: %v %+v", err, got.MetricAlarms)
	}
	if _, err := c.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String("nope"), StateValue: cwtypes.StateValueOk, StateReason: aws.String("x")}); errCode(err) != "ResourceNotFound" {
		t.Fatalf("set state of missing alarm: %v", err)
	}
}

func TestCloudWatchPutMetricAlarmKeepsEveryField(t *testing.T) {
	s := New()
	defer s.Close()
	ctx := context.Background()
	c := cloudwatch.NewFromConfig(s.seedConfig())
	in := &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String("full"), AlarmDescription: aws.String("desc"), ActionsEnabled: aws.Bool(false),
		AlarmActions: []string{"arn:aws:sns:us-east-1:000000000000:page"}, OKActions: []string{"arn:ok"}, InsufficientDataActions: []string{"arn:insuff"},
		Namespace: aws.String("AWS/RDS"), MetricName: aws.String("FreeStorageSpace"), Statistic: cwtypes.StatisticMinimum,
		Dimensions: []cwtypes.Dimension{{Name: aws.String("DBInstanceIdentifier"), Value: aws.String("db-1")}},
		Period:     aws.Int32(60), EvaluationPeriods: aws.Int32(5), DatapointsToAlarm: aws.Int32(3), Threshold: aws.Float64(0),
		ComparisonOperator: cwtypes.ComparisonOperatorLessThanThreshold, TreatMissingData: aws.String("breaching"), Unit: cwtypes.StandardUnitBytes,
	}
	if _, err := c.PutMetricAlarm(ctx, in); err != nil {
		t.Fatal(err)
	}
	out, err := c.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"full"}})
	if err != nil {
		t.Fatal(err)
	}
	a := out.MetricAlarms[0]
	if aws.ToString(a.AlarmDescription) != "desc" || aws.ToBool(a.ActionsEnabled) || a.InsufficientDataActions[0] != "arn:insuff" ||
		aws.ToString(a.Dimensions[0].Value) != "db-1" || aws.ToInt32(a.DatapointsToAlarm) != 3 || a.Threshold == nil || *a.Threshold != 0 ||
		aws.ToString(a.TreatMissingData) != "breaching" || a.Unit != cwtypes.StandardUnitBytes || a.StateValue != cwtypes.StateValueInsufficientData {
		t.Fatalf("round trip lost fields: %+v", a)
	}
	if _, err := c.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("bad"), ComparisonOperator: cwtypes.ComparisonOperatorLessThanThreshold, EvaluationPeriods: aws.Int32(1)}); errCode(err) != "ValidationError" {
		t.Fatalf("incomplete alarm: %v", err)
	}
}

func TestCloudWatchGetMetricData(t *testing.T) {
	s := New()
	defer s.Close()
	ctx := context.Background()
	c := cloudwatch.NewFromConfig(s.seedConfig())
	end := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	start := end.Add(-24 * time.Hour)
	q := func(id, instance, stat string, period int32) cwtypes.MetricDataQuery {
		return cwtypes.MetricDataQuery{Id: aws.String(id), MetricStat: &cwtypes.MetricStat{
			Metric: &cwtypes.Metric{Namespace: aws.String("AWS/EC2"), MetricName: aws.String("CPUUtilization"),
				Dimensions: []cwtypes.Dimension{{Name: aws.String("InstanceId"), Value: aws.String(instance)}}},
			Period: aws.Int32(period), Stat: aws.String(stat)}}
	}
	get := func(queries ...cwtypes.MetricDataQuery) *cloudwatch.GetMetricDataOutput {
		t.Helper()
		out, err := c.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{StartTime: aws.Time(start), EndTime: aws.Time(end), MetricDataQueries: queries, ScanBy: cwtypes.ScanByTimestampAscending})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	out := get(q("avg", "i-1", "Average", 3600), q("max", "i-1", "Maximum", 3600), q("fine", "i-1", "Average", 300))
	avg, mx, fine := out.MetricDataResults[0], out.MetricDataResults[1], out.MetricDataResults[2]
	if len(avg.Values) != 24 || len(fine.Values) != 288 || !avg.Timestamps[0].Equal(start) || !avg.Timestamps[23].Equal(end.Add(-time.Hour)) {
		t.Fatalf("points: %d %d first %v", len(avg.Values), len(fine.Values), avg.Timestamps[0])
	}
	for i := range avg.Values {
		if mx.Values[i] <= avg.Values[i] || avg.Values[i] < 5 || avg.Values[i] > 100 {
			t.Fatalf("point %d: avg %v max %v", i, avg.Values[i], mx.Values[i])
		}
	}
	again := get(q("avg", "i-1", "Average", 3600))
	if fmt.Sprint(again.MetricDataResults[0].Values) != fmt.Sprint(avg.Values) {
		t.Fatal("not deterministic")
	}

	if err := s.SetMetric(ctx, "AWS/EC2", "CPUUtilization", map[string]string{"InstanceId": "i-1"}, 95); err != nil {
		t.Fatal(err)
	}
	pinned := get(q("avg", "i-1", "Average", 3600), q("other", "i-2", "Average", 3600))
	if v := pinned.MetricDataResults[0].Values; v[0] != 95 || v[23] != 95 {
		t.Fatalf("pinned values %v", v)
	}
	if v := pinned.MetricDataResults[1].Values; v[0] == 95 {
		t.Fatal("pin leaked to another series")
	}

	// A page holds at most MaxDatapoints points: the third query moves on.
	paged, err := c.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{StartTime: aws.Time(start), EndTime: aws.Time(end), MaxDatapoints: aws.Int32(50),
		MetricDataQueries: []cwtypes.MetricDataQuery{q("a", "i-1", "Average", 3600), q("b", "i-2", "Average", 3600), q("c", "i-3", "Average", 3600)}})
	if err != nil || len(paged.MetricDataResults) != 2 || aws.ToString(paged.NextToken) == "" {
		t.Fatalf("paging: %v %+v", err, paged)
	}
	if got := aws.ToString(paged.MetricDataResults[0].Id); got != "a" || paged.MetricDataResults[0].Timestamps[0].Before(paged.MetricDataResults[0].Timestamps[1]) {
		t.Fatal("default scan order must be newest first")
	}
	many := make([]cwtypes.MetricDataQuery, 501)
	for i := range many {
		many[i] = q(fmt.Sprintf("q%d", i), "i-1", "Average", 3600)
	}
	if _, err := c.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{StartTime: aws.Time(start), EndTime: aws.Time(end), MetricDataQueries: many}); errCode(err) != "ValidationError" {
		t.Fatalf("501 queries: %v", err)
	}
}

func TestSeedAlarmStateDefaultsToOK(t *testing.T) {
	s := New()
	defer s.Close()
	ctx := context.Background()
	if err := s.SeedAlarm(ctx, Alarm{Name: "quiet", Namespace: "AWS/EC2", Metric: "CPUUtilization", Threshold: 80}); err != nil {
		t.Fatal(err)
	}
	c := cloudwatch.NewFromConfig(s.seedConfig())
	out, err := c.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{StateValue: cwtypes.StateValueOk})
	if err != nil || len(out.MetricAlarms) != 1 {
		t.Fatalf("%v %+v", err, out)
	}
	if err := s.SetAlarmState(ctx, "quiet", "ALARM", "sandbox: CPU at 95%"); err != nil {
		t.Fatal(err)
	}
	out, err = c.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"quiet"}})
	if err != nil || out.MetricAlarms[0].StateValue != cwtypes.StateValueAlarm || aws.ToString(out.MetricAlarms[0].StateReason) != "sandbox: CPU at 95%" {
		t.Fatalf("%v %+v", err, out.MetricAlarms)
	}
}

func TestCloudWatchGetMetricStatisticsAgreesWithGetMetricData(t *testing.T) {
	s := New()
	defer s.Close()
	ctx := context.Background()
	c := cloudwatch.NewFromConfig(s.seedConfig())
	end := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	start := end.Add(-6 * time.Hour)
	dims := []cwtypes.Dimension{{Name: aws.String("DBInstanceIdentifier"), Value: aws.String("db-1")}}
	stats, err := c.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{
		Namespace: aws.String("AWS/RDS"), MetricName: aws.String("CPUUtilization"), Dimensions: dims,
		StartTime: aws.Time(start), EndTime: aws.Time(end), Period: aws.Int32(3600),
		Statistics: []cwtypes.Statistic{cwtypes.StatisticAverage, cwtypes.StatisticMaximum}, ExtendedStatistics: []string{"p99"},
	})
	if err != nil {
		t.Fatal(err)
	}
	data, err := c.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{StartTime: aws.Time(start), EndTime: aws.Time(end), ScanBy: cwtypes.ScanByTimestampAscending,
		MetricDataQueries: []cwtypes.MetricDataQuery{{Id: aws.String("a"), MetricStat: &cwtypes.MetricStat{
			Metric: &cwtypes.Metric{Namespace: aws.String("AWS/RDS"), MetricName: aws.String("CPUUtilization"), Dimensions: dims},
			Period: aws.Int32(3600), Stat: aws.String("Average")}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(stats.Datapoints) != 6 || len(data.MetricDataResults[0].Values) != 6 {
		t.Fatalf("points %d / %d", len(stats.Datapoints), len(data.MetricDataResults[0].Values))
	}
	for i, dp := range stats.Datapoints {
		if !dp.Timestamp.Equal(data.MetricDataResults[0].Timestamps[i]) || *dp.Average != data.MetricDataResults[0].Values[i] ||
			*dp.Maximum <= *dp.Average || dp.ExtendedStatistics["p99"] != *dp.Maximum || dp.Sum != nil {
			t.Fatalf("point %d: %+v vs %v", i, dp, data.MetricDataResults[0].Values[i])
		}
	}
	_, err = c.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{
		Namespace: aws.String("AWS/RDS"), MetricName: aws.String("CPUUtilization"),
		StartTime: aws.Time(end.Add(-48 * time.Hour)), EndTime: aws.Time(end), Period: aws.Int32(60), Statistics: []cwtypes.Statistic{cwtypes.StatisticAverage},
	})
	if errCode(err) != "InvalidParameterValue" {
		t.Fatalf("2880 points: %v", err)
	}
}
