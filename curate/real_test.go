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
	ws := t.TempDir()
	one := func(*realbench.Item) string { return "bench" }
	if _, err := b.Workspace(ws, all, one); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := Run(ctx, ws, []string{"bench"}, WithMinSize(0, 0)); err != nil {
		t.Fatal(err)
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

	// The later workspaces share the hash cache (the same bytes).
	cached, err := os.ReadFile(CachePath(ws))
	if err != nil {
		t.Fatal(err)
	}
	withCache := func(w string) {
		if err := os.MkdirAll(filepath.Dir(CachePath(w)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(CachePath(w), cached, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// Order: the same index reversed gives the same decisions.
	ws2 := t.TempDir()
	withCache(ws2)
	rev := slices.Clone(all)
	slices.Reverse(rev)
	if _, err := b.Workspace(ws2, rev, one); err != nil {
		t.Fatal(err)
	}
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
	ws3 := t.TempDir()
	withCache(ws3)
	var half, rest []int
	for k, i := range all {
		if k%2 == 0 {
			half = append(half, i)
		} else {
			rest = append(rest, i)
		}
	}
	if _, err := b.Workspace(ws3, half, one); err != nil {
		t.Fatal(err)
	}
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
