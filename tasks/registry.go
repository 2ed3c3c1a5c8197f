package tasks

import (
	"fmt"
	"sort"
)

// Registry maps action names to actions. It is built once, from one explicit
// list, and is read-only afterwards, so lookups need no locking.
type Registry struct {
	byName map[string]Action
	names  []string
}

// NewRegistry builds a registry from actions. It refuses nil actions, empty
// names and duplicate names: two actions answering to one name would make
// which one runs depend on list order.
func NewRegistry(actions ...Action) (*Registry, error) {
	r := &Registry{byName: make(map[string]Action, len(actions))}
	for i, a := range actions {
		if a == nil {
			return nil, fmt.Errorf("register action #%d: nil action", i)
		}
		name := a.Name()
		if name == "" {
			return nil, fmt.Errorf("register action #%d (%T): empty name", i, a)
		}
		if prev, ok := r.byName[name]; ok {
			return nil, fmt.Errorf("register action %q: duplicate name (%T and %T)", name, prev, a)
		}
		r.byName[name] = a
		r.names = append(r.names, name)
	}
	sort.Strings(r.names)
	return r, nil
}

// Lookup returns the action registered under name.
func (r *Registry) Lookup(name string) (Action, bool) {
	a, ok := r.byName[name]
	return a, ok
}

// Names returns the registered names, sorted.
func (r *Registry) Names() []string {
	return append([]string(nil), r.names...)
}

// Actions returns the registered actions in name order.
func (r *Registry) Actions() []Action {
	out := make([]Action, 0, len(r.names))
	for _, n := range r.names {
		out = append(out, r.byName[n])
	}
	return out
}
