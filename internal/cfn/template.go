// Package cfn reads the part of AWS CloudFormation templates day2bot works
// with: parameters (which become typed, bounded task parameters), resources
// with their tags and deletion policies, outputs, and the intrinsic
// functions the emulator evaluates when it deploys a stack.
//
// Templates are YAML or JSON. The YAML short forms (!Ref, !Sub, !GetAtt …)
// are turned into their long forms ({"Ref": …}, {"Fn::Sub": …}) while
// reading, so everything downstream sees one shape: the JSON CloudFormation
// itself accepts.
package cfn

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Template is a parsed template. Raw keeps every section as read, for
// merging and for the body sent to CloudFormation.
type Template struct {
	Description string               `json:"Description,omitempty"`
	Parameters  map[string]Parameter `json:"Parameters,omitempty"`
	Resources   map[string]Resource  `json:"Resources"`
	Outputs     map[string]Output    `json:"Outputs,omitempty"`

	Raw map[string]any `json:"-"`
}

// Parameter is one template parameter and its constraints.
type Parameter struct {
	Type                  string   `json:"Type"`
	Description           string   `json:"Description,omitempty"`
	Default               any      `json:"Default,omitempty"`
	AllowedValues         []any    `json:"AllowedValues,omitempty"`
	AllowedPattern        string   `json:"AllowedPattern,omitempty"`
	ConstraintDescription string   `json:"ConstraintDescription,omitempty"`
	MinValue              *float64 `json:"MinValue,omitempty"`
	MaxValue              *float64 `json:"MaxValue,omitempty"`
	MinLength             *int     `json:"MinLength,omitempty"`
	MaxLength             *int     `json:"MaxLength,omitempty"`
	NoEcho                bool     `json:"NoEcho,omitempty"`
}

// Resource is one template resource.
type Resource struct {
	Type                string         `json:"Type"`
	Properties          map[string]any `json:"Properties,omitempty"`
	DependsOn           any            `json:"DependsOn,omitempty"` // string or []string
	DeletionPolicy      string         `json:"DeletionPolicy,omitempty"`
	UpdateReplacePolicy string         `json:"UpdateReplacePolicy,omitempty"`
}

// Output is one template output.
type Output struct {
	Description string `json:"Description,omitempty"`
	Value       any    `json:"Value"`
}

// Retained reports whether deleting the stack leaves the resource in place.
func (r Resource) Retained() bool {
	return r.DeletionPolicy == "Retain" || r.DeletionPolicy == "RetainExceptOnCreate"
}

// Parse reads a YAML or JSON template.
func Parse(data []byte) (*Template, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("parse template: file is empty")
		}
		return nil, fmt.Errorf("parse template: %w", err)
	}
	if err := longForms(&root); err != nil {
		return nil, fmt.Errorf("parse template: %w", err)
	}
	var raw map[string]any
	if err := root.Decode(&raw); err != nil {
		return nil, fmt.Errorf("parse template: %w", err)
	}
	return FromRaw(raw)
}

// FromRaw builds a Template from its generic form.
func FromRaw(raw map[string]any) (*Template, error) {
	raw = normalize(raw).(map[string]any)
	b, err := json.Marshal(raw)
	if err != nil {
		return nil, fmt.Errorf("encode template: %w", err)
	}
	var t Template
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("read template sections: %w", err)
	}
	if len(t.Resources) == 0 {
		return nil, errors.New("read template: Resources is required and must not be empty")
	}
	t.Raw = raw
	return &t, nil
}

// Body is the template as the JSON sent to CloudFormation. Map keys are
// sorted, so one template always has one body (and one hash).
func (t *Template) Body() string {
	b, _ := json.Marshal(t.Raw) // Raw came from JSON-compatible values
	return string(b)
}

// ResourceNames returns the logical ids, sorted.
func (t *Template) ResourceNames() []string { return slices.Sorted(maps.Keys(t.Resources)) }

// ParameterNames returns the parameter names, sorted.
func (t *Template) ParameterNames() []string { return slices.Sorted(maps.Keys(t.Parameters)) }

// mergedSections may appear in several templates of one app; anything else
// (Transform, Metadata...) is not merged.
var mergedSections = []string{"Parameters", "Mappings", "Conditions", "Resources", "Outputs"}

