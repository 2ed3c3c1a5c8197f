package bot

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/day2bot/day2bot/internal/errs"
)

type kv = map[string]string

func TestParse(t *testing.T) {
	cases := []struct {
		in   string
		want Request
		err  string // substring of the usage error; "" means success
	}{
		// help
		{in: "", want: Request{Verb: VerbHelp}},
		{in: "   ", want: Request{Verb: VerbHelp}},
		{in: "help", want: Request{Verb: VerbHelp}},
		{in: "HELP", want: Request{Verb: VerbHelp}},
		{in: "Help", want: Request{Verb: VerbHelp}},
		{in: "/day2", want: Request{Verb: VerbHelp}},
		{in: "/day2 help", want: Request{Verb: VerbHelp}},
		{in: "day2 help", want: Request{Verb: VerbHelp}},
		{in: "help shop", want: Request{Verb: VerbHelp, Topic: "shop"}},
		{in: "help approve", want: Request{Verb: VerbHelp, Topic: "approve"}},
		{in: "help a b", err: "usage: help"},
		{in: "\thelp\n", want: Request{Verb: VerbHelp}},
		{in: "help\u00a0", want: Request{Verb: VerbHelp}},
		// apps, pending
		{in: "apps", want: Request{Verb: VerbApps}},
		{in: "APPS", want: Request{Verb: VerbApps}},
		{in: "apps shop", err: "apps takes no arguments"},
		{in: "pending", want: Request{Verb: VerbPending}},
		{in: "/day2 pending", want: Request{Verb: VerbPending}},
		{in: "pending now", err: "pending takes no arguments"},
		// tasks / status / digest / unfreeze
		{in: "tasks shop", want: Request{Verb: VerbTasks, App: "shop"}},
		{in: "tasks SHOP", want: Request{Verb: VerbTasks, App: "shop"}},
		{in: "tasks", err: "usage: tasks APP"},
		{in: "tasks shop restart-web", want: Request{Verb: VerbTasks, App: "shop", Task: "restart-web"}},
		{in: "tasks shop restart-web now", err: "usage: tasks APP [TASK]"},
		{in: "tasks sh!op", err: "is not an app name"},
		{in: "status shop", want: Request{Verb: VerbStatus, App: "shop"}},
		{in: "status", err: "usage: status APP"},
		{in: "status a b", err: "usage: status APP"},
		{in: "digest research", want: Request{Verb: VerbDigest, App: "research"}},
		{in: "cost research", want: Request{Verb: VerbCost, App: "research"}},
		{in: "cost", err: "usage: cost APP"},
		{in: "report shop", want: Request{Verb: VerbReport, App: "shop"}},
		{in: "report shop 2026-11", want: Request{Verb: VerbReport, App: "shop", Month: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}},
		{in: "report shop nov", err: `"nov" is not a month; write it like 2026-11`},
		{in: "report", err: "usage: report APP [YYYY-MM]"},
		{in: "digest", err: "usage: digest APP"},
		{in: "unfreeze shop", want: Request{Verb: VerbUnfreeze, App: "shop"}},
		{in: "unfreeze", err: "usage: unfreeze APP"},
		{in: "unfreeze shop now", err: "usage: unfreeze APP"},
		{in: "status my-app_2.prod", want: Request{Verb: VerbStatus, App: "my-app_2.prod"}},
		{in: "status -x", err: "is not an app name"},
		{in: "status " + strings.Repeat("a", 65), err: "is not an app name"},
		{in: "status " + strings.Repeat("a", 64), want: Request{Verb: VerbStatus, App: strings.Repeat("a", 64)}},
		// history
		{in: "history", want: Request{Verb: VerbHistory}},
		{in: "history shop", want: Request{Verb: VerbHistory, App: "shop"}},
		{in: "history shop x", err: "usage: history [APP]"},
		{in: "history $", err: "is not an app name"},
		// approve / cancel
		{in: "approve a-12", want: Request{Verb: VerbApprove, ID: "a-12"}},
		{in: "APPROVE a-12", want: Request{Verb: VerbApprove, ID: "a-12"}},
		{in: "approve", err: "usage: approve ID"},
		{in: "approve a-1 a-2", err: "usage: approve ID"},
		{in: "approve a/1", err: "is not an id"},
		{in: "approve -a", err: "is not an id"},
		{in: "approve " + strings.Repeat("1", 65), err: "is not an id"},
		{in: "cancel r-7", want: Request{Verb: VerbCancel, ID: "r-7"}},
		{in: "cancel", err: "usage: cancel ID"},
		{in: "cancel r-7 now", err: "usage: cancel ID"},
		{in: `approve "a-12"`, want: Request{Verb: VerbApprove, ID: "a-12"}},
		// deny
		{in: "deny a-3", want: Request{Verb: VerbDeny, ID: "a-3"}},
		{in: "deny a-3 not now", want: Request{Verb: VerbDeny, ID: "a-3", Reason: "not now"}},
		{in: `deny a-3 "not now"`, want: Request{Verb: VerbDeny, ID: "a-3", Reason: "not now"}},
		{in: `deny a-3 reason="not during the sale"`, want: Request{Verb: VerbDeny, ID: "a-3", Reason: "not during the sale"}},
		{in: `deny a-3 reason=“not during the sale”`, want: Request{Verb: VerbDeny, ID: "a-3", Reason: "not during the sale"}},
		{in: "deny a-3 don't do it", want: Request{Verb: VerbDeny, ID: "a-3", Reason: "don't do it"}},
		{in: "deny a-3 don’t do it", want: Request{Verb: VerbDeny, ID: "a-3", Reason: "don’t do it"}},
		{in: "deny a-3   spaced    out", want: Request{Verb: VerbDeny, ID: "a-3", Reason: "spaced out"}},
		{in: "deny a-3 use x=y instead", want: Request{Verb: VerbDeny, ID: "a-3", Reason: "use x=y instead"}},
		{in: "deny", err: "usage: deny ID"},
		{in: "deny !", err: "is not an id"},
		{in: `deny a-3 "open`, err: "unterminated quote"},
		// run: implicit and explicit
		{in: "shop restart-web", want: Request{Verb: VerbRun, App: "shop", Task: "restart-web"}},
		{in: "/day2 shop restart-web", want: Request{Verb: VerbRun, App: "shop", Task: "restart-web"}},
		{in: "Shop Restart-Web", want: Request{Verb: VerbRun, App: "shop", Task: "restart-web"}},
		{in: "shop restart-web batch=2", want: Request{Verb: VerbRun, App: "shop", Task: "restart-web", Params: kv{"batch": "2"}}},
		{in: "shop scale desired=8 min=2", want: Request{Verb: VerbRun, App: "shop", Task: "scale", Params: kv{"desired": "8", "min": "2"}}},
		{in: "shop scale DESIRED=8", want: Request{Verb: VerbRun, App: "shop", Task: "scale", Params: kv{"desired": "8"}}},
		{in: "shop scale desired=8 --dry-run", want: Request{Verb: VerbRun, App: "shop", Task: "scale", Params: kv{"desired": "8"}, DryRun: true}},
		{in: "shop scale --dry-run desired=8", want: Request{Verb: VerbRun, App: "shop", Task: "scale", Params: kv{"desired": "8"}, DryRun: true}},
		{in: "shop scale --DRY-RUN", want: Request{Verb: VerbRun, App: "shop", Task: "scale", DryRun: true}},
		{in: "shop scale --dryrun", want: Request{Verb: VerbRun, App: "shop", Task: "scale", DryRun: true}},
		{in: "shop scale --plan", want: Request{Verb: VerbRun, App: "shop", Task: "scale", DryRun: true}},
		{in: "shop scale --dry-run --dry-run", want: Request{Verb: VerbRun, App: "shop", Task: "scale", DryRun: true}},
		{in: "shop scale --dry-rn", err: `did you mean "--dry-run"`},
		{in: "shop scale --force", err: "unknown flag"},
		{in: "shop scale -n", err: "unknown flag"},
		{in: `shop scale "--dry-run"`, err: "expected key=value"},
		{in: "run shop restart-web", want: Request{Verb: VerbRun, App: "shop", Task: "restart-web"}},
		{in: "RUN shop restart-web batch=1", want: Request{Verb: VerbRun, App: "shop", Task: "restart-web", Params: kv{"batch": "1"}}},
		{in: "run shop", err: "usage: run APP TASK"},
		{in: "run", err: "usage: run APP TASK"},
		{in: "run help apps", want: Request{Verb: VerbRun, App: "help", Task: "apps"}},
		{in: "shop restart-web batch", err: "expected key=value"},
		{in: "shop restart-web =2", err: "expected key=value"},
		{in: "shop restart-web batch=", want: Request{Verb: VerbRun, App: "shop", Task: "restart-web", Params: kv{"batch": ""}}},
		{in: "shop restart-web batch=1 batch=2", err: "given twice"},
		{in: "shop restart-web Batch=1 batch=2", err: "given twice"},
		{in: "shop restart-web 2batch=1", err: "parameter name"},
		{in: "shop restart-web bat-ch=1", err: "parameter name"},
		{in: "shop restart-web b.c=1", err: "parameter name"},
		{in: "shop restart-web a=b=c", want: Request{Verb: VerbRun, App: "shop", Task: "restart-web", Params: kv{"a": "b=c"}}},
		{in: `shop restart-web reason="deploy gone wrong"`, want: Request{Verb: VerbRun, App: "shop", Task: "restart-web", Params: kv{"reason": "deploy gone wrong"}}},
		{in: `shop restart-web reason='deploy gone wrong'`, want: Request{Verb: VerbRun, App: "shop", Task: "restart-web", Params: kv{"reason": "deploy gone wrong"}}},
		{in: `shop restart-web reason=“deploy gone wrong”`, want: Request{Verb: VerbRun, App: "shop", Task: "restart-web", Params: kv{"reason": "deploy gone wrong"}}},
		{in: `shop restart-web reason=‘deploy’`, want: Request{Verb: VerbRun, App: "shop", Task: "restart-web", Params: kv{"reason": "deploy"}}},
		{in: `shop restart-web reason=„deploy“`, want: Request{Verb: VerbRun, App: "shop", Task: "restart-web", Params: kv{"reason": "deploy"}}},
		{in: `shop restart-web reason="say \"hi\""`, want: Request{Verb: VerbRun, App: "shop", Task: "restart-web", Params: kv{"reason": `say "hi"`}}},
		{in: `shop restart-web reason="back\\slash"`, want: Request{Verb: VerbRun, App: "shop", Task: "restart-web", Params: kv{"reason": `back\slash`}}},
		{in: `shop restart-web reason="a b"c`, want: Request{Verb: VerbRun, App: "shop", Task: "restart-web", Params: kv{"reason": "a bc"}}},
		{in: `shop restart-web reason=""`, want: Request{Verb: VerbRun, App: "shop", Task: "restart-web", Params: kv{"reason": ""}}},
		{in: `shop restart-web reason="x=y"`, want: Request{Verb: VerbRun, App: "shop", Task: "restart-web", Params: kv{"reason": "x=y"}}},
		{in: `shop restart-web "reason=x"`, err: "expected key=value"},
		{in: `shop restart-web reason="open`, err: "unterminated quote"},
		{in: `shop restart-web reason='open`, err: "unterminated quote"},
		{in: `shop restart-web reason=it's`, want: Request{Verb: VerbRun, App: "shop", Task: "restart-web", Params: kv{"reason": "it's"}}},
		{in: "shop restart-web path=/var/log", want: Request{Verb: VerbRun, App: "shop", Task: "restart-web", Params: kv{"path": "/var/log"}}},
		{in: "shop restart-web\tbatch=2", want: Request{Verb: VerbRun, App: "shop", Task: "restart-web", Params: kv{"batch": "2"}}},
		{in: "shop  restart-web   batch=2 ", want: Request{Verb: VerbRun, App: "shop", Task: "restart-web", Params: kv{"batch": "2"}}},
		{in: "shop batch=2", err: "expected a task name"},
		{in: "shop rest@rt", err: "is not a task name"},
		{in: "sh$op restart", err: "is not an app name"},
		{in: "research reset-bucket-access bucket=research-carol-imaging", want: Request{Verb: VerbRun, App: "research", Task: "reset-bucket-access", Params: kv{"bucket": "research-carol-imaging"}}},
		{in: "shop", err: "usage: shop TASK"},
		{in: "--dry-run", err: "not \"--dry-run\""},
		{in: "-h", err: "not \"-h\""},
		// command word typos
		{in: "aprove", err: `did you mean "approve"?`},
		{in: "hlep", err: `did you mean "help"?`},
		{in: "pendng", err: `did you mean "pending"?`},
		{in: "histroy", err: `did you mean "history"?`},
		{in: "!!", err: "unknown command"},
		{in: "#$%", err: "unknown command"},
		// why
		{in: "why shop scale desired=8", want: Request{Verb: VerbWhy, App: "shop", Task: "scale", Params: kv{"desired": "8"}}},
		{in: "why shop scale", want: Request{Verb: VerbWhy, App: "shop", Task: "scale"}},
		{in: "/day2 why research reset-bucket-access bucket=research-bob-x", want: Request{Verb: VerbWhy, App: "research", Task: "reset-bucket-access", Params: kv{"bucket": "research-bob-x"}}},
		{in: "why shop", err: "usage: why APP TASK"},
		{in: "why", err: "usage: why APP TASK"},
		{in: "why shop scale --dry-run", err: "why never runs anything"},
		{in: "why shop scale desired", err: "expected key=value"},
		// freeze
		{in: "freeze shop", want: Request{Verb: VerbFreeze, App: "shop"}},
		{in: "freeze shop 2h", want: Request{Verb: VerbFreeze, App: "shop", For: 2 * time.Hour}},
		{in: "freeze shop 30m release", want: Request{Verb: VerbFreeze, App: "shop", For: 30 * time.Minute, Reason: "release"}},
		{in: "freeze shop 1d black friday", want: Request{Verb: VerbFreeze, App: "shop", For: 24 * time.Hour, Reason: "black friday"}},
		{in: "freeze shop 1d12h", want: Request{Verb: VerbFreeze, App: "shop", For: 36 * time.Hour}},
		{in: `freeze shop 2h "black friday"`, want: Request{Verb: VerbFreeze, App: "shop", For: 2 * time.Hour, Reason: "black friday"}},
		{in: `freeze shop reason="black friday"`, want: Request{Verb: VerbFreeze, App: "shop", Reason: "black friday"}},
		{in: "freeze shop black friday", want: Request{Verb: VerbFreeze, App: "shop", Reason: "black friday"}},
		{in: `freeze shop "2h"`, want: Request{Verb: VerbFreeze, App: "shop", Reason: "2h"}},
		{in: "freeze shop 2x", err: "freeze duration"},
		{in: "freeze shop 0m", err: "freeze duration"},
		{in: "freeze shop 91d", err: "longer than 90d"},
		{in: "freeze shop 90d", want: Request{Verb: VerbFreeze, App: "shop", For: 90 * 24 * time.Hour}},
		{in: "freeze shop 99999999999999999d", err: "freeze duration"},
		// A word meant as the length must be one: read as a reason, each
		// of these froze the app with no end.
		{in: "freeze shop -5m", err: "must be a positive duration"},
		{in: "freeze shop -5m oops", err: "must be a positive duration"},
		{in: "freeze shop +5m", want: Request{Verb: VerbFreeze, App: "shop", For: 5 * time.Minute}},
		{in: "freeze shop −5m", err: "must be a positive duration"},
		{in: "freeze shop -0s", err: "must be a positive duration"},
		{in: "freeze shop --5m", err: "must be a positive duration"},
		{in: "freeze shop .5h", want: Request{Verb: VerbFreeze, App: "shop", For: 30 * time.Minute}},
		{in: "freeze shop -.5h", err: "must be a positive duration"},
		{in: "freeze shop 0.5h", want: Request{Verb: VerbFreeze, App: "shop", For: 30 * time.Minute}},
		{in: "freeze shop 5", err: "must be a positive duration"},
		{in: "freeze shop 5 minutes", err: "must be a positive duration"},
		{in: "freeze shop forever", err: "leave it out to freeze until unfrozen"},
		{in: "freeze shop Forever release", err: "must be a positive duration"},
		{in: "freeze shop indefinitely", err: "must be a positive duration"},
		{in: "freeze shop never", err: "must be a positive duration"},
		{in: `freeze shop "forever"`, want: Request{Verb: VerbFreeze, App: "shop", Reason: "forever"}},
		{in: `freeze shop "-5m is wrong"`, want: Request{Verb: VerbFreeze, App: "shop", Reason: "-5m is wrong"}},
		{in: "freeze shop - release", want: Request{Verb: VerbFreeze, App: "shop", Reason: "- release"}},
		{in: "freeze shop release forever", want: Request{Verb: VerbFreeze, App: "shop", Reason: "release forever"}},
		{in: "freeze", err: "usage: freeze APP"},
		{in: "freeze !", err: "is not an app name"},
		// policy
		{in: "policy list", want: Request{Verb: VerbPolicy, Policy: PolicyList}},
		{in: "policy LIST", want: Request{Verb: VerbPolicy, Policy: PolicyList}},
		{in: "policy list x", err: "takes no arguments"},
		{in: "policy show ops-all", want: Request{Verb: VerbPolicy, Policy: PolicyShow, ID: "ops-all"}},
		{in: "policy show", err: "usage: policy show"},
		{in: "policy remove ops-all", want: Request{Verb: VerbPolicy, Policy: PolicyRemove, ID: "ops-all"}},
		{in: "policy remove", err: "usage: policy remove"},
		{in: "policy remove a b", err: "usage: policy remove"},
		{in: "policy test bob shop scale desired=3", want: Request{Verb: VerbPolicy, Policy: PolicyTest, User: "bob", App: "shop", Task: "scale", Params: kv{"desired": "3"}}},
		{in: "policy test slack:U123 shop scale", want: Request{Verb: VerbPolicy, Policy: PolicyTest, User: "slack:U123", App: "shop", Task: "scale"}},
		{in: "policy test bob shop", err: "usage: policy test"},
		{in: "policy test b!b shop scale", err: "must be a handle"},
		{in: "policy test bob shop scale --dry-run", err: "never runs anything"},
		{in: "policy", err: "usage: policy list"},
		{in: "policy lst", err: `did you mean "list"?`},
		{in: "policy add x", err: "unknown policy command"},
		// limits and garbage
		{in: strings.Repeat("a", maxInput+1), err: "too long"},
		{in: "shop t " + strings.Repeat("k=v ", 70), err: "too many words"},
		{in: "\xff\xfe", err: "not valid UTF-8"},
		{in: `"`, err: "unterminated quote"},
		{in: `"help"`, want: Request{Verb: VerbHelp}},
		{in: `"/day2" help`, err: "is not an app name"},
		{in: "/day2 /day2", err: "unknown command"},
	}
	for _, c := range cases {
		got, err := Parse(c.in)
		if c.err != "" {
			if err == nil {
				t.Errorf("Parse(%q) = %+v, want error containing %q", c.in, got, c.err)
				continue
			}
			if !strings.Contains(err.Error(), c.err) {
				t.Errorf("Parse(%q) error = %q, want it to contain %q", c.in, err, c.err)
			}
			checkUsageError(t, c.in, err)
			continue
		}
		if err != nil {
			t.Errorf("Parse(%q) error = %v", c.in, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("Parse(%q)\n got %+v\nwant %+v", c.in, got, c.want)
		}
	}
}

func checkUsageError(t *testing.T, in string, err error) {
	t.Helper()
	msg, ok := errs.Render(err)
	if !ok || !errs.Is(errs.Invalid, err) {
		t.Errorf("Parse(%q) error is %v (%v), want an Invalid error", in, err, errs.KindOf(err))
		return
	}
	if strings.Contains(msg, "\n") || msg == "" {
		t.Errorf("Parse(%q) message %q is not one line", in, msg)
	}
}

func TestTokenize(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{"a b  c", []string{"a", "b", "c"}},
		{`a "b c" d`, []string{"a", "b c", "d"}},
		{`k="v w"`, []string{"k=v w"}},
		{`k='v "w"'`, []string{`k=v "w"`}},
		{`"a"b"c"`, []string{`ab"c"`}},
		{`it's`, []string{"it's"}},
		{`""`, []string{""}},
		{"\u3000a\u2003b", []string{"a", "b"}},
	}
	for _, c := range cases {
		toks, err := tokenize(c.in)
		if err != nil {
			t.Errorf("tokenize(%q): %v", c.in, err)
			continue
		}
		var got []string
		for _, tk := range toks {
			got = append(got, tk.text)
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("tokenize(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// FuzzParse: whatever the input, Parse returns either a request or a
// one-line usage error, never a panic; and a successful parse is stable
// under the leading /day2 prefix.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "help", "shop restart-web batch=2 --dry-run", `deny a-1 reason="x y"`,
		"freeze shop 2h black friday", "freeze shop -5m", "freeze shop forever", "policy test bob shop scale desired=3", `k="unterminated`,
		"why research reset-bucket-access bucket=research-carol-x", "„a“ ‘b’ “c”", "a=b=c", "\x00", "--dry-run"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := Parse(s)
		if err != nil {
			checkUsageError(t, s, err)
			return
		}
		if r.Verb == "" {
			t.Fatalf("Parse(%q) returned no verb", s)
		}
		if r.Params != nil && (r.App == "" || r.Task == "") {
			t.Fatalf("Parse(%q) has params without app/task: %+v", s, r)
		}
		for k, v := range r.Params {
			if !keyRE.MatchString(k) || !utf8.ValidString(v) {
				t.Fatalf("Parse(%q) bad param %q=%q", s, k, v)
			}
		}
		if first := strings.Fields(s); len(first) > 0 && first[0] != "/day2" && first[0] != "day2" {
			r2, err2 := Parse("/day2 " + s)
			if err2 != nil || !reflect.DeepEqual(r, r2) {
				t.Fatalf("Parse(/day2 %q) = %+v, %v; want %+v", s, r2, err2, r)
			}
		}
	})
}

// TestParseVariants: every accepted command parses the same with the
// /day2 prefix, extra blanks, and (for command words) any letter case;
// every typo of a command word within one edit is answered with the word.
func TestParseVariants(t *testing.T) {
	accepted := []string{
		"help", "help shop", "apps", "pending", "tasks shop", "status shop", "digest shop", "history", "history shop",
		"approve a-1", "deny a-1", "deny a-1 too risky", "cancel r-1", "run shop restart-web", "shop restart-web batch=2",
		"shop restart-web --dry-run", "why shop scale desired=3", "freeze shop", "freeze shop 1h", "freeze shop 1h why not",
		"unfreeze shop", "policy list", "policy show r1", "policy remove r1", "policy test bob shop scale desired=3",
	}
	n := 0
	for _, in := range accepted {
		want, err := Parse(in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", in, err)
		}
		f := strings.Fields(in)
		variants := []string{"/day2 " + in, "  " + in + "  ", strings.Join(f, "\t"), "day2 " + in,
			strings.ToUpper(f[0]) + " " + strings.Join(f[1:], " ")}
		for _, v := range variants {
			n++
			got, err := Parse(strings.TrimSpace(v))
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("Parse(%q) = %+v, %v; want %+v", v, got, err, want)
			}
		}
	}
	for _, v := range Verbs {
		w := string(v)
		typos := []string{w[1:], w[:len(w)-1] + "x", w + "s"}
		if len(w) > 3 {
			typos = append(typos, w[:1]+w[2:]) // a dropped letter
		}
		for _, typo := range typos {
			if slices.Contains(verbWords(), typo) {
				continue
			}
			n++
			_, err := Parse(typo)
			if err == nil || !strings.Contains(err.Error(), "unknown command") {
				t.Errorf("Parse(%q) = %v, want an unknown-command answer", typo, err)
				continue
			}
			checkUsageError(t, typo, err)
		}
	}
	if n < 150 {
		t.Fatalf("only %d variants checked", n)
	}
}

// TestParseQuotesLongInputShortly: refused input is quoted, never echoed
// whole (issue 10 item 7), wherever in the command the long word is.
func TestParseQuotesLongInputShortly(t *testing.T) {
	long := strings.Repeat("x", 3000)
	for _, in := range []string{
		"-" + long,
		"Q" + long,
		"shop restart-web --" + long,
		"shop restart-web " + long,
		"shop restart-web " + long + "=1",
		"policy " + long,
		"approve " + long,
		"tasks " + long + "!",
	} {
		_, err := Parse(in)
		if err == nil {
			t.Errorf("Parse(%.40q…) accepted a 3000-character word", in)
			continue
		}
		if len(err.Error()) > 300 || !strings.Contains(err.Error(), "(3") {
			t.Errorf("Parse(%.40q…) answered %d characters: %.200s", in, len(err.Error()), err)
		}
	}
}
