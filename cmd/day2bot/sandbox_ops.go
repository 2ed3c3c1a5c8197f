package main

// The sandbox's schedules, digests and alerts: `digest shop` posts a
// digest of the emulated account (metrics seeded so one instance is at
// warn), the sandbox line `alarm NAME [ok]` flips an emulated alarm and
// polls it, so its alert with remediation buttons shows at once, and
// `throttle SERVICE:Operation` makes AWS throttle that call past the SDK's
// retries, so a run fails for a passing reason and offers Retry.
// Schedules and the alarm loop are not started: in a terminal session
// (and its scripted transcripts) output only follows what was typed.

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/day2bot/day2bot/bot"
	"github.com/day2bot/day2bot/bot/routines"
	"github.com/day2bot/day2bot/bot/shell"
	"github.com/day2bot/day2bot/tasks/emulator"
)

// sandboxCPU is the CPU each of shop's web instances reports, in launch
// order: one runs hot enough for a warn marker in the digest.
var sandboxCPU = []float64{34, 41, 48, 76}

type sandboxOps struct {
	emu  *emulator.Server
	rt   *routines.Routines
	cw   *cloudwatch.Client
	plat *shell.Platform
}

// newSandboxOps seeds the digest's metrics. The demo alarm shop-cpu-high
// is shop's through the app's alarm_prefixes.
func newSandboxOps(ctx context.Context, emu *emulator.Server, cfg aws.Config, rt *routines.Routines, plat *shell.Platform) (*sandboxOps, error) {
	if err := seedSandboxMetrics(ctx, emu, cfg); err != nil {
		return nil, err
	}
	return &sandboxOps{emu: emu, rt: rt, cw: cloudwatch.NewFromConfig(cfg), plat: plat}, nil
}

// seedSandboxMetrics pins the CPU of shop's web instances and keeps its
// load balancer and database metrics at healthy values.
func seedSandboxMetrics(ctx context.Context, emu *emulator.Server, cfg aws.Config) error {
	out, err := ec2.NewFromConfig(cfg).DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{
		{Name: aws.String("tag:app"), Values: []string{"shop"}}, {Name: aws.String("tag:tier"), Values: []string{"web"}},
	}})
	if err != nil {
		return fmt.Errorf("seed sandbox metrics: %w", err)
	}
	i := 0
	for _, r := range out.Reservations {
		for _, in := range r.Instances {
			dims := map[string]string{"InstanceId": aws.ToString(in.InstanceId)}
			if err := emu.SetMetric(ctx, "AWS/EC2", "CPUUtilization", dims, sandboxCPU[i%len(sandboxCPU)]); err != nil {
				return err
			}
			if err := emu.SetMetric(ctx, "AWS/EC2", "StatusCheckFailed", dims, 0); err != nil {
				return err
			}
			i++
		}
	}
	tgs, err := elasticloadbalancingv2.NewFromConfig(cfg).DescribeTargetGroups(ctx, &elasticloadbalancingv2.DescribeTargetGroupsInput{Names: []string{"shop-web"}})
	if err != nil {
		return fmt.Errorf("seed sandbox metrics: %w", err)
	}
	// ALB metrics are published per LoadBalancer ("app/NAME/ID"), and
	// per target group with the load balancer it is behind.
	lbDim := func(arn string) string { return arn[strings.Index(arn, ":loadbalancer/")+len(":loadbalancer/"):] }
	for _, g := range tgs.TargetGroups {
		arn := aws.ToString(g.TargetGroupArn)
		dims := map[string]string{"TargetGroup": arn[strings.Index(arn, ":targetgroup/")+1:]}
		if len(g.LoadBalancerArns) == 1 {
			dims["LoadBalancer"] = lbDim(g.LoadBalancerArns[0])
		}
		if err := emu.SetMetric(ctx, "AWS/ApplicationELB", "UnHealthyHostCount", dims, 0); err != nil {
			return err
		}
	}
	lbs, err := elasticloadbalancingv2.NewFromConfig(cfg).DescribeLoadBalancers(ctx, &elasticloadbalancingv2.DescribeLoadBalancersInput{Names: []string{"shop-web"}})
	if err != nil {
		return fmt.Errorf("seed sandbox metrics: %w", err)
	}
	for _, lb := range lbs.LoadBalancers {
		dims := map[string]string{"LoadBalancer": lbDim(aws.ToString(lb.LoadBalancerArn))}
		for metric, v := range map[string]float64{"TargetResponseTime": 0.12, "HTTPCode_Target_5XX_Count": 0} {
			if err := emu.SetMetric(ctx, "AWS/ApplicationELB", metric, dims, v); err != nil {
				return err
			}
		}
	}
	for i, b := range sandboxBuckets {
		size := map[string]string{"BucketName": b, "StorageType": "StandardStorage"}
		if err := emu.SetMetric(ctx, "AWS/S3", "BucketSizeBytes", size, float64(i+1)*3.2*(1<<30)); err != nil {
			return err
		}
		objects := map[string]string{"BucketName": b, "StorageType": "AllStorageTypes"}
		if err := emu.SetMetric(ctx, "AWS/S3", "NumberOfObjects", objects, float64((i+1)*12500)); err != nil {
			return err
		}
	}
	// The emulator's unpinned series are percent-like; the database's
	// byte and latency metrics get values of their own.
	db := map[string]string{"DBInstanceIdentifier": "shop-db"}
	for metric, v := range map[string]float64{"FreeStorageSpace": 21.5 * (1 << 30), "FreeableMemory": 1.4 * (1 << 30),
		"ReadLatency": 0.004, "DatabaseConnections": 23, "CPUUtilization": 18} {
		if err := emu.SetMetric(ctx, "AWS/RDS", metric, db, v); err != nil {
			return err
		}
	}
	return nil
}

