package manifests

import (
	"fmt"
	"strings"
	"unicode"
)

// Slug turns a class name into the directory name used everywhere in the
// workspace: lower case ASCII letters, digits and '_' only, so it can never
// contain a path separator, "..", or a leading dot. "Nakano Miku" -> "nakano_miku".
// Non-ASCII letters are kept as their Unicode code point (u3042) so that
// distinct names stay distinct.
func Slug(name string) (string, error) {
	var b strings.Builder
	lastUnderscore := true
	for _, r := range strings.TrimSpace(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
			lastUnderscore = false
		case r >= 'A' && r <= 'Z':
			b.WriteRune(unicode.ToLower(r))
			lastUnderscore = false
		case r < 128:
			if !lastUnderscore {
				b.WriteByte('_')
				lastUnderscore = true
			}
		default:
			fmt.Fprintf(&b, "u%04x", r)
			lastUnderscore = false
		}
	}
	s := strings.TrimRight(b.String(), "_")
	if s == "" {
		return "", fmt.Errorf("class name %q: %w", name, ErrBadClassName)
	}
	if len(s) > 120 {
		return "", fmt.Errorf("class name %q: slug longer than 120 characters: %w", name, ErrBadClassName)
	}
	return s, nil
}

// ErrBadClassName reports a class name that cannot become a directory name.
var ErrBadClassName = fmt.Errorf("class name has no letters or digits")

// CheckSlugs returns an error naming two class names that map to the same slug.
func CheckSlugs(names []string) error {
	seen := map[string]string{}
	for _, n := range names {
		s, err := Slug(n)
		if err != nil {
			return err
		}
		if prev, ok := seen[s]; ok {
			return fmt.Errorf("class names %q and %q both map to directory %q", prev, n, s)
		}
		seen[s] = n
	}
	return nil
}
