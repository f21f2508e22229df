package synth

import (
	"image"
	"math"
	"math/rand/v2"
)

// Background is the kind of backdrop behind a character.
type Background int

// Backgrounds.
const (
	BackgroundSolid Background = iota
	BackgroundGradient
	BackgroundNoise
	BackgroundStripes
	BackgroundShapes
	numBackgrounds
)

func (b Background) String() string {
	switch b {
	case BackgroundSolid:
		return "solid"
	case BackgroundGradient:
		return "gradient"
	case BackgroundNoise:
		return "noise"
	case BackgroundStripes:
		return "stripes"
	case BackgroundShapes:
		return "shapes"
	}
	return "unknown"
}

// Default output size of Render: a portrait.
const (
	DefaultWidth  = 200
	DefaultHeight = 300
)

type renderConfig struct {
	w, h        int
	ss          int // 0: automatic
	variation   float64
	backgrounds []Background
}

// Option configures Render and Describe.
type Option func(*renderConfig)

// Size sets the output size in pixels (default 200x300, a portrait). Sizes
// below 8 pixels are raised to 8.
func Size(width, height int) Option {
	return func(c *renderConfig) { c.w, c.h = max(8, width), max(8, height) }
}

// Supersample sets the anti-aliasing factor: each output pixel averages n x n
// samples. The default is 2, or 1 for images above one megapixel.
func Supersample(n int) Option {
	return func(c *renderConfig) { c.ss = max(1, min(n, 8)) }
}

// Variation scales how much pose, scale, colours and lighting vary between
// seeds: 0 draws every picture of a character in the same pose and colours
// (only the background changes), 1 is the default, 2 is harder.
func Variation(v float64) Option {
	return func(c *renderConfig) { c.variation = math.Max(0, v) }
}

// Backgrounds restricts the backdrops a seed may pick from.
func Backgrounds(kinds ...Background) Option {
	return func(c *renderConfig) {
		c.backgrounds = nil
		for _, k := range kinds {
			if k >= 0 && k < numBackgrounds {
				c.backgrounds = append(c.backgrounds, k)
			}
		}
	}
}

func newRenderConfig(opts []Option) renderConfig {
	c := renderConfig{w: DefaultWidth, h: DefaultHeight, variation: 1,
		backgrounds: []Background{BackgroundSolid, BackgroundGradient, BackgroundNoise, BackgroundStripes, BackgroundShapes}}
	for _, o := range opts {
		o(&c)
	}
	if len(c.backgrounds) == 0 {
		c.backgrounds = []Background{BackgroundSolid}
	}
	if c.ss == 0 {
		c.ss = 2
		if c.w*c.h > 1_000_000 {
			c.ss = 1
		}
	}
	return c
}

// Scene is every random choice behind one picture: Render(c, seed, opts...)
// draws Describe(c, seed, opts...). Positions are in output pixels.
type Scene struct {
	Character     Character
	Seed          int64
	Width, Height int

	HeadX, HeadY float64 // centre of the face
	HeadRadius   float64 // the face's radius; hair and accessories reach about 1.8 radii above the centre
	Tilt         float64 // whole figure, degrees
	HeadTilt     float64 // head on the neck, degrees
	Mirrored     bool

	Background Background
	Brightness float64
	Contrast   float64
	Tint       [3]float64

	ss                        int
	hair, eyes, clothes, tie  rgb
	mouth                     int // 0 smile, 1 open, 2 flat
	blush, eyesClosed, collar bool
	bgSeed                    uint64
}

// normal draws a standard normal value clamped to [-2.5, 2.5].
func normal(r *rand.Rand) float64 { return math.Max(-2.5, math.Min(2.5, r.NormFloat64())) }

