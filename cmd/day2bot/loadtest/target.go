package main

import (
	"cmp"
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
	serve     *exec.Cmd // the first replica
	addr      string
	serves    []*exec.Cmd // every replica (targetOptions.Replicas)
	addrs     []string
	db        string // the database the replicas share
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
	return startTargetWith(bin, logPath, withFloor, targetOptions{})
}

// targetOptions start several replicas, on Postgres.
type targetOptions struct {
	// Replicas is how many serve processes share the database; 0 is one.
	Replicas int
	// DB is the database: "" a fresh SQLite file; a postgres:// DSN
	// (the caller's fresh schema).
	DB string
}

func startTargetWith(bin, logPath string, withFloor bool, o targetOptions) (_ *target, err error) {
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
	db := cmp.Or(o.DB, filepath.Join(dir, "day2bot.db"))
	t.db = db
	if err := importPolicy(ctx, db); err != nil {
		return nil, err
	}
	var channels []string
	for i := range 20 {
		channels = append(channels, fmt.Sprintf("\"slack:C%02d\"", i))
	}
	cfg := fmt.Sprintf("database: %q\napps:\n  %s:\n    blueprints: [ec2-web]\n    region: us-east-1\n    owners: [alice]\n    channels: [%s]\n",
		db, app, strings.Join(channels, ", "))
	cfgPath := filepath.Join(dir, "day2bot.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return nil, err
	}

	if logPath == "" {
		logPath = filepath.Join(dir, "serve.log")
	}
	t.logPath = logPath
	logs, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	t.cleanup = append(t.cleanup, func() { logs.Close() })
	var cmds []*exec.Cmd
	var urls []string
	for range max(1, o.Replicas) {
		addr := freeAddr()
		c := exec.Command(bin, "serve", "--config", cfgPath, "--listen", addr)
		c.Env = append(os.Environ(),
			"SLACK_BOT_TOKEN="+token, "SLACK_SIGNING_SECRET="+secret, "SLACK_API_URL="+t.fake.APIURL(),
			"AWS_ENDPOINT_URL="+t.emu.URL, "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=AKIDLOAD", "AWS_SECRET_ACCESS_KEY=load",
			"AWS_EC2_METADATA_DISABLED=true")
		c.Stderr = logs // one JSON line per write: the replicas' lines do not mix
		t.serves, t.addrs = append(t.serves, c), append(t.addrs, addr)
		cmds = append(cmds, c)
		urls = append(urls, "http://"+addr+"/healthz")
	}
	t.serve, t.addr = t.serves[0], t.addrs[0]
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
