package blueprints

import (
	"fmt"
	"strings"
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

// UserMessage is the sentence shown to the person who edited the file.
func (e ValidationError) UserMessage() string { return e.Error() }

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

// UserMessage lists every problem, one per line.
func (es ValidationErrors) UserMessage() string { return es.Error() }

// errs collects validation errors for one file.
type errs struct {
	file string
	list ValidationErrors
}

func (c *errs) add(path, format string, args ...any) {
	c.list = append(c.list, ValidationError{File: c.file, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// err returns nil or the collected errors.
func (c *errs) err() error {
	if len(c.list) == 0 {
		return nil
	}
	return c.list
}

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

// UserError is a user-caused error outside a file, such as an unknown task
// or blueprint name; the engine shows its message as is.
type UserError struct{ Msg string }

func (e *UserError) Error() string       { return e.Msg }
func (e *UserError) UserMessage() string { return e.Msg }
