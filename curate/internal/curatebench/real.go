package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/bits"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/chara-dev/chara/curate"
	"github.com/chara-dev/chara/curate/internal/realbench"
	"github.com/chara-dev/chara/manifests"
)

// real scores curation's groups on the real-image benchmark
// (scripts/realbench.sh) at the defaults (size filters off: icons are 32 and
// 48 px) and, in the same run, the reference pHash (Python imagehash's
// algorithm, curate/testdata/imagehash_ref.py) grouped pair by pair at each
// threshold. sweep adds chara at other pHash thresholds.
func real(dir, py string, sweep []int, limits []curate.Limits, diag bool) error {
	b, err := realbench.Load(dir)
	if err != nil {
		return err
	}
	all := b.Select(func(*realbench.Item) bool { return true })
	truth := make([]string, len(all))
	for k, i := range all {
		truth[k] = b.Items[i].Group
	}
	ws, err := os.MkdirTemp("", "realbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(ws)
	if _, err := b.Workspace(ws, all, func(*realbench.Item) string { return "bench" }); err != nil {
		return err
	}
	fmt.Printf("%s benchmark: %d images in %d true groups (%s)\n", b.Form, len(all), countDistinct(truth), packages(b))
	ref, secs, err := refHashes(py, b, all)
	if err != nil {
		return err
	}
	fmt.Printf("reference pHash: %d images hashed in %.1f s\n", len(all), secs)
	fmt.Println("| grouping | pair P | pair R | pair F1 | group P | group R | group F1 | groups | largest |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	row := func(name string, s realbench.Score) {
		fmt.Printf("| %s | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | %d | %d |\n", name,
			s.Precision, s.Recall, s.F1, s.GPrecision, s.GRecall, s.GF1, s.Groups, s.Largest)
	}
	run := func(name string, opts ...curate.Option) error {
		start := time.Now()
		pred, err := charaGroups(ws, b, all, opts...)
		if err != nil {
			return err
		}
		row(fmt.Sprintf("%s (%.1f s)", name, time.Since(start).Seconds()), realbench.Compare(truth, pred))
		return nil
	}
	if err := run("chara, defaults"); err != nil {
		return err
	}
	for _, t := range sweep {
		if err := run(fmt.Sprintf("chara, pHash threshold %d", t), curate.WithPHashThreshold(t)); err != nil {
			return err
		}
	}
	for _, l := range limits {
		if err := run(fmt.Sprintf("chara, limits %+v", l), curate.WithLimits(l)); err != nil {
			return err
		}
	}
	if diag {
		var dopts []curate.Option
		if len(limits) > 0 {
			dopts = append(dopts, curate.WithLimits(limits[len(limits)-1]))
		}
		pred, err := charaGroups(ws, b, all, dopts...)
		if err != nil {
			return err
		}
		errs := map[string]int{}
		for x := range all {
			for y := x + 1; y < len(all); y++ {
				t, p := truth[x] == truth[y], pred[x] == pred[y]
				if t == p {
					continue
				}
				a, c := &b.Items[all[x]], &b.Items[all[y]]
				kind := "FN"
				if p {
					kind = "FP"
				}
				errs[fmt.Sprintf("%s %s/%s | %s/%s", kind, a.Set, a.Op, c.Set, c.Op)]++
			}
		}
		var keys []string
		for k := range errs {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return errs[keys[i]] > errs[keys[j]] })
		for _, k := range keys[:min(len(keys), 40)] {
			fmt.Printf("%6d %s\n", errs[k], k)
		}
	}
	bestT, best := 0, realbench.Score{}
	for t := 0; t <= 16; t += 2 {
		var pairs [][2]int
		for i := range ref {
			for j := i + 1; j < len(ref); j++ {
				if bits.OnesCount64(ref[i]^ref[j]) <= t {
					pairs = append(pairs, [2]int{i, j})
				}
			}
		}
		pairPred := realbench.ComparePairs(truth, pairs)
		groups := realbench.Compare(truth, realbench.Components(len(ref), pairs))
		fmt.Printf("| reference pHash <= %d: pairs %.3f / %.3f / %.3f; components | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | %d | %d |\n",
			t, pairPred.Precision, pairPred.Recall, pairPred.F1,
			groups.Precision, groups.Recall, groups.F1, groups.GPrecision, groups.GRecall, groups.GF1, groups.Groups, groups.Largest)
		if pairPred.F1 > best.F1 {
			bestT, best = t, pairPred
		}
	}
	fmt.Printf("reference best pair-by-pair F1 %.3f (P %.3f, R %.3f) at threshold %d\n", best.F1, best.Precision, best.Recall, bestT)
	return realSpeed(py, b)
}

