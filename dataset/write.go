package dataset

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/chara-dev/chara/internal/atomicfile"
	"github.com/chara-dev/chara/manifests"
)

// GroupsFile is the name of the dataset's side file (manifests.GroupsPath)
// mapping every row's sha256 to its split group (and an oversampled row to
// the row it repeats). verify uses it to check that no group straddles two
// splits.
var GroupsFile = filepath.Base(manifests.GroupsPath(""))

// GroupInfo is one entry of groups.json.
type GroupInfo struct {
	Group    string `json:"group"`
	RepeatOf string `json:"repeat_of,omitempty"`
}

type cacheEntry struct {
	File   string `json:"file"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
}

// job is one image to bring into the dataset.
type job struct {
	dec    manifests.Decision
	file   string // processed file name inside images/
	w, h   int    // source size as displayed
	reused bool
}

func (b *builder) cacheKey(sha string) string { return sha + b.settingsKey() }

// settingsKey is the part of a cache key that names the preprocessing.
func (b *builder) settingsKey() string {
	r := b.o.recipe
	return fmt.Sprintf("|%dx%d|%s|%s|%d|%s|%s|%s|%t%t|%s", r.Height, r.Width, r.Fit, r.Format, r.Quality,
		r.Pad, r.Resample, r.Version, r.Decode.Orient, r.Decode.JPEGEighth, r.Encoder)
}

// prune deletes processed images that neither the manifests nor the cache
// entries of the current settings name (images made with another size or
// fit, say), and interrupted writes' temp files. Images that left the
// dataset but fit the current settings stay, for a later rebuild.
func (b *builder) prune(res *Result, rows [3][]manifests.SplitRow) error {
	keep := map[string]bool{}
	for _, rs := range rows {
		for _, r := range rs {
			keep[filepath.Base(r.Path)] = true
		}
	}
	suffix := b.settingsKey()
	changed := false
	for k, e := range b.cache {
		if strings.HasSuffix(k, suffix) {
			keep[e.File] = true
		} else {
			delete(b.cache, k)
			changed = true
		}
	}
	imgDir := manifests.DatasetImagesDir(b.dir)
	if _, err := atomicfile.CleanTemp(imgDir); err != nil {
		return err
	}
	ents, err := os.ReadDir(imgDir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if e.Type().IsRegular() && !keep[e.Name()] && !strings.HasPrefix(e.Name(), ".") {
			if err := os.Remove(filepath.Join(imgDir, e.Name())); err != nil {
				return fmt.Errorf("prune: %w", err)
			}
			res.Pruned++
		}
	}
	if changed {
		return b.writeCache(b.cache)
	}
	return nil
}

func (b *builder) loadCache() map[string]cacheEntry {
	m := map[string]cacheEntry{}
	raw, err := os.ReadFile(manifests.BuildCachePath(b.dir))
	if err != nil {
		return m
	}
	if json.Unmarshal(raw, &m) != nil {
		return map[string]cacheEntry{}
	}
	return m
}

// process brings every job's image into images/: reused when the cache
// names an existing file, otherwise decoded, preprocessed, encoded and
// written atomically by a pool of workers.
func (b *builder) process(jobs []*job, cache map[string]cacheEntry, res *Result) error {
	imgDir := manifests.DatasetImagesDir(b.dir)
	if err := os.MkdirAll(imgDir, 0o755); err != nil {
		return err
	}
	var pending []*job
	for _, j := range jobs {
		if e, ok := cache[b.cacheKey(j.dec.SHA256)]; ok && manifests.CheckPlainName(e.File) == nil {
			if _, err := os.Stat(filepath.Join(imgDir, e.File)); err == nil {
				if err := checkSource(b.ws, j.dec); err != nil {
					return err
				}
				j.file, j.w, j.h, j.reused = e.File, e.Width, e.Height, true
				res.Reused++
				continue
			}
		}
		pending = append(pending, j)
	}
	if len(pending) == 0 {
		return nil
	}
	task := b.o.reporter.Start("resize", int64(len(pending)))
	defer task.Done()
	ctx, cancel := context.WithCancel(b.ctx)
	defer cancel()
	ch := make(chan *job)
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	for w := 0; w < b.o.workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range ch {
				if err := b.processOne(j, imgDir); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					cancel()
					continue
				}
				task.Add(1)
			}
		}()
	}
feed:
	for _, j := range pending {
		select {
		case ch <- j:
		case <-ctx.Done():
			break feed
		}
	}
	close(ch)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	if err := b.ctx.Err(); err != nil {
		return err
	}
	for _, j := range pending {
		cache[b.cacheKey(j.dec.SHA256)] = cacheEntry{File: j.file, Width: j.w, Height: j.h}
	}
	res.Processed += len(pending)
	return b.writeCache(cache)
}

func (b *builder) processOne(j *job, imgDir string) error {
	src := filepath.Join(b.ws, filepath.FromSlash(j.dec.File))
	raw, err := readSource(b.ws, j.dec)
	if err != nil {
		return err
	}
	out, info, err := b.o.rc.Load(raw, b.o.maxPixels)
	if err != nil {
		return fmt.Errorf("%s: %w", src, err)
	}
	w, h := info.Width, info.Height
	enc, err := b.o.rc.Encode(out)
	if err != nil {
		return fmt.Errorf("encode %s: %w", src, err)
	}
	name := hashName(enc, b.o.rc.Ext())
	if err := writeIfMissing(filepath.Join(imgDir, name), enc); err != nil {
		return err
	}
	j.file, j.w, j.h = name, w, h
	return nil
}

// writeIfMissing writes a content-named file atomically unless it exists.
func writeIfMissing(path string, b []byte) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	return atomicfile.WriteFile(path, b, 0o644)
}

func (b *builder) writeCache(cache map[string]cacheEntry) error {
	return writeJSONFile(manifests.BuildCachePath(b.dir), cache)
}

func writeJSONFile(path string, v any) error {
	raw, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	return atomicfile.WriteFile(path, append(raw, '\n'), 0o644)
}

func rowFor(d manifests.Decision, j *job, label int, split manifests.Split) manifests.SplitRow {
	w, h := j.w, j.h
	if w <= 0 || h <= 0 {
		w, h = d.Width, d.Height
	}
	return manifests.SplitRow{
		Path: "images/" + j.file, Label: label, Class: d.Class, Split: split, SHA256: d.SHA256,
		PHash: d.PHash, Width: w, Height: h, Source: d.Source, PostID: d.PostID,
	}
}

// repeat makes need oversampled copies of the training rows, cycling
// through them in order: each copy is the processed file with a comment
// added (the same pixels, its own bytes and name). It returns the rows and,
// for each, the sha256 of the row it repeats.
func (b *builder) repeat(train []manifests.SplitRow, need int) ([]manifests.SplitRow, []string, error) {
	reps := make([]manifests.SplitRow, 0, need)
	origs := make([]string, 0, need)
	cache := map[string][]byte{}
	for k := 0; k < need; k++ {
		orig := train[k%len(train)]
		round := k/len(train) + 1
		data, ok := cache[orig.Path]
		if !ok {
			var err error
			if data, err = os.ReadFile(filepath.Join(b.dir, filepath.FromSlash(orig.Path))); err != nil {
				return nil, nil, err
			}
			cache[orig.Path] = data
		}
		marked, err := withMarker(data, b.o.recipe.Format, fmt.Sprintf("chara repeat %d of %s", round, orig.SHA256))
		if err != nil {
			return nil, nil, fmt.Errorf("repeat %s: %w", orig.Path, err)
		}
		name := hashName(marked, b.o.rc.Ext())
		if err := writeIfMissing(filepath.Join(manifests.DatasetImagesDir(b.dir), name), marked); err != nil {
			return nil, nil, err
		}
		r := orig
		r.Path = "images/" + name
		r.SHA256 = strings.TrimSuffix(name, b.o.rc.Ext())
		reps = append(reps, r)
		origs = append(origs, orig.SHA256)
	}
	return reps, origs, nil
}

// prevRow is a row of the previous build.
type prevRow struct {
	Class  string
	Split  manifests.Split
	repeat bool
}

// previousRows reads the manifests of the previous build, if any, to count
// the moves. A missing or unreadable manifest counts as empty.
func (b *builder) previousRows() map[string]prevRow {
	m := map[string]prevRow{}
	for _, s := range manifests.Splits {
		rows, err := manifests.ReadSplit(filepath.Join(b.dir, string(s)+".csv"), s)
		if err != nil {
			continue
		}
		for _, r := range rows {
			stem := strings.TrimSuffix(filepath.Base(r.Path), filepath.Ext(r.Path))
			m[r.SHA256] = prevRow{Class: r.Class, Split: s, repeat: stem == r.SHA256}
		}
	}
	return m
}

// labelOrder keeps the previous classes' labels (in their order) for the
// classes still listed, and appends new classes in list order.
func labelOrder(prev []manifests.Class, names []string) (order, removed []string) {
	listed := map[string]bool{}
	for _, n := range names {
		listed[n] = true
	}
	had := map[string]bool{}
	for _, c := range prev {
		had[c.Name] = true
		if listed[c.Name] {
			order = append(order, c.Name)
		} else {
			removed = append(removed, c.Name)
		}
	}
	for _, n := range names {
		if !had[n] {
			order = append(order, n)
		}
	}
	return order, removed
}

// write stores the manifests, classes.json, groups.json and, last,
// dataset.json (so that a crash before it leaves a dataset that ReadDataset
// refuses rather than a wrong one).
func (b *builder) write(res *Result, rows [3][]manifests.SplitRow, groups map[string]GroupInfo) error {
	o := &b.o
	var raw [4][]byte
	for side, s := range manifests.Splits {
		rs := rows[side]
		sort.Slice(rs, func(i, j int) bool {
			if rs[i].Label != rs[j].Label {
				return rs[i].Label < rs[j].Label
			}
			return rs[i].SHA256 < rs[j].SHA256
		})
		p := filepath.Join(b.dir, string(s)+".csv")
		if err := manifests.WriteSplit(p, rs); err != nil {
			return err
		}
	}
	if err := manifests.WriteClasses(manifests.ClassesPath(b.dir), res.Classes); err != nil {
		return err
	}
	for i, p := range []string{manifests.SplitPath(b.dir, manifests.Train), manifests.SplitPath(b.dir, manifests.Val), manifests.SplitPath(b.dir, manifests.Test), manifests.ClassesPath(b.dir)} {
		var err error
		if raw[i], err = os.ReadFile(p); err != nil {
			return err
		}
	}
	if err := writeJSONFile(manifests.GroupsPath(b.dir), groups); err != nil {
		return err
	}
	res.Version = manifests.DatasetVersion(raw[0], raw[1], raw[2], raw[3])
	card := &manifests.Card{
		Name:        filepath.Base(b.dir),
		Version:     res.Version,
		ToolVersion: o.toolVersion,
		CreatedAt:   o.now().UTC(),
		Seed:        o.seed,
		Recipe:      o.recipe,
		Counts:      map[string]manifests.SplitCounts{},
		Moved:       res.Moved,
		Notes:       res.Notes,
		Config: map[string]any{
			"per_class":       o.perClass,
			"per_class_used":  res.PerClass,
			"train":           o.train,
			"val":             o.val,
			"test":            o.test,
			"group_threshold": o.groupThreshold,
			"min_eval":        o.minEval,
			"allow_fewer":     o.allowFewer,
			"oversample":      o.oversample,
		},
	}
	for k, v := range o.extraConfig {
		if _, ok := card.Config[k]; !ok {
			card.Config[k] = v
		}
	}
	for _, st := range res.Stats {
		card.Counts[st.Class] = st.Counts
	}
	cardPath := manifests.CardPath(b.dir)
	if old, err := manifests.ReadCard(cardPath); err == nil && old.Version == card.Version {
		card.CreatedAt = old.CreatedAt
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		res.Notes = append(res.Notes, fmt.Sprintf("previous dataset.json ignored: %v", err))
	}
	return manifests.WriteCard(cardPath, card)
}
