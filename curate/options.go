// Package curate turns the raw images of every class into decisions: which
// files are valid, which are near-duplicates of which (within and across
// classes), which fail a quality filter, which a person rejected, and which
// are kept. It writes curated/<class-slug>.jsonl, a hash cache
// (curated/_hashes.jsonl), curated/report.html, and serves the review page.
//
//	rep, err := curate.Run(ctx, workspace, classNames, curate.FromConfig(cfg.Curate), curate.WithReporter(r))
//	n, err := curate.Import(ctx, workspace, "Nakano Miku", "/photos/miku")
//	h, err := curate.NewReviewServer(workspace, classNames, curate.FromConfig(cfg.Curate))
package curate

import (
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/chara-dev/chara/internal/config"
	"github.com/chara-dev/chara/internal/imageio"
	"github.com/chara-dev/chara/internal/progress"
)

// CrossClass is what happens to a near-duplicate group that spans classes.
type CrossClass string

const (
	// CrossExclude marks every member ambiguous: kept in no class (default).
	CrossExclude CrossClass = "exclude"
	// CrossKeepFirst keeps the group in the first class in config order and
	// marks its members in the other classes ambiguous.
	CrossKeepFirst CrossClass = "keep-first"
	// CrossKeep keeps the best copy in every class.
	CrossKeep CrossClass = "keep"
)

// DefaultLimits are the near-duplicate limits within a class, set on the
// real-image benchmark (BENCHMARKS.md, section "curate on real images"):
// the best pair F1 of the sweep but for the pHash radius, where 16 and 20
// score a little higher and make the candidate join about 4x the cost.
var DefaultLimits = Limits{PHash: 12, DHash: -1, Color: 16, Aspect: 0.1, Fine: 5, Mirror: true}

// DefaultCrossLimits are the limits at which copies under two classes are
// one picture: near-exact by every signal, and not mirrored.
var DefaultCrossLimits = Limits{PHash: 4, DHash: 4, Color: 3, Aspect: 0.02, Fine: 3}

// DefaultPHashThreshold is DefaultLimits.PHash.
var DefaultPHashThreshold = DefaultLimits.PHash

// ErrNoClasses is returned when Run is given no class.
var ErrNoClasses = errors.New("curate: no classes")

// ErrUnknownClass is returned for a class that is not in the list.
var ErrUnknownClass = errors.New("curate: unknown class")

type settings struct {
	reporter      progress.Reporter
	limits        Limits
	crossLimits   Limits
	crossClass    CrossClass
	maxPixels     int64
	minW, minH    int
	maxAspect     float64
	minEntropy    float64
	minSubject    float64
	minSaturation float64
	workers       int
	now           func() time.Time
}

// Option configures Run, Import and NewReviewServer.
type Option func(*settings)

func newSettings(opts []Option) (*settings, error) {
	s := &settings{
		reporter:    progress.Nop(),
		limits:      DefaultLimits,
		crossLimits: DefaultCrossLimits,
		crossClass:  CrossExclude,
		maxPixels:   imageio.DefaultMaxPixels,
		minW:        64, minH: 64,
		maxAspect:  4,
		minSubject: DefaultMinSubject,
		workers:    runtime.GOMAXPROCS(0),
		now:        time.Now,
	}
	for _, o := range opts {
		o(s)
	}
	switch s.crossClass {
	case CrossExclude, CrossKeepFirst, CrossKeep:
	default:
		return nil, fmt.Errorf("curate: cross_class %q: want exclude, keep-first or keep", s.crossClass)
	}
	if s.limits.PHash < 0 || s.limits.PHash > 64 {
		return nil, fmt.Errorf("curate: phash threshold %d outside 0..64", s.limits.PHash)
	}
	if s.crossLimits.PHash < 0 || s.crossLimits.PHash > 64 {
		return nil, fmt.Errorf("curate: cross-class phash threshold %d outside 0..64", s.crossLimits.PHash)
	}
	// Cross-class pairs are found among the within-class candidates.
	s.crossLimits.PHash = min(s.crossLimits.PHash, s.limits.PHash)
	if s.workers < 1 {
		s.workers = 1
	}
	return s, nil
}

// WithReporter sets where progress goes (default: nowhere).
func WithReporter(r progress.Reporter) Option { return func(s *settings) { s.reporter = r } }

// WithPHashThreshold sets the largest pHash Hamming distance of two copies.
func WithPHashThreshold(d int) Option { return func(s *settings) { s.limits.PHash = d } }

// WithLimits sets every near-duplicate limit within a class.
func WithLimits(l Limits) Option { return func(s *settings) { s.limits = l } }

// WithCrossLimits sets the limits at which copies found under two classes
// are one picture (and so ambiguous).
func WithCrossLimits(l Limits) Option { return func(s *settings) { s.crossLimits = l } }

// WithCrossClass sets the policy for groups spanning classes.
func WithCrossClass(c CrossClass) Option { return func(s *settings) { s.crossClass = c } }

// WithMaxPixels refuses larger images before decoding them.
func WithMaxPixels(n int64) Option { return func(s *settings) { s.maxPixels = n } }

// WithMinSize filters images narrower or lower than this (0 disables).
func WithMinSize(w, h int) Option { return func(s *settings) { s.minW, s.minH = w, h } }

// WithMaxAspect filters images whose long side exceeds a times the short
// side (0 disables).
func WithMaxAspect(a float64) Option { return func(s *settings) { s.maxAspect = a } }

// DefaultMinSubject is the default WithMinSubject: on the real-image
// benchmark the blank and near-uniform pictures have at most 0.04 of
// subject, the sprites, renders and white-background art at least 0.067.
const DefaultMinSubject = 0.05

// WithMinSubject filters blank, near-uniform and solid-colour pictures as
// low-information: less than this share of the 64x64 square differs from
// the background (the most common border colour, transparency as white) by
// more than 16 levels (0 disables).
func WithMinSubject(m float64) Option { return func(s *settings) { s.minSubject = m } }

// WithMinEntropy filters images whose grey-level entropy, in bits, over the
// whole 64x64 square is below e (0, the default, disables: a sprite on a
// plain background scores low though it is not blank).
func WithMinEntropy(e float64) Option { return func(s *settings) { s.minEntropy = e } }

// WithMinSaturation filters monochrome images: mean chroma (0..1) below m
// (0 disables).
func WithMinSaturation(m float64) Option { return func(s *settings) { s.minSaturation = m } }

// WithWorkers sets how many files are hashed at once (default GOMAXPROCS).
func WithWorkers(n int) Option { return func(s *settings) { s.workers = n } }

// WithClock sets the clock used for timestamps (tests).
func WithClock(now func() time.Time) Option { return func(s *settings) { s.now = now } }

// FromConfig applies the curate: section of chara.yaml.
func FromConfig(c config.Curate) Option {
	return func(s *settings) {
		s.limits.PHash = c.PHashThreshold
		if c.CrossClass != "" {
			s.crossClass = CrossClass(c.CrossClass)
		}
		if c.MaxPixels > 0 {
			s.maxPixels = c.MaxPixels
		}
		s.minW, s.minH = c.MinWidth, c.MinHeight
		s.maxAspect = c.MaxAspect
		s.minEntropy = c.MinEntropy
		s.minSubject = c.MinSubject
		s.minSaturation = c.MinSaturation
	}
}
