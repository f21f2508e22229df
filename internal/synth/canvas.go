package synth

import (
	"image"
	"math"
	"sync"
)

// rgb is a colour with channels in 0..255.
type rgb struct{ r, g, b float32 }

func (c rgb) scale(f float32) rgb { return rgb{clampf(c.r * f), clampf(c.g * f), clampf(c.b * f)} }

// mix returns c*(1-t) + d*t.
func (c rgb) mix(d rgb, t float32) rgb {
	return rgb{c.r + (d.r-c.r)*t, c.g + (d.g-c.g)*t, c.b + (d.b-c.b)*t}
}

func clampf(v float32) float32 {
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return v
}

// affine maps (x, y) to (a*x + b*y + c, d*x + e*y + f).
type affine struct{ a, b, c, d, e, f float64 }

var identity = affine{a: 1, e: 1}

func (m affine) apply(x, y float64) (float64, float64) {
	return m.a*x + m.b*y + m.c, m.d*x + m.e*y + m.f
}

// then returns the transform that applies n first, then m.
func (m affine) then(n affine) affine {
	return affine{
		a: m.a*n.a + m.b*n.d, b: m.a*n.b + m.b*n.e, c: m.a*n.c + m.b*n.f + m.c,
		d: m.d*n.a + m.e*n.d, e: m.d*n.b + m.e*n.e, f: m.d*n.c + m.e*n.f + m.f,
	}
}

func (m affine) inverse() affine {
	det := m.a*m.e - m.b*m.d
	if det == 0 {
		return affine{}
	}
	ia, ib, id, ie := m.e/det, -m.b/det, -m.d/det, m.a/det
	return affine{a: ia, b: ib, c: -(ia*m.c + ib*m.f), d: id, e: ie, f: -(id*m.c + ie*m.f)}
}

func translate(x, y float64) affine { return affine{a: 1, c: x, e: 1, f: y} }
func scaleXY(sx, sy float64) affine { return affine{a: sx, e: sy} }
func rotate(rad float64) affine {
	s, c := math.Sincos(rad)
	return affine{a: c, b: -s, d: s, e: c}
}

// shape is a region of the plane in its own (local) coordinates. prepare
// maps it to canvas pixels under a similarity transform (rotation, uniform
// scale, mirror, translation), where it is filled scanline by scanline.
type shape interface {
	bbox() (x0, y0, x1, y1 float64) // local coordinates
	prepare(m affine) region
}

// region is a shape in canvas pixels.
type region interface {
	yrange() (y0, y1 float64)
	// spans appends to dst the sorted, disjoint x intervals of the row at y.
	spans(y float64, dst []span) []span
}

type span struct{ x0, x1 float64 }

type pt struct{ x, y float64 }

// ellipse with centre (cx, cy), radii rx, ry, rotated by rot radians.
type ellipse struct {
	cx, cy, rx, ry, rot float64
}

func (e ellipse) bbox() (float64, float64, float64, float64) {
	r := math.Max(e.rx, e.ry)
	if e.rot == 0 {
		return e.cx - e.rx, e.cy - e.ry, e.cx + e.rx, e.cy + e.ry
	}
	return e.cx - r, e.cy - r, e.cx + r, e.cy + r
}

func circle(cx, cy, r float64) ellipse { return ellipse{cx: cx, cy: cy, rx: r, ry: r} }

// ellipseRegion is {C + A u : |u| <= 1}; b is A's inverse.
type ellipseRegion struct {
	cx, cy             float64
	b11, b12, b21, b22 float64
	hy                 float64 // half height
}

