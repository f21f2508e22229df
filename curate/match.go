package curate

import (
	"math"
	"math/bits"
)

// Limits is when two fingerprints are copies of one picture: every signal
// within its limit. A negative limit turns that signal off (pHash cannot be
// turned off: it finds the candidates).
type Limits struct {
	PHash int // pHash Hamming distance, directly or both hashes mirrored
	DHash int // dHash Hamming distance, the same way round as pHash
	// Color is the largest difference of the colour moments (0..255), b's
	// scaled to a's brightness.
	Color float64
	// Aspect is how much the aspect ratios may differ: the larger over the
	// smaller, minus 1 (0.1: 10 %).
	Aspect float64
	// Fine is the largest mean absolute difference (0..255) of the 16x16
	// grey squares in any of their 4x4 blocks, the same way round as the
	// hashes matched, at the best of a few centred zooms (crops of up to
	// 8 %), one square's levels scaled to the other's brightness.
	Fine float64
	// Mirror lets a mirrored copy match (both hashes and the fine square
	// mirrored).
	Mirror bool
}

// match reports whether a and b are copies under l and their pHash
// distance (the smaller of the direct and the mirrored one that match).
func (l Limits) match(a, b *Fingerprint) (int, bool) {
	fineLimit := l.Fine * fineScale(a, b)
	d := -1
	if pd := bits.OnesCount64(a.PHash ^ b.PHash); pd <= l.PHash && (l.DHash < 0 || bits.OnesCount64(a.DHash^b.DHash) <= l.DHash) &&
		(l.Fine < 0 || fineDiff(a, b, false) <= fineLimit) {
		d = pd
	}
	mirrored := func(af, bp, ad, bd uint64) {
		pm := bits.OnesCount64(af ^ bp)
		if pm <= l.PHash && (d < 0 || pm < d) && (l.DHash < 0 || bits.OnesCount64(ad^bd) <= l.DHash) &&
			(l.Fine < 0 || fineDiff(a, b, true) <= fineLimit) {
			d = pm
		}
	}
	if l.Mirror {
		mirrored(a.PHashFlip, b.PHash, a.DHashFlip, b.DHash)
		mirrored(b.PHashFlip, a.PHash, b.DHashFlip, a.DHash)
	}
	if d < 0 {
		return 0, false
	}
	if l.Color >= 0 && colorDiff(a, b) > l.Color {
		return 0, false
	}
	if l.Aspect >= 0 && a.Width > 0 && b.Width > 0 && a.Height > 0 && b.Height > 0 {
		ra := float64(a.Width) / float64(a.Height)
		rb := float64(b.Width) / float64(b.Height)
		if math.Max(ra, rb)/math.Min(ra, rb)-1 > l.Aspect+1e-9 {
			return 0, false
		}
	}
	return d, true
}

// fineScale loosens the fine limit for a picture smaller than the 64x64
// square (up to 3x at 21 px and below): its square is upsampled, so its
// fine detail is its own resampling, not the picture's; at such sizes the
// hashes and colours still decide.
func fineScale(a, b *Fingerprint) float64 {
	side := min(a.Width, a.Height, b.Width, b.Height)
	if side <= 0 || side >= hashSide {
		return 1
	}
	return math.Min(float64(hashSide)/float64(side), 3)
}

// colorDiff is the largest difference of the colour moments once b's are
// scaled to a's mean brightness: a copy made lighter or darker keeps its
// colours, a recolour does not.
func colorDiff(a, b *Fingerprint) float64 {
	ya := 0.299*a.Color[0] + 0.587*a.Color[1] + 0.114*a.Color[2]
	yb := 0.299*b.Color[0] + 0.587*b.Color[1] + 0.114*b.Color[2]
	k := 1.0
	if ya > 1 && yb > 1 {
		k = math.Min(math.Max(ya/yb, 0.8), 1.25) // a brightness change, not a blank
	}
	worst := 0.0
	for c := range a.Color {
		worst = math.Max(worst, math.Abs(a.Color[c]-k*b.Color[c]))
	}
	return worst
}

// fineZooms are the zooms (the share of the square kept, centred) at which
// fineDiff also compares the squares: a copy cropped by up to 8 % is the
// original zoomed in.
var fineZooms = []float64{1, 0.96, 0.92}

// fineDiff is the largest mean absolute difference of the 16x16 grey
// squares over the 4x4 blocks that tile them, b's mirrored when mirror is
// set, at the best of fineZooms of either square: a small emblem or a
// changed mouth stands out in its block, while the noise of a re-encode is
// spread thin over all of them.
func fineDiff(a, b *Fingerprint, mirror bool) float64 {
	best := math.Inf(1)
	for _, z := range fineZooms {
		best = math.Min(best, fineDiffZoom(&a.Fine, &b.Fine, mirror, z))
		if z != 1 {
			best = math.Min(best, fineDiffZoom(&b.Fine, &a.Fine, mirror, z))
		}
		if best == 0 {
			break
		}
	}
	return best
}

// fineDiffZoom compares p with the centre z of q (q's share z, resampled
// bilinearly to the full square; mirrored when mirror is set).
func fineDiffZoom(p, q *[fineSide * fineSide]uint8, mirror bool, z float64) float64 {
	const blk = 4
	var zq [fineSide * fineSide]float64
	off := (1 - z) * fineSide / 2
	for y := 0; y < fineSide; y++ {
		sy := off + (float64(y)+0.5)*z - 0.5
		for x := 0; x < fineSide; x++ {
			sx := off + (float64(x)+0.5)*z - 0.5
			zq[y*fineSide+x] = bilinear(q, sx, sy)
		}
	}
	// A copy made lighter or darker: q's levels scaled to p's mean.
	mp, mq := 0.0, 0.0
	for i := range zq {
		mp += float64(p[i])
		mq += zq[i]
	}
	k := 1.0
	if mp > 0 && mq > 0 {
		k = math.Min(math.Max(mp/mq, 0.8), 1.25)
	}
	worst := 0.0
	for by := 0; by < fineSide; by += blk {
		for bx := 0; bx < fineSide; bx += blk {
			sum := 0.0
			for y := by; y < by+blk; y++ {
				for x := bx; x < bx+blk; x++ {
					xq := x
					if mirror {
						xq = fineSide - 1 - x
					}
					sum += math.Abs(float64(p[y*fineSide+x]) - k*zq[y*fineSide+xq])
				}
			}
			worst = math.Max(worst, sum)
		}
	}
	return worst / (blk * blk)
}

func bilinear(q *[fineSide * fineSide]uint8, x, y float64) float64 {
	x = math.Min(math.Max(x, 0), fineSide-1)
	y = math.Min(math.Max(y, 0), fineSide-1)
	x0, y0 := int(x), int(y)
	x1, y1 := min(x0+1, fineSide-1), min(y0+1, fineSide-1)
	fx, fy := x-float64(x0), y-float64(y0)
	at := func(x, y int) float64 { return float64(q[y*fineSide+x]) }
	return (at(x0, y0)*(1-fx)+at(x1, y0)*fx)*(1-fy) + (at(x0, y1)*(1-fx)+at(x1, y1)*fx)*fy
}
