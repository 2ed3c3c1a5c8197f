package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const testPolicy = "../../policies/store/storetest/testdata/policy.yaml"

// policyDB returns a temp database path with testPolicy imported.
func policyDB(t *testing.T) string {
	t.Helper()
	db := filepath.Join(t.TempDir(), "day2bot.db")
	if code, out, errs := runCLI(t, "", "--db", db, "policy", "import", testPolicy); code != 0 {
		t.Fatalf("import: exit %d\n%s%s", code, out, errs)
	}
	return db
}

func TestPolicyImportExportRoundTrip(t *testing.T) {
	db := policyDB(t)
	code, first, errs := runCLI(t, "", "--db", db, "policy", "export")
	if code != 0 {
		t.Fatalf("export: exit %d: %s", code, errs)
	}
	// The layout is pinned by the store's golden file.
	if golden, err := os.ReadFile("../../policies/store/sqlite/testdata/export.golden"); err != nil || string(golden) != first {
		t.Fatalf("export differs from policies/store/sqlite/testdata/export.golden (%v):\n%s", err, first)
	}
	exported := filepath.Join(t.TempDir(), "exported.yaml")
	if code, _, errs := runCLI(t, "", "--db", db, "policy", "export", "-o", exported); code != 0 {
		t.Fatalf("export -o: exit %d: %s", code, errs)
	}
	db2 := filepath.Join(t.TempDir(), "other.db")
	if code, _, errs := runCLI(t, "", "--db", db2, "policy", "import", exported); code != 0 {
		t.Fatalf("re-import: exit %d: %s", code, errs)
	}
	_, second, _ := runCLI(t, "", "--db", db2, "policy", "export")
	if first != second {
		t.Fatalf("export → import → export changed:\n%s\n---\n%s", first, second)
	}
	// stdin import works too.
	if code, out, errs := runCLI(t, first, "--db", db2, "policy", "import", "-"); code != 0 || !strings.Contains(out, "imported 4 rules, 3 users, 3 groups") {
		t.Fatalf("import from stdin: exit %d %q %s", code, out, errs)
	}
}

func TestPolicyImportBadFileChangesNothing(t *testing.T) {
	db := policyDB(t)
	_, before, _ := runCLI(t, "", "--db", db, "policy", "export")
	cases := map[string]struct{ yaml, want string }{
		"bad constraint": {`rules:
  - id: ok
    effect: allow
    subjects: ["*"]
  - id: broken
    effect: allow
    subjects: ["*"]
    params:
      batch: "<= lots"
`, `rule "broken" field params.batch`},
		"unknown field": {`rules:
  - id: typo
    effect: allow
    subject: ["*"]
`, "line 4"},
		"bad effect": {`rules:
  - id: r1
    effect: perhaps
    subjects: ["*"]
`, `rule "r1" field effect`},
		"empty": {``, "empty policy file"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			code, _, errs := runCLI(t, c.yaml, "--db", db, "policy", "import", "-")
			if code != exitUsage {
				t.Fatalf("exit = %d, want %d; stderr %s", code, exitUsage, errs)
			}
			if !strings.Contains(errs, c.want) {
				t.Fatalf("stderr %q does not name %q", errs, c.want)
			}
		})
	}
	if _, after, _ := runCLI(t, "", "--db", db, "policy", "export"); after != before {
		t.Fatalf("a bad import changed the policy:\n%s\n---\n%s", before, after)
	}
}

