package curate

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chara-dev/chara/curate/internal/realbench"
	"github.com/chara-dev/chara/manifests"
)

// These tests run on the real-image benchmark that scripts/realbench.sh
// builds from Debian packages (CI runs it first; see scripts/deps.sh).
// Without it they skip, except under CI, where its absence is a failure.
func realBench(t *testing.T) *realbench.Bench {
	t.Helper()
	b, err := realbench.Load(realbench.DefaultDir())
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("real-image benchmark: %v", err)
		}
		t.Skipf("real-image benchmark: %v", err)
	}
	return b
}

// realCache is the hash cache of the first real-image workspace: the
// later ones start from it (the same bytes hash alike), to keep the tests
// short.
var realCache []byte

// realWorkspace lays the items out as Workspace does, with the shared hash
// cache.
func realWorkspace(t *testing.T, b *realbench.Bench, items []int, classOf func(*realbench.Item) string) (string, map[string]string) {
	t.Helper()
	ws := t.TempDir()
	slugs, err := b.Workspace(ws, items, classOf)
	if err != nil {
		t.Fatal(err)
	}
	if realCache != nil {
		if err := os.MkdirAll(filepath.Dir(CachePath(ws)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(CachePath(ws), realCache, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return ws, slugs
}

// keepCache keeps the workspace's hash cache for the next one.
func keepCache(t *testing.T, ws string) {
	if b, err := os.ReadFile(CachePath(ws)); err == nil && len(b) > len(realCache) {
		realCache = b
	}
}

func decisionsBySHA(t *testing.T, ws, slug string) map[string]manifests.Decision {
	t.Helper()
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

// On real copies and look-alikes the groups hold up: no chains (every
// member matches its kept copy), no group larger than the largest true
// one, the ground truth recovered pair by pair, the same groups whatever
// the order of the index, and kept copies stay kept when images are added
// unless a better copy arrives.
func TestRealGrouping(t *testing.T) {
	b := realBench(t)
	all := b.Select(func(*realbench.Item) bool { return true })
	one := func(*realbench.Item) string { return "bench" }
	ws, _ := realWorkspace(t, b, all, one)
	ctx := context.Background()
	rep, err := Run(ctx, ws, []string{"bench"}, WithMinSize(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	keepCache(t, ws)
	if len(rep.LargeGroups) > 0 {
		t.Errorf("large groups at the defaults: %+v", rep.LargeGroups)
	}
	ds := decisionsBySHA(t, ws, "bench")
	cache, err := loadCache(CachePath(ws))
	if err != nil {
		t.Fatal(err)
	}
	truth, pred := make([]string, len(all)), make([]string, len(all))
	for k, i := range all {
		it := &b.Items[i]
		truth[k] = it.Group
		d := ds[it.SHA256]
		pred[k] = d.Group
		if d.Group == "" {
			pred[k] = "single:" + it.SHA256
		}
		if d.Decision == manifests.Duplicate {
			a, kept := cache[it.SHA256].fp, cache[d.KeptSHA256].fp
			if _, ok := DefaultLimits.match(&a, &kept); !ok {
				t.Errorf("%s: in the group of %.12s but does not match it", it.File, d.KeptSHA256)
			}
			// The kept copy is the best: the most pixels, then the best
			// format, then the least compressed.
			pa, pk := a.Width*a.Height, kept.Width*kept.Height
			if pk < pa || (pk == pa && kept.Format == a.Format && kept.Bytes < a.Bytes) {
				t.Errorf("%s (%dx%d, %d bytes) is a duplicate of a worse copy %.12s (%dx%d, %d bytes)",
					it.File, a.Width, a.Height, a.Bytes, d.KeptSHA256, kept.Width, kept.Height, kept.Bytes)
			}
			if d.Group != d.KeptSHA256 {
				t.Errorf("%s: group %.12s is not its kept copy %.12s", it.File, d.Group, d.KeptSHA256)
			}
		}
	}
	s := realbench.Compare(truth, pred)
	t.Logf("pairs P %.3f R %.3f F1 %.3f; groups P %.3f R %.3f; largest %d (true %d)",
		s.Precision, s.Recall, s.F1, s.GPrecision, s.GRecall, s.Largest, s.LargestTrue)
	if s.Precision < 0.9 || s.F1 < 0.8 {
		t.Errorf("pair precision %.3f, F1 %.3f at the defaults: want >= 0.90 and >= 0.80", s.Precision, s.F1)
	}
	if s.Largest > s.LargestTrue+s.LargestTrue/2 {
		t.Errorf("largest group has %d images, the largest true one %d", s.Largest, s.LargestTrue)
	}
	// The art's re-encodes (JPEG q30..q95, scaled, cropped, mirrored) are
	// found with their originals; hue-rotated recolours are not.
	found, copies, mixed, recolours := 0, 0, 0, 0
	origOf := map[string]int{}
	for k, i := range all {
		if b.Items[i].Op == "copy" {
			origOf[b.Items[i].Group] = k
		}
	}
	for k, i := range all {
		it := &b.Items[i]
		if it.Set != "art" || it.Op == "copy" {
			continue
		}
		if base, ok := strings.CutSuffix(it.Group, "/hue120"); ok {
			if o, ok := origOf[base]; ok {
				recolours++
				if pred[o] == pred[k] {
					mixed++
				}
			}
			continue
		}
		copies++
		if o, ok := origOf[it.Group]; ok && pred[o] == pred[k] {
			found++
		}
	}
	t.Logf("art: %d of %d re-encodes with their original; %d of %d recolours", found, copies, mixed, recolours)
	if copies == 0 || recolours == 0 || float64(found) < 0.9*float64(copies) || float64(mixed) > 0.05*float64(recolours) {
		t.Errorf("art: %d of %d re-encodes found (want 90 %%), %d of %d recolours grouped with their original (want at most 5 %%)",
			found, copies, mixed, recolours)
	}
	first, err := os.ReadFile(manifests.DecisionsPath(ws, "bench"))
	if err != nil {
		t.Fatal(err)
	}

	// Order: the same index reversed gives the same decisions.
	rev := slices.Clone(all)
	slices.Reverse(rev)
	ws2, _ := realWorkspace(t, b, rev, one)
	if _, err := Run(ctx, ws2, []string{"bench"}, WithMinSize(0, 0)); err != nil {
		t.Fatal(err)
	}
	d2 := decisionsBySHA(t, ws2, "bench")
	for sha, d := range ds {
		if e := d2[sha]; e.Group != d.Group || e.Decision != d.Decision {
			t.Fatalf("%.12s: %s in %.12s, reversed %s in %.12s", sha, d.Decision, d.Group, e.Decision, e.Group)
		}
	}

	// Added images: every other item first, then the rest.
	var half, rest []int
	for k, i := range all {
		if k%2 == 0 {
			half = append(half, i)
		} else {
			rest = append(rest, i)
		}
	}
	ws3, _ := realWorkspace(t, b, half, one)
	if _, err := Run(ctx, ws3, []string{"bench"}, WithMinSize(0, 0)); err != nil {
		t.Fatal(err)
	}
	before := decisionsBySHA(t, ws3, "bench")
	if _, err := b.Workspace(ws3, rest, one); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(ctx, ws3, []string{"bench"}, WithMinSize(0, 0)); err != nil {
		t.Fatal(err)
	}
	after := decisionsBySHA(t, ws3, "bench")
	inHalf := map[string]bool{}
	for _, i := range half {
		inHalf[b.Items[i].SHA256] = true
	}
	for sha, d := range before {
		if d.Decision != manifests.Keep {
			continue
		}
		if a := after[sha]; a.Decision != manifests.Keep && inHalf[a.KeptSHA256] {
			t.Errorf("%.12s: kept, then a duplicate of %.12s, which was there before", sha, a.KeptSHA256)
		}
	}
	// A rerun writes the same bytes.
	if _, err := Run(ctx, ws, []string{"bench"}, WithMinSize(0, 0)); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.ReadFile(manifests.DecisionsPath(ws, "bench")); string(again) != string(first) {
		t.Error("decisions changed on a rerun")
	}
}

// Real sprites, renders on a black or transparent background and
// white-background art pass the quality filter; the blank and near-uniform
// files of the same packages are low-information.
func TestRealFilters(t *testing.T) {
	b := realBench(t)
	all := b.Select(func(*realbench.Item) bool { return true })
	ws, _ := realWorkspace(t, b, all, func(it *realbench.Item) string { return it.Set })
	sets := []string{"art", "droids", "icons", "lowinfo", "pingus"}
	if _, err := Run(context.Background(), ws, sets); err != nil {
		t.Fatal(err)
	}
	keepCache(t, ws)
	low, art := 0, 0
	for _, set := range sets {
		slug, _ := manifests.Slug(set)
		ds := decisionsBySHA(t, ws, slug)
		for _, i := range all {
			it := &b.Items[i]
			if it.Set != set {
				continue
			}
			d := ds[it.SHA256]
			isLow := d.Decision == manifests.Filtered && d.Reason == ReasonLowInformation
			if set == "lowinfo" {
				low++
				if !isLow {
					t.Errorf("%s (%s): %s/%s, want filtered/low-information", it.File, it.Origin, d.Decision, d.Reason)
				}
				continue
			}
			art++
			if d.Decision == manifests.Invalid || (d.Decision == manifests.Filtered && d.Reason != ReasonTooSmall) {
				t.Errorf("%s (%s): %s/%s, want it to pass the quality filters", it.File, it.Op, d.Decision, d.Reason)
			}
		}
	}
	if low < 3 || art < 1000 {
		t.Fatalf("only %d low-information and %d other images in the benchmark", low, art)
	}
}

// Look-alike characters in the same pose (droids of one body plan seen
// from the same angle, the pingu in different gear, the pac-man ghosts and
// their recolours) are different pictures: nothing is ambiguous. The same
// file, or a re-encode of it, under two classes is.
func TestRealLookAlikesAcrossClasses(t *testing.T) {
	b := realBench(t)
	sprites := b.Select(func(it *realbench.Item) bool { return it.Set == "droids" || it.Set == "pingus" })
	ws, slugs := realWorkspace(t, b, sprites, func(it *realbench.Item) string { return it.Class })
	// Reposts: a droid's frame under the next droid's class, as the same
	// file and as its JPEG q70 re-encode.
	var classes []string
	for c := range slugs {
		classes = append(classes, c)
	}
	slices.Sort(classes)
	var droids []string
	for _, c := range classes {
		if strings.HasPrefix(c, "droid-") {
			droids = append(droids, c)
		}
	}
	reposted := map[string]string{} // sha -> class it was reposted under
	for k, i := range sprites {
		it := &b.Items[i]
		if it.Set != "droids" || !strings.HasSuffix(it.Group, "/0") || (it.Op != "frame 0 of 32" && !strings.HasSuffix(it.Op, "jpeg q70")) {
			continue
		}
		if k%3 != 0 {
			continue
		}
		other := droids[(slices.Index(droids, it.Class)+1)%len(droids)]
		if _, err := b.Workspace(ws, []int{i}, func(*realbench.Item) string { return other }); err != nil {
			t.Fatal(err)
		}
		reposted[it.SHA256] = other
	}
	if len(reposted) < 4 {
		t.Fatalf("only %d reposts", len(reposted))
	}
	if _, err := Run(context.Background(), ws, classes, WithMinSize(0, 0)); err != nil {
		t.Fatal(err)
	}
	decs := map[string]map[string]manifests.Decision{}
	for _, c := range classes {
		decs[c] = decisionsBySHA(t, ws, slugs[c])
	}
	// The groups that hold a reposted picture, in its own class and in the
	// one it was reposted under.
	reposts := map[[2]string]bool{}
	for sha, other := range reposted {
		for _, c := range []string{other, b.Items[slices.IndexFunc(b.Items, func(it realbench.Item) bool { return it.SHA256 == sha })].Class} {
			reposts[[2]string{c, decs[c][sha].Group}] = true
		}
		if d := decs[other][sha]; d.Decision != manifests.Ambiguous {
			t.Errorf("%.12s reposted under %s: %s/%s, want ambiguous", sha, other, d.Decision, d.Reason)
		}
	}
	kept, ambiguous := 0, 0
	for _, c := range classes {
		for sha, d := range decs[c] {
			switch d.Decision {
			case manifests.Keep:
				kept++
			case manifests.Ambiguous:
				ambiguous++
				if !reposts[[2]string{c, d.Group}] {
					t.Errorf("%s: %.12s ambiguous (%s) but not a reposted picture", c, sha, d.Reason)
				}
			}
		}
	}
	groups := map[string]bool{}
	for _, i := range sprites {
		groups[b.Items[i].Group] = true
	}
	t.Logf("%d sprite pictures in %d classes: %d kept, %d ambiguous (%d reposts)", len(groups), len(classes), kept, ambiguous, len(reposted))
	if kept < len(groups)-len(reposts) {
		t.Errorf("%d kept of %d distinct sprite pictures (%d groups reposted)", kept, len(groups), len(reposts))
	}
}

// The report counts group sizes, warns about large groups and shows the
// largest on a contact sheet: one real picture with its nine re-encodes in a
// class of 30 is a third of the class; with the pHash limit loosened to 32
// bits and the other signals off, look-alike icons make groups of more
// than 20.
func TestRealReportLargeGroups(t *testing.T) {
	b := realBench(t)
	var picture string
	items := b.Select(func(it *realbench.Item) bool {
		if it.Set == "art" && it.Op == "copy" && picture == "" {
			picture = it.Group
		}
		return it.Set == "art" && it.Group == picture
	})
	if len(items) < 8 {
		t.Fatalf("%d copies of %s", len(items), picture)
	}
	icons := b.Select(func(it *realbench.Item) bool { return it.Set == "icons" && it.Op == "copy" })
	items = append(items, icons[:30-len(items)]...)
	ws, _ := realWorkspace(t, b, items, func(*realbench.Item) string { return "Mixed" })
	rep, err := Run(context.Background(), ws, []string{"Mixed"})
	if err != nil {
		t.Fatal(err)
	}
	sizes := rep.Classes[0].GroupSizes
	total := 0
	for n, c := range sizes {
		total += n * c
	}
	if total != len(items) || len(rep.LargeGroups) != 1 || rep.LargeGroups[0].Size < 8 {
		t.Fatalf("group sizes %v (of %d images), large groups %+v", sizes, len(items), rep.LargeGroups)
	}
	var table strings.Builder
	if err := rep.WriteTable(&table); err != nil || !strings.Contains(table.String(), "warning: Mixed: a group of") {
		t.Errorf("no warning in the table: %v\n%s", err, table.String())
	}
	page, err := os.ReadFile(ReportPath(ws))
	if err != nil {
		t.Fatal(err)
	}
	g := rep.LargeGroups[0].Group
	for _, want := range []string{`id="large-groups"`, `id="group-sizes"`, `class="sheet large" data-group="` + g + `"`, `class="kept"`} {
		if !strings.Contains(string(page), want) {
			t.Errorf("report.html lacks %s", want)
		}
	}

	ws2, _ := realWorkspace(t, b, icons, func(*realbench.Item) string { return "Icons" })
	rep, err = Run(context.Background(), ws2, []string{"Icons"}, WithLimits(Limits{PHash: 32, DHash: -1, Color: -1, Aspect: -1, Fine: -1}))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.LargeGroups) == 0 || rep.LargeGroups[0].Size <= LargeGroupSize {
		t.Errorf("loosened limits on %d icons: large groups %+v", len(icons), rep.LargeGroups)
	}
}
