package main

import (
	"testing"

	"github.com/day2bot/day2bot/blueprints"
	"github.com/day2bot/day2bot/tasks"
	"github.com/day2bot/day2bot/tasks/aws"
)

// The shipped example must stay a valid config: it is what newcomers copy.
func TestExampleConfigIsValid(t *testing.T) {
	cfg, err := loadConfig("../../day2bot.example.yaml", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cat, err := blueprints.Library()
	if err != nil {
		t.Fatal(err)
	}
	reg, err := tasks.NewRegistry(aws.All()...)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Config.Validate("day2bot.example.yaml", cat, reg); err != nil {
		t.Fatalf("example config does not validate:\n%v", err)
	}
	if _, err := cfg.Config.ResolveAll(cat); err != nil {
		t.Fatalf("resolve example apps: %v", err)
	}
}
