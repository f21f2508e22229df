package imageio

import (
	"image"

	"github.com/chara-dev/chara/internal/imageio/turbojpeg"
)

// DecodeJPEGEighth decodes a JPEG at 1/8 scale: ceil(w/8) x ceil(h/8)
// pixels, each about the mean of an 8x8 block. libjpeg-turbo's scaled IDCT
// does the work; a file it refuses (CMYK) or finds corrupt is decoded at
// full size by the standard library and box-filtered (Resample) to the same
// size, so that the standard decoder's errors (classified by Decode's
// rules: truncated, corrupt, unsupported) are what the caller sees.
func DecodeJPEGEighth(b []byte) (image.Image, error) {
	if img, err := turbojpeg.DecodeScaled(b, 8); err == nil {
		return img, nil
	}
	return eighthStd(b)
}

// eighthStd is DecodeJPEGEighth's fallback: a full decode by the standard
// library, box-filtered to 1/8.
func eighthStd(b []byte) (image.Image, error) {
	img, err := decodeAs(JPEG, b)
	if err != nil {
		return nil, classify(JPEG, err)
	}
	r := img.Bounds()
	return Resample(img, (r.Dx()+7)/8, (r.Dy()+7)/8), nil
}
