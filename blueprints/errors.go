package blueprints

import (
	"fmt"
	"strings"

	"github.com/day2bot/day2bot/internal/errs"
)

// ValidationError is one problem in a blueprint or config file, located by
// file and by the YAML path of the offending value, e.g.
// "day2bot.yaml: apps.shop.bindings.web: unknown resource "web"; blueprint
// ec2-web has: instances, load-balancer, target-groups".
type ValidationError struct {
	File string
	// Path is dotted with [i] for list items: tasks.scale.params[0].max.
	Path string
	// Line is the source line when known (YAML syntax errors), else 0.
	Line int
	Msg  string
}

func (e ValidationError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
		}
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ValidationErrors is every problem found, in file order where possible, so
// one run of `blueprints validate` shows them all.
type ValidationErrors []ValidationError

func (es ValidationErrors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// asError is es as an Invalid error, found again with errors.As; nil when
// there is no problem.
func (es ValidationErrors) asError() error {
	if len(es) == 0 {
		return nil
	}
	return errs.Wrap("validate blueprint", errs.Invalid, es, "%s", es.Error())
}

// collector collects validation errors for one file.
type collector struct {
	file string
	list ValidationErrors
}

func (c *collector) add(path, format string, args ...any) {
	c.list = append(c.list, ValidationError{File: c.file, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// err returns nil or the collected errors.
func (c *collector) err() error { return c.list.asError() }

// join builds a YAML path from its parts.
func join(parts ...string) string {
	out := ""
	for _, p := range parts {
		switch {
		case p == "":
		case out == "" || strings.HasPrefix(p, "["):
			out += p
		default:
			out += "." + p
		}
	}
	return out
}

func idx(i int) string { return fmt.Sprintf("[%d]", i) }