// wrap is the engine as the sandbox's session drives it: the line
// `alarm NAME [ok]` is the sandbox's, everything else the engine's.
func (o *sandboxOps) wrap(e *bot.Engine) shell.Engine { return sandboxEngine{Engine: e, ops: o} }

type sandboxEngine struct {
	*bot.Engine
	ops *sandboxOps
}

func (s sandboxEngine) HandleCommand(ctx context.Context, cmd bot.Command) {
	f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(cmd.Text), "/day2 "))
	if len(f) > 0 && f[0] == "throttle" {
		s.ops.throttle(f[1:])
		return
	}
	if len(f) == 0 || f[0] != "alarm" {
		s.Engine.HandleCommand(ctx, cmd)
		return
	}
	if len(f) < 2 || len(f) > 3 || (len(f) == 3 && f[2] != "ok") {
		s.ops.plat.Printf("usage: alarm NAME [ok] — sets an emulated alarm to ALARM (or back to OK)\n")
		return
	}
	if err := s.ops.flip(ctx, f[1], len(f) == 3); err != nil {
		s.ops.plat.Printf("alarm %s: %v\n", f[1], err)
	}
}

// flip sets the alarm's state in the emulated CloudWatch and polls it.
func (o *sandboxOps) flip(ctx context.Context, name string, ok bool) error {
	state, reason := cwtypes.StateValueAlarm, "Threshold Crossed: 2 out of the last 2 datapoints [96.4 (5 min ago), 93.1 (10 min ago)] were greater than the threshold (90.0)."
	if ok {
		state, reason = cwtypes.StateValueOk, "Threshold Crossed: 2 out of the last 2 datapoints [41.0, 38.7] were not greater than the threshold (90.0)."
	}
	if _, err := o.cw.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String(name), StateValue: state, StateReason: aws.String(reason)}); err != nil {
		return fmt.Errorf("set state: %w", err)
	}
	if !o.rt.OwnsAlarm(name) {
		return fmt.Errorf("set to %s, but no app watches it (names start with an app, like shop-cpu-high)", state)
	}
	return o.rt.PollAlarm(ctx, name)
}

// sdkAttempts is how many times the SDK's standard retryer tries a call
// (the sandbox's clients use it): throttling that many answers is what
// outlasts its retries.
const sdkAttempts = 3

// throttle makes the emulated AWS answer the next sdkAttempts calls of one
// operation with Throttling.
func (o *sandboxOps) throttle(args []string) {
	if len(args) != 1 || !strings.Contains(args[0], ":") {
		o.plat.Printf("usage: throttle SERVICE:Operation — e.g. throttle ec2:RebootInstances\n")
		return
	}
	for range sdkAttempts {
		o.emu.InjectFault(args[0], emulator.Fault{Status: 400, Code: "Throttling", Message: "Rate exceeded"})
	}
	o.plat.Printf("AWS throttles the next %d calls of %s: as many as the SDK tries, so the next run that makes one fails and offers Retry\n", sdkAttempts, args[0])
}
