package manifests

import (
	"fmt"
	"unicode"
)

// CheckPrintable refuses a name with a control character (C0, DEL, C1) or
// a bidirectional override or isolate (U+202A-U+202E, U+2066-U+2069),
// which would print as something else than it is. It names the first.
func CheckPrintable(name string) error {
	for i, r := range name {
		if unicode.IsControl(r) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) {
			return fmt.Errorf("%q: control character U+%04X at byte %d", name, r, i)
		}
	}
	return nil
}

// CheckDatasetName checks a dataset name (datasets/<name>), as class names
// are: one plain folder name, printable.
func CheckDatasetName(name string) error {
	if err := CheckPlainName(name); err != nil {
		return fmt.Errorf("dataset name: %w", err)
	}
	if err := CheckPrintable(name); err != nil {
		return fmt.Errorf("dataset name %w", err)
	}
	return nil
}
