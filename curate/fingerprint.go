package curate

import (
	"crypto/sha256"
	"encoding/hex"
	"image"
	"math"

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
	PHashFlip  uint64
	DHash      uint64
	Entropy    float64 // bits, grey-level histogram of the 64x64 square
	Saturation float64 // mean (max-min)/255 over RGB, 0 for grey images
}

// Analyze validates and hashes one file's bytes. It never panics on hostile
// input (FuzzValidateAndHash) and refuses images above maxPixels before
// decoding them.
func Analyze(b []byte, maxPixels int64) Fingerprint {
	sum := sha256.Sum256(b)
	fp := Fingerprint{SHA256: hex.EncodeToString(sum[:])}
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
	for y := 0; y < hashSide; y++ {
		for x := 0; x < hashSide; x++ {
			p := small.Pix[y*small.Stride+4*x:]
			r, g, bl := float64(p[0]), float64(p[1]), float64(p[2])
			v := uint8(math.Round(0.299*r + 0.587*g + 0.114*bl))
			gray.Pix[y*hashSide+x] = v
			mirror.Pix[y*hashSide+hashSide-1-x] = v
			hist[v]++
			sat += (math.Max(r, math.Max(g, bl)) - math.Min(r, math.Min(g, bl))) / 255
		}
	}
	n := float64(hashSide * hashSide)
	for _, c := range hist {
		if c > 0 {
			p := float64(c) / n
			fp.Entropy -= p * math.Log2(p)
		}
	}
	fp.Entropy = round4(fp.Entropy) // as stored in the cache, so reruns decide alike
	fp.Saturation = round4(sat / n)
	fp.PHash = phash(gray)
	fp.PHashFlip = phash(mirror)
	d9 := imageio.Resample(gray, 9, 8)
	if h, err := goimagehash.DifferenceHash(d9); err == nil {
		fp.DHash = h.GetHash()
	}
	return fp
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
