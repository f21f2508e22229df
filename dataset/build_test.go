package dataset

import (
	"bytes"
	"context"
	"errors"
	"math/bits"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chara-dev/chara/manifests"
)

func countsOf(t *testing.T, dir string) map[string][3]int {
	t.Helper()
	m := map[string][3]int{}
	for _, r := range rowsOf(t, dir) {
		c := m[r.Class]
		c[splitOf(r.Split)]++
		m[r.Class] = c
	}
	return m
}

func TestBuildExactCountsOnUnevenInputs(t *testing.T) {
	w := newWS(t)
	w.add("Nakano Miku", 37, "", 0)
	w.add("Nakano Nino", 50, "", 0)
	w.add("Nakano Itsuki", 23, "", 0)
	w.addRejected("Nakano Miku")
	for _, tc := range []struct {
		per  int
		fr   [3]float64
		want [3]int
	}{
		{20, [3]float64{0.70, 0.15, 0.15}, [3]int{14, 3, 3}},
		{23, [3]float64{0.70, 0.15, 0.15}, [3]int{16, 4, 3}}, // 16.1, 3.45, 3.45: one left over, to val
		{21, [3]float64{0.8, 0.1, 0.1}, [3]int{17, 2, 2}},    // 16.8, 2.1, 2.1
		{19, [3]float64{0.6, 0.2, 0.2}, [3]int{11, 4, 4}},    // 11.4, 3.8, 3.8: two left over, to val and test
	} {
		name := "d" + strconv.Itoa(tc.per)
		res := w.build(name, []string{"Nakano Miku", "Nakano Nino", "Nakano Itsuki"},
			WithPerClass(tc.per), WithFractions(tc.fr[0], tc.fr[1], tc.fr[2]))
		dir := filepath.Join(w.dir, "datasets", name)
		for class, c := range countsOf(t, dir) {
			if c != tc.want {
				t.Errorf("per_class %d %v: %s has %v, want %v", tc.per, tc.fr, class, c, tc.want)
			}
		}
		if len(res.Stats) != 3 {
			t.Fatalf("stats for %d classes", len(res.Stats))
		}
		for _, st := range res.Stats {
			if st.Counts.Train+st.Counts.Val+st.Counts.Test != tc.per {
				t.Errorf("%s: %+v does not add up to %d", st.Class, st.Counts, tc.per)
			}
		}
		mustVerify(t, dir)
	}
}

func TestSplitCounts(t *testing.T) {
	for n := 0; n < 200; n++ {
		for _, fr := range [][3]float64{{0.7, 0.15, 0.15}, {0.8, 0.1, 0.1}, {1, 0, 0}, {0.5, 0.5, 0}, {1.0 / 3, 1.0 / 3, 1.0 / 3}} {
			f := toFractions(fr[0], fr[1], fr[2])
			c := splitCounts(n, f)
			if c[0]+c[1]+c[2] != n {
				t.Fatalf("n=%d %v: %v", n, fr, c)
			}
			for i := range c {
				exact := float64(n) * fr[i]
				if float64(c[i]) < exact-1 || float64(c[i]) > exact+1 {
					t.Fatalf("n=%d %v: count %d of split %d, exact %.2f", n, fr, c[i], i, exact)
				}
				if fr[i] == 0 && c[i] != 0 {
					t.Fatalf("n=%d %v: split %d has fraction 0 but count %d", n, fr, i, c[i])
				}
			}
		}
	}
}

