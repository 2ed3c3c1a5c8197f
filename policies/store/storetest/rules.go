package storetest

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/policies/store"

	"go.yaml.in/yaml/v3"

	"github.com/day2bot/day2bot/policies"
)

func loadFile(t *testing.T, name string) policies.File {
	t.Helper()
	b, err := testdata.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var f policies.File
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatalf("parse %s: %v", name, err)
	}
	return f
}

func exportYAML(t *testing.T, s *store.Store) []byte {
	t.Helper()
	f, err := s.ExportFile(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b, err := policies.FormatFile(f) // as `day2bot policy export` writes it
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func testImportExportRoundTrip(t *testing.T, db Database) {
	ctx := context.Background()
	s, _ := openTemp(t, db)
	src := loadFile(t, "policy.yaml")
	if err := s.ImportFile(ctx, "admin", src); err != nil {
		t.Fatalf("ImportFile: %v", err)
	}
	got, err := s.ExportFile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(normFile(got), normFile(src)) {
		t.Fatalf("export differs from import:\n got %+v\nwant %+v", got, src)
	}
	first := exportYAML(t, s)

	// export → import (replacing everything) → export is byte-identical.
	s2 := s
	var again policies.File
	if err := yaml.Unmarshal(first, &again); err != nil {
		t.Fatal(err)
	}
	if err := s2.ImportFile(ctx, "admin", again); err != nil {
		t.Fatalf("re-import: %v", err)
	}
	if second := exportYAML(t, s2); !bytes.Equal(first, second) {
		t.Fatalf("export → import → export changed:\n%s\n---\n%s", first, second)
	}
	for _, want := range []string{"empty: []", "carol:", "- slack:U100", "- discord:200", "quorum: 2", "research-{user}-*"} {
		if !bytes.Contains(first, []byte(want)) {
			t.Errorf("export lacks %q:\n%s", want, first)
		}
	}
}

// normFile makes nil and empty collections compare equal: YAML does not
// distinguish them either.
func normFile(f policies.File) policies.File {
	for i, r := range f.Rules {
		if len(r.Params) == 0 {
			r.Params = nil
		}
		if len(r.Subjects) == 0 {
			r.Subjects = nil
		}
		f.Rules[i] = r
	}
	return f
}

func testImportBadFileChangesNothing(t *testing.T, db Database) {
	ctx := context.Background()
	s, _ := openTemp(t, db)
	if err := s.ImportFile(ctx, "admin", loadFile(t, "policy.yaml")); err != nil {
		t.Fatal(err)
	}
	before := exportYAML(t, s)
	auditBefore, _ := s.AuditLog(ctx, store.AuditFilter{Limit: 1000})

	bad := loadFile(t, "policy.yaml")
	bad.Rules = append(bad.Rules, policies.Rule{ID: "late-bad", Effect: policies.Allow, Subjects: []string{"*"}, Params: map[string]string{"n": "<= banana"}})
	bad.Users["frank"] = []string{"slack:U999"}
	cases := map[string]struct {
		f    policies.File
		want string
	}{
		"bad param constraint": {bad, `rule "late-bad" field params.n: "<= banana": "banana" is not a number`},
		"unknown group": {policies.File{Groups: map[string][]string{"ops": {"carol"}},
			Rules: []policies.Rule{{ID: "r1", Effect: policies.Allow, Subjects: []string{"group:nope"}}}}, `rule "r1" field subjects: group "nope" is not defined in groups`},
		"identity claimed twice": {policies.File{Users: map[string][]string{"a": {"slack:U1"}, "b": {"slack:U1"}}}, "users.b: identity slack:U1 already belongs to a"},
		"duplicate rule id": {policies.File{Rules: []policies.Rule{
			{ID: "r1", Effect: policies.Allow, Subjects: []string{"*"}},
			{ID: "r1", Effect: policies.Deny, Subjects: []string{"*"}}}}, `rule "r1" field id: duplicate id`},
		"repeated member": {policies.File{Groups: map[string][]string{"ops": {"carol", "carol"}}}, `groups: ops: empty or repeated member "carol"`},
		"bad effect":      {policies.File{Rules: []policies.Rule{{ID: "r9", Effect: "maybe", Subjects: []string{"*"}}}}, `rule "r9" field effect: unknown effect "maybe": want allow, deny or approve`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			wantErr(t, "ImportFile", s.ImportFile(ctx, "admin", c.f), errs.Invalid, c.want)
		})
	}
	// The policy's own findings stay reachable as Problems.
	var ve *policies.ValidationError
	if err := s.ImportFile(ctx, "admin", cases["bad effect"].f); !errors.As(err, &ve) || len(ve.Problems) != 1 || ve.Problems[0].Rule != "r9" {
		t.Errorf("ImportFile = %v, want a *policies.ValidationError with r9's problem", err)
	}
	if after := exportYAML(t, s); !bytes.Equal(before, after) {
		t.Fatalf("bad imports changed the policy:\n%s\n---\n%s", before, after)
	}
	if auditAfter, _ := s.AuditLog(ctx, store.AuditFilter{Limit: 1000}); len(auditAfter) != len(auditBefore) {
		t.Fatalf("bad imports wrote %d audit entries", len(auditAfter)-len(auditBefore))
	}
}

func testImportAuditsEachChange(t *testing.T, db Database) {
	ctx := context.Background()
	s, _ := openTemp(t, db)
	f := loadFile(t, "policy.yaml")
	if err := s.ImportFile(ctx, "admin", f); err != nil {
		t.Fatal(err)
	}
	// Change one rule, drop one, add one, change a group.
	f.Rules[0].Params = map[string]string{"batch": "<= 3"}
	f.Rules = append(f.Rules[:3], policies.Rule{ID: "new-one", Effect: policies.Deny, Subjects: []string{"*"}, Tasks: []string{"drop-db"}})
	f.Groups["dba"] = []string{"erin", "dave"}
	if err := s.ImportFile(ctx, "bob", f); err != nil {
		t.Fatal(err)
	}
	es, err := s.AuditLog(ctx, store.AuditFilter{Actor: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	var details []string
	for _, e := range es {
		if e.Kind != store.KindPolicy {
			t.Errorf("kind = %q", e.Kind)
		}
		details = append(details, e.Detail)
	}
	joined := strings.Join(details, "\n")
	for _, want := range []string{"replaced rule ops-restart", "removed rule no-cloudtrail", "added rule new-one", "set group dba: [erin, dave]"} {
		if !strings.Contains(joined, want) {
			t.Errorf("audit lacks %q:\n%s", want, joined)
		}
	}
	if len(es) != 4 {
		t.Errorf("got %d audit entries, want 4:\n%s", len(es), joined)
	}
}

func testAddPutRemoveRule(t *testing.T, db Database) {
	ctx := context.Background()
	s, _ := openTemp(t, db)
	r1 := policies.Rule{ID: "r1", Effect: policies.Allow, Subjects: []string{"user:carol"}, Tasks: []string{"restart-web"}}
	r2 := policies.Rule{ID: "r2", Effect: policies.Deny, Subjects: []string{"*"}, Tasks: []string{"delete-*"}}
	for _, r := range []policies.Rule{r1, r2} {
		if err := s.AddRule(ctx, "admin", r); err != nil {
			t.Fatalf("AddRule(%s): %v", r.ID, err)
		}
	}
	wantErr(t, "AddRule duplicate", s.AddRule(ctx, "admin", r1), errs.Conflict, `rule "r1" already exists (remove it first, or replace it)`)
	wantErr(t, "AddRule invalid", s.AddRule(ctx, "admin", policies.Rule{ID: "bad", Effect: policies.Allow, Subjects: []string{"nobody"}}),
		errs.Invalid, `rule "bad" field subjects[0]: bad subject "nobody": want user:NAME, group:NAME, owner or *`)
	r1b := r1
	r1b.Tasks = []string{"restart-*"}
	if err := s.PutRule(ctx, "admin", r1b); err != nil {
		t.Fatal(err)
	}
	rules, err := s.Rules(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 2 || rules[0].ID != "r1" || rules[0].Tasks[0] != "restart-*" || rules[1].ID != "r2" {
		t.Fatalf("rules after put = %+v", rules)
	}
	if err := s.RemoveRule(ctx, "admin", "r1"); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "RemoveRule twice", s.RemoveRule(ctx, "admin", "r1"), errs.NotFound, "no rule r1")
	r3 := policies.Rule{ID: "r3", Effect: policies.Allow, Subjects: []string{"*"}}
	if err := s.AddRule(ctx, "admin", r3); err != nil {
		t.Fatal(err)
	}
	rules, _ = s.Rules(ctx)
	if len(rules) != 2 || rules[0].ID != "r2" || rules[1].ID != "r3" {
		t.Fatalf("rules = %+v, want r2, r3 in order", rules)
	}
	es, _ := s.AuditLog(ctx, store.AuditFilter{Kind: store.KindPolicy})
	if len(es) != 5 { // add, add, replace, remove, add
		t.Fatalf("policy audit entries = %d, want 5: %+v", len(es), es)
	}
	if es[0].Actor != "admin" || !strings.HasPrefix(es[0].Detail, "added rule r3") {
		t.Fatalf("newest entry = %+v", es[0])
	}
}

// testRuleAuditReadsAsWritten: a rule's limits read in the audit trail as
// they were written ("<= 2"), not HTML-escaped ("\u003c= 2").
func testRuleAuditReadsAsWritten(t *testing.T, db Database) {
	ctx := context.Background()
	s, _ := openTemp(t, db)
	r := policies.Rule{ID: "small-batches", Effect: policies.Allow, Subjects: []string{"*"}, Params: map[string]string{"batch": "<= 2"}}
	if err := s.AddRule(ctx, "admin", r); err != nil {
		t.Fatal(err)
	}
	es, err := s.AuditLog(ctx, store.AuditFilter{Kind: store.KindPolicy})
	if err != nil || len(es) != 1 {
		t.Fatalf("audit %+v, %v", es, err)
	}
	if !strings.Contains(es[0].Detail, `"batch":"<= 2"`) {
		t.Fatalf("audit detail %q, want the limit as written", es[0].Detail)
	}
}

func testRuleSetCacheSeesOtherProcess(t *testing.T, db Database) {
	ctx := context.Background()
	a, clk := openTemp(t, db)
	b := db.Open(t, store.WithClock(clk.Now)) // a second Store on the same file, as another process would be
	if err := a.AddRule(ctx, "admin", policies.Rule{ID: "r1", Effect: policies.Allow, Subjects: []string{"*"}}); err != nil {
		t.Fatal(err)
	}
	rs1, err := a.RuleSet(ctx)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := a.RuleSet(ctx)
	if again != rs1 {
		t.Fatal("unchanged policy recompiled")
	}
	if rs1.Len() != 1 {
		t.Fatalf("Len = %d", rs1.Len())
	}
	if err := b.AddRule(ctx, "admin", policies.Rule{ID: "r2", Effect: policies.Deny, Subjects: []string{"*"}}); err != nil {
		t.Fatal(err)
	}
	rs2, err := a.RuleSet(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rs2 == rs1 || rs2.Len() != 2 {
		t.Fatalf("rule set not refreshed after another store's change: len %d", rs2.Len())
	}
	if err := b.AddMember(ctx, "admin", "ops", "carol"); err != nil {
		t.Fatal(err)
	}
	if rs3, _ := a.RuleSet(ctx); rs3 == rs2 {
		t.Fatal("group change did not invalidate the cache")
	}
}

func policyRule(id, subject string) policies.Rule {
	return policies.Rule{ID: id, Effect: policies.Allow, Subjects: []string{subject}}
}
