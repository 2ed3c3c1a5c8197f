package enginetest

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/day2bot/day2bot/blueprints"
	"github.com/day2bot/day2bot/bot"
	"github.com/day2bot/day2bot/tasks"
	awsactions "github.com/day2bot/day2bot/tasks/aws"
	"github.com/day2bot/day2bot/tasks/emulator"
)

// EmulatorAWS hands every app and principal a config for the emulator.
type EmulatorAWS struct{ Emu *emulator.Server }

func (a EmulatorAWS) Config(_ context.Context, _, region, _ string) (aws.Config, error) {
	return a.Emu.ClientConfig(region, "AKIDENGINETEST"), nil
}

// LibraryActions are the real AWS actions, with no settle time: the
// emulator's status checks are current at once.
func LibraryActions() []tasks.Action {
	return awsactions.AllWith(awsactions.Options{Pace: awsactions.Pace{Settle: -1}})
}

// LibraryApp resolves app of the embedded library's blueprints as serve
// and sandbox resolve it.
func LibraryApp(t testing.TB, name string, app blueprints.App) bot.App {
	t.Helper()
	cat, err := blueprints.Library()
	if err != nil {
		t.Fatalf("load library: %v", err)
	}
	ra, err := blueprints.ResolveApp(cat, name, app)
	if err != nil {
		t.Fatalf("resolve %s: %v", name, err)
	}
	a := bot.App{Name: name, Blueprints: ra.Blueprints, Region: ra.Region, Owners: ra.Owners}
	for name, rt := range ra.Tasks {
		a.Tasks = append(a.Tasks, bot.Task{Name: name, Description: rt.Task.Description, Action: rt.Task.Action, Target: rt.Target, Params: rt.Params()})
	}
	return a
}
