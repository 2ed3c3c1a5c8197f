package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/day2bot/day2bot/bot/slack/slackfake"
	"github.com/day2bot/day2bot/tasks/emulator"
)

// target is a running `day2bot serve` (and, for latency runs, the floor
// server) with the Slack fake and the AWS emulator it talks to.
type target struct {
	fake      *slackfake.Server
	emu       *emulator.Server
	serve     *exec.Cmd
	addr      string
	floorAddr string
	logPath   string
	cleanup   []func()
}

// stop interrupts the processes (serve drains) and removes what the
// target made.
func (t *target) stop() {
	for i := len(t.cleanup) - 1; i >= 0; i-- {
		t.cleanup[i]()
	}
}

// startTarget starts serve on a fresh database with the load policy, and
// the floor server if withFloor, and waits until they answer.
func startTarget(bin, logPath string, withFloor bool) (_ *target, err error) {
	ctx := context.Background()
	t := &target{}
	defer func() {
		if err != nil {
			t.stop()
		}
	}()
	t.fake = slackfake.New(token)
	t.cleanup = append(t.cleanup, t.fake.Close)
	for id, name := range map[string]string{"UALICE": "alice", "UBOB": "bob", "UCAROL": "carol"} {
		t.fake.AddUser(id, name)
	}
	t.emu = emulator.New()
	t.cleanup = append(t.cleanup, t.emu.Close)
	if _, err := t.emu.SeedInstances(ctx, 4, emulator.InstanceSpec{Tags: map[string]string{"app": app, "tier": "web"}}); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "day2bot-load-")
	if err != nil {
		return nil, err
	}
	t.cleanup = append(t.cleanup, func() { os.RemoveAll(dir) })
	db := filepath.Join(dir, "day2bot.db")
	if err := importPolicy(ctx, db); err != nil {
		return nil, err
	}
	var channels []string
	for i := range 20 {
		channels = append(channels, fmt.Sprintf("\"slack:C%02d\"", i))
	}
	cfg := fmt.Sprintf("database: %s\napps:\n  %s:\n    blueprints: [ec2-web]\n    region: us-east-1\n    owners: [alice]\n    channels: [%s]\n",
		db, app, strings.Join(channels, ", "))
	cfgPath := filepath.Join(dir, "day2bot.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return nil, err
	}

	t.addr = freeAddr()
	t.serve = exec.Command(bin, "serve", "--config", cfgPath, "--listen", t.addr)
	t.serve.Env = append(os.Environ(),
		"SLACK_BOT_TOKEN="+token, "SLACK_SIGNING_SECRET="+secret, "SLACK_API_URL="+t.fake.APIURL(),
		"AWS_ENDPOINT_URL="+t.emu.URL, "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=AKIDLOAD", "AWS_SECRET_ACCESS_KEY=load",
		"AWS_EC2_METADATA_DISABLED=true")
	if logPath == "" {
		logPath = filepath.Join(dir, "serve.log")
	}
	t.logPath = logPath
	logs, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	t.cleanup = append(t.cleanup, func() { logs.Close() })
	t.serve.Stderr = logs
	cmds := []*exec.Cmd{t.serve}
	urls := []string{"http://" + t.addr + "/healthz"}
	if withFloor {
		self, err := os.Executable()
		if err != nil {
			return nil, err
		}
		t.floorAddr = freeAddr()
		floor := exec.Command(self, "-floor", t.floorAddr)
		floor.Stderr = os.Stderr
		cmds = append(cmds, floor)
		urls = append(urls, "http://"+t.floorAddr+"/")
	}
	for _, c := range cmds {
		if err := c.Start(); err != nil {
			return nil, err
		}
		t.cleanup = append(t.cleanup, func() {
			_ = c.Process.Signal(os.Interrupt)
			_ = c.Wait()
		})
	}
	if err := waitHealthy(urls...); err != nil {
		return nil, fmt.Errorf("%w (serve log: %s)", err, logPath)
	}
	return t, nil
}
