// Package recipe applies a preprocessing recipe (manifests.Recipe): it is
// the one place where chara decodes a source picture for a model, fits it
// to the dataset's image size, stores it, brings a dataset image to a
// model's input and normalises it. dataset build, training, prediction and
// serve all call it, with the recipe recorded in dataset.json (the dataset
// build) or copied into run.json (a run), so that a model sees at
// prediction exactly what it saw in training.
package recipe

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"math"
	"strconv"

	"github.com/disintegration/imaging"

	"github.com/chara-dev/chara/internal/imageio"
	"github.com/chara-dev/chara/internal/imageio/turbojpeg"
	"github.com/chara-dev/chara/manifests"
)

// Version is the preprocessing this package implements. It changes
// whenever the pixels a recipe produces change; a recipe of another version
// is refused rather than applied differently.
const Version = "p1"

// Defaults of a dataset recipe.
const (
	DefaultHeight  = 300
	DefaultWidth   = 150
	DefaultFit     = manifests.FitPad
	DefaultPad     = "#ffffff"
	DefaultFormat  = manifests.FormatJPEG
	DefaultQuality = 95
)

// DefaultAdapt is how a dataset image is brought to a model input of
// another shape. Measured (BENCHMARKS.md, "Model-input adaptation",
// train's BenchmarkInputAdapt): on the synthetic characters, cnn at 100x75
// from 300x150 dataset images reaches the same validation accuracy padded
// or stretched (within one validation image); pad keeps the figures'
// proportions.
const DefaultAdapt = manifests.AdaptPad

// ErrVersion is returned for a recipe of a preprocessing version this
// build does not implement.
var ErrVersion = errors.New("unknown preprocessing version")

// Default is the default dataset recipe.
func Default() manifests.Recipe {
	return manifests.Recipe{
		Version: Version, Height: DefaultHeight, Width: DefaultWidth, Fit: DefaultFit, Pad: DefaultPad,
		Resample: manifests.ResampleLanczos, Decode: manifests.Decode{Orient: true, JPEGEighth: true},
		Format: DefaultFormat, Quality: DefaultQuality, Encoder: manifests.EncoderTurbo,
	}
}

// Sized is the default recipe at height x width with a fit mode.
func Sized(height, width int, fit string) manifests.Recipe {
	m := Default()
	m.Height, m.Width, m.Fit = height, width, fit
	return m
}

// Recipe is a checked recipe, ready to apply. It is immutable and safe for
// concurrent use.
type Recipe struct {
	m   manifests.Recipe
	pad color.NRGBA
	// scale and shift normalise: pixel*scale[c] + shift[c].
	scale, shift [3]float32
}

// New checks a recipe and prepares it. input says whether it must carry
// the model input (a run's) or must not (a dataset's).
func New(m manifests.Recipe, input bool) (*Recipe, error) {
	if err := m.Check(input); err != nil {
		return nil, err
	}
	if m.Version != Version {
		return nil, fmt.Errorf("recipe version %q: %w (this chara implements %q)", m.Version, ErrVersion, Version)
	}
	r := &Recipe{m: m}
	v, _ := strconv.ParseUint(m.Pad[1:], 16, 32)
	r.pad = color.NRGBA{R: uint8(v >> 16), G: uint8(v >> 8), B: uint8(v), A: 255}
	if m.Input != nil {
		m.Input = ptr(*m.Input) // our own copy
		r.m.Input = m.Input
		for c := 0; c < 3; c++ {
			r.scale[c] = float32(1 / (255 * m.Input.Std[c]))
			r.shift[c] = float32(-m.Input.Mean[c] / m.Input.Std[c])
		}
	}
	return r, nil
}

func ptr[T any](v T) *T { return &v }

// Spec is the recipe's value, as recorded.
func (r *Recipe) Spec() manifests.Recipe {
	m := r.m
	if m.Input != nil {
		m.Input = ptr(*m.Input)
	}
	return m
}

// PadColour is the padding (and compositing) colour.
func (r *Recipe) PadColour() color.NRGBA { return r.pad }

// ForModel adds the model input of a model taking h x w (0, 0: any size,
// so the dataset's) with the model's normalisation to a dataset recipe: the
// recipe a run records. adapt "" picks DefaultAdapt when the shapes differ.
func ForModel(ds manifests.Recipe, h, w int, adapt string, mean, std [3]float64) (manifests.Recipe, error) {
	if h == 0 && w == 0 {
		h, w = ds.Height, ds.Width
	}
	if h == ds.Height && w == ds.Width {
		adapt = manifests.AdaptNone
	} else if adapt == "" || adapt == manifests.AdaptNone {
		adapt = DefaultAdapt
	}
	out := ds.WithInput(manifests.Input{Height: h, Width: w, Adapt: adapt, Mean: mean, Std: std})
	if _, err := New(out, true); err != nil {
		return manifests.Recipe{}, err
	}
	return out, nil
}

