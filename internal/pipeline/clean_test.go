package pipeline

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/chara-dev/chara/internal/stages"
)

// chara run removes the temp file of a stage record that a kill left.
func TestNewRunnerRemovesStaleTempFiles(t *testing.T) {
	ws := t.TempDir()
	dir := filepath.Dir(stages.Path(ws))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(dir, ".stages.json.tmp-123")
	lock := filepath.Join(dir, "lock")
	os.WriteFile(stale, []byte("{"), 0o644)
	os.WriteFile(lock, nil, 0o644)
	if _, err := NewRunner(ws, nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("%s left: %v", stale, err)
	}
	if _, err := os.Stat(lock); err != nil {
		t.Errorf("the lock file went: %v", err)
	}
}
