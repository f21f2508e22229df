package dataset

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"math"

	"github.com/disintegration/imaging"

	"github.com/chara-dev/chara/internal/imageio"
)

// Fit modes: how an image is brought to the dataset's height x width.
const (
	FitPad     = "pad"     // scale to fit inside, keep the aspect ratio, pad with a fixed colour
	FitCrop    = "crop"    // scale to cover, crop the centre
	FitStretch = "stretch" // scale each axis on its own
)

// ErrBadFit is returned for an unknown fit mode.
var ErrBadFit = errors.New("unknown fit mode (want pad, crop or stretch)")

// DefaultPad is the padding colour of FitPad, and the colour transparent
// pixels are composited over.
var DefaultPad = color.NRGBA{R: 255, G: 255, B: 255, A: 255}

// CheckFit validates a fit mode.
func CheckFit(fit string) error {
	switch fit {
	case FitPad, FitCrop, FitStretch:
		return nil
	}
	return fmt.Errorf("%q: %w", fit, ErrBadFit)
}

// Preprocess brings img to exactly h x w (height x width) pixels with the
// fit mode, compositing transparency over DefaultPad. It is the one
// preprocessing of chara: dataset build uses it for every training image,
// and prediction must use it (or Load, which decodes and calls it) so
// that a model sees at prediction what it saw in training.
func Preprocess(img image.Image, h, w int, fit string) *image.NRGBA {
	return preprocess(img, h, w, fit, DefaultPad)
}

func preprocess(img image.Image, h, w int, fit string, pad color.NRGBA) *image.NRGBA {
	b := img.Bounds()
	sw, sh := b.Dx(), b.Dy()
	if sw <= 0 || sh <= 0 || w <= 0 || h <= 0 {
		return image.NewNRGBA(image.Rect(0, 0, max(w, 0), max(h, 0)))
	}
	var out *image.NRGBA
	switch fit {
	case FitStretch:
		out = resize(img, w, h)
	case FitCrop:
		s := math.Max(float64(w)/float64(sw), float64(h)/float64(sh))
		rw, rh := max(w, int(math.Round(float64(sw)*s))), max(h, int(math.Round(float64(sh)*s)))
		r := resize(img, rw, rh)
		x0, y0 := (rw-w)/2, (rh-h)/2
		out = imaging.Crop(r, image.Rect(x0, y0, x0+w, y0+h))
	default: // FitPad
		s := math.Min(float64(w)/float64(sw), float64(h)/float64(sh))
		rw, rh := min(w, max(1, int(math.Round(float64(sw)*s)))), min(h, max(1, int(math.Round(float64(sh)*s))))
		r := resize(img, rw, rh)
		out = image.NewNRGBA(image.Rect(0, 0, w, h))
		draw.Draw(out, out.Bounds(), image.NewUniform(pad), image.Point{}, draw.Src)
		x0, y0 := (w-rw)/2, (h-rh)/2
		draw.Draw(out, image.Rect(x0, y0, x0+rw, y0+rh), r, image.Point{}, draw.Over)
		return out
	}
	flatten(out, pad)
	return out
}

// resize scales to w x h. A source at least three times larger on both
// axes is first area-averaged (imageio.Resample, exact and fast) to twice
// the size, then Lanczos does the last step: nearly the quality of a
// Lanczos pass over the full image at a fraction of the cost.
func resize(img image.Image, w, h int) *image.NRGBA {
	b := img.Bounds()
	if b.Dx() == w && b.Dy() == h {
		return imaging.Clone(img)
	}
	if b.Dx() >= 3*w && b.Dy() >= 3*h {
		img = imageio.Resample(img, 2*w, 2*h)
	}
	return imaging.Resize(img, w, h, imaging.Lanczos)
}

// flatten composites any transparency over pad, so that every processed
// image is opaque.
func flatten(img *image.NRGBA, pad color.NRGBA) {
	p := img.Pix
	bg := [3]uint32{uint32(pad.R), uint32(pad.G), uint32(pad.B)}
	for i := 0; i+3 < len(p); i += 4 {
		a := uint32(p[i+3])
		if a == 255 {
			continue
		}
		for c := 0; c < 3; c++ {
			p[i+c] = uint8((uint32(p[i+c])*a + bg[c]*(255-a) + 127) / 255)
		}
		p[i+3] = 255
	}
}

// Output formats of processed images.
const (
	FormatJPEG = "jpeg"
	FormatPNG  = "png"
)

// encode renders a processed image in the dataset's format. The encoders
// are deterministic, so the same pixels give the same bytes (and name).
func encode(img image.Image, format string, quality int) ([]byte, error) {
	var buf bytes.Buffer
	var err error
	if format == FormatPNG {
		err = (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, img)
	} else {
		err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: quality})
	}
	return buf.Bytes(), err
}

// extOf is the file extension of a format.
func extOf(format string) string {
	if format == FormatPNG {
		return ".png"
	}
	return ".jpg"
}

// withMarker returns a copy of an encoded image with a comment embedded:
// the same pixels, different bytes. Oversampling uses it so that every
// repeated training row has its own file named by its own hash.
func withMarker(b []byte, format, text string) ([]byte, error) {
	switch format {
	case FormatPNG:
		// A tEXt chunk right after IHDR (8-byte signature + 25-byte IHDR).
		if len(b) < 33 {
			return nil, errors.New("png too short")
		}
		data := append([]byte("Comment\x00"), text...)
		chunk := make([]byte, 0, len(data)+12)
		chunk = append(chunk, byte(len(data)>>24), byte(len(data)>>16), byte(len(data)>>8), byte(len(data)))
		chunk = append(chunk, "tEXt"...)
		chunk = append(chunk, data...)
		crc := crc32.ChecksumIEEE(chunk[4:])
		chunk = append(chunk, byte(crc>>24), byte(crc>>16), byte(crc>>8), byte(crc))
		out := append([]byte{}, b[:33]...)
		out = append(out, chunk...)
		return append(out, b[33:]...), nil
	default:
		// A COM segment right after SOI.
		if len(b) < 2 || b[0] != 0xff || b[1] != 0xd8 {
			return nil, errors.New("not a JPEG")
		}
		n := len(text) + 2
		out := append([]byte{}, 0xff, 0xd8, 0xff, 0xfe, byte(n>>8), byte(n))
		out = append(out, text...)
		return append(out, b[2:]...), nil
	}
}

// hashName is the processed file name: its own sha256 and the extension,
// so that verify can check a file against its name alone.
func hashName(b []byte, format string) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:]) + extOf(format)
}
