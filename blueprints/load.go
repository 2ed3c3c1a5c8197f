package blueprints

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/internal/suggest"
)

//go:embed library/*.yaml
var library embed.FS

// Catalog is a read-only set of blueprints by name.
type Catalog struct {
	byName map[string]*Blueprint
	names  []string
}

// NewCatalog builds a catalog; two blueprints with one name are an error
// naming both files, since which one an app gets must never depend on order.
func NewCatalog(bps ...*Blueprint) (*Catalog, error) {
	c := &Catalog{byName: make(map[string]*Blueprint, len(bps))}
	var ve ValidationErrors
	for _, b := range bps {
		if prev, ok := c.byName[b.Name]; ok {
			ve = append(ve, ValidationError{File: b.File, Path: "name",
				Msg: fmt.Sprintf("blueprint %q is already defined in %s; pick another name", b.Name, prev.File)})
			continue
		}
		c.byName[b.Name] = b
		c.names = append(c.names, b.Name)
	}
	if len(ve) > 0 {
		return nil, ve.asError()
	}
	slices.Sort(c.names)
	return c, nil
}

// Library returns the embedded blueprints. They are parsed (not validated
// against actions, which live above this package; call Catalog.Validate
// with the registry for that).
func Library() (*Catalog, error) {
	files, err := library.ReadDir("library")
	if err != nil {
		return nil, fmt.Errorf("read embedded library: %w", err)
	}
	var bps []*Blueprint
	for _, f := range files {
		if templateFile(f.Name()) {
			continue
		}
		name := "library/" + f.Name()
		data, err := library.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("read embedded %s: %w", name, err)
		}
		b, err := Parse(name, data)
		if err != nil {
			return nil, fmt.Errorf("parse embedded blueprint: %w", err)
		}
		// embed.FS paths use forward slashes on every OS.
		if err := b.readTemplate(func(p string) ([]byte, error) { return library.ReadFile(filepath.ToSlash(p)) }); err != nil {
			return nil, fmt.Errorf("read embedded template: %w", err)
		}
		bps = append(bps, b)
	}
	return NewCatalog(bps...)
}

// With returns a new catalog holding c's blueprints and more.
func (c *Catalog) With(more ...*Blueprint) (*Catalog, error) {
	all := make([]*Blueprint, 0, len(c.names)+len(more))
	for _, n := range c.names {
		all = append(all, c.byName[n])
	}
	return NewCatalog(append(all, more...)...)
}

// Without returns a new catalog holding c's blueprints but those named.
func (c *Catalog) Without(names ...string) (*Catalog, error) {
	var keep []*Blueprint
	for _, n := range c.names {
		if !slices.Contains(names, n) {
			keep = append(keep, c.byName[n])
		}
	}
	return NewCatalog(keep...)
}

// Get returns the blueprint named name.
func (c *Catalog) Get(name string) (*Blueprint, bool) {
	b, ok := c.byName[name]
	return b, ok
}

// Lookup is Get with a user error that suggests a near name.
func (c *Catalog) Lookup(name string) (*Blueprint, error) {
	if b, ok := c.byName[name]; ok {
		return b, nil
	}
	return nil, errs.E("look up blueprint", errs.NotFound, "unknown blueprint %q; available: %s%s",
		name, strings.Join(c.names, ", "), suggest.DidYouMean(name, c.names))
}

// Names returns the blueprint names, sorted.
func (c *Catalog) Names() []string { return slices.Clone(c.names) }

// Validate validates every blueprint against the actions and returns all
// problems found.
func (c *Catalog) Validate(lookup ActionLookup) error {
	var all ValidationErrors
	for _, n := range c.names {
		var ve ValidationErrors
		if err := c.byName[n].Validate(lookup); errors.As(err, &ve) {
			all = append(all, ve...)
		} else if err != nil {
			return err
		}
	}
	return all.asError()
}

// LoadFile reads and parses one blueprint file.
func LoadFile(path string) (*Blueprint, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read blueprint: %w", err)
	}
	b, err := Parse(path, data)
	if err != nil {
		return nil, err
	}
	if err := b.readTemplate(os.ReadFile); err != nil {
		return nil, err
	}
	return b, nil
}

// LoadDir reads every *.yaml and *.yml file in dir (not recursively), in
// name order.
func LoadDir(dir string) ([]*Blueprint, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read blueprint dir: %w", err)
	}
	var bps []*Blueprint
	for _, e := range entries {
		ext := filepath.Ext(e.Name())
		if e.IsDir() || (ext != ".yaml" && ext != ".yml") || templateFile(e.Name()) {
			continue
		}
		b, err := LoadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		bps = append(bps, b)
	}
	return bps, nil
}

// Parse decodes one blueprint document strictly: unknown keys are errors,
// so a typo never silently drops a bound. It checks syntax only; call
// Validate for the meaning.
func Parse(file string, data []byte) (*Blueprint, error) {
	var b Blueprint
	if err := decodeStrict(data, &b); err != nil {
		return nil, yamlError(file, err)
	}
	b.File = file
	return &b, nil
}

// decodeStrict decodes exactly one YAML document with unknown keys rejected.
func decodeStrict(data []byte, out any) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(out); err != nil {
		if errors.Is(err, io.EOF) {
			return errors.New("file is empty")
		}
		return err
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return errors.New("only one YAML document is allowed per file")
	}
	return nil
}

var lineRe = regexp.MustCompile(`^(?:yaml: )?(?:decode parameter: )?line (\d+): (.*)$`)

// yamlError turns a YAML decode error into ValidationErrors with the file
// name and line.
func yamlError(file string, err error) error {
	var msgs []string
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{err.Error()}
	}
	ve := make(ValidationErrors, 0, len(msgs))
	for _, m := range msgs {
		e := ValidationError{File: file, Msg: m}
		if sm := lineRe.FindStringSubmatch(m); sm != nil {
			e.Line, _ = strconv.Atoi(sm[1])
			e.Msg = sm[2]
		}
		ve = append(ve, e)
	}
	return ve.asError()
}