func TestBuildShortClassListsEachShortfall(t *testing.T) {
	w := newWS(t)
	w.add("Nakano Miku", 12, "", 0)
	w.add("Nakano Nino", 7, "", 0)
	w.add("Nakano Yotsuba", 30, "", 0)
	_, err := Build(context.Background(), w.dir, "default", []string{"Nakano Miku", "Nakano Nino", "Nakano Yotsuba"}, WithPerClass(20))
	var se *ShortError
	if !errors.As(err, &se) || !errors.Is(err, ErrShort) {
		t.Fatalf("want *ShortError, got %v", err)
	}
	if len(se.Classes) != 2 || se.Classes[0] != (Shortage{"Nakano Miku", 12, 20}) || se.Classes[1] != (Shortage{"Nakano Nino", 7, 20}) {
		t.Fatalf("shortages %+v", se.Classes)
	}
	for _, want := range []string{"Nakano Miku lacks 8", "Nakano Nino lacks 13"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q does not say %q", err, want)
		}
	}
	if _, err := os.Stat(filepath.Join(w.dir, "datasets", "default", "train.csv")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed build wrote manifests: %v", err)
	}
	// A class with no decisions file at all is short by everything.
	_, err = Build(context.Background(), w.dir, "default", []string{"Nakano Yotsuba", "Nakano Ichika"}, WithPerClass(20))
	if !errors.As(err, &se) || len(se.Classes) != 1 || se.Classes[0].Have != 0 {
		t.Fatalf("missing class: %v", err)
	}
}

func TestBuildAllowFewerCutsToSmallest(t *testing.T) {
	w := newWS(t)
	w.add("A", 12, "", 0)
	w.add("B", 30, "", 0)
	res := w.build("default", []string{"A", "B"}, WithPerClass(20), WithAllowFewer(true))
	if res.PerClass != 12 {
		t.Fatalf("per class %d, want 12", res.PerClass)
	}
	dir := filepath.Join(w.dir, "datasets", "default")
	want := splitCounts(12, toFractions(0.7, 0.15, 0.15))
	for class, c := range countsOf(t, dir) {
		if c != want {
			t.Errorf("%s: %v, want %v", class, c, want)
		}
	}
	mustVerify(t, dir)
}

func TestBuildOversampleRepeatsTrainOnly(t *testing.T) {
	w := newWS(t)
	w.add("A", 9, "", 0)
	w.add("B", 30, "", 0)
	res := w.build("default", []string{"A", "B"}, WithPerClass(20), WithOversample(true))
	dir := filepath.Join(w.dir, "datasets", "default")
	ds, err := manifests.ReadDataset(dir)
	if err != nil {
		t.Fatal(err)
	}
	real := map[string]bool{}
	for _, d := range w.decs["A"] {
		real[d.SHA256] = true
	}
	var c [3]int
	repeats := 0
	for i, s := range manifests.Splits {
		for _, r := range ds.Rows[s] {
			if r.Class != "A" {
				continue
			}
			c[i]++
			if !real[r.SHA256] {
				if s != manifests.Train {
					t.Errorf("a repeated row in %s", s)
				}
				repeats++
			}
		}
	}
	want := splitCounts(9, toFractions(0.7, 0.15, 0.15))
	if c[1] != want[1] || c[2] != want[2] || c[0] != 20-want[1]-want[2] {
		t.Fatalf("A: %v, want val %d test %d and train filling up to 20", c, want[1], want[2])
	}
	if repeats != 20-9 || res.Stats[0].Repeats != repeats {
		t.Fatalf("repeats %d (stats %d), want 11", repeats, res.Stats[0].Repeats)
	}
	// Repeats are pixel-identical copies: same decoded image, other bytes.
	mustVerify(t, dir)
}

// pHashJoin is the split.group_threshold that TestGroupsNeverStraddle turns
// on (off by default).
const pHashJoin = 12

// By default the split uses curation's groups and groups nothing again:
// kept images as close as look-alikes drawn in one pose (one pHash) are
// separate groups; with a group threshold they become one.
func TestSplitUsesCurationGroups(t *testing.T) {
	w := newWS(t)
	w.add("A", 30, "", 0x0123456789abcdef) // 30 kept pictures, one pHash, no curation group
	w.add("A", 10, "g1", 0)                // one curation group of 10
	res := w.build("default", []string{"A"}, WithPerClass(40))
	if g := res.Stats[0].GroupCount; g != 31 {
		t.Errorf("default split: %d groups, want 31 (curation's)", g)
	}
	res = w.build("joined", []string{"A"}, WithPerClass(40), WithGroupThreshold(0), WithAllowFewer(true), WithMinEval(0)) // two groups cannot fill three splits
	if g := res.Stats[0].GroupCount; g != 2 {
		t.Errorf("group_threshold 0: %d groups, want 2", g)
	}
}

