package emulator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/aws/smithy-go"

	"github.com/day2bot/day2bot/internal/cfn"
)

// How a change set is computed and executed, and a stack deleted. Caller
// holds cfnState.mu throughout: the resource providers call other services
// of the emulator, never CloudFormation, so this cannot deadlock.

// cfnEnv answers Ref and Fn::GetAtt while a template is evaluated.
type cfnEnv struct {
	stack  *cfnStack
	params map[string]string
	res    map[string]*cfnRes
	// pending resources (not created yet, or to be replaced) evaluate to
	// placeholders, which is how a change set tells what will change.
	pending map[string]bool
	names   map[string]bool // the template's resources
}

func (e cfnEnv) Ref(name string) (string, bool) {
	if v, ok := e.params[name]; ok {
		return v, true
	}
	switch name {
	case "AWS::StackName":
		return e.stack.name, true
	case "AWS::StackId":
		return e.stack.id, true
	case "AWS::Region":
		return "us-east-1", true
	case "AWS::AccountId":
		return "000000000000", true
	case "AWS::Partition":
		return "aws", true
	case "AWS::URLSuffix":
		return "amazonaws.com", true
	}
	if r, ok := e.res[name]; ok && !e.pending[name] {
		return r.physical, true
	}
	if e.names[name] {
		return "{{" + name + "}}", true
	}
	return "", false
}

func (e cfnEnv) GetAtt(res, attr string) (string, bool) {
	if r, ok := e.res[res]; ok && !e.pending[res] {
		v, ok := r.attrs[attr]
		return v, ok
	}
	if e.names[res] {
		return "{{" + res + "." + attr + "}}", true
	}
	return "", false
}

func (st *cfnState) env(s *cfnStack, t *cfn.Template, params map[string]string, res map[string]*cfnRes, pending map[string]bool) cfnEnv {
	names := map[string]bool{}
	for k := range t.Resources {
		names[k] = true
	}
	return cfnEnv{stack: s, params: params, res: res, pending: pending, names: names}
}

func evalProps(t *cfn.Template, id string, env cfnEnv) (map[string]any, error) {
	v, err := cfn.Eval(t.Resources[id].Properties, env)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", id, err)
	}
	m, _ := v.(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	return m, nil
}

// changedKeys lists the top-level properties that differ.
func changedKeys(old, new map[string]any) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(mergeKeys(old, new))) {
		if !reflect.DeepEqual(old[k], new[k]) {
			out = append(out, k)
		}
	}
	return out
}

func mergeKeys(a, b map[string]any) map[string]any {
	out := maps.Clone(a)
	if out == nil {
		out = map[string]any{}
	}
	maps.Copy(out, b)
	return out
}

// valueText renders a property value for a change set or drift answer.
func valueText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// diff computes a change set's rows against the stack.
func (st *cfnState) diff(s *cfnStack, cs *cfnChangeSet) ([]cfnChange, error) {
	order, err := cfn.Order(cs.tmpl)
	if err != nil {
		return nil, err
	}
	for _, id := range order {
		if cfnProviders[cs.tmpl.Resources[id].Type] == nil {
			return nil, fmt.Errorf("Template format error: Unrecognized resource types: [%s]", cs.tmpl.Resources[id].Type)
		}
	}
	pending := map[string]bool{}
	for _, id := range order {
		if _, ok := s.res[id]; !ok {
			pending[id] = true
		}
	}
	byID := map[string]*cfnChange{}
	var out []*cfnChange
	// Pass 1: direct changes, with the resources that exist referenced by
	// their physical ids. Pass 2: what changes because a resource it
	// references is replaced.
	for pass := 1; pass <= 2; pass++ {
		env := st.env(s, cs.tmpl, cs.params, s.res, pending)
		for _, id := range order {
			r := cs.tmpl.Resources[id]
			old, exists := s.res[id]
			if !exists {
				if pass == 1 {
					c := &cfnChange{action: "Add", logical: id, typ: r.Type}
					byID[id], out = c, append(out, c)
				}
				continue
			}
			props, err := evalProps(cs.tmpl, id, env)
			if err != nil {
				return nil, err
			}
			keys := changedKeys(old.props, props)
			c := byID[id]
			if c == nil && len(keys) == 0 && old.typ == r.Type {
				continue
			}
			if c == nil {
				c = &cfnChange{action: "Modify", logical: id, physical: old.physical, typ: r.Type, replacement: "False"}
				byID[id], out = c, append(out, c)
			}
			prov := cfnProviders[r.Type]
			for _, k := range keys {
				if slices.ContainsFunc(c.details, func(d cfnDetail) bool { return d.name == k }) {
					continue
				}
				d := cfnDetail{name: k, requires: "Never", before: valueText(old.props[k]), after: valueText(props[k])}
				replaces := slices.Contains(prov.replaceOn, k)
				if replaces {
					d.requires = "Always"
				}
				switch {
				case pass == 2:
					d.source = "ResourceReference"
					if replaces && c.replacement != "True" {
						c.replacement, d.requires = "Conditional", "Conditional"
					}
				case s.tmpl != nil && !reflect.DeepEqual(s.tmpl.Resources[id].Properties[k], r.Properties[k]):
					d.source = "DirectModification"
				default:
					d.source = "ParameterReference"
				}
				if pass == 1 && replaces {
					c.replacement = "True"
				}
				c.details = append(c.details, d)
			}
			if old.typ != r.Type {
				c.replacement = "True"
			}
			if c.replacement == "True" {
				pending[id] = true
			}
		}
	}
	for _, id := range sortedKeys(s.res) {
		if _, ok := cs.tmpl.Resources[id]; !ok {
			out = append(out, &cfnChange{action: "Remove", logical: id, physical: s.res[id].physical, typ: s.res[id].typ})
		}
	}
	list := make([]cfnChange, len(out))
	for i, c := range out {
		list[i] = *c
	}
	return list, nil
}

