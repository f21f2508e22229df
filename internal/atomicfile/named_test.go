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

func TestPendingGroup(t *testing.T) {
	dir := t.TempDir()
	var ps []*Pending
	for _, s := range []string{"a", "b", "c"} {
		p, err := CreatePending(dir)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Write([]byte("content " + s)); err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	if _, err := ps[0].Rename("early"); err == nil {
		t.Fatal("rename before Sync succeeded")
	}
	b := make([]byte, 9)
	if _, err := ps[0].ReadAt(b, 0); err != nil || string(b) != "content a" {
		t.Fatalf("ReadAt %q %v", b, err)
	}
	for _, p := range ps[:2] {
		if err := p.Sync(0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ps[0].Rename("../out"); !errors.Is(err, ErrNoName) {
		t.Fatalf("unsafe name: %v", err)
	}
	pa, err := ps[0].Rename("a.txt")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ps[1].Rename("b.txt"); err != nil {
		t.Fatal(err)
	}
	if err := SyncDir(dir); err != nil {
		t.Fatal(err)
	}
	ps[0].Discard() // renamed: nothing to do
	if got, _ := os.ReadFile(pa); string(got) != "content a" {
		t.Fatalf("a.txt %q", got)
	}
	if st, _ := os.Stat(pa); st.Mode().Perm() != 0o600 {
		t.Fatalf("perm %v", st.Mode().Perm())
	}
	// The third was never committed: a crash leaves it as a temp file,
	// which CleanTemp removes; Discard removes it too.
	if n, err := CleanTemp(dir); err != nil || n != 1 {
		t.Fatalf("CleanTemp removed %d (%v), want the uncommitted one", n, err)
	}
	ps[2].Discard()
	ents, _ := os.ReadDir(dir)
	if len(ents) != 2 {
		t.Fatalf("entries %v, want a.txt and b.txt", ents)
	}
}
