package policies

import (
	"errors"
	"strings"
	"testing"

	"github.com/day2bot/day2bot/internal/errs"
)

func TestCompileErrors(t *testing.T) {
	ok := Rule{ID: "ok", Effect: Allow, Subjects: []string{"*"}}
	mod := func(f func(*Rule)) Rule {
		r := ok
		r.ID = "r3"
		f(&r)
		return r
	}
	tests := []struct {
		name string
		rule Rule
		want string
	}{
		{"bad number", mod(func(r *Rule) { r.Params = map[string]string{"desired": "<= x"} }),
			`rule "r3" field params.desired: "<= x": "x" is not a number`},
		{"missing id", Rule{Effect: Allow, Subjects: []string{"*"}}, `rule "#2" field id: missing id`},
		{"bad id", mod(func(r *Rule) { r.ID = "has space" }), `rule "has space" field id: bad id`},
		{"unknown effect", mod(func(r *Rule) { r.Effect = "permit" }), `rule "r3" field effect: unknown effect "permit"`},
		{"missing effect", mod(func(r *Rule) { r.Effect = "" }), `field effect: missing effect`},
		{"no subjects", mod(func(r *Rule) { r.Subjects = nil }), `field subjects: no subjects`},
		{"bad subject", mod(func(r *Rule) { r.Subjects = []string{"ops"} }), `field subjects[0]: bad subject "ops"`},
		{"bad group", mod(func(r *Rule) { r.Subjects = []string{"group:Ops Team"} }), `field subjects[0]: bad group name "Ops Team"`},
		{"bad handle", mod(func(r *Rule) { r.Subjects = []string{"user:Carol"} }), `field subjects[0]: bad handle "Carol"`},
		{"bad principal", mod(func(r *Rule) { r.Subjects = []string{"user:slack:"} }), `field subjects[0]: bad principal "slack:"`},
		{"bad app glob", mod(func(r *Rule) { r.Apps = []string{"shop/prod"} }), `field apps[0]: bad name or glob "shop/prod"`},
		{"empty task", mod(func(r *Rule) { r.Tasks = []string{""} }), `field tasks[0]: bad name or glob ""`},
		{"user in task", mod(func(r *Rule) { r.Tasks = []string{"{user}"} }), `field tasks[0]: bad name or glob`},
		{"bad channel", mod(func(r *Rule) { r.Channels = []string{"slack:{user}"} }), `field channels[0]: "slack:{user}": {user} is only allowed in parameter constraints`},
		{"bad param name", mod(func(r *Rule) { r.Params = map[string]string{"a b": "1"} }), `field params.a b: bad parameter name`},
		{"bad window", mod(func(r *Rule) { r.Window = "Mon-Fri 8-18" }), `field window: "Mon-Fri 8-18": want`},
		{"bad zone", mod(func(r *Rule) { r.Window = "Mon 08:00-09:00 Berlin" }), `field window: "Mon 08:00-09:00 Berlin": unknown time zone "Berlin"`},
		{"bad rate", mod(func(r *Rule) { r.Rate = "5 per hour" }), `field rate: "5 per hour": want COUNT/DURATION`},
		{"rate on deny", mod(func(r *Rule) { r.Effect, r.Rate = Deny, "5/1h" }), `field rate: a deny rule cannot have a rate limit`},
		{"approvers on allow", mod(func(r *Rule) { r.Approvers = []string{"group:sre"} }), `field approvers: only approve rules have approvers`},
		{"quorum on allow", mod(func(r *Rule) { r.Quorum = 2 }), `field quorum: only approve rules have a quorum`},
		{"expiry on deny", mod(func(r *Rule) { r.Effect, r.Expiry = Deny, "1h" }), `field expiry: only approve rules have an expiry`},
		{"approve without approvers", mod(func(r *Rule) { r.Effect, r.Quorum = Approve, 1 }), `field approvers: an approve rule needs approvers`},
		{"quorum zero", mod(func(r *Rule) { r.Effect, r.Approvers = Approve, []string{"group:sre"} }), `field quorum: quorum must be at least 1, got 0`},
		{"quorum unreachable", mod(func(r *Rule) { r.Effect, r.Approvers, r.Quorum = Approve, []string{"user:alice", "user:bob"}, 3 }),
			`field quorum: quorum 3 can never be met by 2 approvers`},
		{"anyone approves", mod(func(r *Rule) { r.Effect, r.Approvers, r.Quorum = Approve, []string{"*"}, 1 }), `field approvers[0]: * cannot approve`},
		{"bad expiry", mod(func(r *Rule) { r.Effect, r.Approvers, r.Quorum, r.Expiry = Approve, []string{"owner"}, 1, "soon" }),
			`field expiry: "soon" is not a duration`},
		{"expiry too long", mod(func(r *Rule) { r.Effect, r.Approvers, r.Quorum, r.Expiry = Approve, []string{"owner"}, 1, "90d" }),
			`field expiry: expiry must be between 1m and 30d`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compile([]Rule{ok, tt.rule})
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Compile = %v, want *ValidationError", err)
			}
			msg, ok := errs.Render(err)
			if !ok || errs.KindOf(err) != errs.Invalid {
				t.Fatalf("Compile = %v (kind %v), want an invalid error with a message", err, errs.KindOf(err))
			}
			if !strings.Contains(msg, tt.want) {
				t.Fatalf("message %q does not contain %q", msg, tt.want)
			}
		})
	}
}