// apply executes a change set; it reports whether the stack reached
// CREATE_COMPLETE or UPDATE_COMPLETE (else it rolled back).
func (st *cfnState) apply(ctx context.Context, s *cfnStack, cs *cfnChangeSet, token string) bool {
	create := cs.typ == "CREATE"
	verb := map[bool]string{true: "CREATE", false: "UPDATE"}[create]
	s.status, s.reason, s.role, s.tags = verb+"_IN_PROGRESS", "User Initiated", cs.role, cs.tags
	st.stackEvent(s, s.status, s.reason, token)
	order, _ := cfn.Order(cs.tmpl) // diff already checked it
	changes := map[string]cfnChange{}
	for _, c := range cs.changes {
		changes[c.logical] = c
	}
	working := maps.Clone(s.res)
	var undo []func()
	var cleanup []cleanupItem
	failed := ""
	for _, id := range order {
		if _, ok := changes[id]; !ok {
			continue
		}
		r := cs.tmpl.Resources[id]
		prov := cfnProviders[r.Type]
		props, err := evalProps(cs.tmpl, id, st.env(s, cs.tmpl, cs.params, working, nil))
		if err != nil {
			st.resEvent(s, id, "", r.Type, verb+"_FAILED", err.Error(), token)
			failed = id
			break
		}
		nr := &cfnRes{logical: id, typ: r.Type, props: props, tags: st.resourceTags(s, id, props)}
		old := working[id]
		if old != nil {
			keys := changedKeys(old.props, props)
			if len(keys) == 0 && old.typ == r.Type {
				continue // a Conditional change that did not happen
			}
			if old.typ == r.Type && !slices.ContainsFunc(keys, func(k string) bool { return slices.Contains(prov.replaceOn, k) }) {
				nr.physical, nr.attrs = old.physical, maps.Clone(old.attrs)
				st.resEvent(s, id, old.physical, r.Type, "UPDATE_IN_PROGRESS", "", token)
				if err := prov.update(ctx, st.clients(), s, nr, old); err != nil {
					st.resEvent(s, id, old.physical, r.Type, "UPDATE_FAILED", handlerMessage(err), token)
					failed = id
					break
				}
				nr.status, nr.updated = "UPDATE_COMPLETE", st.now().UTC()
				st.resEvent(s, id, nr.physical, r.Type, "UPDATE_COMPLETE", "", token)
				working[id] = nr
				undo = append(undo, func() {
					st.resEvent(s, id, old.physical, r.Type, "UPDATE_IN_PROGRESS", "", token)
					if err := prov.update(ctx, st.clients(), s, old, nr); err != nil {
						st.resEvent(s, id, old.physical, r.Type, "UPDATE_FAILED", handlerMessage(err), token)
						return
					}
					st.resEvent(s, id, old.physical, r.Type, "UPDATE_COMPLETE", "", token)
				})
				continue
			}
			st.resEvent(s, id, old.physical, r.Type, "UPDATE_IN_PROGRESS", "Requested update requires the creation of a new physical resource; hence creating one.", token)
		} else {
			st.resEvent(s, id, "", r.Type, "CREATE_IN_PROGRESS", "", token)
		}
		status := map[bool]string{true: "UPDATE", false: "CREATE"}[old != nil]
		if err := prov.create(ctx, st.clients(), s, nr); err != nil {
			st.resEvent(s, id, "", r.Type, status+"_FAILED", handlerMessage(err), token)
			failed = id
			break
		}
		nr.status, nr.updated = status+"_COMPLETE", st.now().UTC()
		st.resEvent(s, id, nr.physical, r.Type, nr.status, "", token)
		working[id] = nr
		undo = append(undo, func() { st.deleteRes(ctx, s, nr, token, false) })
		if old != nil {
			cleanup = append(cleanup, cleanupItem{old, cs.tmpl.Resources[id].UpdateReplacePolicy == "Retain"})
		}
	}
	if failed != "" {
		st.rollback(s, create, failed, undo, token)
		return false
	}
	for _, c := range cs.changes {
		if c.action == "Remove" {
			cleanup = append(cleanup, cleanupItem{working[c.logical], s.tmpl.Resources[c.logical].Retained()})
			delete(working, c.logical)
		}
	}
	if len(cleanup) > 0 {
		s.status = "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"
		st.stackEvent(s, s.status, "", token)
		for _, ci := range cleanup {
			st.deleteRes(ctx, s, ci.res, token, ci.retain)
		}
	}
	s.res, s.tmpl, s.body, s.params = working, cs.tmpl, cs.body, cs.params
	s.outputs = map[string]string{}
	env := st.env(s, s.tmpl, s.params, s.res, nil)
	for k, o := range s.tmpl.Outputs {
		if v, err := cfn.Eval(o.Value, env); err == nil {
			s.outputs[k] = valueText(v)
		}
	}
	if !create {
		s.updated = st.now().UTC()
	}
	s.status, s.reason = verb+"_COMPLETE", ""
	st.stackEvent(s, s.status, "", token)
	return true
}