func (e ellipse) prepare(m affine) region {
	// A = M_lin * R(rot) * diag(rx, ry).
	s, c := math.Sincos(e.rot)
	a11, a12 := (m.a*c+m.b*s)*e.rx, (-m.a*s+m.b*c)*e.ry
	a21, a22 := (m.d*c+m.e*s)*e.rx, (-m.d*s+m.e*c)*e.ry
	det := a11*a22 - a12*a21
	cx, cy := m.apply(e.cx, e.cy)
	if det == 0 {
		return emptyRegion{}
	}
	return &ellipseRegion{cx: cx, cy: cy, b11: a22 / det, b12: -a12 / det, b21: -a21 / det, b22: a11 / det,
		hy: math.Hypot(a21, a22)}
}

func (e *ellipseRegion) yrange() (float64, float64) { return e.cy - e.hy, e.cy + e.hy }

func (e *ellipseRegion) spans(y float64, dst []span) []span {
	dy := y - e.cy
	// |B (dx, dy)|^2 <= 1 is qa dx^2 + 2 qb dx + qc <= 0.
	qa := e.b11*e.b11 + e.b21*e.b21
	qb := (e.b11*e.b12 + e.b21*e.b22) * dy
	qc := (e.b12*e.b12+e.b22*e.b22)*dy*dy - 1
	disc := qb*qb - qa*qc
	if disc < 0 || qa == 0 {
		return dst
	}
	r := math.Sqrt(disc)
	return append(dst, span{e.cx + (-qb-r)/qa, e.cx + (-qb+r)/qa})
}

type emptyRegion struct{}

func (emptyRegion) yrange() (float64, float64)         { return 0, -1 }
func (emptyRegion) spans(_ float64, dst []span) []span { return dst }

// poly is a polygon, even-odd rule.
type poly []pt

func (p poly) bbox() (float64, float64, float64, float64) {
	x0, y0, x1, y1 := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, q := range p {
		x0, y0 = math.Min(x0, q.x), math.Min(y0, q.y)
		x1, y1 = math.Max(x1, q.x), math.Max(y1, q.y)
	}
	return x0, y0, x1, y1
}

type polyRegion struct {
	p      []pt
	y0, y1 float64
	xs     []float64
}

func (p poly) prepare(m affine) region {
	r := &polyRegion{p: make([]pt, len(p)), y0: math.Inf(1), y1: math.Inf(-1)}
	for i, q := range p {
		x, y := m.apply(q.x, q.y)
		r.p[i] = pt{x, y}
		r.y0, r.y1 = math.Min(r.y0, y), math.Max(r.y1, y)
	}
	return r
}

func (r *polyRegion) yrange() (float64, float64) { return r.y0, r.y1 }

func (r *polyRegion) spans(y float64, dst []span) []span {
	xs := r.xs[:0]
	j := len(r.p) - 1
	for i := range r.p {
		a, b := r.p[i], r.p[j]
		if (a.y > y) != (b.y > y) {
			xs = append(xs, (b.x-a.x)*(y-a.y)/(b.y-a.y)+a.x)
		}
		j = i
	}
	// Insertion sort: a handful of crossings.
	for i := 1; i < len(xs); i++ {
		for k := i; k > 0 && xs[k] < xs[k-1]; k-- {
			xs[k], xs[k-1] = xs[k-1], xs[k]
		}
	}
	for i := 0; i+1 < len(xs); i += 2 {
		dst = append(dst, span{xs[i], xs[i+1]})
	}
	r.xs = xs
	return dst
}

// capsule is a thick segment.
type capsule struct {
	a, b pt
	r    float64
}

func (c capsule) bbox() (float64, float64, float64, float64) {
	return math.Min(c.a.x, c.b.x) - c.r, math.Min(c.a.y, c.b.y) - c.r,
		math.Max(c.a.x, c.b.x) + c.r, math.Max(c.a.y, c.b.y) + c.r
}

type capsuleRegion struct {
	ends [2]region
	body region
}

