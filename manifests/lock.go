package manifests

import "path/filepath"

// LockPath is the workspace's writer lock: every command that writes to
// the workspace holds a flock on it while it runs (internal/wslock).
func LockPath(workspace string) string { return filepath.Join(workspace, ".chara", "lock") }
