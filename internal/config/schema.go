package config

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/chara-dev/chara/internal/suggest"
)

// The schema is the Config struct itself: each field's yaml tag is its key
// and its doc tag says what it does and which values it takes. checkNode
// walks a parsed document against it before decoding, so that a mistake is
// reported as a key path and a line ("line 12: train.epocs: unknown key; did
// you mean train.epochs?") instead of yaml.v3's Go types.

var durationType = reflect.TypeOf(time.Duration(0))

// lines maps key paths ("train.epochs", "classes[0].name") to the line where
// the document sets them.
type lines map[string]int

func joinKey(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// yamlKey returns a struct field's key and whether it has one.
func yamlKey(f reflect.StructField) (string, bool) {
	tag := f.Tag.Get("yaml")
	if tag == "-" || !f.IsExported() {
		return "", false
	}
	name, _, _ := strings.Cut(tag, ",")
	if name == "" {
		name = strings.ToLower(f.Name)
	}
	return name, true
}

func structKeys(t reflect.Type) map[string]reflect.Type {
	keys := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		if k, ok := yamlKey(t.Field(i)); ok {
			keys[k] = t.Field(i).Type
		}
	}
	return keys
}

// checkNode checks n against type t at path, recording lines.
func checkNode(n *yaml.Node, t reflect.Type, path string, ls lines) *KeyError {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil // an empty value keeps the default
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	kerr := func(format string, args ...any) *KeyError {
		return &KeyError{Key: path, Line: n.Line, Err: fmt.Errorf(format, args...)}
	}
	switch {
	case t.Kind() == reflect.Struct && t != durationType:
		if n.Kind != yaml.MappingNode {
			return kerr("want a mapping of keys (%s), got %s", strings.Join(sortedNames(structKeys(t)), ", "), describe(n))
		}
		keys := structKeys(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := joinKey(path, k.Value)
			ft, ok := keys[k.Value]
			if !ok {
				msg := "unknown key"
				if near := suggest.Nearest(k.Value, sortedNames(keys)); near != "" {
					msg += fmt.Sprintf("; did you mean %s?", joinKey(path, near))
				} else {
					where := path
					if where == "" {
						where = "the top level"
					}
					msg += fmt.Sprintf(" (%s takes %s)", where, strings.Join(sortedNames(keys), ", "))
				}
				return &KeyError{Key: p, Line: k.Line, Err: fmt.Errorf("%s", msg)}
			}
			ls[p] = k.Line
			if err := checkNode(v, ft, p, ls); err != nil {
				return err
			}
		}
		return nil
	case t.Kind() == reflect.Map:
		if n.Kind != yaml.MappingNode {
			return kerr("want a mapping, got %s", describe(n))
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := joinKey(path, k.Value)
			ls[p] = k.Line
			if err := checkNode(v, t.Elem(), p, ls); err != nil {
				return err
			}
		}
		return nil
	case t.Kind() == reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return kerr("want a list (e.g. [a, b]), got %s", describe(n))
		}
		for i, v := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			ls[p] = v.Line
			if err := checkNode(v, t.Elem(), p, ls); err != nil {
				return err
			}
		}
		return nil
	}
	if n.Kind != yaml.ScalarNode {
		return kerr("want %s, got %s", kindName(t), describe(n))
	}
	if err := n.Decode(reflect.New(t).Interface()); err != nil {
		return kerr("want %s, got %q", kindName(t), n.Value)
	}
	return nil
}

// kindName says in words what a value of type t looks like.
func kindName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == durationType:
		return "a duration such as 1.5s or 200ms"
	case t.Kind() == reflect.Bool:
		return "true or false"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return "a whole number"
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		return "a number"
	case t.Kind() == reflect.String:
		return "text"
	case t.Kind() == reflect.Slice:
		return "a list"
	}
	return "a mapping"
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return fmt.Sprintf("%q", n.Value)
}

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
