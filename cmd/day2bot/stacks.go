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
func actionRegistry(base []tasks.Action, cat *blueprints.Catalog, apps map[string]blueprints.App) (*tasks.Registry, error) {
	stacks, err := stackTemplates(cat, apps)
	if err != nil {
		return nil, err
	}
	reg, err := tasks.NewRegistry(append(base, awsactions.CloudFormationActions(awsactions.SDKCloudFormation, stacks)...)...)
	if err != nil {
		return nil, fmt.Errorf("build action registry: %w", err)
	}
	return reg, nil
}

// stackTemplates are the deployable stacks of the apps that have one.
func stackTemplates(cat *blueprints.Catalog, apps map[string]blueprints.App) (awsactions.StackTemplates, error) {
	out := awsactions.StackTemplates{}
	for _, name := range slices.Sorted(maps.Keys(apps)) {
		if apps[name].Stack == nil {
			continue
		}
		ra, err := blueprints.ResolveApp(cat, name, apps[name])
		if err != nil {
			return nil, fmt.Errorf("resolve app %s: %w", name, err)
		}
		st := awsactions.StackTemplate{App: name, Body: ra.Stack.Template.Body(), Params: map[string]string{},
			AppParam: cfn.AppParameter, RoleARN: ra.Stack.RoleARN}
		for _, p := range ra.Stack.Params {
			st.Params[p.Name] = p.Key
		}
		out[ra.Stack.Name] = st
	}
	return out, nil
}
