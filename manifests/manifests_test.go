package manifests

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

const (
	shaA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	shaB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	shaC = "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
)

const header = "path,label,class,split,sha256,phash,width,height,source,post_id\n"

func good(path, sha string) string {
	return path + ",0,Nakano Miku,train," + sha + ",0123456789abcdef,40,30,danbooru,17\n"
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// wantRecordError checks that err is a *RecordError naming the file, the
// line and (if not empty) the field, and wraps ErrMalformed.
func wantRecordError(t *testing.T, err error, file string, line int, field string) {
	t.Helper()
	var re *RecordError
	if !errors.As(err, &re) {
		t.Fatalf("want a *RecordError, got %v", err)
	}
	if !errors.Is(err, ErrMalformed) {
		t.Errorf("%v does not wrap ErrMalformed", err)
	}
	if re.File != file || re.Line != line || (field != "" && re.Field != field) {
		t.Errorf("error at %s:%d field %q, want %s:%d field %q (%v)", re.File, re.Line, re.Field, file, line, field, err)
	}
	if !strings.Contains(err.Error(), file) {
		t.Errorf("message %q does not name the file", err)
	}
}

func TestReadSplitRefusesHostileManifests(t *testing.T) {
	for _, tc := range []struct {
		name, content string
		line          int
		field         string
	}{
		{"missing column", header + good("images/a.jpg", shaA) +
			"images/b.jpg,0,Nakano Miku,train," + shaB + ",0123456789abcdef,40,30,danbooru\n", 3, ""},
		{"missing header column", strings.Replace(header, ",post_id", "", 1) + good("images/a.jpg", shaA), 1, ""},
		{"unknown split", header + strings.Replace(good("images/a.jpg", shaA), ",train,", ",holdout,", 1), 2, "split"},
		{"split of another manifest", header + good("images/a.jpg", shaA) + strings.Replace(good("images/b.jpg", shaB), ",train,", ",val,", 1), 3, "split"},
		{"dot-dot path", header + good("images/a.jpg", shaA) + good("images/../../etc/passwd", shaB), 3, "path"},
		{"leading dot-dot", header + good("../outside.jpg", shaA), 2, "path"},
		{"absolute path", header + good("/etc/passwd", shaA), 2, "path"},
		{"backslash path", header + good(`images\a.jpg`, shaA), 2, "path"},
		{"duplicate path", header + good("images/a.jpg", shaA) + good("images/b.jpg", shaB) + good("images/a.jpg", shaC), 4, "path"},
		{"duplicate sha256", header + good("images/a.jpg", shaA) + good("images/b.jpg", shaA), 3, "sha256"},
		{"bad label", header + strings.Replace(good("images/a.jpg", shaA), ",0,", ",zero,", 1), 2, "label"},
		{"negative label", header + strings.Replace(good("images/a.jpg", shaA), ",0,", ",-1,", 1), 2, "label"},
		{"bad sha256", header + good("images/a.jpg", "xyz"), 2, "sha256"},
		{"bad phash", header + strings.Replace(good("images/a.jpg", shaA), "0123456789abcdef", "0123", 1), 2, "phash"},
		{"zero width", header + strings.Replace(good("images/a.jpg", shaA), ",40,30,", ",0,30,", 1), 2, "width"},
		{"empty class", header + strings.Replace(good("images/a.jpg", shaA), "Nakano Miku", "", 1), 2, "class"},
		{"broken quote", header + good("images/a.jpg", shaA) + "\"images/b.jpg,0\n", 3, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, "train.csv", tc.content)
			rows, err := ReadSplit(p, Train)
			if err == nil {
				t.Fatalf("accepted: %+v", rows)
			}
			wantRecordError(t, err, p, tc.line, tc.field)
		})
	}
	t.Run("empty file", func(t *testing.T) {
		p := writeFile(t, "train.csv", "")
		_, err := ReadSplit(p, Train)
		wantRecordError(t, err, p, 1, "")
	})
}