func TestCompileListsEveryProblem(t *testing.T) {
	_, err := Compile([]Rule{
		{ID: "a", Effect: "nope", Subjects: []string{"*"}, Rate: "x"},
		{ID: "a", Effect: Allow, Subjects: []string{"*"}},
	})
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("Compile = %v", err)
	}
	want := []string{
		`rule "a" field effect: unknown effect "nope": want allow, deny or approve`,
		`rule "a" field rate: "x": want COUNT/DURATION, e.g. 5/1h`,
		`rule "a" field id: duplicate id`,
	}
	msg, _ := errs.Render(err)
	if got := strings.Split(msg, "\n"); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if err.Error() != "invalid policy: "+msg {
		t.Errorf("Error() = %q, want the problems after \"invalid policy: \"", err.Error())
	}
}

func TestValidationErrorTruncates(t *testing.T) {
	var rules []Rule
	for range 30 {
		rules = append(rules, Rule{ID: "x", Effect: Allow, Subjects: []string{"*"}})
	}
	_, err := Compile(rules)
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 29 {
		t.Fatalf("Compile = %v", err)
	}
	if msg, _ := errs.Render(err); !strings.HasSuffix(msg, "… and 9 more") || strings.Count(msg, "\n") != 20 {
		t.Fatalf("message not truncated:\n%s", msg)
	}
}

func TestValidateFile(t *testing.T) {
	good := File{
		Users:  map[string][]string{"carol": {"slack:U1", "discord:42"}, "bob": {"slack:U2"}},
		Groups: map[string][]string{"ops": {"carol", "slack:U9"}, "sre": {"bob"}},
		Rules: []Rule{
			{ID: "a", Effect: Approve, Subjects: []string{"group:ops"}, Approvers: []string{"group:sre"}, Quorum: 1},
		},
	}
	if err := ValidateFile(good); err != nil {
		t.Fatalf("ValidateFile(good) = %v", err)
	}
	tests := []struct {
		name string
		mod  func(*File)
		want string
	}{
		{"bad handle", func(f *File) { f.Users["Carol Smith"] = []string{"slack:U7"} }, `users.Carol Smith: bad handle "Carol Smith"`},
		{"identity is a handle", func(f *File) { f.Users["dave"] = []string{"dave"} }, `users.dave: bad identity "dave"`},
		{"identity twice", func(f *File) { f.Users["dave"] = []string{"slack:U1"} }, `users.dave: identity slack:U1 already belongs to carol`},
		{"bad group name", func(f *File) { f.Groups["Ops!"] = nil }, `groups.Ops!: bad group name`},
		{"bad member", func(f *File) { f.Groups["ops"] = []string{"Not A Handle"} }, `groups.ops: bad member "Not A Handle"`},
		{"undefined approver group", func(f *File) { f.Rules[0].Approvers = []string{"group:sre-typo"} },
			`rule "a" field approvers: group "sre-typo" is not defined in groups`},
		{"undefined subject group", func(f *File) { f.Rules[0].Subjects = []string{"group:nobody"} },
			`rule "a" field subjects: group "nobody" is not defined in groups`},
		{"rule problem", func(f *File) { f.Rules[0].Quorum = -1 }, `rule "a" field quorum: quorum must be at least 1, got -1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := File{Users: map[string][]string{}, Groups: map[string][]string{}}
			for k, v := range good.Users {
				f.Users[k] = v
			}
			for k, v := range good.Groups {
				f.Groups[k] = v
			}
			f.Rules = append([]Rule(nil), good.Rules...)
			tt.mod(&f)
			err := ValidateFile(f)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ValidateFile = %v, want %q", err, tt.want)
			}
		})
	}
}