// Decode decodes a source picture's bytes as the recipe says (format
// sniffed, EXIF orientation applied, a large JPEG at 1/8 scale when that
// still leaves enough pixels for the fit), refusing images of more than
// maxPixels (<= 0: imageio's default). Info is the source's, as displayed.
func (r *Recipe) Decode(b []byte, maxPixels int64) (image.Image, imageio.Info, error) {
	opts := []imageio.Option{imageio.WithOrientation(r.m.Decode.Orient)}
	if maxPixels > 0 {
		opts = append(opts, imageio.WithMaxPixels(maxPixels))
	}
	info, err := imageio.DecodeConfig(b, opts...)
	if err != nil {
		return nil, info, err
	}
	if r.m.Decode.JPEGEighth && info.Format == imageio.JPEG && r.eighthEnough(info.Width, info.Height) {
		img, err := imageio.DecodeJPEGEighth(b)
		if err != nil {
			return nil, info, err
		}
		return imageio.Orient(img, info.Orientation), info, nil
	}
	img, info, err := imageio.Decode(b, opts...)
	return img, info, err
}

// eighthEnough reports whether an sw x sh source decoded at 1/8 scale is
// still at least as large as the intermediate size the fit resizes it to.
func (r *Recipe) eighthEnough(sw, sh int) bool {
	fw, fh := float64(r.m.Width)/float64(sw), float64(r.m.Height)/float64(sh)
	switch r.m.Fit {
	case manifests.FitStretch:
		return fw <= 0.125 && fh <= 0.125
	case manifests.FitCrop:
		return math.Max(fw, fh) <= 0.125
	default:
		return math.Min(fw, fh) <= 0.125
	}
}

// Load decodes a source picture and fits it: the dataset image the recipe
// makes of it (before storage).
func (r *Recipe) Load(b []byte, maxPixels int64) (*image.NRGBA, imageio.Info, error) {
	img, info, err := r.Decode(b, maxPixels)
	if err != nil {
		return nil, info, err
	}
	return r.Fit(img), info, nil
}

// Fit brings a decoded source to the dataset's height x width with the
// recipe's fit mode, compositing transparency over the pad colour.
func (r *Recipe) Fit(img image.Image) *image.NRGBA {
	return fit(img, r.m.Height, r.m.Width, r.m.Fit, r.pad)
}

