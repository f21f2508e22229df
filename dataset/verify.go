package dataset

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // processed images
	_ "image/png"
	"io"
	"io/fs"
	"math/bits"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/chara-dev/chara/manifests"
)

// Problem is one thing wrong with a dataset on disk.
type Problem struct {
	File string // the file at fault (a manifest or an image)
	Line int    // manifest line, 0 if none
	Msg  string
}

func (p Problem) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg)
	}
	return fmt.Sprintf("%s: %s", p.File, p.Msg)
}

// VerifyOption configures Verify.
type VerifyOption func(*verifyOptions)

type verifyOptions struct {
	ctx       context.Context
	skipFiles bool
	maxProbs  int
}

// VerifyContext lets Verify stop on ctx's cancellation.
func VerifyContext(ctx context.Context) VerifyOption {
	return func(o *verifyOptions) { o.ctx = ctx }
}

// VerifySkipFiles checks the manifests only, not the image files.
func VerifySkipFiles() VerifyOption { return func(o *verifyOptions) { o.skipFiles = true } }

// Verify checks the dataset in dir: the manifests, classes.json and
// dataset.json parse and agree (labels, counts, version); every class has
// at least min_eval validation and test images; every image file
// exists, is named by its own sha256 and has the dataset's size; no sha256
// and no split group appears in two splits, and no two images of a class
// within the card's group threshold sit on different sides. It returns the
// problems found (none means the dataset is sound); the error is for
// verification that could not run (cancelled).
func Verify(dir string, opts ...VerifyOption) ([]Problem, error) {
	o := verifyOptions{ctx: context.Background(), maxProbs: 1000}
	for _, f := range opts {
		f(&o)
	}
	var probs []Problem
	add := func(file string, line int, format string, args ...any) {
		probs = append(probs, Problem{File: file, Line: line, Msg: fmt.Sprintf(format, args...)})
	}
	addErr := func(file string, err error) {
		var re *manifests.RecordError
		if errors.As(err, &re) {
			msg := re.Err.Error()
			if re.Field != "" {
				msg = fmt.Sprintf("field %q: %s", re.Field, msg)
			}
			add(re.File, re.Line, "%s", msg)
			return
		}
		add(file, 0, "%v", err)
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		add(dir, 0, "not a dataset folder")
		return probs, nil
	}
	classesPath := manifests.ClassesPath(dir)
	classes, err := manifests.ReadClasses(classesPath)
	if err != nil {
		addErr(classesPath, err)
	}
	cardPath := manifests.CardPath(dir)
	card, err := manifests.ReadCard(cardPath)
	if err != nil {
		addErr(cardPath, err)
	}
	type located struct {
		row  manifests.SplitRow
		file string
		line int
	}
	var all []located
	var raw [4][]byte
	readAll := true
	for i, s := range manifests.Splits {
		p := filepath.Join(dir, string(s)+".csv")
		b, err := os.ReadFile(p)
		if err != nil {
			addErr(p, err)
			readAll = false
			continue
		}
		raw[i] = b
		rows, err := manifests.DecodeSplit(p, strings.NewReader(string(b)), s)
		if err != nil {
			addErr(p, err)
			readAll = false
			continue
		}
		for j, r := range rows {
			all = append(all, located{row: r, file: p, line: j + 2})
		}
	}
	if cb, err := os.ReadFile(classesPath); err == nil {
		raw[3] = cb
	} else {
		readAll = false
	}
	if card != nil && readAll {
		if v := manifests.DatasetVersion(raw[0], raw[1], raw[2], raw[3]); v != card.Version {
			add(cardPath, 0, "version %s but the manifests hash to %s (edited since the build?)", card.Version, v)
		}
	}

	// Labels and counts.
	counts := map[string]*manifests.SplitCounts{}
	for _, l := range all {
		r := l.row
		if classes != nil {
			if r.Label >= len(classes) || classes[r.Label].Name != r.Class {
				add(l.file, l.line, "label %d does not name class %q in classes.json", r.Label, r.Class)
			}
		}
		c := counts[r.Class]
		if c == nil {
			c = &manifests.SplitCounts{}
			counts[r.Class] = c
		}
		switch r.Split {
		case manifests.Train:
			c.Train++
		case manifests.Val:
			c.Val++
		case manifests.Test:
			c.Test++
		}
	}
	if card != nil {
		for class, want := range card.Counts {
			got := counts[class]
			if got == nil {
				got = &manifests.SplitCounts{}
			}
			if *got != want {
				add(cardPath, 0, "class %q: card counts %+v, manifests hold %+v", class, want, *got)
			}
		}
		for class := range counts {
			if _, ok := card.Counts[class]; !ok {
				add(cardPath, 0, "class %q is in the manifests but not in the card's counts", class)
			}
		}
	}

	// Every class has validation and test images: at least the card's
	// min_eval (1 for datasets built before it was recorded).
	if classes != nil {
		minEval := DefaultMinEval
		if card != nil {
			if v, ok := card.Config["min_eval"].(float64); ok {
				minEval = int(v)
			}
		}
		for _, c := range classes {
			got := counts[c.Name]
			if got == nil {
				got = &manifests.SplitCounts{}
			}
			for _, sc := range []struct {
				split manifests.Split
				n     int
			}{{manifests.Val, got.Val}, {manifests.Test, got.Test}} {
				if sc.n < minEval {
					add(filepath.Join(dir, string(sc.split)+".csv"), 0, "class %q has %d %s images, fewer than min_eval %d", c.Name, sc.n, sc.split, minEval)
				}
			}
		}
	}

	// No sha256 or path in two splits (within one split, DecodeSplit
	// already refuses repeats).
	firstSHA := map[string]located{}
	firstPath := map[string]located{}
	for _, l := range all {
		if f, ok := firstSHA[l.row.SHA256]; ok {
			add(l.file, l.line, "sha256 %s is also in %s (line %d)", l.row.SHA256, filepath.Base(f.file), f.line)
		} else {
			firstSHA[l.row.SHA256] = l
		}
		if f, ok := firstPath[l.row.Path]; ok {
			add(l.file, l.line, "path %s is also in %s (line %d)", l.row.Path, filepath.Base(f.file), f.line)
		} else {
			firstPath[l.row.Path] = l
		}
	}

	// Groups.
	groupsPath := manifests.GroupsPath(dir)
	var groups map[string]GroupInfo
	if b, err := os.ReadFile(groupsPath); err != nil {
		add(groupsPath, 0, "missing: cannot check split groups (%v)", err)
	} else if err := json.Unmarshal(b, &groups); err != nil {
		add(groupsPath, 0, "invalid JSON: %v", err)
		groups = nil
	}
	if groups != nil {
		groupSide := map[string]located{}
		for _, l := range all {
			gi, ok := groups[l.row.SHA256]
			if !ok {
				add(l.file, l.line, "sha256 %s has no entry in %s", l.row.SHA256, GroupsFile)
				continue
			}
			key := l.row.Class + "\x00" + gi.Group
			if f, ok := groupSide[key]; ok && f.row.Split != l.row.Split {
				add(l.file, l.line, "group %s of class %q is split: also in %s (line %d)", gi.Group, l.row.Class, filepath.Base(f.file), f.line)
			} else if !ok {
				groupSide[key] = l
			}
		}
	}

	// Near duplicates across splits, by the card's threshold.
	if card != nil {
		threshold := -1
		if v, ok := card.Config["group_threshold"].(float64); ok {
			threshold = int(v)
		}
		if threshold >= 0 {
			byClass := map[string][]located{}
			for _, l := range all {
				if l.row.PHash != "" {
					byClass[l.row.Class] = append(byClass[l.row.Class], l)
				}
			}
			for _, ls := range byClass {
				ph := make([]uint64, len(ls))
				for i, l := range ls {
					ph[i], _ = strconv.ParseUint(l.row.PHash, 16, 64)
				}
				for i := range ls {
					for j := i + 1; j < len(ls); j++ {
						if ls[i].row.Split != ls[j].row.Split && bits.OnesCount64(ph[i]^ph[j]) <= threshold {
							add(ls[j].file, ls[j].line, "near duplicate (pHash distance %d <= %d) of %s line %d on another side",
								bits.OnesCount64(ph[i]^ph[j]), threshold, filepath.Base(ls[i].file), ls[i].line)
						}
					}
				}
			}
		}
	}

	// Files.
	if !o.skipFiles {
		for _, l := range all {
			if err := o.ctx.Err(); err != nil {
				return probs, err
			}
			if len(probs) >= o.maxProbs {
				break
			}
			p := filepath.Join(dir, filepath.FromSlash(l.row.Path))
			if msg := checkFile(p, card); msg != "" {
				add(l.file, l.line, "%s: %s", l.row.Path, msg)
			}
			if gi, ok := groups[l.row.SHA256]; ok && gi.RepeatOf != "" {
				if stem := strings.TrimSuffix(filepath.Base(p), filepath.Ext(p)); stem != l.row.SHA256 {
					add(l.file, l.line, "repeated row's sha256 %s is not its file's name", l.row.SHA256)
				}
				if _, ok := firstSHA[gi.RepeatOf]; !ok {
					add(l.file, l.line, "repeats %s, which is not in the dataset", gi.RepeatOf)
				}
			}
		}
	}
	return probs, nil
}

// checkFile checks one processed image: it exists, its sha256 is its name,
// and it has the card's size. It returns "" when it is sound.
func checkFile(path string, card *manifests.Card) string {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "file missing"
		}
		return err.Error()
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return err.Error()
	}
	sum := hex.EncodeToString(h.Sum(nil))
	stem := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	if sum != stem {
		return fmt.Sprintf("content hashes to %s, not its name (changed since the build?)", sum[:16])
	}
	if card != nil {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err.Error()
		}
		cfg, _, err := image.DecodeConfig(f)
		if err != nil {
			return fmt.Sprintf("not a readable image: %v", err)
		}
		if cfg.Width != card.Recipe.Width || cfg.Height != card.Recipe.Height {
			return fmt.Sprintf("image is %dx%d (w x h), the card says %dx%d", cfg.Width, cfg.Height, card.Recipe.Width, card.Recipe.Height)
		}
	}
	return ""
}