func TestPolicyTestExitCodes(t *testing.T) {
	db := policyDB(t)
	tests := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"allow by group of handle", []string{"--user", "carol", "--app", "shop", "--task", "restart-web", "batch=2"}, 0,
			[]string{"decision: allow\n", "rule: ops-restart\n", "reason: "}},
		{"allow by principal's group", []string{"--user", "discord:200", "--app", "blog", "--task", "restart-web", "batch=1"}, 0,
			[]string{"decision: allow", "rule: ops-restart"}},
		{"extra group flag", []string{"--user", "slack:U555", "--group", "ops", "--app", "shop", "--task", "restart-web", "batch=1"}, 0,
			[]string{"decision: allow"}},
		{"needs approval", []string{"--user", "slack:U102", "--app", "shop", "--task", "scale", "desired=8"}, exitNeedsApproval,
			[]string{"decision: approve\n", "rule: scale-approve\n", "approvers: 2 of group:ops"}},
		{"deny rule", []string{"--user", "carol", "--app", "shop", "--task", "delete-trail"}, exitDenied,
			[]string{"decision: deny\n", "rule: no-cloudtrail\n"}},
		{"default deny with near miss", []string{"--user", "carol", "--app", "shop", "--task", "restart-web", "batch=9"}, exitDenied,
			[]string{"decision: deny\n", "rule: (none)\n", "near miss: ", "ops-restart"}},
		{"owner in window", []string{"--user", "carol", "--owner", "carol", "--app", "lab", "--task", "reset-bucket-permissions",
			"--time", "2026-03-02T10:00:00Z", "bucket=research-carol-genomes"}, 0, []string{"rule: research-bucket"}},
		{"owner outside window", []string{"--user", "carol", "--owner", "carol", "--app", "lab", "--task", "reset-bucket-permissions",
			"--time", "2026-03-01T10:00:00Z", "bucket=research-carol-genomes"}, exitDenied, []string{"decision: deny"}},
		{"read-only task", []string{"--user", "slack:U102", "--app", "shop", "--task", "scale", "--mutating=false", "desired=8"}, exitDenied,
			[]string{"decision: deny"}},
		{"missing app", []string{"--user", "carol", "--task", "x"}, exitUsage, []string{"--app"}},
		{"bad param arg", []string{"--user", "carol", "--app", "shop", "--task", "x", "batch"}, exitUsage, []string{"NAME=VALUE"}},
		{"bad time", []string{"--user", "carol", "--app", "shop", "--task", "x", "--time", "tuesday"}, exitUsage, []string{"RFC 3339"}},
		{"bad user", []string{"--user", "Not A Handle", "--app", "shop", "--task", "x"}, exitUsage, []string{"--user"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := runCLI(t, "", append([]string{"--db", db, "policy", "test"}, tt.args...)...)
			if code != tt.code {
				t.Fatalf("exit = %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out, errs)
			}
			for _, w := range tt.want {
				if !strings.Contains(out+errs, w) {
					t.Errorf("output lacks %q:\n%s%s", w, out, errs)
				}
			}
		})
	}
}

func TestPolicyAddRemoveGroupAudit(t *testing.T) {
	db := filepath.Join(t.TempDir(), "day2bot.db")
	cli := func(stdin string, args ...string) (int, string, string) {
		return runCLI(t, stdin, append([]string{"--db", db}, args...)...)
	}
	if code, out, errs := cli("", "policy", "list"); code != exitUsage || !strings.Contains(errs, "no database") {
		t.Fatalf("list without db: exit %d %q %q", code, out, errs)
	}
	steps := []struct {
		stdin string
		args  []string
		code  int
		want  string
	}{
		{"", []string{"policy", "group", "add", "ops", "carol", "--actor", "admin"}, 0, "added carol to group ops"},
		{"", []string{"policy", "group", "add", "ops", "slack:U103"}, 0, "added"},
		{"", []string{"policy", "group", "add", "ops", "carol"}, exitUsage, "already in group ops"},
		{"", []string{"policy", "group", "add", "Bad!", "carol"}, exitUsage, "groups.Bad!"},
		{"", []string{"policy", "add", "--id", "ops-restart", "--effect", "allow", "--subject", "group:ops",
			"--task", "restart-web", "--param", "batch=<= 2", "--mutating", "true", "--actor", "admin"}, 0, "added rule ops-restart"},
		{"", []string{"policy", "add", "--id", "ops-restart", "--effect", "deny", "--subject", "*"}, exitUsage, "already exists"},
		{"", []string{"policy", "add", "--id", "x", "--effect", "allow", "--subject", "group:nope"}, exitUsage, "nope"},
		{"", []string{"policy", "add", "--effect", "allow"}, exitUsage, "--id and --effect are required"},
		{"", []string{"policy", "add", "--id", "y", "--effect", "allow", "--param", "oops"}, exitUsage, "NAME=CONSTRAINT"},
		{"id: no-trail\neffect: deny\nsubjects: ['*']\ntasks: [delete-trail]\n", []string{"policy", "add", "--file", "-"}, 0, "added rule no-trail"},
		{"id: z\neffect: deny\nsubjectz: ['*']\n", []string{"policy", "add", "--file", "-"}, exitUsage, "subjectz"},
		{"", []string{"policy", "list"}, 0, "ops-restart  allow   group:ops  *     restart-web   mutating=true; batch <= 2"},
		{"", []string{"policy", "test", "--user", "carol", "--app", "shop", "--task", "restart-web", "batch=2"}, 0, "rule: ops-restart"},
		{"", []string{"policy", "remove", "ops-restart", "--actor", "admin"}, 0, "removed rule ops-restart"},
		{"", []string{"policy", "remove", "ops-restart"}, exitUsage, "no rule ops-restart"},
		{"", []string{"policy", "test", "--user", "carol", "--app", "shop", "--task", "restart-web", "batch=2"}, exitDenied, "decision: deny"},
		{"", []string{"policy", "group", "remove", "ops", "carol"}, 0, "removed carol from group ops"},
		{"", []string{"policy", "group", "list"}, 0, "ops: slack:U103\n"},
		{"", []string{"policy", "remove"}, exitUsage, "requires at least 1 arg"},
		{"", []string{"audit", "--actor", "admin"}, 0, "removed rule ops-restart"},
		{"", []string{"audit", "--limit", "0"}, exitUsage, "--limit"},
	}
	for _, s := range steps {
		code, out, errs := cli(s.stdin, s.args...)
		if code != s.code || !strings.Contains(out+errs, s.want) {
			t.Fatalf("%v: exit %d (want %d), output lacks %q:\n%s%s", s.args, code, s.code, s.want, out, errs)
		}
	}
	_, out, _ := cli("", "audit", "--limit", "100")
	for _, w := range []string{"added carol to group ops", "added rule ops-restart", "admin", "policy"} {
		if !strings.Contains(out, w) {
			t.Errorf("audit lacks %q:\n%s", w, out)
		}
	}
	if _, err := os.Stat(db); err != nil {
		t.Fatal(err)
	}
}

