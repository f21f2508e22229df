package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteFileReplacesAndCleansUp(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "sub", "a.txt")
	if err := WriteFile(p, []byte("one"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(p, []byte("two"), 0o600); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	if string(b) != "two" {
		t.Fatalf("content %q", b)
	}
	st, _ := os.Stat(p)
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("perm %v", st.Mode().Perm())
	}
	ents, _ := os.ReadDir(filepath.Dir(p))
	if len(ents) != 1 {
		t.Fatalf("leftover files: %v", ents)
	}
}

func TestFailedWriteKeepsOldContent(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.txt")
	if err := WriteFile(p, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := Write(p, 0o644, func(w io.Writer) error {
		w.Write([]byte("partial"))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err %v", err)
	}
	b, _ := os.ReadFile(p)
	if string(b) != "old" {
		t.Fatalf("content %q", b)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("temp file left: %v", ents)
	}
}

func TestCleanTemp(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, ".x.jpg.tmp-123"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(dir, "keep.jpg"), []byte("x"), 0o644)
	n, err := CleanTemp(dir)
	if err != nil || n != 1 {
		t.Fatalf("n=%d err=%v", n, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "keep.jpg")); err != nil {
		t.Fatal(err)
	}
}

// CleanTempOf removes only the named file's temp files: another writer's
// in the same folder stays.
func TestCleanTempOf(t *testing.T) {
	dir := t.TempDir()
	mine := filepath.Join(dir, ".report.md.tmp-123")
	other := filepath.Join(dir, ".chara.yaml.tmp-456")
	for _, p := range []string{mine, other} {
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	n, err := CleanTempOf(filepath.Join(dir, "report.md"))
	if err != nil || n != 1 {
		t.Fatalf("n=%d err=%v, want 1 removed", n, err)
	}
	if _, err := os.Stat(mine); !os.IsNotExist(err) {
		t.Errorf("%s left: %v", mine, err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("another file's temp went: %v", err)
	}
}
