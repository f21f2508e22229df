package scrape

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/chara-dev/chara/internal/booru"
	"github.com/chara-dev/chara/manifests"
)

// A file that reached raw/<class>/ without its index line (a kill between
// the two) is removed by the next run, whose index then lists exactly what
// an uninterrupted run's does; files of other names are left alone.
func TestOrphansAreRemoved(t *testing.T) {
	ts := start(t, booru.New(makePosts(1, 20, "nakano_miku")))
	ws := t.TempDir()
	src := Source{Kind: "danbooru", URL: ts.URL, Limit: 5}
	runScrape(t, ws, baseOpts(src, "nakano_miku", 6)...)
	dir := manifests.RawDir(ws, "nakano_miku")
	recs := checkRaw(t, ws, "nakano_miku")
	// The orphan: the file of a listed post, as a kill leaves it.
	orphan := testImage(7, "jpg")
	sum := sha256.Sum256(orphan)
	name := hex.EncodeToString(sum[:]) + ".jpg"
	for _, r := range recs {
		if r.File == name {
			t.Fatal("post 7 already fetched")
		}
	}
	if err := os.WriteFile(filepath.Join(dir, name), orphan, 0o644); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(other, []byte("notes"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A full class: the orphan goes, nothing is fetched.
	runScrape(t, ws, baseOpts(src, "nakano_miku", 6)...)
	if _, err := os.Stat(filepath.Join(dir, name)); !os.IsNotExist(err) {
		t.Errorf("the orphan of a full class is still there: %v", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("a file of another name was touched: %v", err)
	}
	// With room, post 7 comes back with its metadata.
	if err := os.WriteFile(filepath.Join(dir, name), orphan, 0o644); err != nil {
		t.Fatal(err)
	}
	runScrape(t, ws, baseOpts(src, "nakano_miku", 20)...)
	found := false
	for _, r := range checkRaw(t, ws, "nakano_miku") {
		if r.File == name {
			found = r.PostID == "7" && r.Source != ""
		}
	}
	if !found {
		t.Error("the orphan's post was not fetched again with its metadata")
	}
}
