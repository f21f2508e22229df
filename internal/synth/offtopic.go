package synth

import (
	"image"
	"math"
	"math/rand/v2"
)

// OffTopic draws a picture with no character in it: a landscape, a city
// skyline or abstract shapes, picked by the seed. Size and Supersample apply;
// Variation and Backgrounds are ignored.
func OffTopic(seed int64, opts ...Option) image.Image {
	cfg := newRenderConfig(opts)
	r := rand.New(rand.NewPCG(uint64(seed), 0x6f6666746f706963))
	cv := newCanvas(cfg.w*cfg.ss, cfg.h*cfg.ss)
	defer cv.release()
	switch r.IntN(3) {
	case 0:
		drawLandscape(cv, r)
	case 1:
		drawSkyline(cv, r)
	default:
		drawBackground(cv, Background(r.IntN(int(numBackgrounds))), r.Uint64(), cfg.ss)
		drawRandomShapes(cv, r, 10+r.IntN(20), 0.05, 0.5)
	}
	return cv.downsample(cfg.ss, neutralLight)
}

func drawLandscape(cv *canvas, r *rand.Rand) {
	W, H := float64(cv.w), float64(cv.h)
	skyTop := hsvToRGB(195+30*r.Float64(), 0.4+0.4*r.Float64(), 0.7+0.3*r.Float64())
	skyLow := skyTop.mix(rgb{255, 230, 200}, 0.3+0.5*r.Float32())
	cv.perPixel(func(_, y int) rgb { return skyTop.mix(skyLow, float32(float64(y)/H)) })
	horizon := H * (0.45 + 0.25*r.Float64())
	cv.fill(circle(W*r.Float64(), horizon*(0.2+0.5*r.Float64()), 0.05*W+0.08*W*r.Float64()), identity, rgb{255, 240, 190}, 1)
	// Mountain ranges, far to near, darker and greener as they come closer.
	for layer := 0; layer < 3; layer++ {
		base := hsvToRGB(100+120*r.Float64(), 0.2+0.3*r.Float64(), 0.6-0.15*float64(layer))
		p := poly{{0, H}}
		n := 4 + r.IntN(6)
		for i := 0; i <= n; i++ {
			x := W * float64(i) / float64(n)
			y := horizon - (0.05+0.35*r.Float64())*H/float64(layer+1) + float64(layer)*0.06*H
			p = append(p, pt{x, y})
		}
		p = append(p, pt{W, H})
		cv.fill(p, identity, base, 1)
	}
	ground := hsvToRGB(80+60*r.Float64(), 0.4+0.3*r.Float64(), 0.35+0.3*r.Float64())
	cv.fill(poly{{0, horizon + 0.15*H}, {W, horizon + 0.1*H}, {W, H}, {0, H}}, identity, ground, 1)
	for range 2 + r.IntN(8) {
		x, y := W*r.Float64(), horizon+0.15*H+r.Float64()*(H-horizon-0.15*H)
		s := (0.03 + 0.06*r.Float64()) * H * (0.5 + y/H)
		cv.fill(poly{{x - s*0.1, y}, {x + s*0.1, y}, {x + s*0.1, y - s}, {x - s*0.1, y - s}}, identity, rgb{90, 60, 40}, 1)
		cv.fill(ellipse{cx: x, cy: y - s*1.3, rx: s * 0.6, ry: s * 0.7}, identity, ground.scale(0.7), 1)
	}
}

func drawSkyline(cv *canvas, r *rand.Rand) {
	W, H := float64(cv.w), float64(cv.h)
	night := r.IntN(2) == 0
	sky := hsvToRGB(200+40*r.Float64(), 0.5, 0.9)
	if night {
		sky = hsvToRGB(230+20*r.Float64(), 0.6, 0.2)
	}
	cv.perPixel(func(_, y int) rgb { return sky.mix(sky.scale(0.6), float32(float64(y)/H)) })
	x := 0.0
	for x < W {
		bw := (0.08 + 0.15*r.Float64()) * W
		bh := (0.2 + 0.6*r.Float64()) * H
		col := hsvToRGB(r.Float64()*360, 0.1*r.Float64(), 0.2+0.4*r.Float64())
		cv.fill(poly{{x, H - bh}, {x + bw, H - bh}, {x + bw, H}, {x, H}}, identity, col, 1)
		win := rgb{250, 230, 150}
		if !night {
			win = rgb{170, 200, 230}
		}
		step := math.Max(4, bw/5)
		for wy := H - bh + step/2; wy < H-step; wy += step {
			for wx := x + step/2; wx < x+bw-step/2; wx += step {
				if r.IntN(3) > 0 {
					cv.fill(poly{{wx, wy}, {wx + step/2, wy}, {wx + step/2, wy + step/2}, {wx, wy + step/2}}, identity, win, 1)
				}
			}
		}
		x += bw + r.Float64()*0.03*W
	}
}
