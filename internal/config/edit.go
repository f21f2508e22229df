package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/chara-dev/chara/internal/atomicfile"
	"github.com/chara-dev/chara/internal/names"
)

// Errors of the class editors.
var (
	ErrClassExists   = errors.New("class already exists")
	ErrClassNotFound = errors.New("no such class")
)

// AddClass appends a class to the classes: list of the config file at
// path, keeping the file's comments and key order. The edited file must
// still pass Parse (so the query sources must exist under sources:), or
// nothing is written. The write is atomic.
func AddClass(path string, c Class) error {
	name, err := names.Class(c.Name)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	c.Name = name
	return editFile(path, func(doc *yaml.Node) error {
		root := doc.Content[0]
		seq := mapValue(root, "classes")
		if seq == nil {
			seq = &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
			root.Content = append(root.Content, scalar("classes"), seq)
		}
		if seq.Kind != yaml.SequenceNode {
			return fmt.Errorf("%s: classes: not a list", path)
		}
		for _, item := range seq.Content {
			if n := mapValue(item, "name"); n != nil && names.Same(n.Value, c.Name) {
				return fmt.Errorf("%s: %q: %w", path, c.Name, ErrClassExists)
			}
		}
		if len(seq.Content) == 0 {
			seq.Style = 0 // "classes: []" becomes a block list
		}
		item := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		item.Content = append(item.Content, scalar("name"), scalar(c.Name))
		if len(c.Queries) > 0 {
			q := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			srcs := make([]string, 0, len(c.Queries))
			for s := range c.Queries {
				srcs = append(srcs, s)
			}
			sort.Strings(srcs)
			for _, s := range srcs {
				q.Content = append(q.Content, scalar(s), scalar(c.Queries[s]))
			}
			item.Content = append(item.Content, scalar("queries"), q)
		}
		if c.Picture != "" {
			item.Content = append(item.Content, scalar("picture"), scalar(c.Picture))
		}
		seq.Content = append(seq.Content, item)
		return nil
	})
}

// RemoveClass deletes the class named name from the config file at path,
// keeping everything else (comments included). The write is atomic.
func RemoveClass(path, name string) error {
	return editFile(path, func(doc *yaml.Node) error {
		seq := mapValue(doc.Content[0], "classes")
		if seq != nil && seq.Kind == yaml.SequenceNode {
			for i, item := range seq.Content {
				if n := mapValue(item, "name"); n != nil && names.Same(n.Value, name) {
					seq.Content = append(seq.Content[:i], seq.Content[i+1:]...)
					return nil
				}
			}
		}
		return fmt.Errorf("%s: %q: %w", path, name, ErrClassNotFound)
	})
}

// editFile parses path as a YAML node tree, lets edit change it, checks
// that the result is a valid config, and writes it back atomically.
func editFile(path string, edit func(doc *yaml.Node) error) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%s: %w", path, ErrNotFound)
	}
	if err != nil {
		return err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if doc.Kind == 0 { // an empty file
		doc = yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode, Tag: "!!map"}}}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return fmt.Errorf("%s: the document is not a mapping", path)
	}
	if err := edit(&doc); err != nil {
		return err
	}
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return fmt.Errorf("%s: encode: %w", path, err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("%s: encode: %w", path, err)
	}
	cfg, err := Parse(path, out.Bytes())
	if err != nil {
		return fmt.Errorf("the edit would make an invalid config: %w", err)
	}
	result := out.Bytes()
	// yaml.v3 drops blank lines; put them back where they were, unless
	// that would change a value (a blank line inside a block scalar).
	if spaced := restoreBlankLines(b, result); !bytes.Equal(spaced, result) {
		if c2, err := Parse(path, spaced); err == nil && reflect.DeepEqual(c2, cfg) {
			result = spaced
		}
	}
	perm := os.FileMode(0o644)
	if st, err := os.Stat(path); err == nil {
		perm = st.Mode().Perm()
	}
	return atomicfile.WriteFile(path, result, perm)
}

// restoreBlankLines inserts a blank line in out before the n-th occurrence
// of each line that followed a blank line (at its n-th occurrence) in orig.
func restoreBlankLines(orig, out []byte) []byte {
	type occ struct {
		line string
		n    int
	}
	before := map[occ]bool{}
	seen := map[string]int{}
	prevBlank := false
	for _, l := range strings.Split(string(orig), "\n") {
		t := strings.TrimRight(l, " \t\r")
		if t == "" {
			prevBlank = true
			continue
		}
		seen[t]++
		if prevBlank {
			before[occ{t, seen[t]}] = true
		}
		prevBlank = false
	}
	if len(before) == 0 {
		return out
	}
	var b strings.Builder
	seen = map[string]int{}
	lastBlank := true
	lines := strings.Split(string(out), "\n")
	for i, l := range lines {
		t := strings.TrimRight(l, " \t\r")
		if t != "" {
			seen[t]++
			if before[occ{t, seen[t]}] && !lastBlank {
				b.WriteByte('\n')
			}
		}
		b.WriteString(l)
		if i < len(lines)-1 {
			b.WriteByte('\n')
		}
		lastBlank = t == ""
	}
	return []byte(b.String())
}

// mapValue returns the value of key in a mapping node, or nil.
func mapValue(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func scalar(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v} }