type cleanupItem struct {
	res    *cfnRes
	retain bool
}

// rollback undoes what an execution did, newest first.
func (st *cfnState) rollback(s *cfnStack, create bool, failed string, undo []func(), token string) {
	if create {
		s.status = "ROLLBACK_IN_PROGRESS"
		s.reason = fmt.Sprintf("The following resource(s) failed to create: [%s]. Rollback requested by user.", failed)
	} else {
		s.status = "UPDATE_ROLLBACK_IN_PROGRESS"
		s.reason = fmt.Sprintf("The following resource(s) failed to update: [%s].", failed)
	}
	st.stackEvent(s, s.status, s.reason, token)
	for i := len(undo) - 1; i >= 0; i-- {
		undo[i]()
	}
	if create {
		s.res = map[string]*cfnRes{}
		s.status, s.reason = "ROLLBACK_COMPLETE", ""
	} else {
		s.status, s.reason = "UPDATE_ROLLBACK_COMPLETE", ""
	}
	st.stackEvent(s, s.status, "", token)
}

// deleteRes deletes one resource with its events (or skips a retained one).
func (st *cfnState) deleteRes(ctx context.Context, s *cfnStack, r *cfnRes, token string, retain bool) bool {
	if retain {
		st.resEvent(s, r.logical, r.physical, r.typ, "DELETE_SKIPPED", "", token)
		return true
	}
	st.resEvent(s, r.logical, r.physical, r.typ, "DELETE_IN_PROGRESS", "", token)
	if err := cfnProviders[r.typ].del(ctx, st.clients(), r); err != nil {
		st.resEvent(s, r.logical, r.physical, r.typ, "DELETE_FAILED", handlerMessage(err), token)
		return false
	}
	st.resEvent(s, r.logical, r.physical, r.typ, "DELETE_COMPLETE", "", token)
	return true
}

// remove deletes a stack's resources, dependents first, then the stack.
func (st *cfnState) remove(ctx context.Context, s *cfnStack, token string) {
	s.status, s.reason = "DELETE_IN_PROGRESS", "User Initiated"
	st.stackEvent(s, s.status, s.reason, token)
	var order []string
	if s.tmpl != nil {
		order, _ = cfn.Order(s.tmpl)
	}
	var failed []string
	for i := len(order) - 1; i >= 0; i-- {
		r, ok := s.res[order[i]]
		if !ok {
			continue
		}
		if st.deleteRes(ctx, s, r, token, s.tmpl.Resources[r.logical].Retained()) {
			delete(s.res, r.logical)
		} else {
			failed = append(failed, r.logical)
		}
	}
	if len(failed) > 0 {
		s.status, s.reason = "DELETE_FAILED", fmt.Sprintf("The following resource(s) failed to delete: [%s].", strings.Join(failed, ", "))
		st.stackEvent(s, s.status, s.reason, token)
		return
	}
	s.status, s.reason = "DELETE_COMPLETE", ""
	st.stackEvent(s, s.status, "", token)
	delete(st.stacks, s.name)
}

func (st *cfnState) stackEvent(s *cfnStack, status, reason, token string) {
	s.eventFor(st, "", "", "", status, reason, token, st.now().UTC())
}

func (st *cfnState) resEvent(s *cfnStack, logical, physical, typ, status, reason, token string) {
	s.eventFor(st, logical, physical, typ, status, reason, token, st.now().UTC())
}

// resourceTags are what CloudFormation puts on a resource: the stack's
// tags, the template's, and its own aws:cloudformation:* tags.
func (st *cfnState) resourceTags(s *cfnStack, logical string, props map[string]any) map[string]string {
	tags := maps.Clone(s.tags)
	if tags == nil {
		tags = map[string]string{}
	}
	list, _ := props["Tags"].([]any)
	for _, e := range list {
		if m, ok := e.(map[string]any); ok {
			tags[valueText(m["Key"])] = valueText(m["Value"])
		}
	}
	tags["aws:cloudformation:stack-name"] = s.name
	tags["aws:cloudformation:stack-id"] = s.id
	tags["aws:cloudformation:logical-id"] = logical
	return tags
}

// handlerMessage is how CloudFormation reports a provider's AWS error.
func handlerMessage(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return fmt.Sprintf("Resource handler returned message: %q (HandlerErrorCode: %s)", api.ErrorMessage(), api.ErrorCode())
	}
	return fmt.Sprintf("Resource handler returned message: %q", err.Error())
}
