package dataset

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/chara-dev/chara/internal/atomicfile"
	"github.com/chara-dev/chara/manifests"
)

// Errors of Build.
var (
	// ErrBadOption reports an invalid option value.
	ErrBadOption = errors.New("invalid dataset option")
	// ErrNoClasses is returned when the class list is empty.
	ErrNoClasses = errors.New("no classes")
	// ErrShort is wrapped by *ShortError.
	ErrShort = errors.New("not enough images")
	// ErrEmptySplit is returned when a class would have fewer validation or
	// test images than WithMinEval asks.
	ErrEmptySplit = errors.New("too few validation or test images")
)

// Shortage is one class with fewer kept images than needed.
type Shortage struct {
	Class string
	Have  int
	Need  int
}

// ShortError lists every class that has fewer kept images than per_class.
type ShortError struct{ Classes []Shortage }

func (e *ShortError) Error() string {
	parts := make([]string, len(e.Classes))
	for i, s := range e.Classes {
		parts[i] = fmt.Sprintf("%s lacks %d (has %d of %d)", s.Class, s.Need-s.Have, s.Have, s.Need)
	}
	return fmt.Sprintf("not enough kept images: %s; scrape more, lower images.per_class, or pass --allow-fewer or --oversample",
		strings.Join(parts, "; "))
}

func (e *ShortError) Unwrap() error { return ErrShort }

// ClassStats is the outcome for one class.
type ClassStats struct {
	Class      string
	Label      int
	Kept       int // kept images in the curation decisions
	Counts     manifests.SplitCounts
	Target     manifests.SplitCounts // exact counts asked for
	Repeats    int                   // oversampled training rows
	Borrowed   int                   // images placed off their preferred side
	Moved      int                   // images on another side than in the previous build
	Added      int                   // images not in the previous build
	Dropped    int                   // images of the previous build no longer in it
	Inexact    bool                  // groups made the exact counts impossible
	GroupCount int                   // groups among the chosen images
}

// Result is what Build made.
type Result struct {
	Dir       string
	Version   string
	PerClass  int
	Classes   []manifests.Class
	Stats     []ClassStats // in label order
	Moved     int
	Processed int // images resized now
	Reused    int // images found already processed
	Pruned    int // processed images deleted: made with other settings
	Removed   []string
	Notes     []string
}

// Build makes (or remakes) datasets/<name> in the workspace from the
// curation decisions of the classes, see the package documentation and
// plan.go for the rules. Rerunning with the same inputs and options writes
// byte-identical manifests and reuses the processed images.
func Build(ctx context.Context, workspace, name string, classes []string, opts ...Option) (*Result, error) {
	o := defaultOptions()
	for _, f := range opts {
		f(&o)
	}
	if err := o.validate(); err != nil {
		return nil, err
	}
	if err := manifests.CheckDatasetName(name); err != nil {
		return nil, err
	}
	if len(classes) == 0 {
		return nil, ErrNoClasses
	}
	if err := manifests.CheckSlugs(classes); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, c := range classes {
		if seen[c] {
			return nil, fmt.Errorf("class %q listed twice", c)
		}
		seen[c] = true
	}
	dir := manifests.DatasetDir(workspace, name)
	b := &builder{ctx: ctx, o: o, ws: workspace, dir: dir}
	return b.run(classes)
}

type builder struct {
	ctx   context.Context
	o     options
	ws    string
	dir   string
	cache map[string]cacheEntry
}

// classInput is the loaded input of one class.
type classInput struct {
	name  string
	slug  string
	decs  []manifests.Decision // kept, sorted by sha256
	cands []candidate
}

