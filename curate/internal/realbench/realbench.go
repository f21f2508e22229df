// Package realbench reads curation's real-image benchmark (built by
// scripts/realbench.sh from Debian packages; the rules of its ground truth
// are in scripts/realbench.py), lays it out as a chara workspace, and scores
// groupings against its ground truth: pairs and groups, precision, recall
// and F1.
package realbench

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/chara-dev/chara/manifests"
)

// Item is one image of the benchmark.
type Item struct {
	File   string `json:"file"` // relative to the benchmark directory
	SHA256 string `json:"sha256"`
	Group  string `json:"group"` // ground truth: items of one group are one picture
	Set    string `json:"set"`   // icons, droids, pingus, art, lowinfo
	Class  string `json:"class"` // the character (sprites) or the set
	Origin string `json:"origin"`
	Op     string `json:"op"` // how it was made from Origin
}

// Bench is a built benchmark.
type Bench struct {
	Dir      string            `json:"-"`
	Form     string            `json:"form"`
	Packages map[string]string `json:"packages"`
	Items    []Item            `json:"items"`
}

// ErrMissing is returned by Load when the benchmark has not been built.
var ErrMissing = errors.New("realbench: not built (run scripts/realbench.sh)")

// DefaultDir is where scripts/realbench.sh builds the benchmark:
// $CHARA_REALBENCH/bench, else ~/.cache/chara/realbench/bench.
func DefaultDir() string {
	root := os.Getenv("CHARA_REALBENCH")
	if root == "" {
		home, _ := os.UserHomeDir()
		root = filepath.Join(home, ".cache", "chara", "realbench")
	}
	return filepath.Join(root, "bench")
}

// Load reads dir/manifest.json.
func Load(dir string) (*Bench, error) {
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrMissing, dir)
	}
	if err != nil {
		return nil, err
	}
	var bench Bench
	if err := json.Unmarshal(b, &bench); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "manifest.json"), err)
	}
	if len(bench.Items) == 0 {
		return nil, fmt.Errorf("%s: no items", filepath.Join(dir, "manifest.json"))
	}
	bench.Dir = dir
	return &bench, nil
}

// Path is the item's file on disk.
func (b *Bench) Path(it *Item) string { return filepath.Join(b.Dir, it.File) }

// Select returns the indices of the items that keep accepts.
func (b *Bench) Select(keep func(*Item) bool) []int {
	var out []int
	for i := range b.Items {
		if keep(&b.Items[i]) {
			out = append(out, i)
		}
	}
	return out
}

// Workspace lays the chosen items out in workspace as scraped raw images
// (raw/<slug>/<sha256>.<ext>, linked, and raw/<slug>/index.jsonl), each under
// the class that classOf names, and returns the slug of every class.
func (b *Bench) Workspace(workspace string, items []int, classOf func(*Item) string) (map[string]string, error) {
	slugs := map[string]string{}
	recs := map[string][]manifests.RawRecord{}
	for n, i := range items {
		it := &b.Items[i]
		class := classOf(it)
		slug, ok := slugs[class]
		if !ok {
			var err error
			if slug, err = manifests.Slug(class); err != nil {
				return nil, err
			}
			slugs[class] = slug
		}
		name := it.SHA256 + filepath.Ext(it.File)
		dst := filepath.Join(manifests.RawDir(workspace, slug), name)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return nil, err
		}
		abs, err := filepath.Abs(b.Path(it))
		if err != nil {
			return nil, err
		}
		// A hard link (or a copy across file systems): stages refuse raw
		// files that are symbolic links (nothing outside the workspace is
		// read).
		if err := os.Link(abs, dst); err != nil && !errors.Is(err, os.ErrExist) {
			b, rerr := os.ReadFile(abs)
			if rerr != nil {
				return nil, rerr
			}
			if err := os.WriteFile(dst, b, 0o644); err != nil {
				return nil, err
			}
		}
		recs[slug] = append(recs[slug], manifests.RawRecord{SHA256: it.SHA256, File: name, Source: "realbench",
			PostID: it.File, FetchedAt: time.Date(2024, 1, 1, 0, 0, 0, n, time.UTC)})
	}
	for slug, rs := range recs {
		if err := manifests.AppendRawIndex(manifests.RawIndexPath(workspace, slug), rs...); err != nil {
			return nil, err
		}
	}
	return slugs, nil
}

