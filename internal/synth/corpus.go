package synth

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
)

// Kind says what a corpus item is.
type Kind string

// Item kinds.
const (
	KindOriginal  Kind = "original"  // a fresh picture of the class's character
	KindDuplicate Kind = "duplicate" // a near-duplicate of an original of the same class
	KindBroken    Kind = "broken"    // a file that is not a decodable image
	KindOffTopic  Kind = "offtopic"  // a picture with no character, posted under the class's tag
)

// Broken file kinds, in Item.Detail of KindBroken items.
const (
	BrokenTruncated = "truncated-jpeg"
	BrokenHTML      = "html-page"
	BrokenEmpty     = "zero-bytes"
	BrokenPNGBomb   = "png-bomb"
	BrokenHugeGIF   = "huge-gif"
)

var brokenKinds = []string{BrokenTruncated, BrokenHTML, BrokenEmpty, BrokenPNGBomb, BrokenHugeGIF}

// Item is one post of a corpus, with its ground truth.
type Item struct {
	ID          int      // post id, unique in the corpus, 1..len(Items)
	Class       string   // name of the character whose tag it is posted under
	Tags        []string // the class's tag first, then descriptive tags
	Rating      string   // g, s, q or e (booru ratings)
	Bytes       []byte   // the file
	Ext         string   // file extension without the dot: jpg, png or gif
	MD5         string   // hex MD5 of Bytes, as boorus publish it
	Kind        Kind
	DuplicateOf int    // for duplicates: the ID of the original; else 0
	Seed        int64  // render seed of originals and off-topic pictures
	Width       int    // decoded size; for broken files the declared size, if any
	Height      int    //
	Detail      string // duplicates: the transforms applied; broken: one of the Broken* kinds
}

// Corpus is a generated set of posts with ground truth.
type Corpus struct {
	Characters []Character
	Items      []Item // ordered by ID
}

// ErrCorpus is returned for impossible corpus settings.
var ErrCorpus = errors.New("synth: bad corpus settings")

type corpusConfig struct {
	dup, broken, off float64
	w, h             int
	pngFraction      float64
	quality          int
	ratings          [4]float64 // g, s, q, e
	render           []Option
}

// CorpusOption configures NewCorpus.
type CorpusOption func(*corpusConfig)

// DuplicateFraction sets the share of each class's items that are planted
// near-duplicates (default 0.1).
func DuplicateFraction(f float64) CorpusOption { return func(c *corpusConfig) { c.dup = f } }

// BrokenFraction sets the share of broken files (default 0.05).
func BrokenFraction(f float64) CorpusOption { return func(c *corpusConfig) { c.broken = f } }

// OffTopicFraction sets the share of off-topic pictures (default 0.05).
func OffTopicFraction(f float64) CorpusOption { return func(c *corpusConfig) { c.off = f } }

// ImageSize sets the size of originals (default 160x240).
func ImageSize(width, height int) CorpusOption {
	return func(c *corpusConfig) { c.w, c.h = width, height }
}

// PNGFraction sets the share of originals encoded as PNG instead of JPEG
// (default 0.2).
func PNGFraction(f float64) CorpusOption { return func(c *corpusConfig) { c.pngFraction = f } }

// JPEGQuality sets the quality of JPEG originals (default 90).
func JPEGQuality(q int) CorpusOption { return func(c *corpusConfig) { c.quality = q } }

// Ratings sets the relative weights of the ratings g, s, q and e (default
// 70, 20, 8, 2).
func Ratings(g, s, q, e float64) CorpusOption {
	return func(c *corpusConfig) { c.ratings = [4]float64{g, s, q, e} }
}

// RenderOptions passes options to every Render and OffTopic call (Size is
// overridden by ImageSize).
func RenderOptions(opts ...Option) CorpusOption {
	return func(c *corpusConfig) { c.render = append(c.render, opts...) }
}

// Plan is the exact number of items of each kind per class for perClass
// items per class.
type Plan struct{ Originals, Duplicates, Broken, OffTopic int }

func (c corpusConfig) plan(perClass int) Plan {
	p := Plan{
		Duplicates: int(math.Round(float64(perClass) * c.dup)),
		Broken:     int(math.Round(float64(perClass) * c.broken)),
		OffTopic:   int(math.Round(float64(perClass) * c.off)),
	}
	p.Originals = perClass - p.Duplicates - p.Broken - p.OffTopic
	return p
}

// PlanFor returns how NewCorpus splits perClass items of one class.
func PlanFor(perClass int, opts ...CorpusOption) Plan {
	return newCorpusConfig(opts).plan(perClass)
}

