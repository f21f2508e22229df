package manifests

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// IsHexDigest reports whether s is n lower-case hex digits.
func IsHexDigest(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// CheckPlainName refuses anything but a single file name: no separators, no
// "..", not empty, no leading dot.
func CheckPlainName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\`+"\x00") || strings.HasPrefix(name, ".") {
		return fmt.Errorf("not a plain file name: %q", name)
	}
	return nil
}

// CheckRelPath refuses absolute paths and paths that leave their folder.
func CheckRelPath(p string) error {
	if p == "" || strings.Contains(p, "\\") || strings.Contains(p, "\x00") || path.IsAbs(p) {
		return fmt.Errorf("not a relative slash path: %q", p)
	}
	if !fs.ValidPath(p) {
		return fmt.Errorf("path leaves its folder or is not clean: %q", p)
	}
	return nil
}

func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
