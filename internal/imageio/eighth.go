package imageio

import (
	"bytes"
	"image"

	"github.com/chara-dev/chara/internal/imageio/jpegdc"
	"github.com/chara-dev/chara/internal/imageio/turbojpeg"
)

// DecodeJPEGEighth decodes a JPEG at 1/8 scale (each 8x8 block becomes one
// pixel, its mean). libjpeg-turbo does the work; a file it refuses or finds
// corrupt goes through jpegdc instead, whose errors are what Decode reports
// for such files (a jpegdc.UnsupportedError for CMYK tells the caller to
// decode at full size).
func DecodeJPEGEighth(b []byte) (image.Image, error) {
	if img, err := turbojpeg.DecodeScaled(b, 8); err == nil {
		return img, nil
	}
	return jpegdc.DecodeDC(bytes.NewReader(b))
}
