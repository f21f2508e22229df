// Package atomicfile writes files so that a reader, or a crash, never sees
// a partial file: temp file in the same directory, write, fsync, close,
// rename, fsync the directory. It depends on the standard library only, so
// that every package (manifests included) can use it.
package atomicfile

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// WriteFile atomically replaces path with data. The directory is created if
// needed. On any error the previous content of path is left untouched.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	return WriteFrom(path, bytes.NewReader(data), perm)
}

// WriteFrom atomically replaces path with everything read from r.
func WriteFrom(path string, r io.Reader, perm os.FileMode) error {
	return Write(path, perm, func(w io.Writer) error {
		_, err := io.Copy(w, r)
		return err
	})
}

// Write atomically replaces path with what fill writes. If fill fails, the
// temporary file is removed and path is untouched.
func Write(path string, perm os.FileMode, fill func(w io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("atomic write %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("atomic write %s: %w", path, err)
	}
	tmpName := tmp.Name()
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmpName)
		}
	}()
	if err = fill(tmp); err != nil {
		return fmt.Errorf("atomic write %s: %w", path, err)
	}
	if err = tmp.Chmod(perm); err != nil {
		return fmt.Errorf("atomic write %s: %w", path, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("atomic write %s: fsync: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("atomic write %s: %w", path, err)
	}
	Boundary("before rename " + path)
	if err = os.Rename(tmpName, path); err != nil {
		return fmt.Errorf("atomic write %s: %w", path, err)
	}
	if err = SyncDir(dir); err != nil {
		return err
	}
	Boundary("after rename " + path)
	return nil
}

// SyncDir fsyncs a directory so that a rename inside it is durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	return nil
}

// CleanTemp removes temporary files left in dir by an interrupted Write.
// It returns how many it removed.
func CleanTemp(dir string) (int, error) {
	return removeGlob(filepath.Join(dir, ".*.tmp-*"))
}

// CleanTempOf removes the temporary files an interrupted Write of path
// left, and no other: for a folder where other writers may be at work
// (a workspace's root). It returns how many it removed.
func CleanTempOf(path string) (int, error) {
	return removeGlob(filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*"))
}

func removeGlob(pattern string) (int, error) {
	matches, err := filepath.Glob(pattern)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, m := range matches {
		if err := os.Remove(m); err == nil {
			n++
		}
	}
	return n, nil
}
