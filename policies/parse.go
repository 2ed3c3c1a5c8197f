package policies

// Strict reading of policy YAML (`policy import`, `policy add --file`, the
// sandbox's policy).
// A typo such as "subject:" must be an error, not a silently ignored
// condition, and the error must say where: the YAML library reports a line
// and a Go type ("field subject not found in type policies.Rule"), so the
// line is looked up in the document to name the rule and field instead.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/day2bot/day2bot/internal/suggest"
)

// ParseFile parses a policy file strictly: an unknown key is an error
// naming the rule and field, with did-you-mean.
func ParseFile(b []byte) (File, error) {
	var f File
	err := decodeStrict(b, &f, "empty policy file")
	return f, err
}

// FormatFile is the YAML of f as `policy export` writes it (two-space
// indent); ParseFile reads it back to the same File.
func FormatFile(f File) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(f); err != nil {
		return nil, fmt.Errorf("encode policy: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode policy: %w", err)
	}
	return buf.Bytes(), nil
}

// ParseRule parses a single rule (`policy add --file`) as strictly.
func ParseRule(b []byte) (Rule, error) {
	var r Rule
	err := decodeStrict(b, &r, "empty rule file")
	return r, err
}

func decodeStrict(b []byte, v any, empty string) error {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	err := dec.Decode(v)
	var te *yaml.TypeError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, io.EOF):
		return errors.New(empty)
	case errors.As(err, &te):
		_, single := v.(*Rule)
		return located(b, te, single)
	}
	return err
}

// The entries of a yaml.TypeError: "line N: what", and among them unknown
// fields.
var (
	lineRE         = regexp.MustCompile(`^line (\d+): (.*)$`)
	unknownFieldRE = regexp.MustCompile(`^field (.+) not found in type (\S+)$`)
)

// located rewrites the entries of a TypeError to name the rule and field on
// their line: `line 4: rule "r1": unknown field "subject"; did you mean
// "subjects"?`. single is for a document that is one rule, not a file.
func located(b []byte, te *yaml.TypeError, single bool) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil || len(doc.Content) == 0 {
		return te // cannot happen: the decoder parsed the same bytes
	}
	msgs := make([]string, len(te.Errors))
	for i, e := range te.Errors {
		msgs[i] = locate(doc.Content[0], e, single)
	}
	return errors.New(strings.Join(msgs, "\n"))
}

// locate rewrites one TypeError entry.
func locate(root *yaml.Node, entry string, single bool) string {
	m := lineRE.FindStringSubmatch(entry)
	if m == nil {
		return entry
	}
	line, _ := strconv.Atoi(m[1])
	rule, field := place(root, line, single)
	what := goTypes.Replace(m[2])
	if u := unknownFieldRE.FindStringSubmatch(m[2]); u != nil {
		// The message names the field, so the place is the rule alone.
		name, known := u[1], yamlFieldsOf(u[2])
		what, field = fmt.Sprintf("unknown field %q%s", name, suggest.DidYouMean(name, known)), ""
		if single && slices.Contains(yamlFields(reflect.TypeFor[File]()), name) {
			what += "; this is a policy file, which 'policy import' reads"
		}
	}
	switch {
	case rule != "" && field != "":
		what = rule + " field " + field + ": " + what
	case rule != "" || field != "":
		what = rule + field + ": " + what
	}
	return fmt.Sprintf("line %d: %s", line, what)
}

// goTypes says in words the Go types the YAML library names.
var goTypes = strings.NewReplacer(
	"into []policies.Rule", "into a list of rules",
	"into policies.Rule", "into a rule",
	"into policies.File", "into a policy file",
	"into policies.Effect", "into an effect",
	"into []string", "into a list",
	"into map[string][]string", "into a mapping of lists",
	"into map[string]string", "into a mapping",
)

// yamlFieldsOf are the YAML field names of the policy type the library names
// in an error ("policies.Rule").
func yamlFieldsOf(typeName string) []string {
	for _, t := range []reflect.Type{reflect.TypeFor[File](), reflect.TypeFor[Rule]()} {
		if t.String() == typeName {
			return yamlFields(t)
		}
	}
	return nil
}

func yamlFields(t reflect.Type) []string {
	names := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); name != "" && name != "-" {
			names = append(names, name)
		}
	}
	return names
}

// place names the rule and the field on line: `rule "r1"` and
// `params.batch`. A rule without an id is "rule #2", the single rule of
// `add --file` is "rule"; outside the rules of a file the rule is "" and the
// field is such as `users.carol`. Both are "" if nothing is found.
func place(root *yaml.Node, line int, single bool) (rule, field string) {
	if single && root.Kind != yaml.MappingNode {
		return "", "" // the whole document has the wrong shape
	}
	path, ok := pathTo(root, line)
	if !ok {
		return "", ""
	}
	r, nth := root, 0
	switch {
	case single:
	case len(path) >= 2 && path[0].key == "rules":
		r, nth, path = path[1].node, path[1].index+1, path[2:]
	default:
		return "", fieldPath(path)
	}
	rule = "rule"
	if id := mappingValue(r, "id"); id != nil && id.Kind == yaml.ScalarNode && id.Value != "" {
		rule = fmt.Sprintf("rule %q", id.Value)
	} else if nth > 0 {
		rule = fmt.Sprintf("rule #%d", nth)
	}
	return rule, fieldPath(path)
}

// step is one step down a YAML document: a mapping key, or an item of a
// sequence (key "").
type step struct {
	key   string
	index int
	node  *yaml.Node // the value or item stepped to
}

// pathTo finds the first key or item on line, in document order.
func pathTo(n *yaml.Node, line int) ([]step, bool) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Line == line {
				return []step{{key: k.Value, node: v}}, true
			}
			if rest, ok := pathTo(v, line); ok {
				return append([]step{{key: k.Value, node: v}}, rest...), true
			}
		}
	case yaml.SequenceNode:
		for i, it := range n.Content {
			if it.Line == line && it.Kind == yaml.ScalarNode {
				return []step{{index: i, node: it}}, true
			}
			if rest, ok := pathTo(it, line); ok {
				return append([]step{{index: i, node: it}}, rest...), true
			}
		}
	}
	return nil, false
}

// fieldPath writes a path as the store names fields: params.batch,
// subjects[0].
func fieldPath(path []step) string {
	var b strings.Builder
	for _, s := range path {
		switch {
		case s.key == "":
			fmt.Fprintf(&b, "[%d]", s.index)
		case b.Len() > 0:
			b.WriteString("." + s.key)
		default:
			b.WriteString(s.key)
		}
	}
	return b.String()
}

func mappingValue(m *yaml.Node, key string) *yaml.Node {
	if m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}
