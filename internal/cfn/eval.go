package cfn

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Env answers the references a template makes while it is evaluated.
type Env interface {
	// Ref is a parameter's value, a pseudo parameter or a resource's
	// physical id.
	Ref(name string) (string, bool)
	// GetAtt is a resource attribute.
	GetAtt(resource, attr string) (string, bool)
}

var subRe = regexp.MustCompile(`\$\{([^}!][^}]*)\}`)

// Eval resolves the intrinsic functions in v: Ref, Fn::Sub, Fn::GetAtt,
// Fn::Join, Fn::Select and Fn::GetAZs. Others are an error naming them.
func Eval(v any, env Env) (any, error) {
	switch x := v.(type) {
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			r, err := Eval(e, env)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	case map[string]any:
		if len(x) == 1 {
			for k, arg := range x {
				if k == "Ref" || strings.HasPrefix(k, "Fn::") {
					return evalFn(k, arg, env)
				}
			}
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			r, err := Eval(e, env)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	}
	return v, nil
}

func evalFn(fn string, arg any, env Env) (any, error) {
	switch fn {
	case "Ref":
		name, _ := arg.(string)
		if v, ok := env.Ref(name); ok {
			return v, nil
		}
		return nil, fmt.Errorf("unresolved reference %s", name)
	case "Fn::GetAtt":
		parts, _ := arg.([]any)
		if len(parts) != 2 {
			return nil, fmt.Errorf("Fn::GetAtt needs [Resource, Attribute]")
		}
		res, attr := fmt.Sprint(parts[0]), fmt.Sprint(parts[1])
		if v, ok := env.GetAtt(res, attr); ok {
			return v, nil
		}
		return nil, fmt.Errorf("unresolved attribute %s.%s", res, attr)
	case "Fn::Sub":
		return evalSub(arg, env)
	case "Fn::Join":
		parts, _ := arg.([]any)
		if len(parts) != 2 {
			return nil, fmt.Errorf("Fn::Join needs [delimiter, [values]]")
		}
		list, err := Eval(parts[1], env)
		if err != nil {
			return nil, err
		}
		items, _ := list.([]any)
		s := make([]string, len(items))
		for i, it := range items {
			s[i] = scalar(it)
		}
		return strings.Join(s, fmt.Sprint(parts[0])), nil
	case "Fn::Select":
		parts, _ := arg.([]any)
		if len(parts) != 2 {
			return nil, fmt.Errorf("Fn::Select needs [index, [values]]")
		}
		list, err := Eval(parts[1], env)
		if err != nil {
			return nil, err
		}
		items, _ := list.([]any)
		i, err := strconv.Atoi(scalar(parts[0]))
		if err != nil || i < 0 || i >= len(items) {
			return nil, fmt.Errorf("Fn::Select index %v out of range", parts[0])
		}
		return items[i], nil
	case "Fn::GetAZs":
		region, _ := env.Ref("AWS::Region")
		return []any{region + "a", region + "b", region + "c"}, nil
	}
	return nil, fmt.Errorf("intrinsic function %s is not supported", fn)
}

func evalSub(arg any, env Env) (any, error) {
	var tmpl string
	vars := map[string]any{}
	switch x := arg.(type) {
	case string:
		tmpl = x
	case []any:
		if len(x) != 2 {
			return nil, fmt.Errorf("Fn::Sub needs a string or [string, {variables}]")
		}
		tmpl, _ = x[0].(string)
		m, _ := x[1].(map[string]any)
		for k, v := range m {
			r, err := Eval(v, env)
			if err != nil {
				return nil, err
			}
			vars[k] = r
		}
	}
	var firstErr error
	out := subRe.ReplaceAllStringFunc(tmpl, func(m string) string {
		name := m[2 : len(m)-1]
		if v, ok := vars[name]; ok {
			return scalar(v)
		}
		if res, attr, ok := strings.Cut(name, "."); ok {
			if v, ok := env.GetAtt(res, attr); ok {
				return v
			}
		} else if v, ok := env.Ref(name); ok {
			return v
		}
		if firstErr == nil {
			firstErr = fmt.Errorf("unresolved ${%s} in Fn::Sub", name)
		}
		return m
	})
	if firstErr != nil {
		return nil, firstErr
	}
	return strings.ReplaceAll(out, "${!", "${"), nil
}

// Deps lists the logical ids a resource depends on: DependsOn and every
// Ref, Fn::GetAtt or ${…} in Fn::Sub naming another resource, sorted.
func Deps(t *Template, name string) []string {
	r := t.Resources[name]
	set := map[string]bool{}
	switch d := r.DependsOn.(type) {
	case string:
		set[d] = true
	case []any:
		for _, e := range d {
			set[fmt.Sprint(e)] = true
		}
	}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			for k, e := range x {
				switch k {
				case "Ref":
					if s, ok := e.(string); ok {
						set[s] = true
					}
				case "Fn::GetAtt":
					if l, ok := e.([]any); ok && len(l) > 0 {
						set[fmt.Sprint(l[0])] = true
					}
				case "Fn::Sub":
					s, _ := e.(string)
					if l, ok := e.([]any); ok && len(l) > 0 {
						s, _ = l[0].(string)
						walk(l[1:])
					}
					for _, m := range subRe.FindAllStringSubmatch(s, -1) {
						res, _, _ := strings.Cut(m[1], ".")
						set[res] = true
					}
				}
				walk(e)
			}
		}
	}
	walk(r.Properties)
	var out []string
	for k := range set {
		if _, ok := t.Resources[k]; ok && k != name {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// Order returns the logical ids so that every resource comes after the
// ones it depends on (ties in name order), or an error naming a cycle.
func Order(t *Template) ([]string, error) {
	state := map[string]int{} // 1 visiting, 2 done
	var out []string
	var visit func(n string, path []string) error
	visit = func(n string, path []string) error {
		switch state[n] {
		case 1:
			return fmt.Errorf("circular dependency: %s", strings.Join(append(path, n), " → "))
		case 2:
			return nil
		}
		state[n] = 1
		for _, d := range Deps(t, n) {
			if err := visit(d, append(path, n)); err != nil {
				return err
			}
		}
		state[n] = 2
		out = append(out, n)
		return nil
	}
	for _, n := range slices.Sorted(maps.Keys(t.Resources)) {
		if err := visit(n, nil); err != nil {
			return nil, err
		}
	}
	return out, nil
}
