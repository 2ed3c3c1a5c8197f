package emulator

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

func TestECSServicesListDescribeUpdate(t *testing.T) {
	s := New()
	defer s.Close()
	ctx := context.Background()
	for i := range 15 {
		if err := s.SeedECSService(ctx, ECSService{Cluster: "prod", Name: fmt.Sprintf("svc-%02d", i), Desired: 2, Tags: map[string]string{"app": "shop"}}); err != nil {
			t.Fatal(err)
		}
	}
	c := ecs.NewFromConfig(s.seedConfig())
	var arns []string
	p := ecs.NewListServicesPaginator(c, &ecs.ListServicesInput{Cluster: aws.String("prod")})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		arns = append(arns, out.ServiceArns...)
	}
	if len(arns) != 15 || s.Count("ecs:ListServices") != 2 || arns[0] != "arn:aws:ecs:us-east-1:000000000000:service/prod/svc-00" {
		t.Fatalf("arns %d over %d calls: %v", len(arns), s.Count("ecs:ListServices"), arns[:1])
	}

	d, err := c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{arns[0], "nope"}, Include: []ecstypes.ServiceField{ecstypes.ServiceFieldTags}})
	if err != nil {
		t.Fatal(err)
	}
	svc := d.Services[0]
	if len(d.Services) != 1 || len(d.Failures) != 1 || aws.ToString(d.Failures[0].Reason) != "MISSING" ||
		svc.DesiredCount != 2 || svc.RunningCount != 2 || len(svc.Tags) != 1 || aws.ToString(svc.Tags[0].Value) != "shop" ||
		len(svc.Deployments) != 1 || svc.Deployments[0].RolloutState != ecstypes.DeploymentRolloutStateCompleted || svc.CreatedAt == nil {
		t.Fatalf("describe %+v %+v", d.Services, d.Failures)
	}
	first := aws.ToString(svc.Deployments[0].Id)

	up, err := c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("svc-00"), DesiredCount: aws.Int32(5)})
	if err != nil || up.Service.DesiredCount != 5 || aws.ToString(up.Service.Deployments[0].Id) != first {
		t.Fatalf("scale: %v %+v", err, up)
	}
	up, err = c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("svc-00"), ForceNewDeployment: true})
	if err != nil || len(up.Service.Deployments) != 2 || up.Service.Deployments[0].RolloutState != ecstypes.DeploymentRolloutStateInProgress ||
		aws.ToString(up.Service.Deployments[1].Id) != first {
		t.Fatalf("force: %v %+v", err, up.Service.Deployments)
	}
	d, err = c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{"svc-00"}})
	if err != nil || len(d.Services[0].Deployments) != 1 || aws.ToString(d.Services[0].Deployments[0].Id) == first || d.Services[0].RunningCount != 5 || d.Services[0].Tags != nil {
		t.Fatalf("after force: %v %+v", err, d.Services[0])
	}
	tasks, err := c.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String("prod"), ServiceName: aws.String("svc-00")})
	if err != nil || len(tasks.TaskArns) != 5 {
		t.Fatalf("tasks: %v %+v", err, tasks)
	}

	_, err = c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("nope"), DesiredCount: aws.Int32(1)})
	if errCode(err) != "ServiceNotFoundException" {
		t.Fatalf("missing service: %v", err)
	}
	_, err = c.ListServices(ctx, &ecs.ListServicesInput{Cluster: aws.String("nope")})
	if errCode(err) != "ClusterNotFoundException" {
		t.Fatalf("missing cluster: %v", err)
	}
}

// ListTaskDefinitions matches a family prefix and pages in the asked order;
// a service's task definition is the registered revision's ARN.
func TestECSTaskDefinitionsListAndRollout(t *testing.T) {
	s := New()
	defer s.Close()
	ctx := context.Background()
	if err := s.SeedECSService(ctx, ECSService{Cluster: "prod", Name: "web", Desired: 2, Revisions: 3}); err != nil {
		t.Fatal(err)
	}
	if err := s.SeedECSService(ctx, ECSService{Cluster: "prod", Name: "web-canary", Desired: 1, Revisions: 1}); err != nil {
		t.Fatal(err)
	}
	c := ecs.NewFromConfig(s.seedConfig())
	var arns []string
	p := ecs.NewListTaskDefinitionsPaginator(c, &ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String("web"), Sort: ecstypes.SortOrderDesc, MaxResults: aws.Int32(2)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		arns = append(arns, out.TaskDefinitionArns...)
	}
	td := "arn:aws:ecs:us-east-1:000000000000:task-definition/"
	if fmt.Sprint(arns) != fmt.Sprint([]string{td + "web-canary:1", td + "web:3", td + "web:2", td + "web:1"}) {
		t.Fatalf("arns %v", arns)
	}
	if got := s.ECSTaskDefinition("prod", "web"); got != td+"web:3" {
		t.Fatalf("service runs %s", got)
	}
	if _, err := c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("web"), TaskDefinition: aws.String("web:9")}); err == nil {
		t.Fatal("unknown revision accepted")
	}
	s.SetECSRollout("prod", "web", 1, false)
	out, err := c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("web"), TaskDefinition: aws.String("web:2")})
	if err != nil || len(out.Service.Deployments) != 2 || out.Service.Deployments[0].RolloutState != ecstypes.DeploymentRolloutStateInProgress {
		t.Fatalf("update %v %+v", err, out)
	}
	var states []string
	for range 2 {
		d, err := c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{"web"}})
		if err != nil {
			t.Fatal(err)
		}
		states = append(states, fmt.Sprintf("%s/%d", d.Services[0].Deployments[0].RolloutState, len(d.Services[0].Deployments)))
	}
	if fmt.Sprint(states) != "[IN_PROGRESS/2 COMPLETED/1]" {
		t.Fatalf("states %v", states)
	}
}
