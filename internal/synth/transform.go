package synth

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"

	xdraw "golang.org/x/image/draw"
)

// toRGBA returns img as an *image.RGBA whose bounds start at (0, 0).
func toRGBA(img image.Image) *image.RGBA {
	b := img.Bounds()
	if m, ok := img.(*image.RGBA); ok && b.Min == (image.Point{}) {
		return m
	}
	m := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	xdraw.Draw(m, m.Bounds(), img, b.Min, xdraw.Src)
	return m
}

// Resize scales img by scale (0.5 halves both sides) with Catmull-Rom
// filtering; each side is at least one pixel.
func Resize(img image.Image, scale float64) *image.RGBA {
	b := img.Bounds()
	w := max(1, int(math.Round(float64(b.Dx())*scale)))
	h := max(1, int(math.Round(float64(b.Dy())*scale)))
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	xdraw.CatmullRom.Scale(dst, dst.Bounds(), img, b, xdraw.Src, nil)
	return dst
}

// Crop keeps the centred window of the given fraction (0 < fraction <= 1)
// of the width and the height.
func Crop(img image.Image, fraction float64) *image.RGBA {
	fraction = math.Max(0.01, math.Min(1, fraction))
	b := img.Bounds()
	w := max(1, int(math.Round(float64(b.Dx())*fraction)))
	h := max(1, int(math.Round(float64(b.Dy())*fraction)))
	x0 := b.Min.X + (b.Dx()-w)/2
	y0 := b.Min.Y + (b.Dy()-h)/2
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	xdraw.Draw(dst, dst.Bounds(), img, image.Pt(x0, y0), xdraw.Src)
	return dst
}

// FlipH mirrors img left to right.
func FlipH(img image.Image) *image.RGBA {
	src := toRGBA(img)
	w, h := src.Bounds().Dx(), src.Bounds().Dy()
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			copy(dst.Pix[dst.PixOffset(w-1-x, y):][:4], src.Pix[src.PixOffset(x, y):][:4])
		}
	}
	return dst
}

// Recolour shifts every pixel's hue by hueShift degrees and multiplies its
// brightness by brightness (1 keeps it).
func Recolour(img image.Image, hueShift, brightness float64) *image.RGBA {
	src := toRGBA(img)
	dst := image.NewRGBA(src.Bounds())
	for i := 0; i < len(src.Pix); i += 4 {
		c := rgb{float32(src.Pix[i]), float32(src.Pix[i+1]), float32(src.Pix[i+2])}
		h, s, v := rgbToHSV(c)
		o := hsvToRGB(h+hueShift, s, v*brightness)
		dst.Pix[i], dst.Pix[i+1], dst.Pix[i+2] = uint8(o.r+0.5), uint8(o.g+0.5), uint8(o.b+0.5)
		dst.Pix[i+3] = src.Pix[i+3]
	}
	return dst
}

// JPEG encodes img at the given quality (1..100).
func JPEG(img image.Image, quality int) []byte {
	var b bytes.Buffer
	// Encoding into a bytes.Buffer cannot fail for an in-memory image.
	_ = jpeg.Encode(&b, img, &jpeg.Options{Quality: max(1, min(100, quality))})
	return b.Bytes()
}

// PNG encodes img losslessly.
func PNG(img image.Image) []byte {
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}

// ContactSheet lays out n renders of each character (a row per character,
// seeds 1..n), with a row of off-topic pictures at the bottom when offTopic
// is set. Options apply to every render.
func ContactSheet(chars []Character, n int, offTopic bool, opts ...Option) *image.RGBA {
	cfg := newRenderConfig(opts)
	const gap = 4
	rows := len(chars)
	if offTopic {
		rows++
	}
	W := n*(cfg.w+gap) + gap
	H := rows*(cfg.h+gap) + gap
	sheet := image.NewRGBA(image.Rect(0, 0, W, H))
	xdraw.Draw(sheet, sheet.Bounds(), image.NewUniform(color.RGBA{40, 40, 40, 255}), image.Point{}, xdraw.Src)
	for row := 0; row < rows; row++ {
		for col := 0; col < n; col++ {
			var img image.Image
			if row < len(chars) {
				img = Render(chars[row], int64(col+1), opts...)
			} else {
				img = OffTopic(int64(col+1), Size(cfg.w, cfg.h))
			}
			at := image.Pt(gap+col*(cfg.w+gap), gap+row*(cfg.h+gap))
			xdraw.Draw(sheet, image.Rectangle{Min: at, Max: at.Add(image.Pt(cfg.w, cfg.h))}, img, image.Point{}, xdraw.Src)
		}
	}
	return sheet
}