func (c capsule) prepare(m affine) region {
	out := &capsuleRegion{ends: [2]region{circle(c.a.x, c.a.y, c.r).prepare(m), circle(c.b.x, c.b.y, c.r).prepare(m)}}
	dx, dy := c.b.x-c.a.x, c.b.y-c.a.y
	if l := math.Hypot(dx, dy); l > 0 {
		nx, ny := -dy/l*c.r, dx/l*c.r
		out.body = poly{{c.a.x + nx, c.a.y + ny}, {c.b.x + nx, c.b.y + ny}, {c.b.x - nx, c.b.y - ny}, {c.a.x - nx, c.a.y - ny}}.prepare(m)
	}
	return out
}

func (c *capsuleRegion) yrange() (float64, float64) {
	a0, a1 := c.ends[0].yrange()
	b0, b1 := c.ends[1].yrange()
	return math.Min(a0, b0), math.Max(a1, b1)
}

// spans: the capsule is convex, so its row is one interval covering the
// rows of its two discs and its body.
func (c *capsuleRegion) spans(y float64, dst []span) []span {
	var buf [4]span
	parts := c.ends[0].spans(y, buf[:0])
	parts = c.ends[1].spans(y, parts)
	if c.body != nil {
		parts = c.body.spans(y, parts)
	}
	if len(parts) == 0 {
		return dst
	}
	out := parts[0]
	for _, s := range parts[1:] {
		out.x0, out.x1 = math.Min(out.x0, s.x0), math.Max(out.x1, s.x1)
	}
	return append(dst, out)
}

// halfPlane keeps the points with y < at (when above; else y > at).
type halfPlane struct {
	y     float64
	above bool
}

func (h halfPlane) bbox() (float64, float64, float64, float64) {
	if h.above {
		return -1e9, -1e9, 1e9, h.y
	}
	return -1e9, h.y, 1e9, 1e9
}

type halfPlaneRegion struct {
	d, e, f float64 // local y = d*x + e*y + f
	at      float64
	above   bool
}

func (h halfPlane) prepare(m affine) region {
	inv := m.inverse()
	return &halfPlaneRegion{d: inv.d, e: inv.e, f: inv.f, at: h.y, above: h.above}
}

func (h *halfPlaneRegion) yrange() (float64, float64) { return math.Inf(-1), math.Inf(1) }

func (h *halfPlaneRegion) spans(y float64, dst []span) []span {
	// Keep x where sign*(d*x + e*y + f - at) < 0.
	sign := 1.0
	if !h.above {
		sign = -1
	}
	k := sign * (h.e*y + h.f - h.at)
	d := sign * h.d
	const far = 1e12
	switch {
	case d == 0:
		if k < 0 {
			return append(dst, span{-far, far})
		}
		return dst
	case d > 0: // x < -k/d
		return append(dst, span{-far, -k / d})
	default:
		return append(dst, span{-k / d, far})
	}
}

// and is the intersection of two shapes; its box is the first one's.
type and struct{ s, clip shape }

func (a and) bbox() (float64, float64, float64, float64) { return a.s.bbox() }
func (a and) prepare(m affine) region {
	return &setRegion{op: opAnd, a: a.s.prepare(m), b: a.clip.prepare(m)}
}

// minus is s without cut.
type minus struct{ s, cut shape }

func (n minus) bbox() (float64, float64, float64, float64) { return n.s.bbox() }
func (n minus) prepare(m affine) region {
	return &setRegion{op: opMinus, a: n.s.prepare(m), b: n.cut.prepare(m)}
}

// union of shapes.
type union []shape

func (u union) bbox() (float64, float64, float64, float64) {
	x0, y0, x1, y1 := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, s := range u {
		a, b, c, d := s.bbox()
		x0, y0, x1, y1 = math.Min(x0, a), math.Min(y0, b), math.Max(x1, c), math.Max(y1, d)
	}
	return x0, y0, x1, y1
}

func (u union) prepare(m affine) region {
	var r region = emptyRegion{}
	for _, s := range u {
		r = &setRegion{op: opOr, a: r, b: s.prepare(m)}
	}
	return r
}

