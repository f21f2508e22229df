package scrape

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chara-dev/chara/internal/booru"
	"github.com/chara-dev/chara/internal/config"
	"github.com/chara-dev/chara/manifests"
)

func TestCuratedRemovalsAreNeverFetchedAgain(t *testing.T) {
	b := booru.New(makePosts(1, 15, "nakano_miku"))
	ts := start(t, b)
	ws := t.TempDir()
	opts := baseOpts(Source{Kind: "danbooru", URL: ts.URL, Limit: 5, Parallelism: 1}, "nakano_miku", 10)
	runScrape(t, ws, opts...)
	recs := checkRaw(t, ws, "nakano_miku")
	if len(recs) != 10 {
		t.Fatalf("%d files, want 10", len(recs))
	}
	// Curation rejects two files and marks one a duplicate; review rejects
	// a third. The user then deletes all four from raw/.
	decs := []manifests.Decision{
		{SHA256: recs[0].SHA256, File: "raw/nakano_miku/" + recs[0].File, Class: "Nakano Miku", Decision: manifests.Rejected},
		{SHA256: recs[1].SHA256, File: "raw/nakano_miku/" + recs[1].File, Class: "Nakano Miku", Decision: manifests.Duplicate, KeptSHA256: recs[5].SHA256},
		{SHA256: recs[2].SHA256, File: "raw/nakano_miku/" + recs[2].File, Class: "Nakano Miku", Decision: manifests.Invalid, Source: "danbooru", PostID: recs[2].PostID},
		{SHA256: recs[5].SHA256, File: "raw/nakano_miku/" + recs[5].File, Class: "Nakano Miku", Decision: manifests.Keep},
	}
	if err := manifests.WriteDecisions(manifests.DecisionsPath(ws, "nakano_miku"), decs); err != nil {
		t.Fatal(err)
	}
	if err := manifests.AppendReview(manifests.ReviewPath(ws), manifests.ReviewAction{SHA256: recs[3].SHA256, Class: "Nakano Miku", Action: "reject", At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	var kept []manifests.RawRecord
	for i, r := range recs {
		if i < 4 {
			os.Remove(filepath.Join(manifests.RawDir(ws, "nakano_miku"), r.File))
			continue
		}
		kept = append(kept, r)
	}
	if err := manifests.WriteRawIndex(manifests.RawIndexPath(ws, "nakano_miku"), kept); err != nil {
		t.Fatal(err)
	}

	sum := runScrape(t, ws, opts...)
	if sum.Curated == 0 {
		t.Error("no curated keys remembered")
	}
	s := src0(t, sum)
	if s.Downloaded != 4 {
		t.Errorf("downloaded %d, want 4 to refill the class", s.Downloaded)
	}
	for i := 0; i < 4; i++ {
		id := recs[i].PostID
		var n int
		for pid, c := range b.FileRequests() {
			if itoa(pid) == id {
				n = c
			}
		}
		if n != 1 {
			t.Errorf("removed post %s fetched %d times, want once (the first run)", id, n)
		}
	}
	after := checkRaw(t, ws, "nakano_miku")
	if len(after) != 10 {
		t.Errorf("%d files after the refill, want 10", len(after))
	}
	// RememberCurated alone reports its keys and marks the status.
	n, err := RememberCurated(t.Context(), ws)
	if err != nil || n < 4 {
		t.Fatalf("RememberCurated: %d, %v", n, err)
	}
	arc, err := OpenArchive(ArchivePath(ws))
	if err != nil {
		t.Fatal(err)
	}
	defer arc.Close()
	for _, k := range []string{SHA256Key(recs[3].SHA256), PostKey("danbooru", recs[3].PostID), MD5Key(recs[3].MD5), PostKey("danbooru", recs[0].PostID)} {
		st, ok, err := arc.Status(t.Context(), k)
		if err != nil || !ok || st != "curated:rejected" {
			t.Errorf("%s: status %q %v %v, want curated:rejected", k, st, ok, err)
		}
	}
	if st, _, _ := arc.Status(t.Context(), PostKey("danbooru", recs[1].PostID)); st != "curated:duplicate" {
		t.Errorf("duplicate's post key: status %q", st)
	}
}

// TestCuratedWithoutArchive: decisions and the raw index alone are enough
// when archive.db is lost.
func TestCuratedWithoutArchive(t *testing.T) {
	b := booru.New(makePosts(1, 8, "nakano_miku"))
	ts := start(t, b)
	ws := t.TempDir()
	opts := baseOpts(Source{Kind: "danbooru", URL: ts.URL, Parallelism: 1}, "nakano_miku", 5)
	runScrape(t, ws, opts...)
	recs := checkRaw(t, ws, "nakano_miku")
	d := manifests.Decision{SHA256: recs[0].SHA256, File: "raw/nakano_miku/" + recs[0].File, Class: "Nakano Miku", Decision: manifests.Rejected}
	if err := manifests.WriteDecisions(manifests.DecisionsPath(ws, "nakano_miku"), []manifests.Decision{d}); err != nil {
		t.Fatal(err)
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(ArchivePath(ws) + suffix)
	}
	if n, err := RememberCurated(t.Context(), ws); err != nil || n != 3 {
		t.Fatalf("RememberCurated: %d keys, %v; want sha256, post and md5", n, err)
	}
	arc, err := OpenArchive(ArchivePath(ws))
	if err != nil {
		t.Fatal(err)
	}
	defer arc.Close()
	if ok, _ := arc.Has(t.Context(), PostKey("danbooru", recs[0].PostID)); !ok {
		t.Error("post key of a rejected file not archived")
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func TestDryRunWritesNothing(t *testing.T) {
	b := booru.New(makePosts(1, 12, "nakano_miku"))
	ts := start(t, b)
	ws := t.TempDir()
	opts := append(baseOpts(Source{Kind: "danbooru", URL: ts.URL, Limit: 5}, "nakano_miku", 8), WithDryRun(true))
	sum := runScrape(t, ws, opts...)
	s := src0(t, sum)
	if len(s.Planned) != 8 || s.Downloaded != 0 || totalFileRequests(b) != 0 {
		t.Errorf("planned %d downloaded %d file requests %d; want 8, 0, 0", len(s.Planned), s.Downloaded, totalFileRequests(b))
	}
	if !strings.HasPrefix(s.Planned[0].URL, ts.URL+"/data/") {
		t.Errorf("planned URL %q", s.Planned[0].URL)
	}
	ents, _ := os.ReadDir(ws)
	if len(ents) != 0 {
		t.Errorf("dry run wrote %d entries in the workspace", len(ents))
	}
	var buf strings.Builder
	if err := sum.WriteTable(&buf); err != nil || !strings.Contains(buf.String(), "WOULD FETCH") {
		t.Errorf("table: %v\n%s", err, buf.String())
	}
}

func TestSummaryJSONAndTable(t *testing.T) {
	posts := makePosts(1, 6, "nakano_miku")
	posts[0].Rating = "e"
	b := booru.New(posts, booru.WithFaults(booru.Fault{Kind: booru.HTMLAsImage, On: booru.Files, PostIDs: []int{2}}))
	ts := start(t, b)
	sum := runScrape(t, t.TempDir(), baseOpts(Source{Kind: "danbooru", URL: ts.URL}, "nakano_miku", 10)...)
	js, err := json.Marshal(sum)
	if err != nil {
		t.Fatal(err)
	}
	var back Summary
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	s := back.Classes[0].Sources[0]
	if s.Found != 6 || s.Filtered["rating"] != 1 || s.Downloaded != 4 || s.Failures["not_image"] != 1 || back.Classes[0].After != 4 {
		t.Errorf("JSON round trip: %s", js)
	}
	var buf strings.Builder
	if err := sum.WriteTable(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"CLASS", "Nakano Miku", "danbooru", "1 (rating 1)", "1 (not_image 1)", "4/10"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestConfigOptionsTakeCredentialsFromEnv(t *testing.T) {
	b := booru.New(makePosts(1, 4, "nakano_miku", "blue_hair"), booru.WithDanbooruAuth("miku", "s3cret"))
	ts := start(t, b)
	yml := `
sources:
  my-danbooru: {kind: danbooru, url: ` + ts.URL + `, delay: 1ms, parallelism: 2}
scrape:
  candidates: 3
  min_width: 10
  min_height: 10
  ratings: [g]
  exclude_tags: [Comic]
classes:
  - name: Nakano Miku
    queries: {my-danbooru: "nakano_miku blue_hair rating:g"}
`
	cfg, err := config.Parse("chara.yaml", []byte(yml))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"CHARA_MY_DANBOORU_LOGIN": "miku", "CHARA_MY_DANBOORU_API_KEY": "s3cret"}
	opts := append(ConfigOptions(cfg, func(k string) string { return env[k] }), WithRetry(fastRetry()))
	ws := t.TempDir()
	sum := runScrape(t, ws, opts...)
	if s := src0(t, sum); s.Downloaded != 3 || s.Error != "" {
		t.Errorf("downloaded %d error %q, want 3 with credentials from the environment", s.Downloaded, s.Error)
	}
	if strings.Contains(cfg.Sources["my-danbooru"].WithEnv("my-danbooru", func(k string) string { return env[k] }).String(), "s3cret") {
		t.Error("Source.String shows the API key")
	}
}
