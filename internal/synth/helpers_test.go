package synth

import (
	"image"
	"math"
)

func hairHist(s Scene, img image.Image) []float64 {
	h := make([]float64, 64)
	n := 0.0
	for v := -0.85; v <= -0.6; v += 0.05 {
		for u := -0.5; u <= 0.5; u += 0.1 {
			x, y := s.HeadPoint(u, v)
			r, g, b, _ := img.At(int(x), int(y)).RGBA()
			h[(r>>14)*16+(g>>14)*4+(b>>14)]++
			n++
		}
	}
	for i := range h {
		h[i] /= n
	}
	return h
}

func thumb(img image.Image) []float64 {
	t := Resize(img, 0.08)
	out := make([]float64, 0, len(t.Pix))
	for i, p := range t.Pix {
		if i%4 != 3 {
			out = append(out, float64(p))
		}
	}
	return out
}

func l1(a, b []float64) float64 {
	d := 0.0
	for i := range a {
		d += math.Abs(a[i] - b[i])
	}
	return d
}

func nearestCentroid(train, test [][][]float64) float64 {
	cents := make([][]float64, len(train))
	for c, xs := range train {
		cents[c] = make([]float64, len(xs[0]))
		for _, x := range xs {
			for i := range x {
				cents[c][i] += x[i] / float64(len(xs))
			}
		}
	}
	ok, n := 0, 0
	for c, xs := range test {
		for _, x := range xs {
			best, bd := -1, math.Inf(1)
			for k, ce := range cents {
				if d := l1(x, ce); d < bd {
					best, bd = k, d
				}
			}
			if best == c {
				ok++
			}
			n++
		}
	}
	return float64(ok) / float64(n)
}