const (
	opAnd = iota
	opMinus
	opOr
)

type setRegion struct {
	op     int
	a, b   region
	sa, sb []span
}

func (s *setRegion) yrange() (float64, float64) {
	a0, a1 := s.a.yrange()
	if s.op != opOr {
		if s.op == opAnd {
			b0, b1 := s.b.yrange()
			return math.Max(a0, b0), math.Min(a1, b1)
		}
		return a0, a1
	}
	b0, b1 := s.b.yrange()
	if a0 > a1 {
		return b0, b1
	}
	return math.Min(a0, b0), math.Max(a1, b1)
}

func (s *setRegion) spans(y float64, dst []span) []span {
	s.sa = s.a.spans(y, s.sa[:0])
	s.sb = s.b.spans(y, s.sb[:0])
	a, b := s.sa, s.sb
	switch s.op {
	case opAnd:
		i, j := 0, 0
		for i < len(a) && j < len(b) {
			lo, hi := math.Max(a[i].x0, b[j].x0), math.Min(a[i].x1, b[j].x1)
			if lo < hi {
				dst = append(dst, span{lo, hi})
			}
			if a[i].x1 < b[j].x1 {
				i++
			} else {
				j++
			}
		}
	case opMinus:
		j := 0
		for _, sp := range a {
			lo := sp.x0
			for j < len(b) && b[j].x1 <= lo {
				j++
			}
			for k := j; k < len(b) && b[k].x0 < sp.x1; k++ {
				if b[k].x0 > lo {
					dst = append(dst, span{lo, b[k].x0})
				}
				lo = math.Max(lo, b[k].x1)
			}
			if lo < sp.x1 {
				dst = append(dst, span{lo, sp.x1})
			}
		}
	case opOr:
		i, j := 0, 0
		start := len(dst)
		for i < len(a) || j < len(b) {
			var next span
			if j >= len(b) || (i < len(a) && a[i].x0 <= b[j].x0) {
				next, i = a[i], i+1
			} else {
				next, j = b[j], j+1
			}
			if n := len(dst); n > start && next.x0 <= dst[n-1].x1 {
				dst[n-1].x1 = math.Max(dst[n-1].x1, next.x1)
			} else {
				dst = append(dst, next)
			}
		}
	}
	return dst
}

// quad samples a quadratic Bézier curve from p0 to p2 with control p1.
func quad(p0, p1, p2 pt, n int) []pt {
	out := make([]pt, 0, n+1)
	for i := 0; i <= n; i++ {
		t := float64(i) / float64(n)
		u := 1 - t
		out = append(out, pt{u*u*p0.x + 2*u*t*p1.x + t*t*p2.x, u*u*p0.y + 2*u*t*p1.y + t*t*p2.y})
	}
	return out
}

// canvas is a supersampled RGB float buffer.
type canvas struct {
	w, h int
	pix  []float32 // r, g, b per pixel
}

// canvases recycles buffers: every drawing starts by painting every pixel
// of its background, so a recycled buffer needs no clearing.
var canvases sync.Pool

func newCanvas(w, h int) *canvas {
	if cv, ok := canvases.Get().(*canvas); ok && cap(cv.pix) >= 3*w*h {
		cv.w, cv.h, cv.pix = w, h, cv.pix[:3*w*h]
		return cv
	}
	return &canvas{w: w, h: h, pix: make([]float32, 3*w*h)}
}

func (cv *canvas) release() { canvases.Put(cv) }

