package pipeline

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/chara-dev/chara/internal/config"
	"github.com/chara-dev/chara/internal/stages"
	"github.com/chara-dev/chara/manifests"
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

// A kill inside the last run's write of the workspace's report.md left its
// temp file: the next report removes it, and only it.
func TestWriteReportRemovesItsStaleTempFile(t *testing.T) {
	ws := t.TempDir()
	stale := filepath.Join(ws, ".report.md.tmp-123")
	other := filepath.Join(ws, ".chara.yaml.tmp-456")
	for _, p := range []string{stale, other} {
		if err := os.WriteFile(p, []byte("half"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := WriteReport(io.Discard, ws, &config.Config{}, "default"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("%s left: %v", stale, err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("another writer's temp file went: %v", err)
	}
	if _, err := os.Stat(manifests.ReportPath(ws)); err != nil {
		t.Errorf("no report: %v", err)
	}
}
