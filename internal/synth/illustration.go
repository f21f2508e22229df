package synth

import (
	"bytes"
	"image"
	"image/jpeg"
	"math/rand/v2"
)

// IllustrationJPEG is a w x h JPEG (quality 90) that looks, to a decoder,
// like an illustration: smooth shading, flat discs, thin lines and pixel
// noise, about 350 KB at 1200x1800. The dataset build benchmarks decode it.
func IllustrationJPEG(rng *rand.Rand, w, h int) ([]byte, error) {
	img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	type disc struct{ x, y, r2, luma, cb, cr int }
	discs := make([]disc, 12)
	for i := range discs {
		r := 40 + rng.IntN(300)
		discs[i] = disc{rng.IntN(w), rng.IntN(h), r * r, rng.IntN(256), 64 + rng.IntN(128), 64 + rng.IntN(128)}
	}
	at := func(x, y int) *disc {
		for i := len(discs) - 1; i >= 0; i-- {
			d := &discs[i]
			if dx, dy := x-d.x, y-d.y; dx*dx+dy*dy < d.r2 {
				return d
			}
		}
		return nil
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			v := 60 + x*100/w + y*60/h
			if d := at(x, y); d != nil {
				v = d.luma
			}
			if (x/3+y/5)%97 == 0 {
				v = 20
			}
			img.Y[y*img.YStride+x] = uint8(max(0, min(255, v+rng.IntN(9)-4)))
		}
	}
	for y := 0; y < h/2; y++ {
		for x := 0; x < w/2; x++ {
			cb, cr := 128, 128
			if d := at(2*x, 2*y); d != nil {
				cb, cr = d.cb, d.cr
			}
			img.Cb[y*img.CStride+x], img.Cr[y*img.CStride+x] = uint8(cb), uint8(cr)
		}
	}
	var buf bytes.Buffer
	err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90})
	return buf.Bytes(), err
}
