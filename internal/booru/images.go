package booru

import (
	"bytes"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math/rand"
)

// Image draws a distinct w x h picture for seed and encodes it as "jpg",
// "png" or "gif". Tests and the demo use it to make posts.
func Image(w, h int, seed int64, format string) []byte {
	rng := rand.New(rand.NewSource(seed))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	bg := color.RGBA{uint8(rng.Intn(256)), uint8(rng.Intn(256)), uint8(rng.Intn(256)), 255}
	fg := color.RGBA{uint8(rng.Intn(256)), uint8(rng.Intn(256)), uint8(rng.Intn(256)), 255}
	cx, cy, rad := rng.Intn(w+1), rng.Intn(h+1), 1+rng.Intn(max(w, h)/2+1)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			dx, dy := x-cx, y-cy
			c := bg
			if dx*dx+dy*dy < rad*rad {
				c = fg
			}
			c.R += uint8((x * 255) / max(w, 1) / 4)
			img.SetRGBA(x, y, c)
		}
	}
	var b bytes.Buffer
	switch format {
	case "png":
		_ = png.Encode(&b, img)
	case "gif":
		_ = gif.Encode(&b, img, nil)
	default:
		_ = jpeg.Encode(&b, img, &jpeg.Options{Quality: 85})
	}
	return b.Bytes()
}
