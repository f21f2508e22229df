// Package wslock makes one process at a time the writer of a workspace: a
// writing command takes an exclusive, non-blocking flock on the
// workspace's lock file (manifests.LockPath) and records its PID and
// command in it; a second writer fails at once with an error naming the
// holder. Readers take no lock, so they never wait. The kernel drops a
// flock when its holder dies, so a killed writer never leaves the
// workspace locked.
package wslock

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// ErrLocked is returned (wrapped in a *HeldError) when another process
// holds the lock.
var ErrLocked = errors.New("workspace is in use by another chara command")

// Holder is what the lock file says about the process that holds it.
type Holder struct {
	PID     int       `json:"pid"`
	Command string    `json:"command"`
	Since   time.Time `json:"since"`
}

// HeldError names the holder of a lock that could not be taken.
type HeldError struct {
	Path   string
	Holder Holder // zero when the file could not be read
}

func (e *HeldError) Error() string {
	if e.Holder.PID == 0 {
		return fmt.Sprintf("%v (lock %s)", ErrLocked, e.Path)
	}
	return fmt.Sprintf("workspace is in use by \"chara %s\" (pid %d, since %s); wait for it to finish or stop it (lock %s)",
		e.Holder.Command, e.Holder.PID, e.Holder.Since.Local().Format("15:04:05"), e.Path)
}

func (e *HeldError) Unwrap() error { return ErrLocked }

// Lock is a held workspace lock.
type Lock struct {
	f *os.File
}

// Acquire takes the lock at path for command, or fails at once with a
// *HeldError when another process (or another Acquire in this one) holds
// it. The lock file is rewritten in place, not atomically: a rename would
// give it another inode and so another lock; its content is only a note.
func Acquire(path, command string) (*Lock, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			he := &HeldError{Path: path}
			if h, err := ReadHolder(path); err == nil {
				he.Holder = *h
			}
			return nil, he
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	b, _ := json.Marshal(Holder{PID: os.Getpid(), Command: command, Since: time.Now().UTC()})
	if err := f.Truncate(0); err == nil {
		_, err = f.WriteAt(append(b, '\n'), 0)
	}
	return &Lock{f: f}, nil
}

// ReadHolder reads the note of the last process that took the lock at path.
func ReadHolder(path string) (*Holder, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var h Holder
	if err := json.Unmarshal(b, &h); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &h, nil
}

// Release drops the lock. The file stays: removing it would let a waiter
// lock a file that a newcomer then recreates beside it.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close() // closing the last descriptor drops the flock
	l.f = nil
	return err
}