func (b *builder) loadClass(name string) (*classInput, error) {
	slug, err := manifests.Slug(name)
	if err != nil {
		return nil, err
	}
	ci := &classInput{name: name, slug: slug}
	path := manifests.DecisionsPath(b.ws, slug)
	decs, err := manifests.ReadDecisions(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	for i, d := range decs {
		if d.Decision != manifests.Keep {
			continue
		}
		if d.Class != name {
			return nil, &manifests.RecordError{File: path, Line: i + 1, Field: "class",
				Err: fmt.Errorf("decision for class %q in the file of %q", d.Class, name)}
		}
		ci.decs = append(ci.decs, d)
	}
	sort.Slice(ci.decs, func(i, j int) bool { return ci.decs[i].SHA256 < ci.decs[j].SHA256 })
	return ci, nil
}

// makeCandidates indexes the kept decisions for planning. Decision
// validation has already checked that every pHash is 16 hex digits.
func (ci *classInput) makeCandidates() {
	ci.cands = ci.cands[:0]
	for i, d := range ci.decs {
		c := candidate{SHA256: d.SHA256, Group: d.Group, Index: i}
		if v, err := strconv.ParseUint(d.PHash, 16, 64); d.PHash != "" && err == nil {
			c.PHash, c.HasPH = v, true
		}
		ci.cands = append(ci.cands, c)
	}
}

func (b *builder) run(names []string) (*Result, error) {
	o := &b.o
	// Finish (or undo) a curation commit that a kill interrupted, so that
	// every class's decisions are of one generation.
	if _, err := manifests.RecoverDecisions(b.ws); err != nil {
		return nil, err
	}
	// Temp files of a build that was killed mid-write.
	for _, d := range []string{b.dir, manifests.DatasetImagesDir(b.dir)} {
		if _, err := atomicfile.CleanTemp(d); err != nil {
			return nil, err
		}
	}
	inputs := make([]*classInput, len(names))
	for i, n := range names {
		ci, err := b.loadClass(n)
		if err != nil {
			return nil, err
		}
		inputs[i] = ci
	}
	if err := b.ctx.Err(); err != nil {
		return nil, err
	}
	res := &Result{Dir: b.dir}
	// An image kept in two classes (curation's cross_class: keep) cannot
	// have one label: leave it out of both.
	classesOf := map[string]int{}
	for _, ci := range inputs {
		for _, d := range ci.decs {
			classesOf[d.SHA256]++
		}
	}
	ambiguous := map[string]bool{}
	for _, ci := range inputs {
		kept := ci.decs[:0]
		for _, d := range ci.decs {
			if classesOf[d.SHA256] > 1 {
				ambiguous[d.SHA256] = true
				continue
			}
			kept = append(kept, d)
		}
		ci.decs = kept
		ci.makeCandidates()
	}
	if len(ambiguous) > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("%d kept images belong to more than one class and were left out", len(ambiguous)))
	}

	// How many per class.
	perClass := o.perClass
	var short []Shortage
	smallest := -1
	for _, ci := range inputs {
		if len(ci.cands) < perClass {
			short = append(short, Shortage{Class: ci.name, Have: len(ci.cands), Need: perClass})
		}
		if smallest < 0 || len(ci.cands) < smallest {
			smallest = len(ci.cands)
		}
	}
	if len(short) > 0 {
		switch {
		case o.allowFewer:
			perClass = smallest
			res.Notes = append(res.Notes, fmt.Sprintf("--allow-fewer: every class cut to %d images (the smallest class)", perClass))
		case o.oversample:
			for _, s := range short {
				res.Notes = append(res.Notes, fmt.Sprintf("--oversample: %s has %d of %d; its training images repeat", s.Class, s.Have, s.Need))
			}
		default:
			return nil, &ShortError{Classes: short}
		}
		for _, s := range short {
			if s.Have == 0 {
				return nil, &ShortError{Classes: []Shortage{s}}
			}
		}
	}
	res.PerClass = perClass

	// Labels: the previous order, new classes appended.
	var prevClasses []manifests.Class
	classesPath := manifests.ClassesPath(b.dir)
	if pc, err := manifests.ReadClasses(classesPath); err == nil {
		prevClasses = pc
	} else if !errors.Is(err, fs.ErrNotExist) {
		res.Notes = append(res.Notes, fmt.Sprintf("previous classes.json ignored: %v", err))
	}
	order, removed := labelOrder(prevClasses, names)
	res.Removed = removed
	if len(removed) > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("classes removed from the dataset: %s (labels after them shift)", strings.Join(removed, ", ")))
	}
	byName := map[string]*classInput{}
	for _, ci := range inputs {
		byName[ci.name] = ci
	}
	fr := toFractions(o.train, o.val, o.test)

	// Plan every class.
	type planned struct {
		ci   *classInput
		plan *classPlan
		n    int
	}
	plans := make([]planned, len(order))
	for label, name := range order {
		ci := byName[name]
		n := min(perClass, len(ci.cands))
		plans[label] = planned{ci: ci, plan: planClass(o.seed, ci.name, ci.cands, n, o.groupThreshold, fr), n: n}
		res.Classes = append(res.Classes, manifests.Class{Label: label, Name: name, Slug: ci.slug})
	}

	// No class without validation or test images: checked before any
	// image is processed.
	var counts []ClassStats
	for _, p := range plans {
		counts = append(counts, ClassStats{Class: p.ci.name, Counts: manifests.SplitCounts{
			Train: len(p.plan.Sides[0]), Val: len(p.plan.Sides[1]), Test: len(p.plan.Sides[2])}})
	}
	if err := checkMinEval(counts, o.minEval); err != nil {
		return nil, err
	}

	// Process every chosen image.
	var jobs []*job
	for _, p := range plans {
		for side := range p.plan.Sides {
			for _, idx := range p.plan.Sides[side] {
				jobs = append(jobs, &job{dec: p.ci.decs[idx]})
			}
		}
	}
	b.cache = b.loadCache()
	if err := b.process(jobs, b.cache, res); err != nil {
		return nil, err
	}
	done := map[string]*job{}
	for _, j := range jobs {
		done[j.dec.SHA256] = j
	}

	// Rows.
	prev := b.previousRows()
	rows := [3][]manifests.SplitRow{}
	groups := map[string]GroupInfo{}
	for label, p := range plans {
		st := ClassStats{Class: p.ci.name, Label: label, Kept: len(p.ci.cands), Borrowed: p.plan.Borrowed, Inexact: p.plan.Inexact}
		st.Target = manifests.SplitCounts{Train: p.plan.Target[0], Val: p.plan.Target[1], Test: p.plan.Target[2]}
		gs := map[string]bool{}
		now := map[string]bool{}
		for side := range p.plan.Sides {
			for _, idx := range p.plan.Sides[side] {
				d := p.ci.decs[idx]
				rows[side] = append(rows[side], rowFor(d, done[d.SHA256], label, manifests.Splits[side]))
				g := p.plan.GroupOf[idx]
				groups[d.SHA256] = GroupInfo{Group: g}
				gs[g] = true
				now[d.SHA256] = true
				if pr, ok := prev[d.SHA256]; !ok || pr.Class != p.ci.name {
					st.Added++
				} else if pr.Split != manifests.Splits[side] {
					st.Moved++
				}
			}
		}
		for sha, pr := range prev {
			if pr.Class == p.ci.name && !now[sha] && !pr.repeat {
				st.Dropped++
			}
		}
		st.GroupCount = len(gs)
		if p.plan.Inexact {
			res.Notes = append(res.Notes, fmt.Sprintf("%s: near-duplicate groups made the exact split counts impossible", p.ci.name))
		}
		// Oversampling: repeat training images up to the class total.
		nTrain := len(p.plan.Sides[0])
		need := perClass - nTrain - len(p.plan.Sides[1]) - len(p.plan.Sides[2])
		if o.oversample && need > 0 && nTrain > 0 {
			train := rows[0][len(rows[0])-nTrain:]
			reps, origs, err := b.repeat(train, need)
			if err != nil {
				return nil, err
			}
			for i, r := range reps {
				groups[r.SHA256] = GroupInfo{Group: groups[origs[i]].Group, RepeatOf: origs[i]}
			}
			rows[0] = append(rows[0], reps...)
			st.Repeats = len(reps)
		}
		st.Counts = manifests.SplitCounts{
			Train: nTrain + st.Repeats, Val: len(p.plan.Sides[1]), Test: len(p.plan.Sides[2]),
		}
		res.Stats = append(res.Stats, st)
		res.Moved += st.Moved
	}
	if err := b.ctx.Err(); err != nil {
		return nil, err
	}
	if err := b.write(res, rows, groups); err != nil {
		return nil, err
	}
	if err := b.prune(res, rows); err != nil {
		return nil, err
	}
	return res, nil
}

// checkMinEval refuses a dataset in which a class has fewer than n images
// in val or in test: its scores would be empty or meaningless.
func checkMinEval(stats []ClassStats, n int) error {
	var bad []string
	for _, st := range stats {
		if st.Counts.Val < n || st.Counts.Test < n {
			bad = append(bad, fmt.Sprintf("%s (%d val, %d test)", st.Class, st.Counts.Val, st.Counts.Test))
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s; every class needs at least %d in each (more images, larger val/test fractions, or split.min_eval)",
		ErrEmptySplit, strings.Join(bad, ", "), n)
}
