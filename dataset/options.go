// Package dataset builds chara's datasets from curation decisions: it
// balances the classes to an exact count, resizes the images, splits them
// into train, val and test (stratified, exact, group-aware and stable), and
// writes the manifests of package manifests. It also verifies a dataset on
// disk and exports it as an image-folder tree.
//
// Every function takes its settings as functional options with the
// defaults of chara.yaml; library code never prints (progress goes through
// a progress.Reporter).
package dataset

import (
	"fmt"
	"image/color"
	"runtime"
	"time"

	"github.com/chara-dev/chara/internal/progress"
	"github.com/chara-dev/chara/internal/recipe"
	"github.com/chara-dev/chara/manifests"
)

// Defaults, the same as chara.yaml's.
const (
	DefaultPerClass       = 800
	DefaultGroupThreshold = -1 // the split keeps curation's groups and groups nothing again
	DefaultSeed           = 42
	DefaultMinEval        = 1 // images of each class in val and in test, at least
)

// Fit modes and storage formats, as the recipe names them.
const (
	FitPad     = manifests.FitPad
	FitCrop    = manifests.FitCrop
	FitStretch = manifests.FitStretch
	FormatJPEG = manifests.FormatJPEG
	FormatPNG  = manifests.FormatPNG
)

type options struct {
	reporter       progress.Reporter
	seed           int64
	perClass       int
	recipe         manifests.Recipe // the preprocessing: size, fit, pad, storage
	rc             *recipe.Recipe   // recipe, checked (validate)
	train          float64
	val            float64
	test           float64
	groupThreshold int
	allowFewer     bool
	minEval        int
	oversample     bool
	workers        int
	toolVersion    string
	maxPixels      int64
	now            func() time.Time
	extraConfig    map[string]any
}

func defaultOptions() options {
	return options{
		reporter:       progress.Nop(),
		seed:           DefaultSeed,
		perClass:       DefaultPerClass,
		recipe:         recipe.Default(),
		train:          0.70,
		val:            0.15,
		test:           0.15,
		groupThreshold: DefaultGroupThreshold,
		minEval:        DefaultMinEval,
		workers:        runtime.GOMAXPROCS(0),
		toolVersion:    "dev",
		now:            time.Now,
	}
}

// Option configures Build.
type Option func(*options)

// WithReporter sends progress (the resize bar) and log lines to r.
func WithReporter(r progress.Reporter) Option {
	return func(o *options) {
		if r != nil {
			o.reporter = r
		}
	}
}

// WithSeed sets the seed of every keyed choice (selection and split).
func WithSeed(seed int64) Option { return func(o *options) { o.seed = seed } }

// WithPerClass sets the exact number of images per class (images.per_class).
func WithPerClass(n int) Option { return func(o *options) { o.perClass = n } }

// WithSize sets the processed image size, height x width.
func WithSize(height, width int) Option {
	return func(o *options) { o.recipe.Height, o.recipe.Width = height, width }
}

// WithFit sets the fit mode: FitPad, FitCrop or FitStretch.
func WithFit(fit string) Option { return func(o *options) { o.recipe.Fit = fit } }

// WithMinEval sets how many images every class must have in val and in
// test (default 1; 0 allows an empty split): Build refuses fewer
// (ErrEmptySplit) and Verify reports it.
func WithMinEval(n int) Option { return func(o *options) { o.minEval = n } }

// WithFractions sets the split fractions (they must add up to 1).
func WithFractions(train, val, test float64) Option {
	return func(o *options) { o.train, o.val, o.test = train, val, test }
}

// WithGroupThreshold sets a pHash distance at or below which two kept
// images also stay on one side of the split (split.group_threshold). The
// default, negative, groups nothing again: curation has grouped the
// near-duplicates once (every kept image is its own group's kept copy), and
// grouping kept images by pHash alone joins look-alikes into chains that can
// swallow a class.
func WithGroupThreshold(d int) Option { return func(o *options) { o.groupThreshold = d } }

// WithAllowFewer cuts every class to the smallest instead of failing when a
// class has fewer than per_class images.
func WithAllowFewer(b bool) Option { return func(o *options) { o.allowFewer = b } }

// WithOversample fills short classes by repeating training images (val and
// test never repeat) instead of failing.
func WithOversample(b bool) Option { return func(o *options) { o.oversample = b } }

// WithFormat sets the processed image format: FormatJPEG (default) or
// FormatPNG; quality is the JPEG quality (1..100).
func WithFormat(format string, quality int) Option {
	return func(o *options) { o.recipe.Format, o.recipe.Quality = format, quality }
}

// WithPad sets the padding colour of FitPad (default white).
func WithPad(c color.NRGBA) Option {
	return func(o *options) { o.recipe.Pad = fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B) }
}

// WithRecipe sets the whole preprocessing recipe (size, fit, pad, decode,
// storage); WithSize, WithFit, WithPad and WithFormat edit parts of it.
func WithRecipe(r manifests.Recipe) Option { return func(o *options) { o.recipe = r } }

// WithWorkers sets how many images are processed at once (default
// GOMAXPROCS).
func WithWorkers(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.workers = n
		}
	}
}

// WithToolVersion records the chara version in dataset.json.
func WithToolVersion(v string) Option { return func(o *options) { o.toolVersion = v } }

// WithMaxPixels refuses source images above n pixels (default: imageio's).
func WithMaxPixels(n int64) Option { return func(o *options) { o.maxPixels = n } }

// WithClock sets the clock used for dataset.json's created_at (tests).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithConfig adds entries to the config recorded in dataset.json.
func WithConfig(m map[string]any) Option {
	return func(o *options) {
		if o.extraConfig == nil {
			o.extraConfig = map[string]any{}
		}
		for k, v := range m {
			o.extraConfig[k] = v
		}
	}
}

func (o *options) validate() error {
	if o.perClass <= 0 {
		return fmt.Errorf("%w: per_class must be positive, got %d", ErrBadOption, o.perClass)
	}
	if r := o.recipe; r.Height <= 0 || r.Width <= 0 || r.Height > 4096 || r.Width > 4096 {
		return fmt.Errorf("%w: image size %dx%d out of range", ErrBadOption, r.Height, r.Width)
	}
	rc, err := recipe.New(o.recipe, false)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadOption, err)
	}
	o.rc = rc
	if o.train <= 0 || o.val < 0 || o.test < 0 {
		return fmt.Errorf("%w: split fractions must be non-negative and train positive", ErrBadOption)
	}
	if s := o.train + o.val + o.test; s < 0.999 || s > 1.001 {
		return fmt.Errorf("%w: split fractions add up to %v, want 1", ErrBadOption, s)
	}
	if o.minEval < 0 {
		return fmt.Errorf("%w: min_eval must be 0 or more, got %d", ErrBadOption, o.minEval)
	}
	if o.allowFewer && o.oversample {
		return fmt.Errorf("%w: allow-fewer and oversample exclude each other", ErrBadOption)
	}
	return nil
}
