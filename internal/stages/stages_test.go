package stages

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFreshAfterDoneAndChangedInputs(t *testing.T) {
	ws := t.TempDir()
	f := filepath.Join(ws, "raw", "a", "index.jsonl")
	os.MkdirAll(filepath.Dir(f), 0o755)
	os.WriteFile(f, []byte("one\n"), 0o644)
	fp := func() string {
		h := NewHasher()
		if err := h.Value("cfg", map[string]int{"x": 1}); err != nil {
			t.Fatal(err)
		}
		if err := h.Files(filepath.Join(ws, "raw", "*", "index.jsonl")); err != nil {
			t.Fatal(err)
		}
		return h.Sum()
	}
	s, err := Load(ws)
	if err != nil {
		t.Fatal(err)
	}
	in := fp()
	if s.Fresh("curate", in) {
		t.Fatal("fresh before it ever ran")
	}
	if err := s.Done("curate", in, time.Now()); err != nil {
		t.Fatal(err)
	}
	s2, err := Load(ws)
	if err != nil {
		t.Fatal(err)
	}
	if !s2.Fresh("curate", fp()) {
		t.Fatal("not fresh after Done with the same inputs")
	}
	os.WriteFile(f, []byte("one\ntwo\n"), 0o644)
	if s2.Fresh("curate", fp()) {
		t.Fatal("fresh although an input file changed")
	}
	s2.Forget("curate")
	if s2.Fresh("curate", in) {
		t.Fatal("fresh after Forget")
	}
}

func TestCorruptStateNamesFile(t *testing.T) {
	ws := t.TempDir()
	os.MkdirAll(filepath.Join(ws, ".chara"), 0o755)
	os.WriteFile(Path(ws), []byte("{"), 0o644)
	if _, err := Load(ws); err == nil || !contains(err.Error(), "stages.json") {
		t.Fatalf("err %v", err)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
