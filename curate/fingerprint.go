package curate

import (
	"crypto/sha256"
	"encoding/hex"
	"image"
	"math"
	"slices"

	"github.com/corona10/goimagehash"

	"github.com/chara-dev/chara/internal/imageio"
)

// hashSide is the side of the antialiased square that the hashes and the
// quality statistics are computed from.
const hashSide = 64

// Fingerprint is everything curation needs to know about one file's bytes.
// It depends only on the bytes (and the pixel limit), so it is cached by
// sha256.
type Fingerprint struct {
	SHA256 string
	Format imageio.Format
	Width  int // as displayed (EXIF orientation applied)
	Height int
	// Invalid is the refusal reason ("truncated", "too-large", ...); the
	// other fields below are zero when it is set.
	Invalid string
	Detail  string // the decoder's message for Invalid
	PHash   uint64
	// PHashFlip is the pHash of the mirrored image, so that flipped copies
	// are found as duplicates too.
	PHashFlip uint64
	DHash     uint64
	DHashFlip uint64 // the dHash of the mirrored image
	// Bytes is the file's size: of two copies with the same pixels and
	// format, the larger is the less compressed.
	Bytes      int
	Entropy    float64 // bits, grey-level histogram of the 64x64 square
	Saturation float64 // mean (max-min)/255 over RGB, 0 for grey images
	// Colour moments of the 64x64 square over white: the mean and the
	// standard deviation of R, G and B (0..255). A recolour (another
	// character's palette on the same drawing) differs here, not in the
	// grey-level hashes.
	Color [6]float64
	// Subject is the share of the square that is not background: pixels
	// farther than subjectTolerance from the most common border colour
	// (transparent pixels are white here). SubjectEntropy is the grey-level
	// entropy of those pixels, in bits. A sprite, a render on a transparent
	// background or a white-background illustration has a subject; a blank,
	// near-uniform or solid-colour picture has almost none.
	Subject        float64
	SubjectEntropy float64
	// Fine is the 16x16 grey square (box means of the 64x64 one), row by
	// row: the detail that tells an emblem, a mouth or an item of gear
	// apart where the 64-bit hashes agree.
	Fine [fineSide * fineSide]uint8
}

// fineSide is the side of Fingerprint.Fine.
const fineSide = 16

// subjectTolerance is how far (max over R, G, B, 0..255) a pixel may lie
// from the background colour and still be background: JPEG noise and paper
// texture stay below it.
const subjectTolerance = 16

// Analyze validates and hashes one file's bytes. It never panics on hostile
// input (FuzzValidateAndHash) and refuses images above maxPixels before
// decoding them.
func Analyze(b []byte, maxPixels int64) Fingerprint {
	sum := sha256.Sum256(b)
	fp := Fingerprint{SHA256: hex.EncodeToString(sum[:]), Bytes: len(b)}
	small, info, err := imageio.Thumbnail(b, hashSide, hashSide, imageio.WithMaxPixels(maxPixels))
	fp.Format, fp.Width, fp.Height = info.Format, info.Width, info.Height
	if err != nil {
		fp.Invalid = imageio.Reason(err)
		fp.Detail = err.Error()
		return fp
	}
	gray := image.NewGray(image.Rect(0, 0, hashSide, hashSide))
	mirror := image.NewGray(gray.Rect)
	var hist [256]int
	var sat float64
	var sum3, sq3 [3]float64
	for y := 0; y < hashSide; y++ {
		for x := 0; x < hashSide; x++ {
			p := small.Pix[y*small.Stride+4*x:]
			r, g, bl := float64(p[0]), float64(p[1]), float64(p[2])
			v := uint8(math.Round(0.299*r + 0.587*g + 0.114*bl))
			gray.Pix[y*hashSide+x] = v
			mirror.Pix[y*hashSide+hashSide-1-x] = v
			hist[v]++
			sat += (math.Max(r, math.Max(g, bl)) - math.Min(r, math.Min(g, bl))) / 255
			for c, val := range [3]float64{r, g, bl} {
				sum3[c] += val
				sq3[c] += val * val
			}
		}
	}
	n := float64(hashSide * hashSide)
	fp.Entropy = round4(entropy(hist[:], n)) // as stored in the cache, so reruns decide alike
	fp.Saturation = round4(sat / n)
	for c := range sum3 {
		m := sum3[c] / n
		fp.Color[c] = round4(m)
		fp.Color[3+c] = round4(math.Sqrt(math.Max(sq3[c]/n-m*m, 0)))
	}
	fp.Subject, fp.SubjectEntropy = subject(small, gray)
	const k = hashSide / fineSide
	for y := 0; y < fineSide; y++ {
		for x := 0; x < fineSide; x++ {
			sum := 0
			for dy := 0; dy < k; dy++ {
				for dx := 0; dx < k; dx++ {
					sum += int(gray.Pix[(y*k+dy)*hashSide+x*k+dx])
				}
			}
			fp.Fine[y*fineSide+x] = uint8((sum + k*k/2) / (k * k))
		}
	}
	fp.PHash = phash(gray)
	fp.PHashFlip = phash(mirror)
	fp.DHash, fp.DHashFlip = dhashes(gray)
	return fp
}

