// Package names is where a class name typed by a person becomes the name
// chara compares and slugs: Unicode NFC (so that "é" as one code point and
// "e" plus a combining accent are one class), surrounding space trimmed,
// and control characters refused (manifests.CheckPrintable).
package names

import (
	"fmt"
	"strings"

	"golang.org/x/text/unicode/norm"

	"github.com/chara-dev/chara/manifests"
)

// Class returns the canonical form of a class name, or an error for a
// name with control characters.
func Class(name string) (string, error) {
	if err := manifests.CheckPrintable(name); err != nil {
		return "", fmt.Errorf("class name %w", err)
	}
	return norm.NFC.String(strings.TrimSpace(name)), nil
}

// Same reports whether two class names are one class.
func Same(a, b string) bool {
	return norm.NFC.String(strings.TrimSpace(a)) == norm.NFC.String(strings.TrimSpace(b))
}
