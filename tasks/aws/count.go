package aws

import (
	"context"
	"fmt"
	"math"
	"strings"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/day2bot/day2bot/tasks"
)

// Count lists and counts the resources sel selects, for a health digest,
// with the selection code the tasks use, so a digest and a task never
// disagree about what an app owns: instances (running ones up), DB
// instances (available), Auto Scaling groups (healthy in service of
// desired), target groups (healthy targets of registered), load balancers
// (active), ECS services (running tasks of desired) and buckets (found).
// known is false for a type it does not count (see Members). An empty
// selector counts nothing.
func Count(ctx context.Context, cfg awssdk.Config, sel tasks.Selector) (ms []tasks.Member, known bool, err error) {
	switch sel.Type {
	case ec2Type, "rds:db-instance", asgType, tgType, lbType, "ecs:service", "s3:bucket":
	default:
		return nil, false, nil
	}
	if sel.Empty() {
		return nil, true, nil
	}
	switch sel.Type {
	case ec2Type:
		ms, err = countInstances(ctx, SDKEC2(cfg), sel)
	case "rds:db-instance":
		ms, err = countDBInstances(ctx, SDKRDS(cfg), sel)
	case asgType:
		ms, err = countGroups(ctx, SDKAutoScaling(cfg), sel)
	case tgType:
		ms, err = countTargets(ctx, SDKELBv2(cfg), sel)
	case lbType:
		ms, err = countLoadBalancers(ctx, SDKELBv2(cfg), sel)
	case "ecs:service":
		ms, err = countServices(ctx, SDKECS(cfg), sel)
	case "s3:bucket":
		var names []string
		names, err = selectBuckets(ctx, SDKS3(cfg), sel)
		for _, n := range names {
			// A bucket has no "down": it is counted found.
			ms = append(ms, tasks.Member{ID: n, Up: 1, Expected: 1})
		}
	}
	return ms, true, err
}

// one is a member that is up or, with state, not.
func one(id string, up bool, state string) tasks.Member {
	if up {
		return tasks.Member{ID: id, Up: 1, Expected: 1}
	}
	return tasks.Member{ID: id, Expected: 1, Down: id + " " + state}
}

func countInstances(ctx context.Context, c EC2API, sel tasks.Selector) ([]tasks.Member, error) {
	ins, _, err := listInstances(ctx, c, sel, math.MaxInt32)
	var ms []tasks.Member
	for _, in := range ins {
		state := in.State
		if state == "" {
			state = "unknown"
		}
		ms = append(ms, one(in.ID, state == "running", state))
	}
	return ms, err
}

func countDBInstances(ctx context.Context, c RDSAPI, sel tasks.Selector) ([]tasks.Member, error) {
	dbs, err := selectDBInstances(ctx, c, sel)
	var ms []tasks.Member
	for _, db := range dbs {
		st := awssdk.ToString(db.DBInstanceStatus)
		ms = append(ms, one(awssdk.ToString(db.DBInstanceIdentifier), st == "available", st))
	}
	return ms, err
}

func countGroups(ctx context.Context, c AutoScalingAPI, sel tasks.Selector) ([]tasks.Member, error) {
	gs, err := listGroups(ctx, c, sel)
	var ms []tasks.Member
	for _, g := range gs {
		m := tasks.Member{ID: g.Name, Up: g.Healthy, Expected: g.Desired}
		if g.Healthy < g.Desired {
			m.Down = fmt.Sprintf("%s %d of %d in service", g.Name, g.Healthy, g.Desired)
		}
		ms = append(ms, m)
	}
	return ms, err
}

// countTargets: a target group's id is the ARN suffix CloudWatch uses
// ("targetgroup/NAME/ID"); a group behind one load balancer also gets its
// LoadBalancer dimension, which per-group metrics such as
// UnHealthyHostCount need.
func countTargets(ctx context.Context, c ELBv2API, sel tasks.Selector) ([]tasks.Member, error) {
	gs, err := listTargetGroups(ctx, c, sel)
	if err != nil {
		return nil, err
	}
	var ms []tasks.Member
	for _, g := range gs {
		h, err := c.DescribeTargetHealth(ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: awssdk.String(g.ARN)})
		if err != nil {
			return ms, fmt.Errorf("describe target health of %s: %w", g.Name, err)
		}
		m := tasks.Member{ID: arnSuffix(g.ARN, "targetgroup/"), Expected: len(h.TargetHealthDescriptions)}
		for _, t := range h.TargetHealthDescriptions {
			if t.TargetHealth != nil && t.TargetHealth.State == elbtypes.TargetHealthStateEnumHealthy {
				m.Up++
			}
		}
		if m.Up < m.Expected {
			m.Down = fmt.Sprintf("%s %d of %d healthy", g.Name, m.Up, m.Expected)
		}
		if len(g.LBs) == 1 {
			m.Dims = map[string]string{"LoadBalancer": arnSuffix(g.LBs[0], "app/", "net/")}
		}
		ms = append(ms, m)
	}
	return ms, nil
}

// countLoadBalancers: a load balancer's id is the ARN suffix CloudWatch's
// LoadBalancer dimension uses ("app/NAME/ID").
func countLoadBalancers(ctx context.Context, c ELBv2API, sel tasks.Selector) ([]tasks.Member, error) {
	lbs, err := selectLoadBalancers(ctx, c, sel)
	var ms []tasks.Member
	for _, lb := range lbs {
		state := elbtypes.LoadBalancerStateEnum("unknown")
		if lb.State != nil {
			state = lb.State.Code
		}
		m := tasks.Member{ID: arnSuffix(awssdk.ToString(lb.LoadBalancerArn), "app/", "net/", "gwy/"), Expected: 1}
		if state == elbtypes.LoadBalancerStateEnumActive {
			m.Up = 1
		} else {
			m.Down = awssdk.ToString(lb.LoadBalancerName) + " " + string(state)
		}
		ms = append(ms, m)
	}
	return ms, err
}

// countServices: AWS/ECS publishes a service's metrics under ClusterName
// and ServiceName together, and a service name is unique only within its
// cluster, so each member is "CLUSTER/SERVICE" with both dimensions.
func countServices(ctx context.Context, c ECSAPI, sel tasks.Selector) ([]tasks.Member, error) {
	svcs, err := selectServices(ctx, c, sel)
	var ms []tasks.Member
	for _, s := range svcs {
		id := ecsName(s)
		cluster, svc, _ := strings.Cut(id, "/")
		m := tasks.Member{ID: id, Dims: map[string]string{"ClusterName": cluster, "ServiceName": svc},
			Up: int(s.RunningCount), Expected: int(s.DesiredCount)}
		if s.RunningCount < s.DesiredCount {
			m.Down = fmt.Sprintf("%s %d of %d running", id, s.RunningCount, s.DesiredCount)
		}
		ms = append(ms, m)
	}
	return ms, err
}
