package manifests

import (
	"fmt"
	"regexp"
)

// Recipe is the one description of how chara sees an image: how a source
// picture is decoded and fitted to the dataset's image size (recorded in
// dataset.json when the dataset is built), and how a dataset image becomes
// a model's input (Input, added when a run copies the recipe into its
// run.json). internal/recipe applies it; nothing else resizes or
// normalises. A run keeps its own copy, so it sees images the same way
// whatever later happens to its dataset.
type Recipe struct {
	// Version names the preprocessing code; internal/recipe refuses a
	// version it does not implement.
	Version string `json:"version"`
	// Height and Width are the dataset images' size.
	Height int `json:"height"`
	Width  int `json:"width"`
	// Fit brings a source to Height x Width: pad | crop | stretch.
	Fit string `json:"fit"`
	// Pad is the padding colour of "pad", and the colour transparency is
	// composited over, as #rrggbb.
	Pad string `json:"pad"`
	// Resample is the resize filter: "lanczos" (a source at least three
	// times larger on both axes is first area-averaged to twice the target).
	Resample string `json:"resample"`
	// Decode says how sources are decoded.
	Decode Decode `json:"decode"`
	// Format and Quality are how dataset images are stored (jpeg | png).
	Format  string `json:"format"`
	Quality int    `json:"quality,omitempty"`
	// Encoder writes the JPEGs: "libjpeg-turbo", or "" for Go's
	// image/jpeg (datasets made before the choice was recorded).
	Encoder string `json:"encoder,omitempty"`
	// Input is how a dataset image becomes the model input; set in run.json
	// only.
	Input *Input `json:"input,omitempty"`
}

// Decode options of a recipe.
type Decode struct {
	// Orient applies the EXIF orientation.
	Orient bool `json:"exif_orientation"`
	// JPEGEighth decodes a JPEG at 1/8 scale when that is still at least
	// the size the fit resizes to.
	JPEGEighth bool `json:"jpeg_eighth"`
}

// Input is the model-input part of a recipe.
type Input struct {
	Height int `json:"height"` // model input size
	Width  int `json:"width"`
	// Adapt brings a dataset image of another shape to the input size:
	// "none" (same size), "pad" (fit inside, pad with the recipe's Pad
	// colour) or "stretch" (each axis scaled on its own).
	Adapt string `json:"adapt"`
	// Mean and Std normalise: (pixel/255 - mean[c]) / std[c].
	Mean [3]float64 `json:"mean"`
	Std  [3]float64 `json:"std"`
}

// Fit modes of Recipe.Fit.
const (
	FitPad     = "pad"     // scale to fit inside, keep the aspect ratio, pad with a fixed colour
	FitCrop    = "crop"    // scale to cover, crop the centre
	FitStretch = "stretch" // scale each axis on its own
)

// Adaptations of Input.Adapt.
const (
	AdaptNone    = "none"
	AdaptPad     = "pad"
	AdaptStretch = "stretch"
)

// Storage formats of Recipe.Format.
const (
	FormatJPEG = "jpeg"
	FormatPNG  = "png"
)

// EncoderTurbo is libjpeg-turbo's JPEG encoder.
const EncoderTurbo = "libjpeg-turbo"

// ResampleLanczos is the one resize filter.
const ResampleLanczos = "lanczos"

var padRE = regexp.MustCompile(`^#[0-9a-f]{6}$`)

// Check validates a recipe; errors name the field. input says whether the
// model-input part must be there (run.json) or absent (dataset.json).
func (r *Recipe) Check(input bool) error {
	bad := func(field, format string, args ...any) error {
		return &RecordError{Field: "recipe." + field, Err: fmt.Errorf(format, args...)}
	}
	switch {
	case r.Version == "":
		return bad("version", "empty")
	case r.Height <= 0 || r.Width <= 0:
		return bad("height", "image size %dx%d", r.Height, r.Width)
	case r.Fit != FitPad && r.Fit != FitCrop && r.Fit != FitStretch:
		return bad("fit", "%q (want pad, crop or stretch)", r.Fit)
	case !padRE.MatchString(r.Pad):
		return bad("pad", "%q (want #rrggbb, lower case)", r.Pad)
	case r.Resample != ResampleLanczos:
		return bad("resample", "%q (want %s)", r.Resample, ResampleLanczos)
	case r.Format != FormatJPEG && r.Format != FormatPNG:
		return bad("format", "%q (want jpeg or png)", r.Format)
	case r.Format == FormatJPEG && (r.Quality < 1 || r.Quality > 100):
		return bad("quality", "%d (want 1..100)", r.Quality)
	case r.Encoder != "" && r.Encoder != EncoderTurbo:
		return bad("encoder", "%q (want %s, or empty for Go's image/jpeg)", r.Encoder, EncoderTurbo)
	}
	if !input {
		if r.Input != nil {
			return bad("input", "a dataset's recipe has no model input")
		}
		return nil
	}
	in := r.Input
	if in == nil {
		return bad("input", "missing (the run's model input)")
	}
	switch {
	case in.Height <= 0 || in.Width <= 0:
		return bad("input.height", "input size %dx%d", in.Height, in.Width)
	case in.Adapt != AdaptNone && in.Adapt != AdaptPad && in.Adapt != AdaptStretch:
		return bad("input.adapt", "%q (want none, pad or stretch)", in.Adapt)
	case in.Adapt == AdaptNone && (in.Height != r.Height || in.Width != r.Width):
		return bad("input.adapt", "none, but the input is %dx%d and the dataset images %dx%d", in.Height, in.Width, r.Height, r.Width)
	}
	for i, s := range in.Std {
		if !(s > 0) {
			return bad("input.std", "std[%d] = %v, must be positive", i, s)
		}
	}
	return nil
}

// WithInput returns a copy of a dataset's recipe with the model input set:
// what a run records.
func (r Recipe) WithInput(in Input) Recipe {
	r.Input = &in
	return r
}

// Describe is a one-line human description of the recipe, for reports.
func (r *Recipe) Describe() string {
	s := fmt.Sprintf("%dx%d (H x W), fit %s, pad %s, %s, stored as %s", r.Height, r.Width, r.Fit, r.Pad, r.Resample, r.Format)
	if r.Format == FormatJPEG {
		s += fmt.Sprintf(" q%d", r.Quality)
	}
	if r.Input != nil {
		s += "; model input " + r.Input.Describe(r.Height, r.Width)
	}
	return s
}

// Describe says how a dataset image of h x w becomes this input.
func (in *Input) Describe(h, w int) string {
	switch in.Adapt {
	case AdaptNone:
		return fmt.Sprintf("%dx%d, the dataset images as they are", in.Height, in.Width)
	case AdaptPad:
		return fmt.Sprintf("%dx%d, dataset images %dx%d scaled to fit and padded", in.Height, in.Width, h, w)
	}
	return fmt.Sprintf("%dx%d, dataset images %dx%d stretched", in.Height, in.Width, h, w)
}
