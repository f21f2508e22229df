package curate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"

	"github.com/chara-dev/chara/curate/phashindex"
	"github.com/chara-dev/chara/internal/wspath"
	"github.com/chara-dev/chara/manifests"
)

// entry is one raw image of one class (one per sha256 per class).
type entry struct {
	class int // index into state.classes
	rec   manifests.RawRecord
	fp    Fingerprint
	// verdict before grouping: invalid or filtered, with reason; "" when
	// the entry takes part in grouping.
	pre    manifests.Verdict
	reason string
	comp   int // decision unit (class groups linked across classes); -1 when not grouped
	pos    int // position among the unique sha256s that take part in grouping
	leader int // entry that is the kept copy of this entry's group in its class
}

// state is everything decide needs: built once per Run (or per review
// server), then decided again after every review click.
type state struct {
	workspace string
	classes   []string
	slugs     []string
	entries   []entry
	groups    [][]int // entry indices per decision unit (class groups linked across classes)
	pairs     int
	hashed    int
	cached    int
	s         *settings
}

// build reads the raw indexes, hashes what the cache lacks, applies the
// filters and groups near-duplicates.
func build(ctx context.Context, workspace string, classes []string, s *settings) (*state, error) {
	if len(classes) == 0 {
		return nil, ErrNoClasses
	}
	if err := manifests.CheckSlugs(classes); err != nil {
		return nil, err
	}
	st := &state{workspace: workspace, classes: classes, s: s}
	for ci, name := range classes {
		slug, _ := manifests.Slug(name)
		st.slugs = append(st.slugs, slug)
		recs, err := manifests.ReadRawIndex(manifests.RawIndexPath(workspace, slug))
		if err != nil {
			return nil, err
		}
		seen := map[string]bool{}
		for _, r := range recs {
			if seen[r.SHA256] {
				continue // the same bytes listed twice (two posts of one file)
			}
			seen[r.SHA256] = true
			st.entries = append(st.entries, entry{class: ci, rec: r, comp: -1})
		}
	}
	if err := st.fingerprint(ctx); err != nil {
		return nil, err
	}
	st.filter()
	if err := st.group(ctx); err != nil {
		return nil, err
	}
	return st, nil
}

func (st *state) rawPath(e *entry) string {
	return filepath.Join(manifests.RawDir(st.workspace, st.slugs[e.class]), e.rec.File)
}

