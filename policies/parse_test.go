package policies

import (
	"bytes"
	"testing"
)

func TestDecodeFileNamesRuleAndField(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown rule field", "rules:\n  - id: typo\n    effect: allow\n    subject: ['*']\n",
			`line 4: rule "typo": unknown field "subject"; did you mean "subjects"?`},
		{"unknown field, no suggestion", "rules:\n  - id: r\n    effect: allow\n    subjects: ['*']\n    colour: red\n",
			`line 5: rule "r": unknown field "colour"`},
		{"unknown top-level field", "rule:\n  - id: x\n",
			`line 1: unknown field "rule"; did you mean "rules"?`},
		{"wrong type in a rule", "rules:\n  - id: x\n    effect: allow\n    subjects: ['*']\n    quorum: lots\n",
			"line 5: rule \"x\" field quorum: cannot unmarshal !!str `lots` into int"},
		{"rule without id is numbered", "rules:\n  - id: a\n    effect: allow\n  - effect: allow\n    mutating: maybe\n",
			"line 5: rule #2 field mutating: cannot unmarshal !!str `maybe` into bool"},
		{"rule that is not a mapping", "rules:\n  - hello\n",
			"line 2: rule #1: cannot unmarshal !!str `hello` into a rule"},
		{"users entry", "users:\n  carol: slack:U1\n",
			"line 2: users.carol: cannot unmarshal !!str `slack:U1` into a list"},
		{"not a policy file", "hello\n",
			"line 1: cannot unmarshal !!str `hello` into a policy file"},
		{"every error, in order", "rules:\n  - id: q\n    quorum: [1]\n    parms: {a: b}\n",
			"line 3: rule \"q\" field quorum: cannot unmarshal !!seq into int\n" +
				`line 4: rule "q": unknown field "parms"; did you mean "params"?`},
		{"syntax error stays as it is", "rules: [\n", "yaml: line 1: did not find expected node content"},
		{"empty", "", "empty policy file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseFile([]byte(tt.yaml))
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error:\n%v\nwant:\n%s", err, tt.want)
			}
		})
	}
}

func TestDecodeRuleNamesField(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown field", "id: z\neffect: deny\nsubjectz: ['*']\n",
			`line 3: rule "z": unknown field "subjectz"; did you mean "subjects"?`},
		{"no id", "effect: deny\nquorum: x\n",
			"line 2: rule field quorum: cannot unmarshal !!str `x` into int"},
		{"a policy file instead of a rule", "rules:\n  - id: x\n",
			`line 1: rule: unknown field "rules"; this is a policy file, which 'policy import' reads`},
		{"a list instead of a rule", "- id: z\n", "line 1: cannot unmarshal !!seq into a rule"},
		{"empty", "", "empty rule file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseRule([]byte(tt.yaml))
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error:\n%v\nwant:\n%s", err, tt.want)
			}
		})
	}
}

// FuzzDecodeFile: any input either decodes, and then export reads back
// unchanged, or is refused with a message, never a panic.
func FuzzDecodeFile(f *testing.F) {
	for _, s := range []string{
		"rules:\n  - id: a\n    effect: allow\n    subjects: ['*']\n    params: {batch: '<= 2'}\n",
		"users:\n  carol: [slack:U1]\ngroups:\n  ops: [carol]\nrules: []\n",
		"rules:\n  - id: typo\n    subject: ['*']\n",
		"rules:\n  - hello\n  - id: q\n    quorum: [1]\n",
		"- id: z\n",
		"rules: &a [*a]\n",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		pf, err := ParseFile(b)
		if _, rerr := ParseRule(b); rerr != nil && rerr.Error() == "" {
			t.Fatal("decodeRule: empty error message")
		}
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		out, err := FormatFile(pf)
		if err != nil {
			t.Fatalf("encode a decoded file: %v", err)
		}
		again, err := ParseFile(out)
		if err != nil {
			t.Fatalf("decode the export: %v\n%s", err, out)
		}
		out2, err := FormatFile(again)
		if err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("export changed on re-import (%v):\n%s\n---\n%s", err, out, out2)
		}
	})
}
