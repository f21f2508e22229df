package imageio

import (
	"image"
	"image/color"
)

// contrib is one source pixel's share of one destination pixel.
type contrib struct {
	dst int
	w   float32
}

// boxWeights lists, for each of n source pixels, the destination pixels of
// m that it overlaps and by how much (in source-pixel units).
func boxWeights(n, m int) [][]contrib {
	out := make([][]contrib, n)
	scale := float64(n) / float64(m) // source pixels per destination pixel
	for s := 0; s < n; s++ {
		lo, hi := float64(s), float64(s+1)
		d0 := int(lo / scale)
		for d := d0; d < m; d++ {
			a, b := float64(d)*scale, float64(d+1)*scale
			if a >= hi {
				break
			}
			ov := minF(hi, b) - maxF(lo, a)
			if ov > 1e-9 {
				out[s] = append(out[s], contrib{d, float32(ov)})
			}
		}
	}
	return out
}

func minF(a, b float64) float64 {
	if a < b {
		return a
	}
	return b
}

func maxF(a, b float64) float64 {
	if a > b {
		return a
	}
	return b
}

// Resample returns an area-averaged (box filter, hence antialiased) copy of
// img of exactly w x h pixels; the aspect ratio is not kept. Transparent
// pixels are composited over white, so that an icon's hash does not depend on
// what its invisible pixels hold.
func Resample(img image.Image, w, h int) *image.NRGBA {
	b := img.Bounds()
	sw, sh := b.Dx(), b.Dy()
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	if sw <= 0 || sh <= 0 || w <= 0 || h <= 0 {
		return out
	}
	xw := boxWeights(sw, w)
	yw := boxWeights(sh, h)
	acc := make([]float32, w*h*3)
	row := make([]float32, sw*3)
	hrow := make([]float32, w*3)
	ycc := false
	var fill func(y int)
	switch m := img.(type) {
	case *image.YCbCr:
		ycc = true
		fill = func(y int) {
			for x := 0; x < sw; x++ {
				yi := m.YOffset(b.Min.X+x, b.Min.Y+y)
				ci := m.COffset(b.Min.X+x, b.Min.Y+y)
				row[3*x], row[3*x+1], row[3*x+2] = float32(m.Y[yi]), float32(m.Cb[ci]), float32(m.Cr[ci])
			}
		}
	case *image.Gray:
		fill = func(y int) {
			p := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := 0; x < sw; x++ {
				v := float32(p[x])
				row[3*x], row[3*x+1], row[3*x+2] = v, v, v
			}
		}
	case *image.RGBA:
		fill = func(y int) {
			p := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := 0; x < sw; x++ {
				q := p[4*x : 4*x+4 : 4*x+4]
				bg := float32(255 - q[3])
				row[3*x], row[3*x+1], row[3*x+2] = float32(q[0])+bg, float32(q[1])+bg, float32(q[2])+bg
			}
		}
	case *image.NRGBA:
		fill = func(y int) {
			p := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := 0; x < sw; x++ {
				q := p[4*x : 4*x+4 : 4*x+4]
				a := float32(q[3]) / 255
				bg := 255 * (1 - a)
				row[3*x], row[3*x+1], row[3*x+2] = float32(q[0])*a+bg, float32(q[1])*a+bg, float32(q[2])*a+bg
			}
		}
	case *image.Paletted:
		pal := make([][3]float32, 256)
		for i := range pal {
			c := color.Color(color.Black)
			if i < len(m.Palette) {
				c = m.Palette[i]
			}
			pal[i] = overWhite(c)
		}
		fill = func(y int) {
			p := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := 0; x < sw; x++ {
				c := pal[p[x]]
				row[3*x], row[3*x+1], row[3*x+2] = c[0], c[1], c[2]
			}
		}
	default:
		fill = func(y int) {
			for x := 0; x < sw; x++ {
				c := overWhite(img.At(b.Min.X+x, b.Min.Y+y))
				row[3*x], row[3*x+1], row[3*x+2] = c[0], c[1], c[2]
			}
		}
	}
	for sy := 0; sy < sh; sy++ {
		fill(sy)
		clear(hrow)
		for sx, cs := range xw {
			r, g, bl := row[3*sx], row[3*sx+1], row[3*sx+2]
			for _, c := range cs {
				hrow[3*c.dst] += r * c.w
				hrow[3*c.dst+1] += g * c.w
				hrow[3*c.dst+2] += bl * c.w
			}
		}
		for _, c := range yw[sy] {
			a := acc[3*w*c.dst : 3*w*(c.dst+1)]
			for i, v := range hrow {
				a[i] += v * c.w
			}
		}
	}
	norm := float32(w) * float32(h) / (float32(sw) * float32(sh))
	for i := 0; i < w*h; i++ {
		c0, c1, c2 := acc[3*i]*norm, acc[3*i+1]*norm, acc[3*i+2]*norm
		if ycc {
			// JFIF YCbCr -> RGB on the averages: the transform is affine, so
			// averaging before converting equals averaging after.
			cb, cr := c1-128, c2-128
			c0, c1, c2 = c0+1.402*cr, c0-0.344136*cb-0.714136*cr, c0+1.772*cb
		}
		out.Pix[4*i], out.Pix[4*i+1], out.Pix[4*i+2], out.Pix[4*i+3] = clamp8(c0), clamp8(c1), clamp8(c2), 255
	}
	return out
}

func overWhite(c color.Color) [3]float32 {
	r, g, b, a := c.RGBA() // premultiplied, 16 bit
	bg := float32(65535-a) / 257
	return [3]float32{float32(r)/257 + bg, float32(g)/257 + bg, float32(b)/257 + bg}
}

func clamp8(v float32) uint8 {
	v += 0.5
	if v <= 0 {
		return 0
	}
	if v >= 255 {
		return 255
	}
	return uint8(v)
}