func newCorpusConfig(opts []CorpusOption) corpusConfig {
	c := corpusConfig{dup: 0.1, broken: 0.05, off: 0.05, w: 160, h: 240, pngFraction: 0.2,
		quality: 90, ratings: [4]float64{70, 20, 8, 2}}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// NewCorpus generates perClass items for each character: originals,
// near-duplicates of those originals, broken files and off-topic pictures,
// in the shares the options set (rounded per class; originals take the
// rest). The same arguments give the same bytes. Post IDs are shuffled
// across classes, and each duplicate comes after its original.
func NewCorpus(ctx context.Context, chars []Character, perClass int, seed int64, opts ...CorpusOption) (*Corpus, error) {
	cfg := newCorpusConfig(opts)
	for _, f := range []float64{cfg.dup, cfg.broken, cfg.off, cfg.pngFraction} {
		if f < 0 || f > 1 || math.IsNaN(f) {
			return nil, fmt.Errorf("%w: fraction %v out of 0..1", ErrCorpus, f)
		}
	}
	p := cfg.plan(perClass)
	switch {
	case len(chars) == 0:
		return nil, fmt.Errorf("%w: no characters", ErrCorpus)
	case perClass <= 0:
		return nil, fmt.Errorf("%w: %d items per class", ErrCorpus, perClass)
	case p.Originals < 1:
		return nil, fmt.Errorf("%w: %d items per class leave no originals (%+v)", ErrCorpus, perClass, p)
	case cfg.w < 16 || cfg.h < 16:
		return nil, fmt.Errorf("%w: image size %dx%d below 16x16", ErrCorpus, cfg.w, cfg.h)
	}
	seen := map[string]bool{}
	for _, c := range chars {
		if c.Name == "" || c.Tag == "" || seen[c.Name] || seen[c.Tag] {
			return nil, fmt.Errorf("%w: character %q/%q: empty or repeated name or tag", ErrCorpus, c.Name, c.Tag)
		}
		seen[c.Name], seen[c.Tag] = true, true
	}
	r := rand.New(rand.NewPCG(uint64(seed), 0x636f72707573))
	ropts := append(append([]Option(nil), cfg.render...), Size(cfg.w, cfg.h))

	var items []*Item // originals, broken and off-topic items
	type pair struct{ dup, orig *Item }
	var dups []pair
	for _, c := range chars {
		var originals []*Item
		var pics []image.Image
		for range p.Originals {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			s := r.Int64()
			sc := Describe(c, s, ropts...)
			img := sc.Render()
			it := &Item{Class: c.Name, Tags: append(append([]string{c.Tag}, c.Tags...), sc.Tags()...),
				Kind: KindOriginal, Seed: s, Rating: cfg.rating(r)}
			it.setImage(img, r.Float64() < cfg.pngFraction, cfg.quality)
			originals = append(originals, it)
			pics = append(pics, img)
		}
		items = append(items, originals...)
		// Each original gets at most one duplicate until all have one.
		order := r.Perm(len(originals))
		for i := range p.Duplicates {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			k := order[i%len(order)]
			orig := originals[k]
			img, detail, asPNG, q := nearDuplicate(r, pics[k])
			it := &Item{Class: c.Name, Tags: slices.Clone(orig.Tags), Rating: orig.Rating,
				Kind: KindDuplicate, Seed: orig.Seed, Detail: detail}
			it.setImage(img, asPNG, q)
			dups = append(dups, pair{it, orig})
		}
		start := r.IntN(len(brokenKinds))
		for i := range p.Broken {
			kind := brokenKinds[(start+i)%len(brokenKinds)]
			it := &Item{Class: c.Name, Tags: []string{c.Tag}, Rating: cfg.rating(r), Kind: KindBroken, Detail: kind}
			salt := fmt.Sprintf("%s-%d", c.Tag, i)
			switch kind {
			case BrokenTruncated:
				it.Bytes, it.Ext = Truncated(JPEG(Render(c, r.Int64(), ropts...), cfg.quality)), "jpg"
			case BrokenHTML:
				it.Bytes, it.Ext = htmlPage(salt), "jpg"
			case BrokenEmpty:
				it.Bytes, it.Ext = ZeroBytes(), "png"
			case BrokenPNGBomb:
				it.Bytes, it.Ext, it.Width, it.Height = pngBomb(salt), "png", 100000, 100000
			case BrokenHugeGIF:
				it.Bytes, it.Ext, it.Width, it.Height = hugeGIF(salt), "gif", 65535, 65535
			}
			it.MD5 = md5Hex(it.Bytes)
			items = append(items, it)
		}
		for range p.OffTopic {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			s := r.Int64()
			it := &Item{Class: c.Name, Tags: []string{c.Tag, "no_humans", "scenery"}, Rating: cfg.rating(r),
				Kind: KindOffTopic, Seed: s}
			it.setImage(OffTopic(s, ropts...), false, cfg.quality)
			items = append(items, it)
		}
	}
	// Post order: everything but duplicates shuffled across classes, then
	// each duplicate inserted somewhere after its original.
	r.Shuffle(len(items), func(i, j int) { items[i], items[j] = items[j], items[i] })
	for _, d := range dups {
		at := slices.Index(items, d.orig) + 1
		at += r.IntN(len(items) - at + 1)
		items = slices.Insert(items, at, d.dup)
	}
	for i, it := range items {
		it.ID = i + 1
	}
	for _, d := range dups {
		d.dup.DuplicateOf = d.orig.ID
	}
	out := &Corpus{Characters: slices.Clone(chars), Items: make([]Item, len(items))}
	for i, it := range items {
		out.Items[i] = *it
	}
	return out, nil
}

func md5Hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

// setImage encodes img into the item.
func (it *Item) setImage(img image.Image, asPNG bool, quality int) {
	if asPNG {
		it.Bytes, it.Ext = PNG(img), "png"
	} else {
		it.Bytes, it.Ext = JPEG(img, quality), "jpg"
	}
	b := img.Bounds()
	it.Width, it.Height = b.Dx(), b.Dy()
	it.MD5 = md5Hex(it.Bytes)
}

func (c corpusConfig) rating(r *rand.Rand) string {
	total := c.ratings[0] + c.ratings[1] + c.ratings[2] + c.ratings[3]
	if total <= 0 {
		return "g"
	}
	x := r.Float64() * total
	for i, w := range c.ratings {
		if x < w {
			return [4]string{"g", "s", "q", "e"}[i]
		}
		x -= w
	}
	return "e"
}

// nearDuplicate makes a copy of img that a perceptual hash still matches:
// downscaled, cropped slightly, recoloured slightly and/or recompressed.
func nearDuplicate(r *rand.Rand, img image.Image) (out image.Image, detail string, asPNG bool, quality int) {
	out = img
	var steps []string
	switch r.IntN(4) {
	case 0:
		s := 0.5 + 0.3*r.Float64()
		out = Resize(out, s)
		steps = append(steps, fmt.Sprintf("resize %.2f", s))
	case 1:
		f := 0.92 + 0.05*r.Float64()
		out = Crop(out, f)
		steps = append(steps, fmt.Sprintf("crop %.2f", f))
	case 2:
		h, b := 6*r.Float64()-3, 0.94+0.12*r.Float64()
		out = Recolour(out, h, b)
		steps = append(steps, fmt.Sprintf("recolour hue %+.1f brightness %.2f", h, b))
	case 3:
		s := 0.6 + 0.3*r.Float64()
		out = Resize(out, s)
		h, b := 4*r.Float64()-2, 0.95+0.1*r.Float64()
		out = Recolour(out, h, b)
		steps = append(steps, fmt.Sprintf("resize %.2f", s), fmt.Sprintf("recolour hue %+.1f brightness %.2f", h, b))
	}
	if r.IntN(5) == 0 {
		steps = append(steps, "png")
		return out, strings.Join(steps, ", "), true, 0
	}
	quality = 55 + r.IntN(36)
	steps = append(steps, fmt.Sprintf("jpeg q%d", quality))
	return out, strings.Join(steps, ", "), false, quality
}

// Counts returns, per class name, how many items of each kind there are.
func (c *Corpus) Counts() map[string]map[Kind]int {
	out := map[string]map[Kind]int{}
	for _, it := range c.Items {
		if out[it.Class] == nil {
			out[it.Class] = map[Kind]int{}
		}
		out[it.Class][it.Kind]++
	}
	return out
}

// ByClass returns the items posted under the class's tag, by ID.
func (c *Corpus) ByClass(name string) []Item {
	var out []Item
	for _, it := range c.Items {
		if it.Class == name {
			out = append(out, it)
		}
	}
	return out
}

// ByID returns the item with the given post ID.
func (c *Corpus) ByID(id int) (Item, bool) {
	if id < 1 || id > len(c.Items) {
		return Item{}, false
	}
	return c.Items[id-1], true
}