// fill paints the shape under transform m (local to canvas pixels) with col
// at opacity alpha (0..1). A pixel is inside when its centre is.
func (cv *canvas) fill(s shape, m affine, col rgb, alpha float32) {
	r := s.prepare(m)
	y0, y1 := r.yrange()
	py0 := max(0, int(math.Ceil(y0-0.5)))
	py1 := min(cv.h-1, int(math.Floor(y1-0.5)))
	var buf []span
	for py := py0; py <= py1; py++ {
		buf = r.spans(float64(py)+0.5, buf[:0])
		for _, sp := range buf {
			px0 := max(0, int(math.Ceil(sp.x0-0.5)))
			px1 := min(cv.w-1, int(math.Floor(sp.x1-0.5)))
			if px0 > px1 {
				continue
			}
			row := cv.pix[3*(py*cv.w+px0) : 3*(py*cv.w+px1+1)]
			if alpha >= 1 {
				for i := 0; i < len(row); i += 3 {
					row[i], row[i+1], row[i+2] = col.r, col.g, col.b
				}
			} else {
				for i := 0; i < len(row); i += 3 {
					row[i] += (col.r - row[i]) * alpha
					row[i+1] += (col.g - row[i+1]) * alpha
					row[i+2] += (col.b - row[i+2]) * alpha
				}
			}
		}
	}
}

// stroke draws a polyline of width w (local units).
func (cv *canvas) stroke(pts []pt, w float64, m affine, col rgb) {
	for i := 1; i < len(pts); i++ {
		cv.fill(capsule{pts[i-1], pts[i], w / 2}, m, col, 1)
	}
}

// outline draws the closed polygon's edges.
func (cv *canvas) outline(p poly, w float64, m affine, col rgb) {
	closed := append(append([]pt(nil), p...), p[0])
	cv.stroke(closed, w, m, col)
}

// perBlock sets every block of step x step pixels from f evaluated at the
// block's first pixel (canvas coordinates): for smooth fills that need no
// anti-aliasing.
func (cv *canvas) perBlock(step int, f func(x, y int) rgb) {
	for by := 0; by < cv.h; by += step {
		for bx := 0; bx < cv.w; bx += step {
			c := f(bx, by)
			for y := by; y < min(by+step, cv.h); y++ {
				row := cv.pix[3*(y*cv.w+bx) : 3*(y*cv.w+min(bx+step, cv.w))]
				for i := 0; i < len(row); i += 3 {
					row[i], row[i+1], row[i+2] = c.r, c.g, c.b
				}
			}
		}
	}
}

// perPixel sets every pixel from f(x, y) in canvas pixels.
func (cv *canvas) perPixel(f func(x, y int) rgb) {
	for y := 0; y < cv.h; y++ {
		for x := 0; x < cv.w; x++ {
			c := f(x, y)
			i := 3 * (y*cv.w + x)
			cv.pix[i], cv.pix[i+1], cv.pix[i+2] = c.r, c.g, c.b
		}
	}
}

// light is the per-image lighting applied while downsampling.
type light struct {
	brightness, contrast float32
	tint                 [3]float32
}

var neutralLight = light{brightness: 1, contrast: 1, tint: [3]float32{1, 1, 1}}

// downsample box-filters ss x ss blocks into an RGBA image and applies l.
func (cv *canvas) downsample(ss int, l light) *image.RGBA {
	w, h := cv.w/ss, cv.h/ss
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	norm := 1 / float32(ss*ss)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var r, g, b float32
			for sy := 0; sy < ss; sy++ {
				i := 3 * ((y*ss+sy)*cv.w + x*ss)
				for sx := 0; sx < ss; sx++ {
					r += cv.pix[i]
					g += cv.pix[i+1]
					b += cv.pix[i+2]
					i += 3
				}
			}
			o := img.PixOffset(x, y)
			img.Pix[o+0] = lit(r*norm, 0, l)
			img.Pix[o+1] = lit(g*norm, 1, l)
			img.Pix[o+2] = lit(b*norm, 2, l)
			img.Pix[o+3] = 255
		}
	}
	return img
}

func lit(v float32, ch int, l light) uint8 {
	v = ((v*l.brightness-128)*l.contrast + 128) * l.tint[ch]
	return uint8(clampf(v) + 0.5)
}