func entropy(hist []int, n float64) float64 {
	e := 0.0
	for _, c := range hist {
		if c > 0 {
			p := float64(c) / n
			e -= p * math.Log2(p)
		}
	}
	return e
}

// subject finds the background, the most common colour on the border of
// the square (quantised to 32 levels per channel), and returns the share of
// the pixels farther than subjectTolerance from it and their grey-level
// entropy.
func subject(small *image.NRGBA, gray *image.Gray) (share, bits float64) {
	px := func(x, y int) []uint8 { return small.Pix[y*small.Stride+4*x:] }
	key := func(p []uint8) uint16 { return uint16(p[0]>>3)<<10 | uint16(p[1]>>3)<<5 | uint16(p[2]>>3) }
	var ring [][]uint8 // the border pixels
	for i := 0; i < hashSide; i++ {
		ring = append(ring, px(i, 0), px(i, hashSide-1))
		if i > 0 && i < hashSide-1 {
			ring = append(ring, px(0, i), px(hashSide-1, i))
		}
	}
	keys := make([]uint16, len(ring))
	for i, p := range ring {
		keys[i] = key(p)
	}
	slices.Sort(keys)
	// The most common key; the smallest of those as common.
	bg, best := keys[0], 0
	for i := 0; i < len(keys); {
		j := i
		for j < len(keys) && keys[j] == keys[i] {
			j++
		}
		if j-i > best {
			bg, best = keys[i], j-i
		}
		i = j
	}
	var s [3]int
	for _, p := range ring {
		if key(p) == bg {
			s[0], s[1], s[2] = s[0]+int(p[0]), s[1]+int(p[1]), s[2]+int(p[2])
		}
	}
	mean := [3]int{s[0] / best, s[1] / best, s[2] / best}
	var hist [256]int
	m := 0
	for y := 0; y < hashSide; y++ {
		for x := 0; x < hashSide; x++ {
			p := px(x, y)
			d := 0
			for c := 0; c < 3; c++ {
				d = max(d, abs(int(p[c])-mean[c]))
			}
			if d > subjectTolerance {
				hist[gray.Pix[y*hashSide+x]]++
				m++
			}
		}
	}
	if m == 0 {
		return 0, 0
	}
	return round4(float64(m) / float64(hashSide*hashSide)), round4(entropy(hist[:], float64(m)))
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// dhashes is goimagehash's difference hash of the square and of its mirror
// image, resized (with antialiasing) to the 9x8 it compares.
func dhashes(g *image.Gray) (direct, mirrored uint64) {
	d9 := imageio.Resample(g, 9, 8)
	// The box filter is symmetric: the mirrored square's 9x8 is this one
	// mirrored.
	m9 := image.NewNRGBA(d9.Rect)
	for y := 0; y < 8; y++ {
		for x := 0; x < 9; x++ {
			copy(m9.Pix[y*m9.Stride+4*(8-x):][:4], d9.Pix[y*d9.Stride+4*x:][:4])
		}
	}
	if h, err := goimagehash.DifferenceHash(d9); err == nil {
		direct = h.GetHash()
	}
	if h, err := goimagehash.DifferenceHash(m9); err == nil {
		mirrored = h.GetHash()
	}
	return direct, mirrored
}

// phash is goimagehash's pHash of an image that is already the 64x64 square
// it works on, so its own (non-antialiased) resize is the identity.
func phash(g *image.Gray) uint64 {
	h, err := goimagehash.PerceptionHash(g)
	if err != nil {
		return 0
	}
	return h.GetHash()
}

// hex16 formats a 64-bit hash as 16 hex digits.
func hex16(h uint64) string {
	const digits = "0123456789abcdef"
	var b [16]byte
	for i := 15; i >= 0; i-- {
		b[i] = digits[h&0xf]
		h >>= 4
	}
	return string(b[:])
}