func fit(img image.Image, h, w int, mode string, pad color.NRGBA) *image.NRGBA {
	b := img.Bounds()
	sw, sh := b.Dx(), b.Dy()
	if sw <= 0 || sh <= 0 || w <= 0 || h <= 0 {
		return image.NewNRGBA(image.Rect(0, 0, max(w, 0), max(h, 0)))
	}
	var out *image.NRGBA
	switch mode {
	case manifests.FitStretch:
		out = resize(img, w, h)
	case manifests.FitCrop:
		s := math.Max(float64(w)/float64(sw), float64(h)/float64(sh))
		rw, rh := max(w, int(math.Round(float64(sw)*s))), max(h, int(math.Round(float64(sh)*s)))
		rs := resize(img, rw, rh)
		x0, y0 := (rw-w)/2, (rh-h)/2
		out = imaging.Crop(rs, image.Rect(x0, y0, x0+w, y0+h))
	default: // pad
		s := math.Min(float64(w)/float64(sw), float64(h)/float64(sh))
		rw, rh := min(w, max(1, int(math.Round(float64(sw)*s)))), min(h, max(1, int(math.Round(float64(sh)*s))))
		var rs *image.NRGBA
		if n, ok := img.(*image.NRGBA); ok && sw == rw && sh == rh {
			rs = n // already the fitted size (a 1/8-scale decode): only read
		} else {
			rs = resize(img, rw, rh)
		}
		out = image.NewNRGBA(image.Rect(0, 0, w, h))
		fill(out, pad)
		x0, y0 := (w-rw)/2, (h-rh)/2
		if rs.Opaque() {
			// Over an opaque source is a copy: row by row.
			for y := 0; y < rh; y++ {
				src := rs.Pix[rs.PixOffset(rs.Rect.Min.X, rs.Rect.Min.Y+y):][:4*rw]
				copy(out.Pix[out.PixOffset(x0, y0+y):], src)
			}
		} else {
			draw.Draw(out, image.Rect(x0, y0, x0+rw, y0+rh), rs, rs.Rect.Min, draw.Over)
		}
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

// fill paints img with c.
func fill(img *image.NRGBA, c color.NRGBA) {
	row := img.Pix[:4*img.Rect.Dx()]
	for i := 0; i < len(row); i += 4 {
		row[i], row[i+1], row[i+2], row[i+3] = c.R, c.G, c.B, c.A
	}
	for y := 1; y < img.Rect.Dy(); y++ {
		copy(img.Pix[y*img.Stride:], row)
	}
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

// Encode stores a fitted image in the recipe's format (JPEG by the
// recipe's encoder). The encoders are deterministic: the same pixels give
// the same bytes.
func (r *Recipe) Encode(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	var err error
	switch {
	case r.m.Format == manifests.FormatPNG:
		err = (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, img)
	case r.m.Encoder == manifests.EncoderTurbo:
		n, ok := img.(*image.NRGBA)
		if !ok || !n.Opaque() {
			n = imaging.Clone(img)
			flatten(n, r.pad)
		}
		return turbojpeg.EncodeNRGBA(n, r.m.Quality)
	default:
		err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: r.m.Quality})
	}
	return buf.Bytes(), err
}

// Ext is the file extension of stored dataset images, with the dot.
func (r *Recipe) Ext() string {
	if r.m.Format == manifests.FormatPNG {
		return ".png"
	}
	return ".jpg"
}

// InputSize is the model input's height and width (the dataset's size for
// a recipe without a model input).
func (r *Recipe) InputSize() (int, int) {
	if r.m.Input == nil {
		return r.m.Height, r.m.Width
	}
	return r.m.Input.Height, r.m.Input.Width
}

// ToInput brings a dataset image (Fit's output, or a stored dataset image
// decoded) to the model input, as the recipe's Input.Adapt says: as it is,
// padded (scaled to fit inside, pad colour around) or stretched. The result
// is opaque.
func (r *Recipe) ToInput(img image.Image) *image.NRGBA {
	h, w := r.InputSize()
	b := img.Bounds()
	if b.Dx() == w && b.Dy() == h {
		if n, ok := img.(*image.NRGBA); ok && opaque(n) {
			return n
		}
		out := imaging.Clone(img)
		flatten(out, r.pad)
		return out
	}
	mode := manifests.FitStretch
	if r.m.Input != nil && r.m.Input.Adapt == manifests.AdaptPad {
		mode = manifests.FitPad
	}
	return fit(img, h, w, mode, r.pad)
}

func opaque(n *image.NRGBA) bool {
	b := n.Bounds()
	for y := 0; y < b.Dy(); y++ {
		row := n.Pix[y*n.Stride : y*n.Stride+4*b.Dx()]
		for i := 3; i < len(row); i += 4 {
			if row[i] != 255 {
				return false
			}
		}
	}
	return true
}

// PlanesU8 writes the RGB planes (CHW order) of an opaque model-input image
// into dst (3*h*w bytes): the form training caches.
func PlanesU8(img *image.NRGBA, dst []uint8) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	plane := w * h
	for y := 0; y < h; y++ {
		row := img.Pix[y*img.Stride : y*img.Stride+4*w]
		for x := 0; x < w; x++ {
			o := y*w + x
			dst[o], dst[plane+o], dst[2*plane+o] = row[4*x], row[4*x+1], row[4*x+2]
		}
	}
}

// Affine is the normalisation as pixel*scale[c] + shift[c] for a pixel
// value 0..255 of channel c: (pixel/255 - mean[c]) / std[c]. Training
// applies it to uint8 batches on the device; Tensor applies it here.
func (r *Recipe) Affine() (scale, shift [3]float32) { return r.scale, r.shift }

// Tensor returns a model-input image as a normalised CHW float32 slice.
func (r *Recipe) Tensor(img *image.NRGBA) []float32 {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	out := make([]float32, 3*w*h)
	plane := w * h
	for y := 0; y < h; y++ {
		row := img.Pix[y*img.Stride:]
		for x := 0; x < w; x++ {
			px := row[4*x : 4*x+3]
			i := y*w + x
			out[i] = float32(px[0])*r.scale[0] + r.shift[0]
			out[plane+i] = float32(px[1])*r.scale[1] + r.shift[1]
			out[2*plane+i] = float32(px[2])*r.scale[2] + r.shift[2]
		}
	}
	return out
}

// Input decodes a picture and brings it to the model input: Load then
// ToInput, the path prediction and serve take. A stored dataset image
// comes out exactly as training fed it (its fit is the identity).
func (r *Recipe) Input(b []byte, maxPixels int64) (*image.NRGBA, error) {
	img, _, err := r.Load(b, maxPixels)
	if err != nil {
		return nil, err
	}
	return r.ToInput(img), nil
}

// DecodeStored decodes a stored dataset image (no orientation: the dataset
// build applied it) into NRGBA pixels, converted as Fit converts a source
// of the dataset's size, so that Input of a stored image and training's
// DecodeStored + ToInput agree to the bit.
func (r *Recipe) DecodeStored(b []byte) (*image.NRGBA, error) {
	img, _, err := imageio.Decode(b, imageio.WithOrientation(false))
	if err != nil {
		return nil, err
	}
	out := imaging.Clone(img)
	flatten(out, r.pad)
	return out, nil
}