// Score compares a predicted grouping with the truth, item by item (the
// two slices are parallel; a label names a group). Pairs: two items in one
// group. Groups: a group counts as found when the prediction has exactly
// the same set of items (singletons included).
type Score struct {
	TP, FP, FN           int
	Precision, Recall    float64
	F1                   float64
	TrueGroups, Groups   int // ground-truth groups, predicted groups
	Exact                int // predicted groups equal to a true group
	GPrecision, GRecall  float64
	GF1                  float64
	Largest, LargestTrue int // largest predicted and true group
}

func f1(p, r float64) float64 {
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

// Compare scores pred against truth.
func Compare(truth, pred []string) Score {
	var s Score
	n := len(truth)
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			t, p := truth[i] == truth[j], pred[i] == pred[j]
			switch {
			case t && p:
				s.TP++
			case t:
				s.FN++
			case p:
				s.FP++
			}
		}
	}
	s.Precision = float64(s.TP) / float64(max(s.TP+s.FP, 1))
	s.Recall = float64(s.TP) / float64(max(s.TP+s.FN, 1))
	s.F1 = f1(s.Precision, s.Recall)
	members := func(labels []string) map[string][]int {
		m := map[string][]int{}
		for i, l := range labels {
			m[l] = append(m[l], i)
		}
		return m
	}
	tg, pg := members(truth), members(pred)
	s.TrueGroups, s.Groups = len(tg), len(pg)
	for _, ms := range pg {
		s.Largest = max(s.Largest, len(ms))
		l := truth[ms[0]]
		if len(tg[l]) != len(ms) {
			continue
		}
		same := true
		for _, i := range ms {
			if truth[i] != l {
				same = false
				break
			}
		}
		if same {
			s.Exact++
		}
	}
	for _, ms := range tg {
		s.LargestTrue = max(s.LargestTrue, len(ms))
	}
	s.GPrecision = float64(s.Exact) / float64(max(s.Groups, 1))
	s.GRecall = float64(s.Exact) / float64(max(s.TrueGroups, 1))
	s.GF1 = f1(s.GPrecision, s.GRecall)
	return s
}

// Components labels items by the connected components of the pairs (single
// linkage), as a pair-by-pair tool groups.
func Components(n int, pairs [][2]int) []string {
	parent := make([]int, n)
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(x int) int {
		for parent[x] != x {
			parent[x] = parent[parent[x]]
			x = parent[x]
		}
		return x
	}
	for _, p := range pairs {
		a, b := find(p[0]), find(p[1])
		if a != b {
			parent[max(a, b)] = min(a, b)
		}
	}
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprint(find(i))
	}
	return out
}

// ComparePairs scores a list of predicted pairs (pair by pair, no grouping)
// against the truth; the group fields stay zero.
func ComparePairs(truth []string, pairs [][2]int) Score {
	var s Score
	for _, p := range pairs {
		if truth[p[0]] == truth[p[1]] {
			s.TP++
		} else {
			s.FP++
		}
	}
	size := map[string]int{}
	for _, l := range truth {
		size[l]++
	}
	total := 0
	for _, n := range size {
		total += n * (n - 1) / 2
	}
	s.FN = total - s.TP
	s.Precision = float64(s.TP) / float64(max(s.TP+s.FP, 1))
	s.Recall = float64(s.TP) / float64(max(total, 1))
	s.F1 = f1(s.Precision, s.Recall)
	return s
}
