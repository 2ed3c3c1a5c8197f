package blueprints

import (
	"slices"
	"testing"
)

func TestLibraryValidates(t *testing.T) {
	cat, err := Library()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"asg", "aurora-cluster", "cloudwatch-alarms", "ec2-web", "ecs-service", "iam-access-keys", "lambda-function", "rds", "s3-data", "sqs-queue"}
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