// TestGroupsNeverStraddle builds classes full of curation groups and
// pHash-near pairs and checks each group against the manifests directly.
func TestGroupsNeverStraddle(t *testing.T) {
	w := newWS(t)
	for g := 0; g < 12; g++ {
		w.add("A", 1+g%4, "grp"+strconv.Itoa(g), 0)
	}
	// pHash-near images: a base hash and copies 0..12 bits away (one group),
	// chained groups (a~b~c with a and c 20 bits apart).
	base := uint64(0x0123456789abcdef)
	for d := 0; d < 4; d++ {
		w.add("A", 1, "", base^(1<<uint(d*3)-1))
	}
	chain := uint64(0xfedcba9876543210)
	w.add("A", 1, "", chain)
	w.add("A", 1, "", chain^0x3ff)     // 10 bits from chain
	w.add("A", 1, "", chain^0xffff_f)  // 20 bits from chain, 10 from the previous
	w.add("A", 1, "", chain^0xfff<<40) // 12 bits: exactly at the threshold
	w.add("A", 25, "", 0)
	w.add("B", 40, "", 0)
	for seed := int64(1); seed <= 5; seed++ {
		name := "s" + strconv.FormatInt(seed, 10)
		w.build(name, []string{"A", "B"}, WithPerClass(40), WithSeed(seed), WithGroupThreshold(pHashJoin))
		dir := filepath.Join(w.dir, "datasets", name)
		rows := rowsOf(t, dir)
		side := map[string]manifests.Split{}
		for _, d := range w.decs["A"] {
			r, ok := rows[d.SHA256]
			if !ok || d.Group == "" {
				continue
			}
			if s, ok := side[d.Group]; ok && s != r.Split {
				t.Errorf("seed %d: curation group %s in %s and %s", seed, d.Group, s, r.Split)
			}
			side[d.Group] = r.Split
		}
		for i, a := range w.decs["A"] {
			for _, b := range w.decs["A"][i+1:] {
				ra, oka := rows[a.SHA256]
				rb, okb := rows[b.SHA256]
				if !oka || !okb {
					continue
				}
				pa, _ := strconv.ParseUint(a.PHash, 16, 64)
				pb, _ := strconv.ParseUint(b.PHash, 16, 64)
				if bits.OnesCount64(pa^pb) <= pHashJoin && ra.Split != rb.Split {
					t.Errorf("seed %d: pHash distance %d pair in %s and %s", seed, bits.OnesCount64(pa^pb), ra.Split, rb.Split)
				}
			}
		}
		if c := countsOf(t, dir)["A"]; c != [3]int{28, 6, 6} {
			t.Errorf("seed %d: A counts %v, want exact 28/6/6", seed, c)
		}
		mustVerify(t, dir)
	}
}

