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
	p, err := CreatePending(dir)
	if err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			p.Discard()
		}
	}()
	name, err := fill(p)
	if err != nil {
		return "", err
	}
	if err = p.Sync(perm); err != nil {
		return "", err
	}
	if path, err = p.Rename(name); err != nil {
		return "", err
	}
	if err = SyncDir(dir); err != nil {
		return "", err
	}
	Boundary("after rename " + path)
	return path, nil
}

// Pending is a file being written in a directory under a temporary name
// (one that CleanTemp removes), for a group commit: each file is written
// and made durable (Sync), then renamed to its final name (Rename), and
// only then is the directory fsynced, once for the whole group (SyncDir),
// before anything that refers to the files is written. Until Rename,
// nothing appears under a final name; Discard removes the temp file.
type Pending struct {
	f        *os.File
	dir, tmp string
	closed   bool // synced (or discarded)
	done     bool // renamed or discarded
}

// CreatePending starts a pending file in dir (created if needed).
func CreatePending(dir string) (*Pending, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("atomic write in %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, ".named.tmp-*")
	if err != nil {
		return nil, fmt.Errorf("atomic write in %s: %w", dir, err)
	}
	return &Pending{f: f, dir: dir, tmp: f.Name()}, nil
}

// Write writes to the temp file.
func (p *Pending) Write(b []byte) (int, error) { return p.f.Write(b) }

// ReadAt reads back what was written (before Sync).
func (p *Pending) ReadAt(b []byte, off int64) (int, error) { return p.f.ReadAt(b, off) }

// Dir is the directory the file will appear in.
func (p *Pending) Dir() string { return p.dir }

// Sync sets the file's permissions, fsyncs and closes it: its content is
// durable, under the temp name.
func (p *Pending) Sync(perm os.FileMode) error {
	if err := p.f.Chmod(perm); err != nil {
		return fmt.Errorf("atomic write in %s: %w", p.dir, err)
	}
	if err := p.f.Sync(); err != nil {
		return fmt.Errorf("atomic write in %s: fsync: %w", p.dir, err)
	}
	p.closed = true
	if err := p.f.Close(); err != nil {
		return fmt.Errorf("atomic write in %s: %w", p.dir, err)
	}
	return nil
}

// Rename gives the synced file its final base name in its directory and
// returns its path; the rename is durable once the directory is synced
// (SyncDir). It marks the write boundary just before the rename; the
// caller marks the one after it ("after rename <path>") once the directory
// is synced.
func (p *Pending) Rename(name string) (string, error) {
	if name == "" || name != filepath.Base(name) || name == "." || name == ".." {
		return "", fmt.Errorf("%w: %q", ErrNoName, name)
	}
	if !p.closed {
		return "", fmt.Errorf("atomic write in %s: rename before sync", p.dir)
	}
	path := filepath.Join(p.dir, name)
	Boundary("before rename " + path)
	if err := os.Rename(p.tmp, path); err != nil {
		return "", fmt.Errorf("atomic write %s: %w", path, err)
	}
	p.done = true
	return path, nil
}

// Discard closes and removes the temp file (nothing, once renamed).
func (p *Pending) Discard() {
	if p.done {
		return
	}
	p.done = true
	if !p.closed {
		p.closed = true
		p.f.Close()
	}
	os.Remove(p.tmp)
}