// realSpeed times curate.Analyze against the reference on the benchmark's
// JPEG illustrations (the art set), all of them and those of at least
// 1000 px on the long side (booru illustrations' size), as speed does on
// synthetic ones: best of 5 rounds that alternate between the two sides.
func realSpeed(py string, b *realbench.Bench) error {
	var small, large []string
	var smallB, largeB int64
	for i := range b.Items {
		it := &b.Items[i]
		if it.Set != "art" || !strings.HasSuffix(it.File, ".jpg") {
			continue
		}
		p, err := filepath.Abs(b.Path(it))
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		if fp := curate.Analyze(data, 1<<30); max(fp.Width, fp.Height) >= 1000 {
			large, largeB = append(large, p), largeB+fi.Size()
		} else {
			small, smallB = append(small, p), smallB+fi.Size()
		}
	}
	fmt.Printf("| set | chara 1 worker | chara all workers (%d) | imagehash (Python) | ratio 1 worker | ratio all |\n", runtime.GOMAXPROCS(0))
	fmt.Println("|---|---:|---:|---:|---:|---:|")
	for _, set := range []struct {
		name  string
		files []string
		bytes int64
	}{{"real JPEG illustrations under 1000 px", small, smallB}, {"real JPEG illustrations of 1000 px or more", large, largeB}} {
		if len(set.files) == 0 {
			continue
		}
		var one, all, ref float64
		for round := 0; round < 5; round++ {
			one = max(one, goRate(set.files, 1, 1))
			all = max(all, goRate(set.files, runtime.GOMAXPROCS(0), 1))
			r, err := pyRate(py, set.files, 1)
			if err != nil {
				return err
			}
			ref = max(ref, r)
		}
		fmt.Printf("| %d %s (%.1f MB) | %.1f img/s | %.1f img/s | %.1f img/s | %.2fx | %.2fx |\n",
			len(set.files), set.name, float64(set.bytes)/1e6, one, all, ref, one/ref, all/ref)
	}
	return nil
}

func countDistinct(ls []string) int {
	m := map[string]bool{}
	for _, l := range ls {
		m[l] = true
	}
	return len(m)
}

func packages(b *realbench.Bench) string {
	var ps []string
	for p, v := range b.Packages {
		ps = append(ps, p+" "+v)
	}
	sort.Strings(ps)
	return strings.Join(ps, ", ")
}

// charaGroups runs curation on the workspace and labels every item by its
// curated group (an image outside every group is its own).
func charaGroups(ws string, b *realbench.Bench, items []int, opts ...curate.Option) ([]string, error) {
	opts = append([]curate.Option{curate.WithMinSize(0, 0)}, opts...)
	if _, err := curate.Run(context.Background(), ws, []string{"bench"}, opts...); err != nil {
		return nil, err
	}
	ds, err := manifests.ReadDecisions(manifests.DecisionsPath(ws, "bench"))
	if err != nil {
		return nil, err
	}
	group := map[string]string{}
	for _, d := range ds {
		group[d.SHA256] = d.Group
	}
	out := make([]string, len(items))
	for k, i := range items {
		sha := b.Items[i].SHA256
		if g := group[sha]; g != "" {
			out[k] = g
		} else {
			out[k] = "single:" + sha
		}
	}
	return out, nil
}

// refHashes runs the reference pHash on every item's file (in batches, one
// process each) and returns the hashes in item order and the seconds spent.
func refHashes(py string, b *realbench.Bench, items []int) ([]uint64, float64, error) {
	var files []string
	for _, i := range items {
		p, err := filepath.Abs(b.Path(&b.Items[i]))
		if err != nil {
			return nil, 0, err
		}
		files = append(files, p)
	}
	hashes := map[string]uint64{}
	secs := 0.0
	for lo := 0; lo < len(files); lo += 500 {
		out, err := exec.Command(py, append([]string{"curate/testdata/imagehash_ref.py", "-v"}, files[lo:min(lo+500, len(files))]...)...).Output()
		if err != nil {
			return nil, 0, fmt.Errorf("reference: %w", err)
		}
		sc := bufio.NewScanner(bytes.NewReader(out))
		for sc.Scan() {
			line := sc.Text()
			h, f, ok := strings.Cut(line, " ")
			if v, err := strconv.ParseUint(h, 16, 64); ok && err == nil && len(h) == 16 {
				hashes[f] = v
				continue
			}
			var n int
			var s, rate float64
			if _, err := fmt.Sscanf(line, "%d images in %f s: %f images/s", &n, &s, &rate); err == nil {
				secs += s
			}
		}
	}
	res := make([]uint64, len(files))
	for k, f := range files {
		h, ok := hashes[f]
		if !ok {
			return nil, 0, fmt.Errorf("reference: no hash for %s", f)
		}
		res[k] = h
	}
	return res, secs, nil
}
