package curate

import (
	"math"
	"math/bits"
)

// Limits is when two fingerprints are copies of one picture: every signal
// within its limit. A negative limit turns that signal off (pHash cannot be
// turned off: it finds the candidates).
type Limits struct {
	PHash int     // pHash Hamming distance, directly or both hashes mirrored
	DHash int     // dHash Hamming distance, the same way round as pHash
	Color float64 // largest difference of the colour moments (0..255)
	// Aspect is how much the aspect ratios may differ: the larger over the
	// smaller, minus 1 (0.1: 10 %).
	Aspect float64
	// Fine is the largest mean absolute difference (0..255) of the 16x16
	// grey squares in any of their 4x4 blocks, the same way round as the
	// hashes matched.
	Fine float64
	// Mirror lets a mirrored copy match (both hashes and the fine square
	// mirrored).
	Mirror bool
}

// match reports whether a and b are copies under l and their pHash
// distance (the smaller of the direct and the mirrored one that match).
func (l Limits) match(a, b *Fingerprint) (int, bool) {
	d := -1
	if pd := bits.OnesCount64(a.PHash ^ b.PHash); pd <= l.PHash && (l.DHash < 0 || bits.OnesCount64(a.DHash^b.DHash) <= l.DHash) &&
		(l.Fine < 0 || fineDiff(a, b, false) <= l.Fine) {
		d = pd
	}
	mirrored := func(af, bp, ad, bd uint64) {
		pm := bits.OnesCount64(af ^ bp)
		if pm <= l.PHash && (d < 0 || pm < d) && (l.DHash < 0 || bits.OnesCount64(ad^bd) <= l.DHash) &&
			(l.Fine < 0 || fineDiff(a, b, true) <= l.Fine) {
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
	if l.Color >= 0 {
		for c := range a.Color {
			if math.Abs(a.Color[c]-b.Color[c]) > l.Color {
				return 0, false
			}
		}
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

// fineDiff is the largest mean absolute difference of the 16x16 grey
// squares over the 4x4 blocks that tile them, b's mirrored when mirror is
// set: a small emblem or a changed mouth stands out in its block, while the
// noise of a re-encode is spread thin over all of them.
func fineDiff(a, b *Fingerprint, mirror bool) float64 {
	const blk = 4
	worst := 0
	for by := 0; by < fineSide; by += blk {
		for bx := 0; bx < fineSide; bx += blk {
			sum := 0
			for y := by; y < by+blk; y++ {
				for x := bx; x < bx+blk; x++ {
					xb := x
					if mirror {
						xb = fineSide - 1 - x
					}
					d := int(a.Fine[y*fineSide+x]) - int(b.Fine[y*fineSide+xb])
					if d < 0 {
						d = -d
					}
					sum += d
				}
			}
			worst = max(worst, sum)
		}
	}
	return float64(worst) / (blk * blk)
}
