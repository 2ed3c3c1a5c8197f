package aws

import (
	"context"
	"fmt"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/tasks"
)

// ec2.change-type resizes stopped instances. AWS refuses the change on a
// running instance, and stopping one is a decision of its own (it stops
// serving), so running instances are refused in the plan with what to do
// instead; a blueprint lists the types it allows as the parameter's enum.

var instanceTypeParam = tasks.Param{Name: "type", Type: tasks.TypeString, Required: true,
	Pattern: `^[a-z][a-z0-9-]*\.[a-z0-9-]+$`, Format: "an instance type like t3.large or m6i.xlarge",
	Description: "the instance type to change to"}

func ec2ChangeType(newClient EC2Client) tasks.Action {
	return &stepAction{
		name: "ec2.change-type", target: ec2Type, mutating: true, verb: "changed the type of", noun: "instances",
		iam:    []string{"ec2:DescribeInstances", "ec2:ModifyInstanceAttribute"},
		params: []tasks.Param{instanceTypeParam},
		plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
			c := newClient(inv.AWS)
			to, err := stringValue(inv.Values, "type", "")
			if err != nil {
				return tasks.Plan{}, nil, err
			}
			if to == "" {
				return tasks.Plan{}, nil, errs.E(tasks.ParamOp("type"), errs.Invalid, "type is required: the instance type to change to")
			}
			ins, more, err := listInstances(ctx, c, inv.Target, maxChange)
			if err != nil {
				return tasks.Plan{}, nil, err
			}
			if more {
				return tasks.Plan{}, nil, errs.E("select instances", errs.Invalid, "the target selects more than %d instances; narrow it", maxChange)
			}
			b := planBuilder{verb: "change type to " + to + " of", noun: "instances"}
			for _, in := range ins {
				switch {
				case in.State != string(ec2types.InstanceStateNameStopped):
					b.add(in.ID, in.describe(), decision{Skip: fmt.Sprintf("is %s: the type changes only while stopped; stop it first, then start it after", in.State)})
				case in.Type == to:
					b.add(in.ID, in.describe(), decision{Skip: "is already " + to})
				default:
					b.add(in.ID, in.describe(), decision{Action: "change type " + in.Type + " -> " + to, Run: func(ctx context.Context) (string, error) {
						_, err := c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: awssdk.String(in.ID),
							InstanceType: &ec2types.AttributeValue{Value: awssdk.String(to)}})
						if err != nil {
							return "", err
						}
						return in.Type + " -> " + to + " (still stopped)", nil
					}})
				}
			}
			return b.plan(), b.steps, nil
		},
	}
}