func TestAddingAClassChangesNothingExisting(t *testing.T) {
	w := newWS(t)
	w.add("Nakano Miku", 30, "", 0)
	w.add("Nakano Nino", 26, "g1", 0)
	w.add("Nakano Nino", 8, "", 0)
	w.build("default", []string{"Nakano Miku", "Nakano Nino"}, WithPerClass(20))
	dir := filepath.Join(w.dir, "datasets", "default")
	before := rowsOf(t, dir)
	classesBefore, _ := manifests.ReadClasses(filepath.Join(dir, "classes.json"))

	w.add("Nakano Ichika", 25, "", 0)
	// The new class is listed first in the config: labels must not shift.
	res := w.build("default", []string{"Nakano Ichika", "Nakano Miku", "Nakano Nino"}, WithPerClass(20))
	after := rowsOf(t, dir)
	for sha, r := range before {
		if after[sha] != r {
			t.Errorf("row changed: %+v -> %+v", r, after[sha])
		}
	}
	if res.Moved != 0 {
		t.Errorf("moved %d", res.Moved)
	}
	classes, _ := manifests.ReadClasses(filepath.Join(dir, "classes.json"))
	if len(classes) != 3 || classes[0] != classesBefore[0] || classes[1] != classesBefore[1] || classes[2].Name != "Nakano Ichika" {
		t.Fatalf("classes %+v (before %+v)", classes, classesBefore)
	}
	if res.Processed != 20 || res.Reused != 40 {
		t.Errorf("processed %d reused %d, want 20 and 40", res.Processed, res.Reused)
	}
	mustVerify(t, dir)

	// Removing a class drops it; the others keep their rows (labels after
	// it shift, and the result says so).
	res = w.build("default", []string{"Nakano Miku", "Nakano Ichika"}, WithPerClass(20))
	if len(res.Removed) != 1 || res.Removed[0] != "Nakano Nino" {
		t.Errorf("removed %v", res.Removed)
	}
	classes, _ = manifests.ReadClasses(filepath.Join(dir, "classes.json"))
	if len(classes) != 2 || classes[0].Name != "Nakano Miku" || classes[1].Name != "Nakano Ichika" {
		t.Errorf("classes after removal %+v", classes)
	}
	mustVerify(t, dir)
}

func TestAddingImagesMovesOnlyWhatCountsRequire(t *testing.T) {
	for seed := int64(1); seed <= 6; seed++ {
		w := newWS(t)
		w.add("A", 30, "", 0)
		w.add("B", 24, "", 0)
		name := "default"
		first := w.build(name, []string{"A", "B"}, WithPerClass(20), WithSeed(seed))
		dir := filepath.Join(w.dir, "datasets", name)
		before := rowsOf(t, dir)
		w.add("A", 10, "", 0)
		w.add("B", 10, "", 0)
		res := w.build(name, []string{"A", "B"}, WithPerClass(20), WithSeed(seed))
		after := rowsOf(t, dir)
		moved := 0
		for sha, r := range after {
			if p, ok := before[sha]; ok && p.Split != r.Split {
				moved++
			}
		}
		if moved != res.Moved {
			t.Errorf("seed %d: result says %d moved, manifests show %d", seed, res.Moved, moved)
		}
		// A move happens only for an image the previous build had to
		// place off its preferred side (borrowed), when it no longer has to.
		borrowed := 0
		for _, st := range first.Stats {
			borrowed += st.Borrowed
		}
		if moved > borrowed {
			t.Errorf("seed %d: %d moved, more than the %d borrowed before", seed, moved, borrowed)
		}
		for class, c := range countsOf(t, dir) {
			if c != [3]int{14, 3, 3} {
				t.Errorf("seed %d: %s %v", seed, class, c)
			}
		}
		t.Logf("seed %d: borrowed before %d, moved %d", seed, borrowed, moved)
	}
}

