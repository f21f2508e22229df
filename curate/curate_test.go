package curate

import (
	"bytes"
	"context"
	"encoding/json"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chara-dev/chara/curate/internal/synth"
	"github.com/chara-dev/chara/internal/progress"
	"github.com/chara-dev/chara/internal/testutil"
	"github.com/chara-dev/chara/manifests"
)

// hugeGIF declares a 65535x65535 logical screen.
var hugeGIF = []byte("GIF89a\xff\xff\xff\xff\x00\x00\x00,\x00\x00\x00\x00\xff\xff\xff\xff\x00\x02\x02D\x01\x00;")

type wsFile struct {
	name   string // label used by the test
	data   []byte
	post   string
	at     time.Time
	remove bool // listed in the index but deleted from disk
}

// addRaw writes files into raw/<slug>/ and the index, as scrape does, and
// returns label -> sha256.
func addRaw(t *testing.T, ws, class string, files []wsFile) map[string]string {
	t.Helper()
	slug, _ := manifests.Slug(class)
	shas := map[string]string{}
	for i, f := range files {
		fp := Analyze(f.data, 1) // only for the sha256
		ext := ".bin"
		if fp.Format != "" {
			ext = "." + string(fp.Format)
		}
		name := fp.SHA256 + ext
		p := filepath.Join(manifests.RawDir(ws, slug), name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if !f.remove {
			if err := os.WriteFile(p, f.data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		at := f.at
		if at.IsZero() {
			at = time.Date(2024, 1, 1, 0, 0, i, 0, time.UTC)
		}
		rec := manifests.RawRecord{SHA256: fp.SHA256, File: name, Source: "testbooru", PostID: f.post, FetchedAt: at}
		if err := manifests.AppendRawIndex(manifests.RawIndexPath(ws, slug), rec); err != nil {
			t.Fatal(err)
		}
		shas[f.name] = fp.SHA256
	}
	return shas
}

func readDecisions(t *testing.T, ws, class string) map[string]manifests.Decision {
	t.Helper()
	slug, _ := manifests.Slug(class)
	ds, err := manifests.ReadDecisions(manifests.DecisionsPath(ws, slug))
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]manifests.Decision{}
	for _, d := range ds {
		m[d.SHA256] = d
	}
	return m
}

type want struct {
	verdict manifests.Verdict
	reason  string // prefix
	keptBy  string // label of the kept copy, for duplicates
}

func check(t *testing.T, ds map[string]manifests.Decision, shas map[string]string, wants map[string]want) {
	t.Helper()
	for label, w := range wants {
		d, ok := ds[shas[label]]
		if !ok {
			t.Errorf("%s: no decision", label)
			continue
		}
		if d.Decision != w.verdict || !strings.HasPrefix(d.Reason, w.reason) {
			t.Errorf("%s: got %s/%q, want %s/%q", label, d.Decision, d.Reason, w.verdict, w.reason)
		}
		if w.keptBy != "" && d.KeptSHA256 != shas[w.keptBy] {
			t.Errorf("%s: kept copy %.8s, want %s (%.8s)", label, d.KeptSHA256, w.keptBy, shas[w.keptBy])
		}
	}
}

// fixture builds a two-class workspace with known ground truth.
func fixture(t *testing.T) (ws string, a, b map[string]string) {
	orig := synth.Picture(1, 1, 900, 700)
	pose2 := synth.Picture(1, 2, 900, 700)
	pose3 := synth.Picture(1, 3, 800, 800)
	good := synth.JPEG(orig, 95)
	ws = t.TempDir()
	a = addRaw(t, ws, "Alice", []wsFile{
		{name: "orig", data: good, post: "1"},
		{name: "resized", data: synth.PNG(synth.Resize(orig, 450, 350)), post: "2"},
		{name: "q60", data: synth.JPEG(orig, 60), post: "3"},
		{name: "crop", data: synth.JPEG(synth.Crop(orig, 0.03), 90), post: "4"},
		{name: "flip", data: synth.JPEG(synth.FlipH(orig), 90), post: "5"},
		{name: "recolor", data: synth.JPEG(synth.Recolor(orig, 0.15), 90), post: "6"},
		{name: "pose2", data: synth.JPEG(pose2, 90), post: "7"},
		{name: "pose3", data: synth.JPEG(pose3, 90), post: "8"},
		{name: "tiny", data: synth.PNG(synth.Resize(synth.Picture(3, 1, 300, 300), 40, 40)), post: "9"},
		{name: "banner", data: synth.JPEG(synth.Picture(4, 1, 1000, 120), 90), post: "10"},
		{name: "flat", data: synth.PNG(synth.Flat(300, 300, color.NRGBA{200, 30, 30, 255})), post: "11"},
		{name: "truncated", data: good[:len(good)*2/3], post: "12"},
		{name: "html", data: []byte("<!DOCTYPE html><html><body>rate limited</body></html>"), post: "13"},
		{name: "empty", data: nil, post: "14"},
		{name: "bomb", data: testutil.PNGHeader(100000, 100000), post: "15"},
		{name: "hugegif", data: hugeGIF, post: "16"},
		{name: "missing", data: synth.JPEG(synth.Picture(5, 1, 200, 200), 90), post: "17", remove: true},
	})
	b = addRaw(t, ws, "Bob", []wsFile{
		{name: "bob1", data: synth.JPEG(synth.Picture(2, 1, 700, 900), 90), post: "100"},
		{name: "pose2copy", data: synth.JPEG(synth.Resize(pose2, 600, 466), 80), post: "101"},
		{name: "pose3same", data: synth.JPEG(pose3, 90), post: "102"},
	})
	return ws, a, b
}

func TestRunGroundTruth(t *testing.T) {
	ws, a, b := fixture(t)
	ctx := context.Background()
	var log bytes.Buffer
	rep, err := Run(ctx, ws, []string{"Alice", "Bob"}, WithReporter(progress.Lines(&log, time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	da, db := readDecisions(t, ws, "Alice"), readDecisions(t, ws, "Bob")
	check(t, da, a, map[string]want{
		"orig":    {manifests.Keep, "", ""},
		"resized": {manifests.Duplicate, ReasonNearDuplicate, "orig"},
		"q60":     {manifests.Duplicate, ReasonNearDuplicate, "orig"},
		// A 3 % crop of a synthetic picture moves its hard edges across the
		// fine 4x4 blocks: kept apart (real art's 3 % crops are found; see
		// TestRealGrouping).
		"crop": {manifests.Keep, "", ""},
		"flip": {manifests.Duplicate, ReasonNearDuplicate, "orig"},
		// Another palette on the same drawing is another picture.
		"recolor":   {manifests.Keep, "", ""},
		"pose2":     {manifests.Ambiguous, ReasonAlsoIn + "Bob", ""},
		"pose3":     {manifests.Ambiguous, ReasonAlsoIn + "Bob", ""},
		"tiny":      {manifests.Filtered, ReasonTooSmall, ""},
		"banner":    {manifests.Filtered, ReasonExtremeAspect, ""},
		"flat":      {manifests.Filtered, ReasonLowInformation, ""},
		"truncated": {manifests.Invalid, "truncated", ""},
		"html":      {manifests.Invalid, "not-an-image", ""},
		"empty":     {manifests.Invalid, "empty", ""},
		"bomb":      {manifests.Invalid, "too-large", ""},
		"hugegif":   {manifests.Invalid, "too-large", ""},
		"missing":   {manifests.Invalid, "missing-file", ""},
	})
	check(t, db, b, map[string]want{
		"bob1":      {manifests.Keep, "", ""},
		"pose2copy": {manifests.Ambiguous, ReasonAlsoIn + "Alice", ""},
		"pose3same": {manifests.Ambiguous, ReasonAlsoIn + "Alice", ""},
	})
	if g := da[a["q60"]].Group; g == "" || g != da[a["orig"]].Group || g != da[a["flip"]].Group {
		t.Errorf("group ids differ: %q %q", g, da[a["orig"]].Group)
	}
	if d := da[a["orig"]]; d.PHash == "" || d.DHash == "" || d.Width != 900 || d.Height != 700 || d.PostID != "1" || d.Source != "testbooru" {
		t.Errorf("orig decision lacks fields: %+v", d)
	}
	ca := rep.Classes[0]
	if ca.Raw != 17 || ca.Kept != 3 || ca.Duplicates != 3 || ca.Invalid != 6 || ca.Filtered != 3 || ca.Ambiguous != 2 || ca.Reasons["invalid/too-large"] != 2 {
		t.Errorf("Alice counts: %+v", ca)
	}
	if rep.Hashed != 19 { // 20 entries, pose3 bytes shared by both classes
		t.Errorf("hashed %d files, want 19", rep.Hashed)
	}
	var table bytes.Buffer
	if err := rep.WriteTable(&table); err != nil || !strings.Contains(table.String(), "Alice") {
		t.Errorf("table: %v\n%s", err, table.String())
	}
	html, err := os.ReadFile(ReportPath(ws))
	if err != nil || !bytes.Contains(html, []byte("../raw/alice/"+a["q60"])) || !bytes.Contains(html, []byte("too-small")) {
		t.Errorf("report.html lacks the removed images: %v", err)
	}
	if !strings.Contains(log.String(), "validate and hash") {
		t.Errorf("no progress reported: %q", log.String())
	}
	first, _ := os.ReadFile(manifests.DecisionsPath(ws, "alice"))

	// A rerun hashes nothing (the cache), and writes the same bytes.
	rep2, err := Run(ctx, ws, []string{"Alice", "Bob"})
	if err != nil {
		t.Fatal(err)
	}
	if rep2.Hashed != 1 || rep2.Cached != 19 { // 20 entries; the missing file is never cached
		t.Errorf("rerun hashed %d, cached %d", rep2.Hashed, rep2.Cached)
	}
	second, _ := os.ReadFile(manifests.DecisionsPath(ws, "alice"))
	if !bytes.Equal(first, second) {
		t.Error("decisions changed on a rerun")
	}

	// keep-first: the cross-class groups stay in Alice.
	if _, err := Run(ctx, ws, []string{"Alice", "Bob"}, WithCrossClass(CrossKeepFirst)); err != nil {
		t.Fatal(err)
	}
	da, db = readDecisions(t, ws, "Alice"), readDecisions(t, ws, "Bob")
	check(t, da, a, map[string]want{"pose2": {manifests.Keep, "", ""}, "pose3": {manifests.Keep, "", ""}})
	check(t, db, b, map[string]want{"pose2copy": {manifests.Ambiguous, ReasonKeptIn + "Alice", ""}})
	if _, err := Run(ctx, ws, []string{"Alice", "Bob"}, WithCrossClass(CrossKeep)); err != nil {
		t.Fatal(err)
	}
	db = readDecisions(t, ws, "Bob")
	check(t, db, b, map[string]want{"pose2copy": {manifests.Keep, "", ""}})
}

func TestReviewJournalAppliedOnRerun(t *testing.T) {
	ws, a, b := fixture(t)
	ctx := context.Background()
	classes := []string{"Alice", "Bob"}
	journal := manifests.ReviewPath(ws)
	os.MkdirAll(filepath.Dir(journal), 0o755)
	now := time.Now()
	// Reject the kept original: its copies go with it. Reject Bob's copy of
	// pose2: the group is no longer ambiguous, Alice keeps pose2.
	if err := manifests.AppendReview(journal,
		manifests.ReviewAction{SHA256: a["orig"], Class: "Alice", Action: "reject", At: now},
		manifests.ReviewAction{SHA256: b["pose2copy"], Class: "Bob", Action: "reject", At: now},
		manifests.ReviewAction{SHA256: a["tiny"], Class: "Alice", Action: "reject", At: now},
	); err != nil {
		t.Fatal(err)
	}
	rep, err := Run(ctx, ws, classes)
	if err != nil {
		t.Fatal(err)
	}
	da, db := readDecisions(t, ws, "Alice"), readDecisions(t, ws, "Bob")
	check(t, da, a, map[string]want{
		"orig":  {manifests.Rejected, ReasonReview, ""},
		"q60":   {manifests.Rejected, ReasonDuplicateOfRejected, ""},
		"pose2": {manifests.Keep, "", ""},
		"tiny":  {manifests.Rejected, ReasonReview, ""},
	})
	check(t, db, b, map[string]want{"pose2copy": {manifests.Rejected, ReasonReview, ""}})
	if rep.Classes[0].Rejected != 5 {
		t.Errorf("Alice rejected = %d, want 5", rep.Classes[0].Rejected)
	}
	// Restoring brings the original back.
	if err := manifests.AppendReview(journal, manifests.ReviewAction{SHA256: a["orig"], Class: "Alice", Action: "restore", At: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(ctx, ws, classes); err != nil {
		t.Fatal(err)
	}
	check(t, readDecisions(t, ws, "Alice"), a, map[string]want{"orig": {manifests.Keep, "", ""}, "q60": {manifests.Duplicate, ReasonNearDuplicate, "orig"}})
}

func TestImport(t *testing.T) {
	ws := t.TempDir()
	src := t.TempDir()
	os.MkdirAll(filepath.Join(src, "sub", "deeper"), 0o755)
	img := synth.JPEG(synth.Picture(7, 1, 300, 200), 90)
	os.WriteFile(filepath.Join(src, "a.jpg"), img, 0o644)
	os.WriteFile(filepath.Join(src, "sub", "deeper", "b.png"), synth.PNG(synth.Picture(7, 2, 200, 200)), 0o644)
	os.WriteFile(filepath.Join(src, "sub", "copy-of-a.jpeg"), img, 0o644)
	os.WriteFile(filepath.Join(src, "sub", "broken.jpg"), img[:100], 0o644)
	os.WriteFile(filepath.Join(src, "notes.txt"), []byte("not an image"), 0o644)
	n, err := Import(context.Background(), ws, "Nakano Miku", src)
	if err != nil || n != 3 {
		t.Fatalf("Import = %d, %v; want 3 (a, b, broken)", n, err)
	}
	recs, err := manifests.ReadRawIndex(manifests.RawIndexPath(ws, "nakano_miku"))
	if err != nil || len(recs) != 3 {
		t.Fatalf("index: %d records, %v", len(recs), err)
	}
	for _, r := range recs {
		if r.Source != SourceLocal || !strings.HasPrefix(r.File, r.SHA256) {
			t.Errorf("record %+v", r)
		}
		b, err := os.ReadFile(filepath.Join(manifests.RawDir(ws, "nakano_miku"), r.File))
		if err != nil || Analyze(b, 1).SHA256 != r.SHA256 {
			t.Errorf("raw file for %s: %v", r.File, err)
		}
	}
	if n, err := Import(context.Background(), ws, "Nakano Miku", src); err != nil || n != 0 {
		t.Fatalf("second import added %d (%v)", n, err)
	}
	if _, err := Import(context.Background(), ws, "Nakano Miku", filepath.Join(src, "a.jpg")); err == nil {
		t.Error("importing a file, not a directory, should fail")
	}
	rep, err := Run(context.Background(), ws, []string{"Nakano Miku"})
	if err != nil {
		t.Fatal(err)
	}
	if c := rep.Classes[0]; c.Kept != 2 || c.Invalid != 1 {
		t.Errorf("after import: %+v", c)
	}
}

func TestRunCancelled(t *testing.T) {
	ws, _, _ := fixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, ws, []string{"Alice", "Bob"}); err == nil {
		t.Fatal("cancelled run succeeded")
	}
	if _, err := Run(context.Background(), ws, nil); err != ErrNoClasses {
		t.Fatalf("no classes: %v", err)
	}
}

func TestCacheFileIsJSONL(t *testing.T) {
	ws, a, _ := fixture(t)
	if _, err := Run(context.Background(), ws, []string{"Alice", "Bob"}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(CachePath(ws))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		var r cacheRecord
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatalf("bad cache line %q: %v", line, err)
		}
		if r.SHA256 == a["orig"] && r.PHash != "" && r.Width == 900 {
			found = true
		}
	}
	if !found {
		t.Error("original not in the cache")
	}
}
