package aws

import (
	"context"
	"slices"
	"testing"

	"github.com/day2bot/day2bot/tasks"
	"github.com/day2bot/day2bot/tasks/emulator"
)

// TestChoicesListTheAppsResources: the parameters that name one of the
// app's resources list exactly the resources the task's binding selects,
// through the same selection the task runs with.
func TestChoicesListTheAppsResources(t *testing.T) {
	ctx := context.Background()
	app := uniq(t, "ch")
	seedBucket(t, emulator.Bucket{Name: app + "-a", Tags: map[string]string{"app": app}})
	seedBucket(t, emulator.Bucket{Name: app + "-b", Tags: map[string]string{"app": app}})
	seedBucket(t, emulator.Bucket{Name: app + "-other", Tags: map[string]string{"app": "someone-else"}})
	for _, a := range []emulator.Alarm{{Name: app + "-cpu", State: "ALARM"}, {Name: app + "-disk", State: "OK"}, {Name: "x" + app}} {
		a.Namespace, a.Metric, a.Threshold = "AWS/EC2", "CPUUtilization", 80
		if err := emu.SeedAlarm(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	seedDBs(t, app, []string{app + "-db"})
	if err := emu.SeedDBSnapshot(ctx, app+"-db", app+"-db-nightly"); err != nil {
		t.Fatal(err)
	}

	seedFunction(t, app, app+"-fn", 3, "2")
	seedFunction(t, "someone-else", app+"-theirs", 5, "")
	if err := emu.SeedDBCluster(ctx, emulator.DBCluster{ID: app + "-aurora", Tags: map[string]string{"app": app}}); err != nil {
		t.Fatal(err)
	}
	if err := emu.SeedDBClusterSnapshot(ctx, app+"-aurora", app+"-aurora-nightly"); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		action, param string
		sel           tasks.Selector
		values        []string
		label         string // of the first
	}{
		{"s3.revoke-principal", "bucket", tasks.Selector{Type: "s3:bucket", Tags: map[string]string{"app": app}}, []string{app + "-a", app + "-b"}, app + "-a"},
		{"s3.grant-read", "bucket", tasks.Selector{Type: "s3:bucket", Names: []string{app + "-b"}}, []string{app + "-b"}, app + "-b"},
		{"s3.teardown-bucket", "bucket", tasks.Selector{Type: "s3:bucket", Tags: map[string]string{"app": app}}, []string{app + "-a", app + "-b"}, app + "-a"},
		{"cloudwatch.mute-alarm", "alarm", tasks.Selector{Type: "cloudwatch:alarm", Names: []string{app + "-*"}}, []string{app + "-cpu", app + "-disk"}, app + "-cpu (ALARM)"},
		{"rds.restore-db", "snapshot", tasks.Selector{Type: "rds:db-instance", Tags: map[string]string{"app": app}}, []string{app + "-db-nightly"}, ""},
		{"rds.restore-cluster", "snapshot", tasks.Selector{Type: "rds:db-cluster", Tags: map[string]string{"app": app}}, []string{app + "-aurora-nightly"}, ""},
		{"lambda.shift-alias", "version", fnSel(app), []string{"1", "2", "3"}, "3 (" + app + "-fn)"},
	} {
		t.Run(tc.action, func(t *testing.T) {
			all := slices.Concat(S3Actions(SDKS3), CloudWatchActions(SDKCloudWatch), RDSActions(SDKRDS), AuroraActions(SDKAurora), LambdaActions(SDKLambda))
			ch, ok := rawAction(t, all, tc.action).(tasks.Chooser)
			if !ok || !ch.Choosable(tc.param) || ch.Choosable("principal") {
				t.Fatalf("%s: choosable %v", tc.action, ok)
			}
			got, err := ch.Choices(ctx, invocation(t, tc.sel, nil), tc.param)
			if err != nil {
				t.Fatal(err)
			}
			var values []string
			for _, c := range got {
				values = append(values, c.Value)
			}
			slices.Sort(values)
			if !slices.Equal(values, tc.values) {
				t.Errorf("values %q, want %q", values, tc.values)
			}
			if tc.label != "" && got[0].Text() != tc.label {
				t.Errorf("label %q, want %q", got[0].Text(), tc.label)
			}
		})
	}
	// An empty binding selects nothing, and says so.
	ch := rawAction(t, S3Actions(SDKS3), "s3.grant-read").(tasks.Chooser)
	if _, err := ch.Choices(ctx, invocation(t, tasks.Selector{Type: "s3:bucket"}, nil), "bucket"); err == nil {
		t.Error("an empty selector listed buckets")
	}
}

// rawAction is the action itself: findAction's IAM-checking wrapper does
// not carry the Chooser side (whose calls are reads the actions' IAM
// lists already hold: listing is what Plan does first).
func rawAction(t *testing.T, actions []tasks.Action, name string) tasks.Action {
	t.Helper()
	for _, a := range actions {
		if a.Name() == name {
			return a
		}
	}
	t.Fatalf("no action %s", name)
	return nil
}
