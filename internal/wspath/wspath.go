// Package wspath opens files inside a workspace and nowhere else: the
// path, relative to the workspace, may not climb out of it, and no
// component of it below the workspace may be a symbolic link (a link in
// raw/ to a file elsewhere would make a dataset out of files that were
// never scraped or curated).
package wspath

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// ErrOutside is returned for a path that leads out of the workspace or
// through a symbolic link.
var ErrOutside = errors.New("not a plain file inside the workspace")

// Open opens workspace/rel for reading, refusing a rel that climbs out of
// the workspace and any symbolic link on the way (the workspace directory
// itself may be reached through links).
func Open(workspace, rel string) (*os.File, error) {
	rel = filepath.FromSlash(rel)
	clean := filepath.Clean(rel)
	path := filepath.Join(workspace, clean)
	if filepath.IsAbs(rel) || clean == "." || clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)) {
		return nil, fmt.Errorf("%s: %w", path, ErrOutside)
	}
	// Every directory below the workspace: no link.
	dir := workspace
	parts := strings.Split(clean, string(filepath.Separator))
	for _, p := range parts[:len(parts)-1] {
		dir = filepath.Join(dir, p)
		st, err := os.Lstat(dir)
		if err != nil {
			return nil, err
		}
		if st.Mode()&os.ModeSymlink != 0 {
			return nil, fmt.Errorf("%s: %w: %s is a symbolic link", path, ErrOutside, dir)
		}
	}
	// The file itself: O_NOFOLLOW refuses a link without a race.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return nil, fmt.Errorf("%s: %w: a symbolic link", path, ErrOutside)
		}
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s: %w: not a regular file", path, ErrOutside)
	}
	return f, nil
}

// ReadFile reads workspace/rel as Open allows, and returns its content
// with the file's size and modification time at the moment it was read.
func ReadFile(workspace, rel string) ([]byte, os.FileInfo, error) {
	f, err := Open(workspace, rel)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", f.Name(), err)
	}
	return b, st, nil
}
