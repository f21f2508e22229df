package dataset

import (
	"fmt"
	"image"
	"math"
	"os"

	"github.com/chara-dev/chara/internal/imageio"
)

// Load decodes an image file's bytes (format sniffed from magic bytes,
// EXIF orientation applied, oversized images refused) and preprocesses it
// exactly as dataset build does: the function prediction should call on a
// user's image. maxPixels <= 0 means imageio's default limit.
func Load(b []byte, h, w int, fit string, maxPixels int64) (*image.NRGBA, error) {
	img, _, _, err := decodeFor(b, h, w, fit, maxPixels)
	if err != nil {
		return nil, err
	}
	return Preprocess(img, h, w, fit), nil
}

// LoadFile is Load on a file; errors name the file.
func LoadFile(path string, h, w int, fit string, maxPixels int64) (*image.NRGBA, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	img, err := Load(b, h, w, fit, maxPixels)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return img, nil
}

// decodeFor decodes b for a target of h x w with the fit mode, and returns
// the displayed size of the source. A JPEG whose 1/8-scale version is still
// at least as large as the resize step needs is decoded at 1/8 scale from
// its DC coefficients (an exact 8x8 box average, several times faster);
// the Lanczos resize that follows then sees nearly the same pixels as if
// the full image had been decoded.
func decodeFor(b []byte, h, w int, fit string, maxPixels int64) (image.Image, int, int, error) {
	var opts []imageio.Option
	if maxPixels > 0 {
		opts = append(opts, imageio.WithMaxPixels(maxPixels))
	}
	info, err := imageio.DecodeConfig(b, opts...)
	if err != nil {
		return nil, 0, 0, err
	}
	if info.Format == imageio.JPEG && dcEnough(info.Width, info.Height, h, w, fit) {
		img, err := imageio.DecodeJPEGEighth(b)
		if err != nil {
			return nil, 0, 0, err
		}
		return imageio.Orient(img, info.Orientation), info.Width, info.Height, nil
	}
	img, info, err := imageio.Decode(b, opts...)
	if err != nil {
		return nil, 0, 0, err
	}
	return img, info.Width, info.Height, nil
}

// dcEnough reports whether an sw x sh source decoded at 1/8 scale is still
// at least as large as the intermediate size the fit mode resizes it to.
func dcEnough(sw, sh, h, w int, fit string) bool {
	fw, fh := float64(w)/float64(sw), float64(h)/float64(sh)
	switch fit {
	case FitStretch:
		return fw <= 0.125 && fh <= 0.125
	case FitCrop:
		return math.Max(fw, fh) <= 0.125
	default:
		return math.Min(fw, fh) <= 0.125
	}
}
