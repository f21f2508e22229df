package wspath

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestOnlyPlainFilesInside(t *testing.T) {
	root := t.TempDir()
	ws := filepath.Join(root, "ws")
	outside := filepath.Join(root, "secret.png")
	os.MkdirAll(filepath.Join(ws, "raw", "a"), 0o755)
	os.WriteFile(outside, []byte("secret"), 0o644)
	os.WriteFile(filepath.Join(ws, "raw", "a", "ok.png"), []byte("ok"), 0o644)
	os.Symlink(outside, filepath.Join(ws, "raw", "a", "link.png"))
	os.Symlink(filepath.Join(ws, "raw", "a"), filepath.Join(ws, "raw", "b"))
	os.Mkdir(filepath.Join(ws, "raw", "dir.png"), 0o755)
	// A workspace reached through a link is fine.
	wsLink := filepath.Join(root, "wslink")
	os.Symlink(ws, wsLink)

	if b, st, err := ReadFile(wsLink, "raw/a/ok.png"); err != nil || string(b) != "ok" || st.Size() != 2 {
		t.Fatalf("plain file: %q %v", b, err)
	}
	for _, rel := range []string{"raw/a/link.png", "raw/b/ok.png", "../secret.png", "raw/../../secret.png", outside, "raw/dir.png"} {
		if _, _, err := ReadFile(ws, rel); !errors.Is(err, ErrOutside) {
			t.Errorf("%s: %v, want ErrOutside", rel, err)
		}
	}
	if _, _, err := ReadFile(ws, "raw/a/missing.png"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
}
