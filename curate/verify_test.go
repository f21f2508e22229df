package curate

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chara-dev/chara/curate/internal/synth"
	"github.com/chara-dev/chara/manifests"
)

// A raw file replaced after curation (new size or mtime) is hashed again
// and refused, not kept on the strength of the cache; a raw file that is a
// symbolic link (to a file outside the workspace) is refused and not read.
func TestChangedAndLinkedRawFilesAreRefused(t *testing.T) {
	ws := t.TempDir()
	outside := filepath.Join(t.TempDir(), "elsewhere.jpg")
	if err := os.WriteFile(outside, synth.JPEG(synth.Picture(9, 1, 300, 300), 90), 0o644); err != nil {
		t.Fatal(err)
	}
	shas := addRaw(t, ws, "Alice", []wsFile{
		{name: "a", data: synth.JPEG(synth.Picture(1, 1, 300, 300), 90), post: "1"},
		{name: "b", data: synth.JPEG(synth.Picture(2, 1, 300, 300), 90), post: "2"},
		{name: "c", data: synth.JPEG(synth.Picture(3, 1, 300, 300), 90), post: "3"},
	})
	ctx := context.Background()
	if _, err := Run(ctx, ws, []string{"Alice"}); err != nil {
		t.Fatal(err)
	}
	check(t, readDecisions(t, ws, "Alice"), shas, map[string]want{"a": {manifests.Keep, "", ""}, "b": {manifests.Keep, "", ""}})
	slug, _ := manifests.Slug("Alice")
	dir := manifests.RawDir(ws, slug)
	pa := filepath.Join(dir, shas["a"]+".jpeg")
	// Replaced by other bytes of the same length, an hour later.
	b, err := os.ReadFile(pa)
	if err != nil {
		t.Fatal(err)
	}
	other := synth.JPEG(synth.Picture(4, 1, 300, 300), 90)
	if len(other) > len(b) {
		other = other[:len(b)]
	}
	other = append(other, make([]byte, len(b)-len(other))...)
	if err := os.WriteFile(pa, other, 0o644); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Hour)
	os.Chtimes(pa, later, later)
	// b becomes a link to a file outside the workspace.
	pb := filepath.Join(dir, shas["b"]+".jpeg")
	os.Remove(pb)
	if err := os.Symlink(outside, pb); err != nil {
		t.Fatal(err)
	}
	if rep, err := Run(ctx, ws, []string{"Alice"}); err != nil || rep.Hashed != 2 || rep.Cached != 1 {
		t.Fatalf("rerun: %v, hashed %d, cached %d; want 2 hashed again, 1 from the cache", err, rep.Hashed, rep.Cached)
	}
	check(t, readDecisions(t, ws, "Alice"), shas, map[string]want{
		"a": {manifests.Invalid, "sha256-mismatch", ""},
		"b": {manifests.Invalid, "outside-workspace", ""},
		"c": {manifests.Keep, "", ""},
	})
}
