package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteNamed(t *testing.T) {
	dir := t.TempDir()
	p, err := WriteNamed(dir, 0o644, func(w io.Writer) (string, error) {
		_, err := w.Write([]byte("hello"))
		return "greeting.txt", err
	})
	if err != nil {
		t.Fatal(err)
	}
	if p != filepath.Join(dir, "greeting.txt") {
		t.Fatalf("path %s", p)
	}
	if b, _ := os.ReadFile(p); string(b) != "hello" {
		t.Fatalf("content %q", b)
	}
	boom := errors.New("boom")
	if _, err := WriteNamed(dir, 0o644, func(w io.Writer) (string, error) { return "x", boom }); !errors.Is(err, boom) {
		t.Fatalf("err %v", err)
	}
	if _, err := WriteNamed(dir, 0o644, func(w io.Writer) (string, error) { return "../escape", nil }); !errors.Is(err, ErrNoName) {
		t.Fatalf("err %v", err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("left %d entries, want only greeting.txt", len(ents))
	}
}
