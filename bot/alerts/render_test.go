package alerts

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/day2bot/day2bot/blueprints"
	"github.com/day2bot/day2bot/bot/shell"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from %s:\n%s", name, path, got)
	}
}

func TestAlertGolden(t *testing.T) {
	app := &blueprints.ResolvedApp{Name: "shop", Region: "eu-central-1", AlarmPrefixes: []string{"shop-"},
		Remediations: []blueprints.ResolvedRemediation{
			{Remediation: blueprints.Remediation{Alarm: "*-cpu-high", Tasks: []string{"restart-web", "describe-web"}}},
			{Remediation: blueprints.Remediation{Alarm: "shop-*", Tasks: []string{"mute-alarm"}, Params: map[string]string{"alarm": "{alarm}", "duration": "1h"}}},
		}}
	at := time.Date(2026, 11, 25, 7, 42, 0, 0, time.UTC)
	a := cwtypes.MetricAlarm{
		AlarmName: aws.String("shop-web-cpu-high"), StateValue: cwtypes.StateValueAlarm,
		StateReason: aws.String("Threshold Crossed: 2 out of the last 2 datapoints [96.4, 93.1] were greater than the threshold (90.0)."),
		Namespace:   aws.String("AWS/EC2"), MetricName: aws.String("CPUUtilization"), Statistic: cwtypes.StatisticAverage, Period: aws.Int32(300),
		Threshold: aws.Float64(90), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold, StateTransitionedTimestamp: &at,
	}
	golden(t, "alert", []byte(shell.Render(alertMessage(app, a, "xk7m2p9qa"))))
	// The remediations could not be saved: buttons for what needs no
	// values, the rest to type.
	golden(t, "alert-unsaved", []byte(shell.Render(alertMessage(app, a, ""))))
	ok := a
	ok.StateValue, ok.StateReason = cwtypes.StateValueOk, aws.String("Threshold Crossed: 1 datapoint [41.0] was not greater than the threshold (90.0).")
	later := at.Add(25 * time.Minute)
	ok.StateTransitionedTimestamp = &later
	golden(t, "alert-resolved", []byte(shell.Render(resolvedMessage(app, ok))))
}