// fingerprint fills every entry's Fingerprint from the cache or by hashing
// the file, with s.workers goroutines. The cache is saved even when the
// context is cancelled, so an interrupted run keeps its work.
func (st *state) fingerprint(ctx context.Context) error {
	s := st.s
	cachePath := CachePath(st.workspace)
	cache, err := loadCache(cachePath)
	if err != nil {
		return err
	}
	todo := map[string][]int{} // sha -> entries needing it
	var order []string
	for i := range st.entries {
		e := &st.entries[i]
		var stamp fileStamp
		if fi, err := os.Lstat(st.rawPath(e)); err == nil {
			stamp = stampOf(fi)
		}
		if fp, ok := cache.lookup(e.rec.SHA256, st.rawRel(e), stamp, s.maxPixels); ok {
			e.fp = fp
			st.cached++
			continue
		}
		if _, ok := todo[e.rec.SHA256]; !ok {
			order = append(order, e.rec.SHA256)
		}
		todo[e.rec.SHA256] = append(todo[e.rec.SHA256], i)
	}
	if len(order) == 0 {
		return nil
	}
	task := s.reporter.Start("validate and hash", int64(len(order)))
	defer task.Done()
	jobs := make(chan string)
	type result struct {
		sha   string
		entry int
		fp    Fingerprint
		stamp fileStamp
		cache bool
	}
	results := make(chan result)
	var wg sync.WaitGroup
	for w := 0; w < s.workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for sha := range jobs {
				// The same bytes under several classes: analysed once, and
				// each other file checked to hold them.
				var first result
				for k, i := range todo[sha] {
					r := result{sha: sha, entry: i}
					if k == 0 {
						r.fp, r.stamp, r.cache = st.hashFile(&st.entries[i], sha)
						first = r
					} else {
						r.fp, r.stamp, r.cache = st.checkFile(&st.entries[i], sha, first.fp, first.cache)
					}
					results <- r
				}
			}
		}()
	}
	go func() {
		defer close(jobs)
		for _, sha := range order {
			select {
			case jobs <- sha:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(results) }()
	changed := false
	for r := range results {
		st.entries[r.entry].fp = r.fp
		if r.cache {
			cache.put(r.sha, st.rawRel(&st.entries[r.entry]), r.fp, r.stamp)
			changed = true
		}
		if r.entry == todo[r.sha][0] {
			st.hashed++
			task.Add(1)
		}
	}
	if changed {
		if err := cache.save(cachePath); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// hashFile analyses the raw file of e; cacheable is false for results that
// depend on the file system rather than the bytes (missing, altered, a
// symbolic link: nothing outside the workspace is read).
func (st *state) hashFile(e *entry, sha string) (fp Fingerprint, stamp fileStamp, cacheable bool) {
	b, fi, bad := st.readRaw(e, sha)
	if bad != nil {
		return *bad, stamp, false
	}
	return Analyze(b, st.s.maxPixels), stampOf(fi), true
}

// checkFile checks that the raw file of e holds the bytes sha, already
// analysed as fp (cacheable when that analysis was).
func (st *state) checkFile(e *entry, sha string, fp Fingerprint, cacheable bool) (Fingerprint, fileStamp, bool) {
	_, fi, bad := st.readRaw(e, sha)
	if bad != nil {
		return *bad, fileStamp{}, false
	}
	return fp, stampOf(fi), cacheable
}

// rawRel is the workspace-relative path of e's raw file.
func (st *state) rawRel(e *entry) string { return manifests.RawRel(st.slugs[e.class], e.rec.File) }

// readRaw reads the raw file of e, or returns the Fingerprint of its
// refusal: missing, unreadable, outside the workspace, or not the bytes
// the index names.
func (st *state) readRaw(e *entry, sha string) ([]byte, os.FileInfo, *Fingerprint) {
	b, fi, err := wspath.ReadFile(st.workspace, st.rawRel(e))
	if err != nil {
		reason := "unreadable"
		switch {
		case errors.Is(err, os.ErrNotExist):
			reason = "missing-file"
		case errors.Is(err, wspath.ErrOutside):
			reason = "outside-workspace"
		}
		return nil, nil, &Fingerprint{SHA256: sha, Invalid: reason, Detail: err.Error()}
	}
	if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != sha {
		return nil, nil, &Fingerprint{SHA256: sha, Invalid: "sha256-mismatch",
			Detail: fmt.Sprintf("%s: content hash %x differs from the index", st.rawPath(e), sum[:8])}
	}
	return b, fi, nil
}

// Filter reasons.
const (
	ReasonTooSmall       = "too-small"
	ReasonExtremeAspect  = "extreme-aspect"
	ReasonLowInformation = "low-information"
	ReasonMonochrome     = "monochrome"
)

// filter sets the pre-grouping verdicts: invalid, then the quality filters.
func (st *state) filter() {
	s := st.s
	for i := range st.entries {
		e := &st.entries[i]
		fp := &e.fp
		switch {
		case fp.Invalid != "":
			e.pre, e.reason = manifests.Invalid, fp.Invalid
		case (s.minW > 0 && fp.Width < s.minW) || (s.minH > 0 && fp.Height < s.minH):
			e.pre, e.reason = manifests.Filtered, ReasonTooSmall
		case s.maxAspect > 0 && float64(max(fp.Width, fp.Height)) > s.maxAspect*float64(min(fp.Width, fp.Height)):
			e.pre, e.reason = manifests.Filtered, ReasonExtremeAspect
		case s.minSubject > 0 && fp.Subject < s.minSubject:
			e.pre, e.reason = manifests.Filtered, ReasonLowInformation
		case s.minEntropy > 0 && fp.Entropy < s.minEntropy:
			e.pre, e.reason = manifests.Filtered, ReasonLowInformation
		case s.minSaturation > 0 && fp.Saturation < s.minSaturation:
			e.pre, e.reason = manifests.Filtered, ReasonMonochrome
		}
	}
}

// group finds the near-duplicate groups of every class and links groups
// of different classes that hold the same picture.
//
// Within a class, two copies match when every signal agrees (matchLimits:
// pHash and dHash, directly or both mirrored, colour moments and aspect
// ratio). The class's candidates are taken best copy first (better: most
// pixels, best format, least compressed, ...); each joins the group of the
// nearest kept copy it matches, or keeps itself and starts a group. So
// every member matches its group's kept copy (no chains), the result does
// not depend on the input order, and an added image changes a kept copy
// only when it is a better copy of it.
//
// Across classes only the same file, or a copy that matches by every
// signal at the much tighter cross-class limits, links two groups (they are
// then decided together under the cross-class policy): look-alike
// characters drawn in the same pose are different pictures.
func (st *state) group(ctx context.Context) error {
	idx := map[string]int{} // sha -> position in fps
	var fps []*Fingerprint
	var hashes, flips []uint64
	for i := range st.entries {
		e := &st.entries[i]
		if e.pre != "" {
			continue
		}
		pos, ok := idx[e.fp.SHA256]
		if !ok {
			pos = len(fps)
			idx[e.fp.SHA256] = pos
			fps = append(fps, &e.fp)
			hashes = append(hashes, e.fp.PHash)
			flips = append(flips, e.fp.PHashFlip)
		}
		e.pos = pos
	}
	type nb struct {
		pos int
		d   int
	}
	adj := make([][]nb, len(fps))
	var cross [][2]int
	if len(fps) > 0 {
		ix, err := phashindex.New(hashes, st.s.limits.PHash)
		if err != nil {
			return err
		}
		pairs, err := ix.Pairs(ctx, st.s.workers)
		if err != nil {
			return err
		}
		fpairs, err := ix.Join(ctx, flips, st.s.workers)
		if err != nil {
			return err
		}
		// Each unordered pair once: the direct pairs and the mirrored ones
		// (found from both sides), normalised and sorted.
		cand := make([][2]int32, 0, len(pairs)+len(fpairs))
		for _, p := range append(pairs, fpairs...) {
			if p.I != p.J {
				cand = append(cand, [2]int32{min(p.I, p.J), max(p.I, p.J)})
			}
		}
		slices.SortFunc(cand, func(a, b [2]int32) int {
			if a[0] != b[0] {
				return int(a[0] - b[0])
			}
			return int(a[1] - b[1])
		})
		cand = slices.Compact(cand)
		for _, c := range cand {
			i, j := int(c[0]), int(c[1])
			if d, ok := st.s.limits.match(fps[i], fps[j]); ok {
				adj[i] = append(adj[i], nb{j, d})
				adj[j] = append(adj[j], nb{i, d})
				st.pairs++
			}
			if _, ok := st.s.crossLimits.match(fps[i], fps[j]); ok {
				cross = append(cross, [2]int{i, j})
			}
		}
	}
	// Per class, best copy first.
	byClass := make([][]int, len(st.classes))
	for i := range st.entries {
		if st.entries[i].pre == "" {
			byClass[st.entries[i].class] = append(byClass[st.entries[i].class], i)
		}
	}
	for _, members := range byClass {
		sort.Slice(members, func(a, b int) bool { return better(&st.entries[members[a]], &st.entries[members[b]]) })
		rank := map[int]int{}    // entry -> position in members
		leaders := map[int]int{} // pos -> entry that keeps it
		for r, i := range members {
			rank[i] = r
			e := &st.entries[i]
			best, bestD := -1, 0
			for _, n := range adj[e.pos] {
				l, ok := leaders[n.pos]
				if !ok {
					continue
				}
				if best < 0 || n.d < bestD || (n.d == bestD && rank[l] < rank[best]) {
					best, bestD = l, n.d
				}
			}
			if best < 0 {
				leaders[e.pos] = i
				best = i
			}
			e.leader = best
		}
	}
	// Link the class groups that share a file or a near-exact copy.
	uf := newUnionFind(len(st.entries))
	atPos := map[int][]int{} // pos -> entries (one per class)
	for i := range st.entries {
		e := &st.entries[i]
		if e.pre != "" {
			continue
		}
		uf.union(i, e.leader)
		atPos[e.pos] = append(atPos[e.pos], i)
	}
	for _, es := range atPos {
		for _, i := range es[1:] {
			uf.union(es[0], i)
		}
	}
	for _, p := range cross {
		for _, a := range atPos[p[0]] {
			for _, b := range atPos[p[1]] {
				if st.entries[a].class != st.entries[b].class {
					uf.union(a, b)
				}
			}
		}
	}
	compOf := map[int]int{}
	for i := range st.entries {
		e := &st.entries[i]
		if e.pre != "" {
			continue
		}
		root := uf.find(i)
		c, ok := compOf[root]
		if !ok {
			c = len(st.groups)
			compOf[root] = c
			st.groups = append(st.groups, nil)
		}
		e.comp = c
		st.groups[c] = append(st.groups[c], i)
	}
	return nil
}

// Run curates every class: it hashes new raw files, groups near-duplicates
// within and across classes, applies the quality filters and the review
// journal, and writes curated/<slug>.jsonl for each class,
// curated/_hashes.jsonl and curated/report.html. classes are the class names
// in config order (the order keep-first uses).
func Run(ctx context.Context, workspace string, classes []string, opts ...Option) (*Report, error) {
	s, err := newSettings(opts)
	if err != nil {
		return nil, err
	}
	st, err := build(ctx, workspace, classes, s)
	if err != nil {
		return nil, err
	}
	review, err := readReviewState(workspace)
	if err != nil {
		return nil, err
	}
	decs := st.decide(review)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := st.commitDecisions(decs, nil); err != nil {
		return nil, err
	}
	rep := st.report(decs)
	if err := writeReportHTML(ReportPath(workspace), st, decs, rep); err != nil {
		return nil, err
	}
	return rep, nil
}

type unionFind []int

func newUnionFind(n int) unionFind {
	u := make(unionFind, n)
	for i := range u {
		u[i] = i
	}
	return u
}

func (u unionFind) find(x int) int {
	for u[x] != x {
		u[x] = u[u[x]]
		x = u[x]
	}
	return x
}

func (u unionFind) union(a, b int) {
	ra, rb := u.find(a), u.find(b)
	if ra != rb {
		if ra < rb {
			u[rb] = ra
		} else {
			u[ra] = rb
		}
	}
}

// commitDecisions writes the decisions of the classes in only (all when
// nil) as one generation (manifests.WriteDecisionSet): a kill never leaves
// some classes' decisions new and others old.
func (st *state) commitDecisions(decs [][]manifests.Decision, only []int) error {
	if only == nil {
		for ci := range st.classes {
			only = append(only, ci)
		}
	}
	set := map[string][]manifests.Decision{}
	for _, ci := range only {
		set[st.slugs[ci]] = decs[ci]
	}
	return manifests.WriteDecisionSet(st.workspace, set)
}