func TestBuildIsDeterministicAndByteIdentical(t *testing.T) {
	names := []string{"train.csv", "val.csv", "test.csv", "classes.json", GroupsFile}
	var first map[string][]byte
	for round := 0; round < 2; round++ {
		w := newWS(t) // a fresh workspace with the same images (same generator)
		w.add("A", 25, "", 0)
		w.add("A", 3, "g", 0)
		w.add("B", 27, "", 0)
		w.build("default", []string{"A", "B"}, WithPerClass(22))
		dir := filepath.Join(w.dir, "datasets", "default")
		got := readFiles(t, dir, names...)
		if round == 0 {
			first = got
			// Rebuild in place: identical, everything reused.
			res := w.build("default", []string{"A", "B"}, WithPerClass(22))
			if res.Processed != 0 || res.Reused != 44 {
				t.Errorf("rebuild processed %d reused %d", res.Processed, res.Reused)
			}
			again := readFiles(t, dir, names...)
			for _, n := range names {
				if !bytes.Equal(again[n], got[n]) {
					t.Errorf("rebuild changed %s", n)
				}
			}
			continue
		}
		for _, n := range names {
			if !bytes.Equal(first[n], got[n]) {
				t.Errorf("%s differs between two workspaces with the same inputs", n)
			}
		}
	}
	// Another seed gives another split.
	w := newWS(t)
	w.add("A", 25, "", 0)
	w.add("A", 3, "g", 0)
	w.add("B", 27, "", 0)
	w.build("default", []string{"A", "B"}, WithPerClass(22), WithSeed(7))
	other := readFiles(t, filepath.Join(w.dir, "datasets", "default"), "train.csv")
	if bytes.Equal(other["train.csv"], first["train.csv"]) {
		t.Error("seed 7 gave the same train.csv as seed 42")
	}
}