func TestPolicyAddAndFlagsFixes(t *testing.T) {
	db := filepath.Join(t.TempDir(), "day2bot.db")
	exported := filepath.Join(t.TempDir(), "out.yaml")
	steps := []struct {
		stdin string
		args  []string
		code  int
		want  string
	}{
		// --help promises a quorum of 1 when --quorum is not given.
		{"", []string{"policy", "add", "--id", "scale", "--effect", "approve", "--subject", "*", "--approver", "group:ops"}, 0, "added rule scale"},
		{"", []string{"policy", "list"}, 0, "1 of group:ops"},
		{"", []string{"policy", "group", "list"}, 0, "no groups"},
		// --file does not silently drop rule flags.
		{"id: a\neffect: deny\nsubjects: ['*']\n", []string{"policy", "add", "--file", "-", "--app", "shop", "--quorum", "2"}, exitUsage,
			"not both (--app, --quorum given)"},
		{"id: a\neffect: deny\nsubjects: ['*']\n", []string{"policy", "add", "--file", "-", "--replace", "--actor", "admin"}, 0, "added rule a"},
		{"rules: []\n", []string{"policy", "add", "--file", "-"}, exitUsage, "'policy import'"},
		// --actor belongs to the commands that change something.
		{"", []string{"policy", "list", "--actor", "x"}, exitUsage, "unknown flag: --actor"},
		{"", []string{"policy", "test", "--actor", "x", "--user", "carol", "--app", "a", "--task", "t"}, exitUsage, "unknown flag: --actor"},
		{"", []string{"policy", "export", "-o", exported}, 0, "exported 2 rules, 0 users, 0 groups to " + exported},
		{"", []string{"audit", "--actor", "admin"}, 0, "added rule a"},
	}
	for _, s := range steps {
		code, out, errs := runCLI(t, s.stdin, append([]string{"--db", db}, s.args...)...)
		if code != s.code || !strings.Contains(out+errs, s.want) {
			t.Fatalf("%v: exit %d (want %d), output lacks %q:\n%s%s", s.args, code, s.code, s.want, out, errs)
		}
	}
}

// Every policy subcommand has help, and --actor is offered exactly where
// the command records a change.
func TestPolicyHelp(t *testing.T) {
	changes := map[string]bool{"add": true, "remove": true, "import": true, "group add": true, "group remove": true}
	for _, sub := range []string{"", "list", "add", "remove", "import", "export", "test", "group", "group add", "group remove", "group list"} {
		args := append([]string{"policy"}, strings.Fields(sub)...)
		code, out, errs := runCLI(t, "", append(args, "--help")...)
		if code != 0 || !strings.Contains(out, "Usage:\n  day2bot "+strings.Join(args, " ")) {
			t.Fatalf("%s --help: exit %d\n%s%s", sub, code, out, errs)
		}
		if got := strings.Contains(out, "--actor string"); got != changes[sub] {
			t.Errorf("policy %s --help offers --actor: %v, want %v", sub, got, changes[sub])
		}
	}
}
