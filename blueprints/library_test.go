package blueprints

import (
	"reflect"
	"slices"
	"testing"
)

func TestLibraryValidates(t *testing.T) {
	cat, err := Library()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"asg", "aurora-cluster", "aws-backup", "cloudtrail-config", "cloudwatch-alarms", "dynamodb-table", "ec2-web", "ecr-repository", "ecs-service", "eks-nodegroup", "elasticache-redis", "emr-cluster", "iam-access-keys", "kinesis-stream", "kms-key", "lambda-function", "opensearch-domain", "rds", "s3-data", "secrets-manager", "sqs-queue", "ssm-patching", "step-functions", "vpc-network"}
	if got := cat.Names(); !slices.Equal(got, want) {
		t.Fatalf("Names() = %v, want %v", got, want)
	}
	if err := cat.Validate(contractActions()); err != nil {
		t.Fatalf("embedded library does not validate:\n%v", err)
	}
	// Every contract action is used by some blueprint, so the library covers
	// what the AWS actions offer.
	used := map[string]bool{}
	for _, n := range cat.Names() {
		b, _ := cat.Get(n)
		for _, task := range b.Tasks {
			used[task.Action] = true
		}
	}
	for _, a := range contractActions().Names() {
		if !used[a] {
			t.Errorf("action %s is not used by any embedded blueprint", a)
		}
	}
}

// Task names are unique across the library, so an app combining any
// blueprints never meets a clash; a schedule name is either unique or the
// identical schedule (a shared morning digest), which apps merge into one.
func TestLibraryNamesAreUnique(t *testing.T) {
	cat, err := Library()
	if err != nil {
		t.Fatal(err)
	}
	tasksBy := map[string]string{}
	schedules := map[string]Schedule{}
	schedBy := map[string]string{}
	for _, n := range cat.Names() {
		b, _ := cat.Get(n)
		for tn := range b.Tasks {
			if prev, ok := tasksBy[tn]; ok {
				t.Errorf("task %q is defined by both %s and %s", tn, prev, n)
			}
			tasksBy[tn] = n
		}
		for _, s := range b.Schedules {
			if prev, ok := schedules[s.Name]; ok && !reflect.DeepEqual(prev, s) {
				t.Errorf("schedule %q differs between %s and %s", s.Name, schedBy[s.Name], n)
			}
			schedules[s.Name], schedBy[s.Name] = s, n
		}
	}
}