func TestVerifyCatchesTampering(t *testing.T) {
	w := newWS(t)
	w.add("A", 20, "", 0)
	w.add("B", 20, "", 0)
	w.build("default", []string{"A", "B"}, WithPerClass(20))
	dir := filepath.Join(w.dir, "datasets", "default")
	mustVerify(t, dir)
	ds, err := manifests.ReadDataset(dir)
	if err != nil {
		t.Fatal(err)
	}
	tampered := filepath.Join(dir, filepath.FromSlash(ds.Rows[manifests.Train][0].Path))
	missing := filepath.Join(dir, filepath.FromSlash(ds.Rows[manifests.Test][1].Path))
	b, _ := os.ReadFile(tampered)
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(tampered, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(missing); err != nil {
		t.Fatal(err)
	}
	probs, err := Verify(dir)
	if err != nil {
		t.Fatal(err)
	}
	var sawTamper, sawMissing bool
	for _, p := range probs {
		s := p.String()
		sawTamper = sawTamper || strings.Contains(s, filepath.Base(tampered)) && strings.Contains(s, "not its name")
		sawMissing = sawMissing || strings.Contains(s, filepath.Base(missing)) && strings.Contains(s, "missing")
		if !strings.Contains(s, "train.csv:2") && !strings.Contains(s, "test.csv:3") {
			t.Errorf("unexpected problem %s", s)
		}
	}
	if !sawTamper || !sawMissing || len(probs) != 2 {
		t.Fatalf("problems %v", probs)
	}
}

func TestVerifyCatchesManifestEdits(t *testing.T) {
	w := newWS(t)
	w.add("A", 20, "", 0)
	w.add("B", 20, "g", 0) // one big group, partly used
	w.add("B", 20, "", 0)
	w.build("default", []string{"A", "B"}, WithPerClass(20))
	dir := filepath.Join(w.dir, "datasets", "default")
	mustVerify(t, dir)

	// Move one row of test.csv into val.csv by hand (and fix its split
	// column): the version no longer matches, the counts disagree.
	ds, _ := manifests.ReadDataset(dir)
	moved := ds.Rows[manifests.Test][0]
	moved.Split = manifests.Val
	val := append(ds.Rows[manifests.Val], moved)
	if err := manifests.WriteSplit(filepath.Join(dir, "val.csv"), val); err != nil {
		t.Fatal(err)
	}
	probs, err := Verify(dir)
	if err != nil {
		t.Fatal(err)
	}
	text := ""
	for _, p := range probs {
		text += p.String() + "\n"
	}
	for _, want := range []string{"dataset.json: version", "is also in val.csv", "card counts"} {
		if !strings.Contains(text, want) {
			t.Errorf("problems do not mention %q:\n%s", want, text)
		}
	}
}

func TestBuildRefusesBadInput(t *testing.T) {
	w := newWS(t)
	w.add("A", 5, "", 0)
	ctx := context.Background()
	if _, err := Build(ctx, w.dir, "../x", []string{"A"}, WithPerClass(5)); err == nil {
		t.Error("dataset name ../x accepted")
	}
	if _, err := Build(ctx, w.dir, "d", nil); !errors.Is(err, ErrNoClasses) {
		t.Errorf("no classes: %v", err)
	}
	if _, err := Build(ctx, w.dir, "d", []string{"A", "a"}, WithPerClass(5)); err == nil {
		t.Error("colliding slugs accepted")
	}
	if _, err := Build(ctx, w.dir, "d", []string{"A"}, WithFit("zoom")); !errors.Is(err, ErrBadOption) {
		t.Errorf("bad fit: %v", err)
	}
	if _, err := Build(ctx, w.dir, "d", []string{"A"}, WithFractions(0.5, 0.2, 0.2)); !errors.Is(err, ErrBadOption) {
		t.Errorf("bad fractions: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Build(cctx, w.dir, "d", []string{"A"}, WithPerClass(5)); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	// A decision file whose rows name another class is refused with its line.
	w.decs["A"][2].Class = "B"
	w.flush("A")
	_, err := Build(ctx, w.dir, "d", []string{"A"}, WithPerClass(5))
	var re *manifests.RecordError
	if !errors.As(err, &re) || re.Field != "class" {
		t.Fatalf("foreign class row: %v", err)
	}
	b, _ := os.ReadFile(re.File)
	if lines := strings.Split(string(b), "\n"); re.Line < 1 || !strings.Contains(lines[re.Line-1], `"class":"B"`) {
		t.Errorf("error names line %d, which is not the foreign row", re.Line)
	}
}

func TestExportImageFolder(t *testing.T) {
	w := newWS(t)
	w.add("Nakano Miku", 20, "", 0)
	w.add("Nakano Nino", 20, "", 0)
	w.build("default", []string{"Nakano Miku", "Nakano Nino"}, WithPerClass(20))
	dir := filepath.Join(w.dir, "datasets", "default")
	for _, link := range []bool{false, true} {
		out := filepath.Join(t.TempDir(), "export")
		n, err := Export(context.Background(), dir, out, ExportLink(link))
		if err != nil {
			t.Fatal(err)
		}
		if n != 40 {
			t.Fatalf("exported %d", n)
		}
		for _, s := range []string{"train", "val", "test"} {
			for _, c := range []string{"nakano_miku", "nakano_nino"} {
				ents, err := os.ReadDir(filepath.Join(out, s, c))
				if err != nil {
					t.Fatal(err)
				}
				want := map[string]int{"train": 14, "val": 3, "test": 3}[s]
				if len(ents) != want {
					t.Errorf("%s/%s: %d files, want %d", s, c, len(ents), want)
				}
				for _, e := range ents {
					if isLink := e.Type()&os.ModeSymlink != 0; isLink != link {
						t.Errorf("%s: symlink %v, want %v", e.Name(), isLink, link)
					}
				}
			}
		}
		if _, err := Export(context.Background(), dir, out); !errors.Is(err, ErrOutExists) {
			t.Errorf("export into a non-empty folder: %v", err)
		}
	}
}

func TestRebuildWithOtherSettingsPrunesOldImages(t *testing.T) {
	w := newWS(t)
	w.add("A", 24, "", 0)
	w.add("B", 20, "", 0)
	w.build("default", []string{"A", "B"}, WithPerClass(20))
	dir := filepath.Join(w.dir, "datasets", "default")
	count := func() int {
		ents, err := os.ReadDir(filepath.Join(dir, "images"))
		if err != nil {
			t.Fatal(err)
		}
		return len(ents)
	}
	if n := count(); n != 40 {
		t.Fatalf("%d images after the first build", n)
	}
	// Fewer per class: the images that left stay (same settings, reusable).
	res := w.build("default", []string{"A", "B"}, WithPerClass(10))
	if res.Pruned != 0 || count() != 40 || res.Processed != 0 {
		t.Fatalf("per_class 10: pruned %d, processed %d, %d files", res.Pruned, res.Processed, count())
	}
	// Another size: every old image goes.
	res = w.build("default", []string{"A", "B"}, WithPerClass(10), WithSize(90, 45))
	if res.Pruned != 40 || res.Processed != 20 || count() != 20 {
		t.Fatalf("new size: pruned %d, processed %d, %d files", res.Pruned, res.Processed, count())
	}
	mustVerify(t, dir)
}

func TestImageKeptInTwoClassesIsLeftOut(t *testing.T) {
	w := newWS(t)
	w.add("A", 21, "", 0)
	w.add("B", 20, "", 0)
	shared := w.decs["A"][0]
	shared.Class = "B"
	w.decs["B"] = append(w.decs["B"], shared)
	w.flush("B")
	res := w.build("default", []string{"A", "B"}, WithPerClass(20))
	rows := rowsOf(t, filepath.Join(w.dir, "datasets", "default"))
	if _, ok := rows[shared.SHA256]; ok {
		t.Error("an image kept in two classes is in the dataset")
	}
	if len(rows) != 40 || len(res.Notes) != 1 || !strings.HasPrefix(res.Notes[0], "1 kept image") {
		t.Errorf("%d rows, notes %q", len(rows), res.Notes)
	}
}

// No empty split: a class that would get fewer than min_eval validation or
// test images is refused before anything is written, min_eval 0 allows it,
// and verify reports a class without test images.
func TestBuildRefusesEmptyEvalSplits(t *testing.T) {
	w := newWS(t)
	w.add("A", 6, "", 0)
	w.add("B", 6, "", 0)
	// 6 images at 0.9/0.05/0.05: 0 validation and 0 test images each.
	_, err := Build(context.Background(), w.dir, "default", []string{"A", "B"}, WithPerClass(6), WithFractions(0.9, 0.05, 0.05))
	if !errors.Is(err, ErrEmptySplit) || !strings.Contains(err.Error(), "A (0 val, 0 test)") {
		t.Fatalf("empty val/test: %v, want ErrEmptySplit naming A", err)
	}
	dir := filepath.Join(w.dir, "datasets", "default")
	if _, err := os.Stat(filepath.Join(dir, "train.csv")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused build wrote manifests: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "images")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused build processed images: %v", err)
	}
	// Two test images each asked: 6 at 0.7/0.15/0.15 gives one.
	if _, err := Build(context.Background(), w.dir, "default", []string{"A", "B"}, WithPerClass(6), WithMinEval(2)); !errors.Is(err, ErrEmptySplit) {
		t.Fatalf("min_eval 2: %v, want ErrEmptySplit", err)
	}
	w.build("default", []string{"A", "B"}, WithPerClass(6), WithFractions(0.9, 0.05, 0.05), WithMinEval(0))
	mustVerify(t, dir) // built with min_eval 0: nothing to report

	// A dataset whose card asks for 1 but holds no test image of B.
	w.build("default", []string{"A", "B"}, WithPerClass(6))
	mustVerify(t, dir)
	ds, _ := manifests.ReadDataset(dir)
	var keep []manifests.SplitRow
	for _, r := range ds.Rows[manifests.Test] {
		if r.Class != "B" {
			keep = append(keep, r)
		}
	}
	if err := manifests.WriteSplit(filepath.Join(dir, "test.csv"), keep); err != nil {
		t.Fatal(err)
	}
	probs, err := Verify(dir, VerifySkipFiles())
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range probs {
		found = found || (strings.HasSuffix(p.File, "test.csv") && strings.Contains(p.Msg, `class "B" has 0 test images, fewer than min_eval 1`))
	}
	if !found {
		t.Errorf("verify does not report B's empty test split: %v", probs)
	}
}
