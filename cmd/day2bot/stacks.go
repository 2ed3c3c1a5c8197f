package main

import (
	"fmt"
	"maps"
	"slices"

	"github.com/day2bot/day2bot/blueprints"
	"github.com/day2bot/day2bot/internal/cfn"
	"github.com/day2bot/day2bot/tasks"
	awsactions "github.com/day2bot/day2bot/tasks/aws"
)

// actionRegistry is base (the AWS actions) with the cloudformation.* actions
// knowing the templates of the apps deployed as stacks (`stack:` in the
// config).
func actionRegistry(base []tasks.Action, apps map[string]*blueprints.ResolvedApp) (*tasks.Registry, error) {
	reg, err := tasks.NewRegistry(append(base, awsactions.CloudFormationActions(awsactions.SDKCloudFormation, stackTemplates(apps))...)...)
	if err != nil {
		return nil, fmt.Errorf("build action registry: %w", err)
	}
	return reg, nil
}

// stackTemplates are the deployable stacks of the apps that have one.
func stackTemplates(apps map[string]*blueprints.ResolvedApp) awsactions.StackTemplates {
	out := awsactions.StackTemplates{}
	for _, name := range slices.Sorted(maps.Keys(apps)) {
		ra := apps[name]
		if ra.Stack == nil {
			continue
		}
		st := awsactions.StackTemplate{App: name, Body: ra.Stack.Template.Body(), Params: map[string]string{},
			AppParam: cfn.AppParameter, RoleARN: ra.Stack.RoleARN}
		for _, p := range ra.Stack.Params {
			st.Params[p.Name] = p.Key
		}
		out[ra.Stack.Name] = st
	}
	return out
}