func TestSplitRoundTrip(t *testing.T) {
	rows := []SplitRow{
		{Path: "images/a.jpg", Label: 0, Class: "Nakano Miku", Split: Val, SHA256: shaA, PHash: "0123456789abcdef", Width: 1200, Height: 1800, Source: "danbooru", PostID: "1"},
		{Path: "images/b.jpg", Label: 3, Class: `Odd, "quoted" name`, Split: Val, SHA256: shaB, Width: 1, Height: 2, Source: "safebooru"},
	}
	p := filepath.Join(t.TempDir(), "val.csv")
	if err := WriteSplit(p, rows); err != nil {
		t.Fatal(err)
	}
	got, err := ReadSplit(p, Val)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, rows) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, rows)
	}
	b1, _ := os.ReadFile(p)
	b2, err := EncodeSplit(got)
	if err != nil || string(b1) != string(b2) {
		t.Fatalf("re-encoding differs: %v", err)
	}
	// The writer refuses what the reader would refuse, naming file and row.
	bad := append([]SplitRow{}, rows...)
	bad[1].Path = "../b.jpg"
	err = WriteSplit(p, bad)
	wantRecordError(t, err, p, 3, "path")
	if after, _ := os.ReadFile(p); string(after) != string(b1) {
		t.Error("a refused write changed the file")
	}
}

func TestDecisionsRoundTripAndHostile(t *testing.T) {
	dir := t.TempDir()
	p := DecisionsPath(dir, "nakano_miku")
	recs := []Decision{
		{SHA256: shaB, File: "raw/nakano_miku/" + shaB + ".png", Class: "Nakano Miku", Decision: Duplicate, KeptSHA256: shaA, Group: shaA, PHash: "0123456789abcdef"},
		{SHA256: shaA, File: "raw/nakano_miku/" + shaA + ".jpg", Class: "Nakano Miku", Decision: Keep, Group: shaA, Width: 10, Height: 20, Source: "danbooru", PostID: "9"},
	}
	if err := WriteDecisions(p, recs); err != nil {
		t.Fatal(err)
	}
	got, err := ReadDecisions(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != recs[1] || got[1] != recs[0] {
		t.Fatalf("round trip (sorted by sha256): %+v", got)
	}
	line := func(d string) string { return d + "\n" }
	ok := `{"sha256":"` + shaA + `","file":"raw/x/a.jpg","class":"A","decision":"keep"}`
	for _, tc := range []struct {
		name, content string
		line          int
		field         string
	}{
		{"unknown decision", line(ok) + line(`{"sha256":"`+shaB+`","file":"raw/x/b.jpg","class":"A","decision":"maybe"}`), 2, "decision"},
		{"dot-dot file", line(`{"sha256":"` + shaB + `","file":"raw/../../b.jpg","class":"A","decision":"keep"}`), 1, "file"},
		{"duplicate row", line(ok) + line(`{"sha256":"`+shaB+`","file":"raw/x/b.jpg","class":"A","decision":"keep"}`) + line(ok), 3, "sha256"},
		{"unknown field", line(`{"sha256":"` + shaA + `","file":"raw/x/a.jpg","class":"A","decision":"keep","labl":1}`), 1, ""},
		{"bad json", line(ok) + line(`{"sha256":`), 2, ""},
		{"torn last line is not tolerated here", line(ok) + `{"sha256":"` + shaB, 2, ""},
		{"bad phash", line(`{"sha256":"` + shaA + `","file":"raw/x/a.jpg","class":"A","decision":"keep","phash":"zz"}`), 1, "phash"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, "a.jsonl", tc.content)
			_, err := ReadDecisions(p)
			wantRecordError(t, err, p, tc.line, tc.field)
		})
	}
}

