package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// ErrNoName is returned by WriteNamed when fill returns an empty or unsafe name.
var ErrNoName = errors.New("atomic write: fill returned no usable file name")

// WriteNamed atomically creates a file in dir whose name is known only after
// its content has been written (a content hash, say): fill writes the
// content and returns the base name; the temp file is then fsynced, closed,
// renamed to dir/name and the directory fsynced. If fill fails, the temp
// file is removed and nothing appears. It returns the final path.
func WriteNamed(dir string, perm os.FileMode, fill func(w io.Writer) (name string, err error)) (path string, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("atomic write in %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, ".named.tmp-*")
	if err != nil {
		return "", fmt.Errorf("atomic write in %s: %w", dir, err)
	}
	tmpName := tmp.Name()
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmpName)
		}
	}()
	name, err := fill(tmp)
	if err != nil {
		return "", err
	}
	if name == "" || name != filepath.Base(name) || name == "." || name == ".." {
		err = fmt.Errorf("%w: %q", ErrNoName, name)
		return "", err
	}
	path = filepath.Join(dir, name)
	if err = tmp.Chmod(perm); err != nil {
		return "", fmt.Errorf("atomic write %s: %w", path, err)
	}
	if err = tmp.Sync(); err != nil {
		return "", fmt.Errorf("atomic write %s: fsync: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return "", fmt.Errorf("atomic write %s: %w", path, err)
	}
	Boundary("before rename " + path)
	if err = os.Rename(tmpName, path); err != nil {
		return "", fmt.Errorf("atomic write %s: %w", path, err)
	}
	if err = SyncDir(dir); err != nil {
		return "", err
	}
	Boundary("after rename " + path)
	return path, nil
}
