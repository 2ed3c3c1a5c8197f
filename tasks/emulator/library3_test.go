package emulator

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kinesistypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"
)

// The front's SQS redrive, Kinesis, Secrets Manager rotation, ECR and Step
// Functions answers refuse what AWS refuses, with AWS's error codes, as
// the SDK reads them.

func errorCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := errorCode(err); got != code {
		t.Errorf("%s: error %v, want code %s", what, err, code)
	}
}

func TestSQSRedriveRefusals(t *testing.T) {
	s := New()
	defer s.Close()
	ctx := context.Background()
	plain := uniq("l3-plain") // kumo's queues outlive the server
	if err := s.SeedQueue(ctx, SQSQueue{Name: plain, Messages: 1}); err != nil {
		t.Fatal(err)
	}
	c := sqs.NewFromConfig(s.seedConfig())
	_, err := c.StartMessageMoveTask(ctx, &sqs.StartMessageMoveTaskInput{SourceArn: aws.String(sqsARN(plain))})
	wantCode(t, "move from a queue that is no DLQ", err, "InvalidParameterValue")
	_, err = c.StartMessageMoveTask(ctx, &sqs.StartMessageMoveTaskInput{SourceArn: aws.String(sqsARN("l3-nope"))})
	wantCode(t, "move from a missing queue", err, "ResourceNotFoundException")
	_, err = c.ListMessageMoveTasks(ctx, &sqs.ListMessageMoveTasksInput{SourceArn: aws.String(sqsARN(plain)), MaxResults: aws.Int32(11)})
	wantCode(t, "11 results", err, "InvalidParameterValue")
}

func TestKinesisReshardAndRetentionRefusals(t *testing.T) {
	s := New()
	defer s.Close()
	ctx := context.Background()
	if err := s.SeedKinesisStream(ctx, KinesisStream{Name: "l3-s", Shards: 2}); err != nil {
		t.Fatal(err)
	}
	if err := s.SeedKinesisStream(ctx, KinesisStream{Name: "l3-od", OnDemand: true}); err != nil {
		t.Fatal(err)
	}
	c := kinesis.NewFromConfig(s.seedConfig())
	update := func(name string, n int32) error {
		_, err := c.UpdateShardCount(ctx, &kinesis.UpdateShardCountInput{StreamName: aws.String(name), TargetShardCount: aws.Int32(n), ScalingType: kinesistypes.ScalingTypeUniformScaling})
		return err
	}
	wantCode(t, "more than double", update("l3-s", 5), "InvalidArgumentException")
	wantCode(t, "on-demand", update("l3-od", 8), "ValidationException")
	if err := update("l3-s", 4); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "while UPDATING", update("l3-s", 3), "ResourceInUseException")
	_, err := c.IncreaseStreamRetentionPeriod(ctx, &kinesis.IncreaseStreamRetentionPeriodInput{StreamName: aws.String("l3-od"), RetentionPeriodHours: aws.Int32(9000)})
	wantCode(t, "retention over a year", err, "InvalidArgumentException")
	_, err = c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("l3-nope")})
	wantCode(t, "missing stream", err, "ResourceNotFoundException")
	// UPDATING for one read, then ACTIVE with the new count.
	for _, want := range []kinesistypes.StreamStatus{kinesistypes.StreamStatusUpdating, kinesistypes.StreamStatusActive} {
		d, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("l3-s")})
		if err != nil || d.StreamDescriptionSummary.StreamStatus != want {
			t.Fatalf("want %s: %v %+v", want, err, d)
		}
	}
	if st, n, _ := s.KinesisStreamState("l3-s"); st != "ACTIVE" || n != 4 {
		t.Fatalf("after reshard: %s %d", st, n)
	}
}

