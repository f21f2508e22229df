package synth

import (
	"math"
	"math/rand/v2"
)

func randomColour(r *rand.Rand) rgb {
	return hsvToRGB(r.Float64()*360, 0.1+0.6*r.Float64(), 0.3+0.7*r.Float64())
}

// drawBackground fills the whole canvas with a backdrop of the given kind.
// step is the block size for smooth fills (the supersampling factor).
func drawBackground(cv *canvas, kind Background, seed uint64, step int) {
	r := rand.New(rand.NewPCG(seed, 0x6267))
	W, H := float64(cv.w), float64(cv.h)
	a, b := randomColour(r), randomColour(r)
	switch kind {
	case BackgroundSolid:
		cv.perBlock(cv.w, func(int, int) rgb { return a })
	case BackgroundGradient:
		s, c := math.Sincos(r.Float64() * 2 * math.Pi)
		// Project the corners to normalise t to 0..1.
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, p := range [4]pt{{0, 0}, {W, 0}, {0, H}, {W, H}} {
			d := p.x*c + p.y*s
			lo, hi = math.Min(lo, d), math.Max(hi, d)
		}
		cv.perBlock(step, func(x, y int) rgb {
			t := (float64(x)*c + float64(y)*s - lo) / (hi - lo)
			return a.mix(b, float32(t))
		})
	case BackgroundNoise:
		drawNoise(cv, r, a, b, step)
	case BackgroundStripes:
		s, c := math.Sincos(r.Float64() * math.Pi)
		period := (0.04 + 0.12*r.Float64()) * math.Max(W, H)
		duty := 0.3 + 0.4*r.Float64()
		cv.perPixel(func(x, y int) rgb {
			d := (float64(x)*c + float64(y)*s) / period
			if d-math.Floor(d) < duty {
				return a
			}
			return b
		})
	case BackgroundShapes:
		cv.perBlock(cv.w, func(int, int) rgb { return a })
		drawRandomShapes(cv, r, 6+r.IntN(14), 0.05, 0.3)
	}
}

// drawNoise paints smooth value noise between colours a and b plus fine grain.
func drawNoise(cv *canvas, r *rand.Rand, a, b rgb, step int) {
	gw, gh := 3+r.IntN(8), 3+r.IntN(10)
	grid := make([]float32, (gw+1)*(gh+1))
	for i := range grid {
		grid[i] = r.Float32()
	}
	grain := 0.04 + 0.1*r.Float32()
	gs := r.Uint64()
	fx, fy := float64(gw)/float64(cv.w), float64(gh)/float64(cv.h)
	cv.perBlock(step, func(x, y int) rgb {
		u, v := float64(x)*fx, float64(y)*fy
		i, j := int(u), int(v)
		tu, tv := float32(u-float64(i)), float32(v-float64(j))
		tu, tv = tu*tu*(3-2*tu), tv*tv*(3-2*tv)
		g00, g10 := grid[j*(gw+1)+i], grid[j*(gw+1)+i+1]
		g01, g11 := grid[(j+1)*(gw+1)+i], grid[(j+1)*(gw+1)+i+1]
		t := (g00*(1-tu)+g10*tu)*(1-tv) + (g01*(1-tu)+g11*tu)*tv
		t += grain * (hashUnit(gs, x/step, y/step) - 0.5)
		return a.mix(b, max(0, min(1, t)))
	})
}

// hashUnit is a deterministic pseudo-random value in 0..1 for a pixel.
func hashUnit(seed uint64, x, y int) float32 {
	h := seed ^ uint64(x)*0x9E3779B97F4A7C15 ^ uint64(y)*0xC2B2AE3D27D4EB4F
	h ^= h >> 33
	h *= 0xFF51AFD7ED558CCD
	h ^= h >> 33
	return float32(h>>40) / float32(1<<24)
}

// drawRandomShapes scatters n circles, rectangles and triangles whose size
// is between lo and hi of the canvas' larger side.
func drawRandomShapes(cv *canvas, r *rand.Rand, n int, lo, hi float64) {
	W, H := float64(cv.w), float64(cv.h)
	L := math.Max(W, H)
	for range n {
		col := randomColour(r)
		x, y := r.Float64()*W, r.Float64()*H
		sz := (lo + (hi-lo)*r.Float64()) * L
		alpha := float32(0.5 + 0.5*r.Float64())
		switch r.IntN(3) {
		case 0:
			cv.fill(ellipse{cx: x, cy: y, rx: sz / 2, ry: sz / 2 * (0.5 + r.Float64()), rot: r.Float64() * math.Pi}, identity, col, alpha)
		case 1:
			w, h := sz, sz*(0.3+r.Float64())
			p := poly{{-w / 2, -h / 2}, {w / 2, -h / 2}, {w / 2, h / 2}, {-w / 2, h / 2}}
			cv.fill(p, translate(x, y).then(rotate(r.Float64()*math.Pi)), col, alpha)
		default:
			p := make(poly, 3)
			for i := range p {
				p[i] = pt{x + (r.Float64()-0.5)*sz, y + (r.Float64()-0.5)*sz}
			}
			cv.fill(p, identity, col, alpha)
		}
	}
}