// Merge combines the templates of an app's blueprints into one stack
// template. A name defined twice must be defined identically (two
// blueprints may share a parameter); otherwise it is an error naming both.
func Merge(names []string, ts []*Template) (*Template, error) {
	out := map[string]any{"AWSTemplateFormatVersion": "2010-09-09"}
	var descs []string
	owner := map[string]string{}
	for i, t := range ts {
		if d, ok := t.Raw["Description"].(string); ok && d != "" {
			descs = append(descs, d)
		}
		for k := range t.Raw {
			if k != "Description" && k != "AWSTemplateFormatVersion" && !slices.Contains(mergedSections, k) {
				return nil, fmt.Errorf("merge templates: %s: section %s cannot be combined with other blueprints' templates", names[i], k)
			}
		}
		for _, sec := range mergedSections {
			m, _ := t.Raw[sec].(map[string]any)
			if len(m) == 0 {
				continue
			}
			dst, _ := out[sec].(map[string]any)
			if dst == nil {
				dst = map[string]any{}
				out[sec] = dst
			}
			for _, k := range slices.Sorted(maps.Keys(m)) {
				if prev, ok := dst[k]; ok && !reflect.DeepEqual(prev, m[k]) {
					return nil, fmt.Errorf("merge templates: %s %s is defined differently by %s and %s", strings.TrimSuffix(sec, "s"), k, owner[sec+"/"+k], names[i])
				}
				dst[k] = m[k]
				if _, ok := owner[sec+"/"+k]; !ok {
					owner[sec+"/"+k] = names[i]
				}
			}
		}
	}
	if len(descs) > 0 {
		out["Description"] = strings.Join(descs, "; ")
	}
	return FromRaw(out)
}

// shortForms maps the YAML short-form tags to their long-form keys.
var shortForms = map[string]string{
	"!Ref": "Ref", "!Condition": "Condition",
	"!Sub": "Fn::Sub", "!GetAtt": "Fn::GetAtt", "!Join": "Fn::Join", "!Select": "Fn::Select",
	"!Split": "Fn::Split", "!If": "Fn::If", "!Equals": "Fn::Equals", "!Not": "Fn::Not",
	"!And": "Fn::And", "!Or": "Fn::Or", "!FindInMap": "Fn::FindInMap", "!Base64": "Fn::Base64",
	"!GetAZs": "Fn::GetAZs", "!ImportValue": "Fn::ImportValue", "!Cidr": "Fn::Cidr",
}

// longForms rewrites short-form tagged nodes in place into one-key maps.
func longForms(n *yaml.Node) error {
	for _, c := range n.Content {
		if err := longForms(c); err != nil {
			return err
		}
	}
	if n.Tag == "" || !strings.HasPrefix(n.Tag, "!") || strings.HasPrefix(n.Tag, "!!") {
		return nil
	}
	key, ok := shortForms[n.Tag]
	if !ok {
		return fmt.Errorf("line %d: unknown tag %s", n.Line, n.Tag)
	}
	val := *n
	val.Tag = ""
	switch val.Kind {
	case yaml.ScalarNode:
		val.Tag = "!!str"
		if key == "Fn::GetAtt" {
			res, attr, ok := strings.Cut(val.Value, ".")
			if !ok {
				return fmt.Errorf("line %d: !GetAtt needs Resource.Attribute, got %q", n.Line, val.Value)
			}
			val = yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: []*yaml.Node{
				{Kind: yaml.ScalarNode, Tag: "!!str", Value: res}, {Kind: yaml.ScalarNode, Tag: "!!str", Value: attr}}}
		}
	case yaml.SequenceNode:
		val.Tag = "!!seq"
	case yaml.MappingNode:
		val.Tag = "!!map"
	}
	*n = yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: n.Line, Column: n.Column, Content: []*yaml.Node{
		{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, &val}}
	return nil
}

// normalize turns YAML-decoded values into JSON-shaped ones (map[string]any
// keys, float64 and int kept), so DeepEqual compares merged sections fairly.
func normalize(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalize(e)
		}
		return out
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[fmt.Sprint(k)] = normalize(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e)
		}
		return out
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case uint64:
		return float64(x)
	}
	return v
}