func TestSecretsRotateNeedsAFunction(t *testing.T) {
	s := New()
	defer s.Close()
	ctx := context.Background()
	name := uniq("l3/secret") // kumo's secrets outlive the server
	if err := s.SeedSecret(ctx, Secret{Name: name, Value: "v1"}); err != nil {
		t.Fatal(err)
	}
	c := secretsmanager.NewFromConfig(s.seedConfig())
	_, err := c.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String(name)})
	wantCode(t, "rotate without a function", err, "InvalidRequestException")
	if _, err := c.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String(name),
		RotationLambdaARN: aws.String("arn:aws:lambda:us-east-1:000000000000:function:rot")}); err != nil {
		t.Fatal(err)
	}
	d, err := c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(name)})
	if err != nil || !aws.ToBool(d.RotationEnabled) || d.LastRotatedDate == nil || aws.ToInt64(d.RotationRules.AutomaticallyAfterDays) != 30 {
		t.Fatalf("after rotation: %v %+v", err, d)
	}
	v, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(name)})
	if err != nil || aws.ToString(v.SecretString) == "v1" {
		t.Fatalf("value not rotated: %v", err)
	}
	_, err = c.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String("l3/nope")})
	wantCode(t, "missing secret", err, "ResourceNotFoundException")
}

func TestECRRefusals(t *testing.T) {
	s := New()
	defer s.Close()
	ctx := context.Background()
	if err := s.SeedECRRepository(ctx, ECRRepository{Name: "l3/repo"}); err != nil {
		t.Fatal(err)
	}
	c := ecr.NewFromConfig(s.seedConfig())
	_, err := c.GetLifecyclePolicy(ctx, &ecr.GetLifecyclePolicyInput{RepositoryName: aws.String("l3/repo")})
	wantCode(t, "no lifecycle policy", err, "LifecyclePolicyNotFoundException")
	_, err = c.DescribeImageScanFindings(ctx, &ecr.DescribeImageScanFindingsInput{RepositoryName: aws.String("l3/repo"), ImageId: &ecrtypes.ImageIdentifier{ImageTag: aws.String("v1")}})
	wantCode(t, "no such image", err, "ImageNotFoundException")
	_, err = c.PutImageTagMutability(ctx, &ecr.PutImageTagMutabilityInput{RepositoryName: aws.String("l3/nope"), ImageTagMutability: ecrtypes.ImageTagMutabilityImmutable})
	wantCode(t, "missing repository", err, "RepositoryNotFoundException")
	_, err = c.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("l3/repo")})
	wantCode(t, "duplicate", err, "RepositoryAlreadyExistsException")
}

func TestStepFunctionsRedriveRules(t *testing.T) {
	s := New()
	defer s.Close()
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	s.SetStepFunctionsClock(func() time.Time { return now })
	ended := func(name, status string, ago time.Duration) SFNExecution {
		return SFNExecution{Name: name, Status: status, Started: now.Add(-ago - time.Minute), Stopped: now.Add(-ago)}
	}
	if err := s.SeedStateMachine(ctx, SFNStateMachine{Name: "l3-m", Executions: []SFNExecution{
		ended("ok", "SUCCEEDED", time.Hour), ended("late", "FAILED", 15*24*time.Hour), ended("f", "FAILED", time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	if err := s.SeedStateMachine(ctx, SFNStateMachine{Name: "l3-x", Express: true}); err != nil {
		t.Fatal(err)
	}
	c := sfn.NewFromConfig(s.seedConfig())
	redrive := func(name string) error {
		_, err := c.RedriveExecution(ctx, &sfn.RedriveExecutionInput{ExecutionArn: aws.String(sfnExecutionARN + "l3-m:" + name)})
		return err
	}
	wantCode(t, "redrive a success", redrive("ok"), "ExecutionNotRedrivable")
	wantCode(t, "redrive after 14 days", redrive("late"), "ExecutionNotRedrivable")
	wantCode(t, "redrive a missing execution", redrive("nope"), "ExecutionDoesNotExist")
	if err := redrive("f"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "redrive a running execution", redrive("f"), "ExecutionNotRedrivable")
	_, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(sfnMachineARN + "l3-m"), Name: aws.String("ok")})
	wantCode(t, "start with a used name", err, "ExecutionAlreadyExists")
	_, err = c.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(sfnMachineARN + "l3-x")})
	wantCode(t, "list an express machine's executions", err, "StateMachineTypeNotSupported")
	if st, n := s.SFNExecutionState("l3-m", "f"); st != "RUNNING" || n != 1 {
		t.Fatalf("redriven: %s %d", st, n)
	}
}
