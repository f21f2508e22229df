// Package config reads and validates chara.yaml. Errors name the key.
// Each stage's section lives in its own file; cmd/ turns the sections into
// the stage packages' functional options.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/chara-dev/chara/internal/names"
	"github.com/chara-dev/chara/manifests"
)

// Config is the whole chara.yaml.
type Config struct {
	Sources map[string]Source `yaml:"sources"`
	Scrape  Scrape            `yaml:"scrape"`
	Curate  Curate            `yaml:"curate"`
	Images  Images            `yaml:"images"`
	Split   Split             `yaml:"split"`
	Train   Train             `yaml:"train"`
	Seed    int64             `yaml:"seed"`
	Classes []Class           `yaml:"classes"`
}

// Class is one character.
type Class struct {
	Name    string            `yaml:"name"`
	Queries map[string]string `yaml:"queries"` // source name -> tags
	Picture string            `yaml:"picture,omitempty"`
}

// ErrNotFound is returned by Load when the file does not exist.
var ErrNotFound = errors.New("config file not found")

// KeyError names the key that is wrong and, when the file sets it, its line.
type KeyError struct {
	File string
	Key  string // path such as train.epochs or classes[2].name
	Line int    // 0: not in the file (a default, or a whole section)
	Err  error
}

func (e *KeyError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s: %v", e.File, e.Line, e.Key, e.Err)
	}
	return fmt.Sprintf("%s: %s: %v", e.File, e.Key, e.Err)
}
func (e *KeyError) Unwrap() error { return e.Err }

// Default returns a config with every default set and no classes or sources.
func Default() *Config {
	return &Config{
		Sources: map[string]Source{},
		Scrape:  defaultScrape(),
		Curate:  defaultCurate(),
		Images:  defaultImages(),
		Split:   defaultSplit(),
		Train:   defaultTrain(),
		Seed:    42,
	}
}

// Load reads path over the defaults and validates it.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", path, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	return Parse(path, b)
}

// Parse decodes YAML over the defaults. Unknown keys, values of the wrong
// kind and invalid values are *KeyError's naming the key path and line.
func Parse(name string, b []byte) (*Config, error) {
	c := Default()
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) { // io.EOF: an empty document
		return nil, fmt.Errorf("%s: %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	ls := lines{}
	if len(doc.Content) > 0 {
		if kerr := checkNode(doc.Content[0], reflect.TypeOf(*c), "", ls); kerr != nil {
			kerr.File = name
			return nil, kerr
		}
		if err := doc.Content[0].Decode(c); err != nil {
			return nil, fmt.Errorf("%s: %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
		}
	}
	if err := c.Validate(name); err != nil {
		var kerr *KeyError
		if errors.As(err, &kerr) && kerr.Line == 0 {
			kerr.Line = lineOf(ls, kerr.Key)
		}
		return nil, err
	}
	return c, nil
}

// lineOf returns the line of key or of the nearest enclosing key the file
// sets.
func lineOf(ls lines, key string) int {
	for key != "" {
		if l, ok := ls[key]; ok {
			return l
		}
		i := strings.LastIndexAny(key, ".[")
		if i < 0 {
			break
		}
		key = key[:i]
	}
	return 0
}

// Validate checks every section; name is the file name used in errors.
func (c *Config) Validate(name string) error {
	kerr := func(key string, format string, args ...any) error {
		return &KeyError{File: name, Key: key, Err: fmt.Errorf(format, args...)}
	}
	for sname, s := range c.Sources {
		if err := s.validate(); err != nil {
			return &KeyError{File: name, Key: "sources." + sname + "." + err.key, Err: err.err}
		}
	}
	classNames := make([]string, 0, len(c.Classes))
	seen := map[string]bool{}
	for i, cl := range c.Classes {
		key := fmt.Sprintf("classes[%d]", i)
		if cl.Name == "" {
			return kerr(key+".name", "empty")
		}
		// One spelling per name (NFC), no control characters.
		n, err := names.Class(cl.Name)
		if err != nil {
			return kerr(key+".name", "%v", err)
		}
		c.Classes[i].Name, cl.Name = n, n
		if _, err := manifests.Slug(cl.Name); err != nil {
			return kerr(key+".name", "%v", err)
		}
		if seen[cl.Name] {
			return kerr(key+".name", "duplicate class %q", cl.Name)
		}
		seen[cl.Name] = true
		for src := range cl.Queries {
			if _, ok := c.Sources[src]; !ok {
				return kerr(key+".queries."+src, "no source named %q under sources", src)
			}
		}
		classNames = append(classNames, cl.Name)
	}
	if err := manifests.CheckSlugs(classNames); err != nil {
		return kerr("classes", "%v", err)
	}
	for _, v := range []struct {
		key string
		err *fieldError
	}{
		{"scrape", c.Scrape.validate()},
		{"curate", c.Curate.validate()},
		{"images", c.Images.validate()},
		{"split", c.Split.validate()},
		{"train", c.Train.validate()},
	} {
		if v.err != nil {
			return &KeyError{File: name, Key: v.key + "." + v.err.key, Err: v.err.err}
		}
	}
	if len(c.Classes) == 0 {
		return kerr("classes", "no classes: list at least one under classes: (chara classes add NAME --query SOURCE=TAGS)")
	}
	return nil
}

// ClassByName finds a class.
func (c *Config) ClassByName(name string) (*Class, bool) {
	for i := range c.Classes {
		if names.Same(c.Classes[i].Name, name) {
			return &c.Classes[i], true
		}
	}
	return nil, false
}

type fieldError struct {
	key string
	err error
}

func ferr(key, format string, args ...any) *fieldError {
	return &fieldError{key: key, err: fmt.Errorf(format, args...)}
}
