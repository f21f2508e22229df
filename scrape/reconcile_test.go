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
// the two) is adopted by the next run when it is the image its name says
// and the class has room, and removed otherwise; files of other names and
// the index's own files are left alone.
func TestOrphansAreAdoptedOrRemoved(t *testing.T) {
	ts := start(t, booru.New(makePosts(1, 20, "nakano_miku")))
	ws := t.TempDir()
	src := Source{Kind: "danbooru", URL: ts.URL, Limit: 5}
	runScrape(t, ws, baseOpts(src, "nakano_miku", 6)...)
	dir := manifests.RawDir(ws, "nakano_miku")
	put := func(b []byte, name string) string {
		if name == "" {
			s := sha256.Sum256(b)
			name = hex.EncodeToString(s[:]) + ".png"
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
		return name
	}
	good := put(booru.Image(40, 60, 999, "png"), "")
	torn := put([]byte("\x89PNG\r\n\x1a\nnot the content its name says"), "ab"+good[2:])
	other := put([]byte("notes"), "notes.txt")
	runScrape(t, ws, baseOpts(src, "nakano_miku", 8)...)
	recs := checkRaw(t, ws, "nakano_miku")
	if len(recs) != 8 {
		t.Errorf("%d files, want 8", len(recs))
	}
	adopted := 0
	for _, r := range recs {
		if r.File == good {
			adopted++
			if r.Source != SourceRecovered || r.Width != 40 || r.Height != 60 {
				t.Errorf("adopted record %+v", r)
			}
		}
	}
	if adopted != 1 {
		t.Errorf("the orphan image is in the index %d times, want once", adopted)
	}
	if _, err := os.Stat(filepath.Join(dir, torn)); !os.IsNotExist(err) {
		t.Errorf("the file whose content is not its name is still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, other)); err != nil {
		t.Errorf("a file of another name was touched: %v", err)
	}
	// A full class has no room: the orphan goes.
	full := put(booru.Image(40, 60, 1000, "png"), "")
	runScrape(t, ws, baseOpts(src, "nakano_miku", 8)...)
	if len(checkRaw(t, ws, "nakano_miku")) != 8 {
		t.Error("the full class changed")
	}
	if _, err := os.Stat(filepath.Join(dir, full)); !os.IsNotExist(err) {
		t.Errorf("the orphan of a full class is still there: %v", err)
	}
}