// Describe returns the scene that Render draws for (c, seed, opts).
func Describe(c Character, seed int64, opts ...Option) Scene {
	cfg := newRenderConfig(opts)
	r := rand.New(rand.NewPCG(uint64(seed), c.key()))
	v := cfg.variation
	W, H := float64(cfg.w), float64(cfg.h)
	s := Scene{Character: c, Seed: seed, Width: cfg.w, Height: cfg.h, ss: cfg.ss}

	base := math.Min(W, H*0.75) * 0.25
	s.HeadRadius = base * math.Exp(0.18*v*normal(r))
	s.HeadX = W/2 + 0.11*W*v*normal(r)
	s.HeadY = H*0.37 + 0.05*H*v*normal(r)
	s.Tilt = 9 * v * normal(r)
	s.HeadTilt = 8 * v * normal(r)
	s.Mirrored = v > 0 && r.IntN(2) == 1

	s.Background = cfg.backgrounds[r.IntN(len(cfg.backgrounds))]
	s.bgSeed = r.Uint64()
	s.Brightness = 1 + 0.08*v*normal(r)
	s.Contrast = 1 + 0.08*v*normal(r)
	for i := range s.Tint {
		s.Tint[i] = 1 + 0.03*v*normal(r)
	}

	s.hair = jitter(toRGB(c.Hair), 4*v*normal(r), 0.06*v*normal(r), 0.05*v*normal(r))
	s.eyes = jitter(toRGB(c.Eyes), 6*v*normal(r), 0.05*v*normal(r), 0.05*v*normal(r))
	s.clothes = hsvToRGB(r.Float64()*360, 0.15+0.5*r.Float64(), 0.35+0.55*r.Float64())
	s.tie = hsvToRGB(r.Float64()*360, 0.5+0.4*r.Float64(), 0.4+0.5*r.Float64())
	s.collar = r.IntN(3) > 0
	if v > 0 {
		s.mouth = r.IntN(3)
		s.blush = r.IntN(2) == 1
		s.eyesClosed = r.IntN(10) == 0
	}
	return s
}

// Tags returns booru-style tags describing the scene's variable parts
// (expression, background).
func (s Scene) Tags() []string {
	var t []string
	switch {
	case s.eyesClosed:
		t = append(t, "closed_eyes", "smile")
	case s.mouth == 0:
		t = append(t, "smile")
	case s.mouth == 1:
		t = append(t, "open_mouth")
	}
	if s.blush {
		t = append(t, "blush")
	}
	switch s.Background {
	case BackgroundSolid:
		t = append(t, "simple_background")
	case BackgroundGradient:
		t = append(t, "gradient_background")
	case BackgroundStripes:
		t = append(t, "striped_background")
	}
	return append(t, "upper_body", "school_uniform")
}

// Render draws character c. The same (c, seed, opts) always gives the same
// pixels; pose, scale, background and lighting change with the seed.
func Render(c Character, seed int64, opts ...Option) image.Image {
	return Describe(c, seed, opts...).Render()
}

// Render draws the scene.
func (s Scene) Render() *image.RGBA {
	cv := newCanvas(s.Width*s.ss, s.Height*s.ss)
	defer cv.release()
	drawBackground(cv, s.Background, s.bgSeed, s.ss)
	drawFigure(cv, s)
	l := light{brightness: float32(s.Brightness), contrast: float32(s.Contrast),
		tint: [3]float32{float32(s.Tint[0]), float32(s.Tint[1]), float32(s.Tint[2])}}
	return cv.downsample(s.ss, l)
}

// figureTransform maps figure units (face radius 1, face centre at the
// origin, y down) to canvas pixels; headTransform adds the head's tilt
// around the neck.
func (s Scene) transforms() (body, head affine) {
	ss := float64(s.ss)
	mx := 1.0
	if s.Mirrored {
		mx = -1
	}
	body = translate(s.HeadX*ss, s.HeadY*ss).
		then(rotate(s.Tilt * math.Pi / 180)).
		then(scaleXY(s.HeadRadius*ss, s.HeadRadius*ss)).
		then(scaleXY(mx, 1))
	head = body.then(translate(0, 1.1)).then(rotate(s.HeadTilt * math.Pi / 180)).then(translate(0, -1.1))
	return body, head
}

// HeadPoint maps a point given in head units (face radius 1, face centre at
// the origin, y down, before mirroring) to output pixels, following the
// scene's pose: HeadPoint(0, -0.8) lies in the hair above the fringe.
func (s Scene) HeadPoint(x, y float64) (px, py float64) {
	_, head := s.transforms()
	px, py = head.apply(x, y)
	return px / float64(s.ss), py / float64(s.ss)
}