func TestRawIndexTornTail(t *testing.T) {
	dir := t.TempDir()
	p := RawIndexPath(dir, "nakano_miku")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	a := RawRecord{SHA256: shaA, File: shaA + ".jpg", Source: "danbooru", PostID: "1", Tags: []string{"solo"}, FetchedAt: at}
	b := RawRecord{SHA256: shaB, File: shaB + ".png", Source: "safebooru", PostID: "2", FetchedAt: at}
	if err := AppendRawIndex(p, a); err != nil {
		t.Fatal(err)
	}
	// A crash mid-append leaves half a line.
	f, _ := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"sha256":"` + shaC + `","file":"x.jp`)
	f.Close()
	got, err := ReadRawIndex(p)
	if err != nil {
		t.Fatalf("torn tail not tolerated: %v", err)
	}
	if len(got) != 1 || !reflect.DeepEqual(got[0], a) {
		t.Fatalf("got %+v", got)
	}
	// The next append cuts the torn line first, so records never merge.
	if err := AppendRawIndex(p, b); err != nil {
		t.Fatal(err)
	}
	got, err = ReadRawIndex(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !reflect.DeepEqual(got[1], b) {
		t.Fatalf("after repair: %+v", got)
	}
	// A bad line in the middle is not a torn tail: it is refused with its line.
	content, _ := os.ReadFile(p)
	lines := strings.SplitAfter(string(content), "\n")
	broken := lines[0] + "{not json}\n" + lines[1]
	os.WriteFile(p, []byte(broken), 0o644)
	_, err = ReadRawIndex(p)
	wantRecordError(t, err, p, 2, "")
	// A missing index is empty.
	if recs, err := ReadRawIndex(filepath.Join(dir, "none.jsonl")); err != nil || recs != nil {
		t.Errorf("missing index: %v %v", recs, err)
	}
	// Hostile file names are refused on append.
	if err := AppendRawIndex(p, RawRecord{SHA256: shaC, File: "../c.jpg", Source: "x"}); err == nil {
		t.Error("file ../c.jpg accepted")
	}
}

func TestReviewJournal(t *testing.T) {
	p := ReviewPath(t.TempDir())
	os.MkdirAll(filepath.Dir(p), 0o755)
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := AppendReview(p, ReviewAction{SHA256: shaA, Class: "A", Action: "reject", At: at},
		ReviewAction{SHA256: shaB, Class: "A", Action: "reject", At: at},
		ReviewAction{SHA256: shaA, Class: "A", Action: "restore", At: at}); err != nil {
		t.Fatal(err)
	}
	f, _ := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"sha256":"` + shaC)
	f.Close()
	acts, state, err := ReadReview(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(acts) != 3 || len(state) != 1 || !state[shaB] {
		t.Fatalf("acts %d state %v", len(acts), state)
	}
	if err := AppendReview(p, ReviewAction{SHA256: shaC, Action: "delete"}); err == nil {
		t.Error("unknown action accepted")
	}
}

func TestClassesAndDatasetCard(t *testing.T) {
	dir := t.TempDir()
	classes := []Class{{0, "Nakano Miku", "nakano_miku"}, {1, "Nakano Nino", "nakano_nino"}}
	cp := filepath.Join(dir, "classes.json")
	if err := WriteClasses(cp, classes); err != nil {
		t.Fatal(err)
	}
	got, err := ReadClasses(cp)
	if err != nil || !reflect.DeepEqual(got, classes) {
		t.Fatalf("classes round trip: %+v %v", got, err)
	}
	for name, bad := range map[string][]Class{
		"label gap":   {{0, "A", "a"}, {2, "B", "b"}},
		"wrong slug":  {{0, "A", "a"}, {1, "B", "../b"}},
		"duplicate":   {{0, "A", "a"}, {1, "A", "a"}},
		"nameless":    {{0, "..", ""}},
		"slug clash":  {{0, "A b", "a_b"}, {1, "a-b", "a_b"}},
		"bad label 1": {{1, "A", "a"}},
	} {
		if err := WriteClasses(filepath.Join(dir, "x.json"), bad); err == nil {
			t.Errorf("%s: accepted", name)
		}
		os.WriteFile(filepath.Join(dir, "y.json"), []byte(`[{"label":0,"name":"A","slug":"a"},{"label":5,"name":"B","slug":"b"}]`), 0o644)
		_, err := ReadClasses(filepath.Join(dir, "y.json"))
		wantRecordError(t, err, filepath.Join(dir, "y.json"), 2, "label")
	}

	// A dataset whose card version does not match its manifests is refused.
	row := SplitRow{Path: "images/a.jpg", Label: 0, Class: "Nakano Miku", Split: Train, SHA256: shaA, Width: 1, Height: 1}
	if err := WriteSplit(filepath.Join(dir, "train.csv"), []SplitRow{row}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []Split{Val, Test} {
		if err := WriteSplit(filepath.Join(dir, string(s)+".csv"), nil); err != nil {
			t.Fatal(err)
		}
	}
	raw := func(n string) []byte { b, _ := os.ReadFile(filepath.Join(dir, n)); return b }
	card := &Card{Name: "d", Recipe: testRecipe(),
		Version: DatasetVersion(raw("train.csv"), raw("val.csv"), raw("test.csv"), raw("classes.json"))}
	if err := WriteCard(filepath.Join(dir, "dataset.json"), card); err != nil {
		t.Fatal(err)
	}
	ds, err := ReadDataset(dir)
	if err != nil {
		t.Fatalf("ReadDataset: %v", err)
	}
	if len(ds.Rows[Train]) != 1 || ds.Card.Version != card.Version {
		t.Fatalf("dataset %+v", ds)
	}
	// A label that names another class.
	row.Label = 1
	WriteSplit(filepath.Join(dir, "train.csv"), []SplitRow{row})
	_, err = ReadDataset(dir)
	wantRecordError(t, err, filepath.Join(dir, "train.csv"), 2, "label")
	// A hand edit that keeps the rows valid still breaks the version.
	row.Label = 0
	row.Width = 2
	WriteSplit(filepath.Join(dir, "train.csv"), []SplitRow{row})
	_, err = ReadDataset(dir)
	wantRecordError(t, err, filepath.Join(dir, "dataset.json"), 0, "version")
}

func TestSlugCannotEscape(t *testing.T) {
	for _, name := range []string{"../../etc", "a/b", `a\b`, ".hidden", "Nakano Miku", "初音ミク", "x\x00y"} {
		s, err := Slug(name)
		if err != nil {
			continue
		}
		if err := CheckPlainName(s); err != nil || strings.ContainsAny(s, `/\.`) {
			t.Errorf("Slug(%q) = %q escapes", name, s)
		}
	}
	for _, name := range []string{"", "..", "/", "   ", "!!!"} {
		if s, err := Slug(name); err == nil {
			t.Errorf("Slug(%q) = %q, want an error", name, s)
		}
	}
	if err := CheckSlugs([]string{"Nakano Miku", "nakano-miku"}); err == nil {
		t.Error("colliding slugs accepted")
	}
}

func TestSlugKeepsEveryScript(t *testing.T) {
	for _, c := range []struct{ name, want string }{
		{"Nakano Miku", "nakano_miku"},
		{"中野三玖", "中野三玖"},
		{"ナカノ・ミク", "ナカノ_ミク"},
		{"初音ミク (V4X)", "初音ミク_v4x"},
		{"Мику Накано", "мику_накано"},
		{"मिकु", "मिकु"}, // Devanagari vowel signs are marks
		{"Zoë", "zoë"},
		{"a\u3000b", "a_b"},   // ideographic space
		{"a\u200db", "a_b"},   // zero-width joiner (format)
		{"a\u202eb", "a_b"},   // right-to-left override
		{"a\x1bb\x7f", "a_b"}, // control characters
		{`a:b*c?d"e<f>g|h`, "a_b_c_d_e_f_g_h"},
		{"../../中野", "中野"},
		{"★Miku★", "miku"},
	} {
		got, err := Slug(c.name)
		if err != nil || got != c.want {
			t.Errorf("Slug(%q) = %q, %v; want %q", c.name, got, err, c.want)
		}
		if err := CheckPlainName(got); err != nil {
			t.Errorf("Slug(%q) = %q: %v", c.name, got, err)
		}
	}
	if err := CheckSlugs([]string{"Мику", "мику"}); err == nil {
		t.Error("Мику and мику both map to мику, yet no collision was reported")
	}
	if err := CheckSlugs([]string{"中野三玖", "中野二乃", "中野一花", "中野 三玖"}); err != nil {
		t.Errorf("distinct names collide: %v", err)
	}
	if _, err := Slug(strings.Repeat("玖", 41)); err == nil {
		t.Error("a 123-byte folder name accepted")
	}
	for _, bad := range []string{"・・", "\u200d", "★"} {
		if s, err := Slug(bad); err == nil {
			t.Errorf("Slug(%q) = %q, want an error", bad, s)
		}
	}
}

func testRecipe() Recipe {
	return Recipe{Version: "p1", Height: 300, Width: 150, Fit: FitPad, Pad: "#ffffff", Resample: ResampleLanczos,
		Decode: Decode{Orient: true, JPEGEighth: true}, Format: FormatJPEG, Quality: 95}
}

// A recipe names the field it gets wrong; a dataset's has no model input,
// a run's must have one that agrees with it.
func TestRecipeCheck(t *testing.T) {
	ok := testRecipe()
	if err := ok.Check(false); err != nil {
		t.Fatalf("good recipe: %v", err)
	}
	in := Input{Height: 100, Width: 75, Adapt: AdaptPad, Mean: [3]float64{0.5, 0.5, 0.5}, Std: [3]float64{0.25, 0.25, 0.25}}
	run := ok.WithInput(in)
	if err := run.Check(true); err != nil {
		t.Fatalf("good run recipe: %v", err)
	}
	if ok.Input != nil {
		t.Fatal("WithInput changed the dataset's recipe")
	}
	for field, edit := range map[string]func(*Recipe){
		"recipe.version":      func(r *Recipe) { r.Version = "" },
		"recipe.height":       func(r *Recipe) { r.Width = 0 },
		"recipe.fit":          func(r *Recipe) { r.Fit = "zoom" },
		"recipe.pad":          func(r *Recipe) { r.Pad = "white" },
		"recipe.resample":     func(r *Recipe) { r.Resample = "nearest" },
		"recipe.format":       func(r *Recipe) { r.Format = "gif" },
		"recipe.quality":      func(r *Recipe) { r.Quality = 0 },
		"recipe.encoder":      func(r *Recipe) { r.Encoder = "mozjpeg" },
		"recipe.input":        func(r *Recipe) { r.Input = nil },
		"recipe.input.adapt":  func(r *Recipe) { r.Input.Adapt = AdaptNone },
		"recipe.input.std":    func(r *Recipe) { r.Input.Std[1] = 0 },
		"recipe.input.height": func(r *Recipe) { r.Input.Height = -1 },
	} {
		r := ok.WithInput(in)
		edit(&r)
		var re *RecordError
		if err := r.Check(true); !errors.As(err, &re) || re.Field != field {
			t.Errorf("%s: got %v", field, err)
		}
	}
	if err := run.Check(false); err == nil {
		t.Error("a dataset recipe with a model input accepted")
	}
}

func TestMigrateLegacySlugs(t *testing.T) {
	ws := t.TempDir()
	name := "中野三玖"
	old := LegacySlug(name)
	if old != "u4e2du91ceu4e09u7396" {
		t.Fatalf("LegacySlug(%q) = %q", name, old)
	}
	if err := os.MkdirAll(RawDir(ws, old), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(RawDir(ws, old), "index.jsonl"), []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(DecisionsPath(ws, old)), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(DecisionsPath(ws, old), []byte("y\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	done, err := MigrateLegacySlugs(ws, []string{name, "Nakano Nino"})
	if err != nil || len(done) != 2 {
		t.Fatalf("migrate: %v, %v", done, err)
	}
	if b, err := os.ReadFile(filepath.Join(RawDir(ws, name), "index.jsonl")); err != nil || string(b) != "x\n" {
		t.Errorf("raw index after the move: %q, %v", b, err)
	}
	if b, err := os.ReadFile(DecisionsPath(ws, name)); err != nil || string(b) != "y\n" {
		t.Errorf("decisions after the move: %q, %v", b, err)
	}
	// Both exist: nothing is overwritten.
	if err := os.MkdirAll(RawDir(ws, old), 0o755); err != nil {
		t.Fatal(err)
	}
	if done, err := MigrateLegacySlugs(ws, []string{name}); err != nil || len(done) != 0 {
		t.Errorf("second migrate: %v, %v", done, err)
	}
	// A classes.json written with the legacy slug still reads.
	if err := checkClasses("classes.json", []Class{{Label: 0, Name: name, Slug: old}, {Label: 1, Name: "B", Slug: "b"}}); err != nil {
		t.Errorf("legacy classes.json: %v", err)
	}
}
