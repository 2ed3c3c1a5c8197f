package aws

import "github.com/day2bot/day2bot/tasks"

// EC2Actions are the ec2.* actions with the default load balancing client
// and no pace (for the tests; Actions builds the production set).
func EC2Actions(client EC2Client) []tasks.Action {
	return EC2ActionsWith(client, nil, Pace{})
}

// ECSActions are the ecs.* actions with no pace (for the tests).
func ECSActions(newClient ECSClient) []tasks.Action { return ECSActionsWith(newClient, Pace{}) }
