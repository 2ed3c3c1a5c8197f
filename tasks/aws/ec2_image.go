package aws

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/tasks"
)

// ec2.create-ami images running or stopped instances. By default without a
// reboot (the instance keeps serving; the image is crash-consistent); with
// no_reboot=false AWS reboots a running instance for a consistent file
// system, which the plan says. The image is named
// <instance name or id>-<label>-<time> and carries the instance's tags (so
// the app's tag selects it too) plus day2bot:source-instance.

var labelParam = tasks.Param{Name: "label", Type: tasks.TypeString, Default: "manual", Pattern: `^[a-z0-9-]{1,40}$`,
	Format: "1 to 40 lowercase letters, digits or dashes", Description: "a word in the image's name, e.g. before-upgrade"}

func ec2CreateImage(newClient EC2Client) tasks.Action {
	return &stepAction{
		name: "ec2.create-ami", target: ec2Type, mutating: true, verb: "imaged", noun: "instances",
		iam: []string{"ec2:DescribeInstances", "ec2:CreateImage", "ec2:CreateTags"},
		params: []tasks.Param{
			{Name: "no_reboot", Type: tasks.TypeBool, Default: "true", Description: "image without rebooting (false reboots running instances for a consistent file system)"},
			labelParam,
		},
		plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
			c := newClient(inv.AWS)
			noReboot, err := boolValue(inv.Values, "no_reboot", true)
			if err != nil {
				return tasks.Plan{}, nil, err
			}
			label, err := stringValue(inv.Values, "label", "manual")
			if err != nil {
				return tasks.Plan{}, nil, err
			}
			ins, more, err := listInstances(ctx, c, inv.Target, maxChange)
			if err != nil {
				return tasks.Plan{}, nil, err
			}
			if more {
				return tasks.Plan{}, nil, errs.E("select instances", errs.Invalid, "the target selects more than %d instances; narrow it", maxChange)
			}
			stamp := inv.Now.UTC().Format("20060102-1504")
			b := planBuilder{verb: "create an AMI of", noun: "instances"}
			for _, in := range ins {
				if in.State != "running" && in.State != "stopped" {
					b.add(in.ID, in.describe(), decision{Skip: "is " + in.State + "; an image needs a running or stopped instance"})
					continue
				}
				name := fmt.Sprintf("%s-%s-%s", cmp.Or(in.Tags["Name"], in.ID), label, stamp)
				action := "create AMI " + name + " without reboot"
				if !noReboot && in.State == "running" {
					action = "reboot, then create AMI " + name
				}
				b.add(in.ID, in.describe(), decision{Action: action, Run: func(ctx context.Context) (string, error) {
					out, err := c.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: awssdk.String(in.ID), Name: awssdk.String(name),
						NoReboot: awssdk.Bool(noReboot), Description: awssdk.String("day2bot create-ami of " + in.ID),
						TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeImage, Tags: imageTags(in)}}})
					if err != nil {
						return "", err
					}
					return awssdk.ToString(out.ImageId) + " " + name + " pending", nil
				}})
			}
			return b.plan(), b.steps, nil
		},
	}
}

// imageTags are the instance's own tags (AWS-reserved aws: ones left out)
// and where the image came from.
func imageTags(in instance) []ec2types.Tag {
	tags := map[string]string{"day2bot:source-instance": in.ID}
	for k, v := range in.Tags {
		if !strings.HasPrefix(k, "aws:") {
			tags[k] = v
		}
	}
	var out []ec2types.Tag
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		out = append(out, ec2types.Tag{Key: awssdk.String(k), Value: awssdk.String(tags[k])})
	}
	return out
}
