package manifests

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/chara-dev/chara/internal/atomicfile"
)

// Slug turns a class name into the directory name used everywhere in the
// workspace. Letters, combining marks and digits of every script are kept
// (ASCII letters lower-cased, other letters through unicode.ToLower); every
// run of anything else (spaces and other separators, punctuation, symbols,
// control and format characters, and the reserved / \ : * ? " < > | .)
// becomes one '_'. So the result never contains a path separator, "..", or
// a leading dot: "Nakano Miku" -> "nakano_miku", "中野三玖" -> "中野三玖",
// "ナカノ・ミク" -> "ナカノ_ミク". The result is NFC when the name is (config
// and the name checks normalise names; manifests has no Unicode tables).
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
		case r >= utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsNumber(r)):
			b.WriteRune(unicode.ToLower(r))
			lastUnderscore = false
		case r >= utf8.RuneSelf && unicode.IsMark(r) && !lastUnderscore: // a mark belongs to the letter before it
			b.WriteRune(r)
		default:
			if !lastUnderscore {
				b.WriteByte('_')
				lastUnderscore = true
			}
		}
	}
	s := strings.TrimRight(b.String(), "_")
	if s == "" {
		return "", fmt.Errorf("class name %q: %w", name, ErrBadClassName)
	}
	if len(s) > 120 {
		return "", fmt.Errorf("class name %q: folder name longer than 120 bytes: %w", name, ErrBadClassName)
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

// LegacySlug is the folder name Slug gave a class before it kept the
// letters of every script: each non-ASCII rune as u%04x. Workspaces made
// then are read with it (classes.json) and moved by MigrateLegacySlugs.
func LegacySlug(name string) string {
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
		case r < utf8.RuneSelf:
			if !lastUnderscore {
				b.WriteByte('_')
				lastUnderscore = true
			}
		default:
			fmt.Fprintf(&b, "u%04x", r)
			lastUnderscore = false
		}
	}
	return strings.TrimRight(b.String(), "_")
}

// MigrateLegacySlugs renames a class's raw/<legacy>/ folder and
// curated/<legacy>.jsonl to the current slug's names, where the old ones
// exist and the new ones do not (nothing is overwritten). It returns the
// renames done, as "old -> new". Callers hold the workspace lock.
func MigrateLegacySlugs(workspace string, names []string) ([]string, error) {
	var done []string
	for _, n := range names {
		slug, err := Slug(n)
		if err != nil {
			return done, err
		}
		old := LegacySlug(n)
		if old == slug || CheckPlainName(old) != nil {
			continue
		}
		for _, p := range [][2]string{
			{RawDir(workspace, old), RawDir(workspace, slug)},
			{DecisionsPath(workspace, old), DecisionsPath(workspace, slug)},
		} {
			if _, err := os.Lstat(p[0]); err != nil {
				continue
			}
			if _, err := os.Lstat(p[1]); err == nil {
				continue
			}
			if err := os.Rename(p[0], p[1]); err != nil {
				return done, fmt.Errorf("class %q: moving %s to %s: %w", n, p[0], p[1], err)
			}
			if err := atomicfile.SyncDir(filepath.Dir(p[1])); err != nil {
				return done, err
			}
			done = append(done, p[0]+" -> "+p[1])
		}
	}
	return done, nil
}
