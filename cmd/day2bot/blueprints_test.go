package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/day2bot/day2bot/blueprints"
)

// TestBlueprintsShowGolden runs `day2bot blueprints show` for every embedded
// blueprint and compares with the golden files kept (and updated with
// -update) by the blueprints package, so the command prints exactly the
// reviewed rendering.
func TestBlueprintsShowGolden(t *testing.T) {
	cat, err := blueprints.Library()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range cat.Names() {
		t.Run(name, func(t *testing.T) {
			code, out, errs := runCLI(t, "", "blueprints", "show", name)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			want, err := os.ReadFile(filepath.Join("..", "..", "blueprints", "testdata", "show-"+name+".golden"))
			if err != nil {
				t.Fatal(err)
			}
			if out != string(want) {
				t.Errorf("blueprints show %s differs from its golden file:\n%s", name, out)
			}
		})
	}
}

func TestBlueprintsList(t *testing.T) {
	code, out, errs := runCLI(t, "", "blueprints", "list")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	// One line per embedded blueprint with its task count, then the totals.
	cat, err := blueprints.Library()
	if err != nil {
		t.Fatal(err)
	}
	want, tasks := cat.Names(), 0
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(want)+2 {
		t.Fatalf("list printed %d lines, want %d:\n%s", len(lines), len(want)+2, out)
	}
	for i, w := range want {
		b, _ := cat.Get(w)
		tasks += len(b.Tasks)
		if f := strings.Fields(lines[i]); len(f) < 4 || f[0] != w || f[1] != strconv.Itoa(len(b.Tasks)) || f[2] != "tasks" {
			t.Errorf("line %d = %q, want blueprint %s, its %d tasks and its description", i, lines[i], w, len(b.Tasks))
		}
	}
	if total := fmt.Sprintf("%d blueprints, %d tasks", len(want), tasks); lines[len(lines)-1] != total || len(want) < 7 {
		t.Errorf("last line %q, want %q", lines[len(lines)-1], total)
	}
	if !strings.Contains(out, "EC2 web tier behind an application load balancer") {
		t.Errorf("list lacks descriptions:\n%s", out)
	}
}

func TestBlueprintsShowUnknown(t *testing.T) {
	code, _, errs := runCLI(t, "", "blueprints", "show", "ec2web")
	if code != exitUsage || !strings.Contains(errs, `unknown blueprint "ec2web"`) || !strings.Contains(errs, `did you mean "ec2-web"?`) {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
}

const userBlueprint = `name: batch-web
description: Web servers restarted two at a time
resources:
  servers: {type: "ec2:instance", select: {tags: {app: "{app}", role: web}}}
tasks:
  reboot-pair:
    action: ec2.reboot
    target: servers
    mutating: true
    description: Reboot two servers at a time
    params:
      - {name: batch, type: int, min: 1, max: 2, default: "2"}
  list:
    action: ec2.describe
    target: servers
    description: List the servers
`

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBlueprintsValidate(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "good.yaml", userBlueprint)
	code, out, errs := runCLI(t, "", "blueprints", "validate", good)
	if code != 0 || out != good+": ok (blueprint batch-web, 2 tasks)\n" {
		t.Fatalf("validate good: exit %d, stdout %q, stderr %q", code, out, errs)
	}

	// Validated against the real action registry: ec2.reboot's batch must
	// stay at least 1, and "ec2.rebooot" does not exist.
	bad := writeFile(t, dir, "bad.yaml", strings.NewReplacer(
		"min: 1, max: 2", "min: 0, max: 2",
		"action: ec2.describe", "action: ec2.describ",
	).Replace(userBlueprint))
	clash := writeFile(t, dir, "clash.yaml", strings.Replace(userBlueprint, "name: batch-web", "name: rds", 1))
	typo := writeFile(t, dir, "typo.yaml", strings.Replace(userBlueprint, "description: List", "descripton: List", 1))
	code, out, errs = runCLI(t, "", "blueprints", "validate", good, bad, clash, typo)
	if code != exitInvalid {
		t.Fatalf("validate bad: exit %d, want %d; stderr %q", code, exitInvalid, errs)
	}
	for _, want := range []string{
		bad + `: tasks.list.action: unknown action "ec2.describ"; did you mean "ec2.describe"?`,
		bad + ": tasks.reboot-pair.params[0].min: must be at least 1, action ec2.reboot's minimum",
		clash + `: name: blueprint "rds" is already defined in library/rds.yaml; pick another name`,
		typo + ":16: field descripton not found in type blueprints.Task",
		"4 problem(s) in 4 file(s)",
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
	if out != "" {
		t.Errorf("stdout on failure = %q, want nothing", out)
	}

	code, _, errs = runCLI(t, "", "blueprints", "validate")
	if code != exitUsage {
		t.Errorf("validate without files: exit %d (%s), want %d", code, errs, exitUsage)
	}
}

func TestBlueprintsDir(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "batch-web.yaml", userBlueprint)
	code, out, errs := runCLI(t, "", "blueprints", "--dir", dir, "show", "batch-web")
	if code != 0 || !strings.Contains(out, "reboot-pair") || !strings.Contains(out, "batch: int 1..2 (default 2)") {
		t.Fatalf("show from --dir: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	writeFile(t, dir, "dup.yaml", strings.Replace(userBlueprint, "name: batch-web", "name: asg", 1))
	code, _, errs = runCLI(t, "", "blueprints", "--dir", dir, "list")
	if code != exitInvalid || !strings.Contains(errs, `blueprint "asg" is already defined in library/asg.yaml`) {
		t.Fatalf("list with a clashing --dir: exit %d, stderr %q", code, errs)
	}
}

// The repository's own library files validate as they are, templates and
// all: each is checked as the new version of its embedded blueprint.
func TestValidateTheLibraryItself(t *testing.T) {
	files, err := filepath.Glob("../../blueprints/library/*.yaml")
	if err != nil || len(files) < 20 {
		t.Fatalf("library files: %d, %v", len(files), err)
	}
	code, out, errs := runCLI(t, "", append([]string{"blueprints", "validate"}, files...)...)
	if code != 0 {
		t.Fatalf("exit %d:\n%s\n%s", code, errs, out)
	}
	if !strings.Contains(out, "ec2-web.cfn.yaml: skipped (a stack template") || !strings.Contains(out, "ec2-web.yaml: ok") {
		t.Fatalf("output:\n%s", out)
	}
}
