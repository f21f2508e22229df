// Package synth draws reproducible test pictures for curation tests and
// benchmarks: "characters" (a palette and a style) drawn in several poses,
// and the transformed copies that scraping finds (resized, recompressed,
// cropped, flipped, recoloured).
package synth

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"

	"github.com/disintegration/imaging"
)

type shape struct {
	cx, cy, rx, ry float64
	rect           bool
	col            [3]float64
}

// Picture draws pose `pose` of character `char` at w x h. Two poses of one
// character share palette and style but not layout: hard negatives for
// near-duplicate detection.
func Picture(char, pose uint64, w, h int) *image.NRGBA {
	prng := rand.New(rand.NewPCG(char, 0x5eed))
	palette := make([][3]float64, 5)
	for i := range palette {
		palette[i] = [3]float64{prng.Float64() * 255, prng.Float64() * 255, prng.Float64() * 255}
	}
	freq := 4 + prng.Float64()*12
	// The background and the three largest shapes (the "body") belong to
	// the character; a pose moves the body a little and redraws the rest.
	bgA, bgB := palette[0], palette[1]
	angle := prng.Float64() * math.Pi
	var shapes []shape
	for i := 0; i < 3; i++ {
		shapes = append(shapes, shape{
			cx: 0.3 + 0.4*prng.Float64(), cy: 0.3 + 0.4*prng.Float64(),
			rx: 0.15 + prng.Float64()*0.2, ry: 0.15 + prng.Float64()*0.2,
			col: palette[2+i],
		})
	}
	rng := rand.New(rand.NewPCG(char, pose+1))
	for i := range shapes {
		shapes[i].cx += (rng.Float64() - 0.5) * 0.25
		shapes[i].cy += (rng.Float64() - 0.5) * 0.25
	}
	for i := 0; i < 6; i++ {
		shapes = append(shapes, shape{
			cx: rng.Float64(), cy: rng.Float64(),
			rx: 0.05 + rng.Float64()*0.3, ry: 0.05 + rng.Float64()*0.3,
			rect: rng.IntN(3) == 0, col: palette[rng.IntN(len(palette))],
		})
	}
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	ca, sa := math.Cos(angle), math.Sin(angle)
	for y := 0; y < h; y++ {
		fy := float64(y) / float64(h)
		for x := 0; x < w; x++ {
			fx := float64(x) / float64(w)
			t := 0.5 + 0.5*(ca*(fx-0.5)+sa*(fy-0.5))
			var c [3]float64
			for k := 0; k < 3; k++ {
				c[k] = bgA[k]*(1-t) + bgB[k]*t
			}
			for _, s := range shapes {
				dx, dy := (fx-s.cx)/s.rx, (fy-s.cy)/s.ry
				in := dx*dx+dy*dy < 1
				if s.rect {
					in = math.Abs(dx) < 1 && math.Abs(dy) < 1
				}
				if in {
					shade := 0.85 + 0.15*math.Sin(freq*(dx+dy))
					for k := 0; k < 3; k++ {
						c[k] = s.col[k] * shade
					}
				}
			}
			p := m.Pix[y*m.Stride+4*x:]
			p[0], p[1], p[2], p[3] = clamp(c[0]), clamp(c[1]), clamp(c[2]), 255
		}
	}
	return m
}

func clamp(v float64) uint8 {
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v + 0.5)
}

// Resize scales to w x h (Lanczos, as image tools do).
func Resize(img image.Image, w, h int) *image.NRGBA {
	return imaging.Resize(img, w, h, imaging.Lanczos)
}

// Crop cuts frac of each side away (0.05: 5 % per side).
func Crop(img image.Image, frac float64) *image.NRGBA {
	b := img.Bounds()
	dx, dy := int(float64(b.Dx())*frac), int(float64(b.Dy())*frac)
	return imaging.Crop(img, image.Rect(b.Min.X+dx, b.Min.Y+dy, b.Max.X-dx, b.Max.Y-dy))
}

// FlipH mirrors left to right.
func FlipH(img image.Image) *image.NRGBA { return imaging.FlipH(img) }

// Recolor rotates the channels partly into each other and brightens, as a
// colour-corrected re-upload would.
func Recolor(img image.Image, amount float64) *image.NRGBA {
	src := imaging.Clone(img)
	for i := 0; i < len(src.Pix); i += 4 {
		r, g, b := float64(src.Pix[i]), float64(src.Pix[i+1]), float64(src.Pix[i+2])
		src.Pix[i] = clamp((1-amount)*r + amount*g + 10)
		src.Pix[i+1] = clamp((1-amount)*g + amount*b + 10)
		src.Pix[i+2] = clamp((1-amount)*b + amount*r + 10)
	}
	return src
}

// JPEG encodes at quality q.
func JPEG(img image.Image, q int) []byte {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: q}); err != nil {
		panic(err) // encoding to memory cannot fail for a valid image
	}
	return buf.Bytes()
}

// PNG encodes losslessly.
func PNG(img image.Image) []byte {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// Flat is a uniform image: low information.
func Flat(w, h int, c color.NRGBA) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(m.Pix); i += 4 {
		m.Pix[i], m.Pix[i+1], m.Pix[i+2], m.Pix[i+3] = c.R, c.G, c.B, c.A
	}
	return m
}

// Gray converts to grey levels (a monochrome copy).
func Gray(img image.Image) *image.NRGBA { return imaging.Grayscale(img) }
