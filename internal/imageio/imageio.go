// Package imageio is chara's one way to open an image file: the format is
// sniffed from magic bytes (never from the file name), the dimensions are
// read before any pixel is decoded so that decompression bombs are refused
// before allocation, truncation and corruption are told apart, and the EXIF
// orientation is applied. Every refusal is an *Error whose Reason is a short
// stable word ("not-an-image", "truncated", "too-large", ...) fit for a
// manifest.
//
// Stages use three calls:
//
//	Sniff(b)                     which format, from the first bytes
//	DecodeConfig(b, opts...)     Info (format, displayed size) without decoding pixels
//	Decode(b, opts...)           the full image, oriented
//	Thumbnail(b, w, h, opts...)  an antialiased w x h copy, decoding large JPEGs at 1/8 scale
package imageio

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"strings"

	"golang.org/x/image/bmp"
	"golang.org/x/image/webp"

	"github.com/chara-dev/chara/internal/imageio/turbojpeg"
)

// Format is a decodable image format.
type Format string

// The formats imageio decodes.
const (
	JPEG Format = "jpeg"
	PNG  Format = "png"
	GIF  Format = "gif"
	WebP Format = "webp"
	BMP  Format = "bmp"
)

// Rank orders formats by how well they keep pixels, higher is better: a
// lossless copy beats a lossy one of the same size.
func (f Format) Rank() int {
	switch f {
	case PNG, BMP:
		return 4
	case WebP:
		return 3
	case JPEG:
		return 2
	case GIF:
		return 1
	}
	return 0
}

// Ext is the usual file extension, with the dot.
func (f Format) Ext() string {
	switch f {
	case JPEG:
		return ".jpg"
	case "":
		return ".bin"
	}
	return "." + string(f)
}

// Reasons: the Reason of an *Error, one word each, stable (they are written
// into manifests).
const (
	ReasonEmpty       = "empty"
	ReasonNotAnImage  = "not-an-image"
	ReasonUnsupported = "unsupported-format"
	ReasonTooLarge    = "too-large"
	ReasonTruncated   = "truncated"
	ReasonCorrupt     = "corrupt"
)

// Sentinel errors, one per reason; an *Error unwraps to one of them.
var (
	ErrEmpty             = errors.New("empty file")
	ErrNotAnImage        = errors.New("not an image")
	ErrUnsupportedFormat = errors.New("unsupported image format")
	ErrTooLarge          = errors.New("image too large")
	ErrTruncated         = errors.New("truncated image")
	ErrCorrupt           = errors.New("corrupt image")
)

// Error is a refusal: the reason word, the format (if known) and the cause.
type Error struct {
	Reason string
	Format Format
	Err    error // the decoder's own error, or a description
}

func (e *Error) Error() string {
	f := string(e.Format)
	if f == "" {
		f = "file"
	}
	return fmt.Sprintf("%s: %s: %v", f, e.Reason, e.Err)
}

// Unwrap returns the sentinel for the reason and the cause.
func (e *Error) Unwrap() []error {
	var s error
	switch e.Reason {
	case ReasonEmpty:
		s = ErrEmpty
	case ReasonNotAnImage:
		s = ErrNotAnImage
	case ReasonUnsupported:
		s = ErrUnsupportedFormat
	case ReasonTooLarge:
		s = ErrTooLarge
	case ReasonTruncated:
		s = ErrTruncated
	default:
		s = ErrCorrupt
	}
	return []error{s, e.Err}
}

// Reason returns the reason word of err: the *Error's reason, or "" for nil,
// or "error" for an error from elsewhere (I/O).
func Reason(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return "error"
}

// Info is what is known about an image before decoding its pixels.
type Info struct {
	Format Format
	// Width and Height are as displayed: after the EXIF orientation.
	Width, Height int
	// Orientation is the EXIF orientation 1..8 (1 when absent or ignored).
	Orientation int
}

// Pixels is Width*Height.
func (i Info) Pixels() int64 { return int64(i.Width) * int64(i.Height) }

// DefaultMaxPixels is the default refusal limit (40 megapixels).
const DefaultMaxPixels = 40_000_000

type options struct {
	maxPixels int64
	orient    bool
}

// Option configures decoding.
type Option func(*options)

// WithMaxPixels refuses images of more than n pixels, before decoding them
// (default DefaultMaxPixels).
func WithMaxPixels(n int64) Option { return func(o *options) { o.maxPixels = n } }

// WithOrientation sets whether the EXIF orientation is applied (default true).
func WithOrientation(apply bool) Option { return func(o *options) { o.orient = apply } }

func newOptions(opts []Option) options {
	o := options{maxPixels: DefaultMaxPixels, orient: true}
	for _, f := range opts {
		f(&o)
	}
	return o
}

// Sniff names the format from the first bytes of a file (12 are enough).
// It returns "" for anything imageio cannot decode; SniffReason says why.
func Sniff(b []byte) Format {
	switch {
	case len(b) >= 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff:
		return JPEG
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return PNG
	case bytes.HasPrefix(b, []byte("GIF87a")), bytes.HasPrefix(b, []byte("GIF89a")):
		return GIF
	case len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		return WebP
	case len(b) >= 14 && b[0] == 'B' && b[1] == 'M':
		return BMP
	}
	return ""
}

// sniffReason explains a "" from Sniff: another image format we do not
// decode, an empty file, or something else (an HTML error page, ...).
func sniffReason(b []byte) (string, string) {
	if len(b) == 0 {
		return ReasonEmpty, "zero bytes"
	}
	switch {
	case bytes.HasPrefix(b, []byte("II*\x00")), bytes.HasPrefix(b, []byte("MM\x00*")):
		return ReasonUnsupported, "TIFF"
	case len(b) >= 12 && string(b[4:8]) == "ftyp":
		return ReasonUnsupported, "ISO media (" + string(b[8:12]) + ")"
	case bytes.HasPrefix(b, []byte{0, 0, 1, 0}):
		return ReasonUnsupported, "ICO"
	case bytes.HasPrefix(b, []byte{0xff, 0x0a}), bytes.HasPrefix(b, []byte("\x00\x00\x00\x0cJXL ")):
		return ReasonUnsupported, "JPEG XL"
	case len(b) >= 3 && b[0] == 0xff && b[1] == 0xd8:
		return ReasonCorrupt, "JPEG start marker without a segment"
	}
	head := bytes.ToLower(bytes.TrimSpace(b[:min(len(b), 512)]))
	if bytes.Contains(head, []byte("<svg")) {
		return ReasonUnsupported, "SVG"
	}
	if bytes.HasPrefix(head, []byte("<")) {
		return ReasonNotAnImage, "markup (HTML or XML)"
	}
	return ReasonNotAnImage, fmt.Sprintf("unknown magic bytes % x", b[:min(len(b), 8)])
}

func configOf(f Format, b []byte) (image.Config, error) {
	r := bytes.NewReader(b)
	switch f {
	case JPEG:
		return jpeg.DecodeConfig(r)
	case PNG:
		return png.DecodeConfig(r)
	case GIF:
		return gif.DecodeConfig(r)
	case WebP:
		return webp.DecodeConfig(r)
	case BMP:
		return bmp.DecodeConfig(r)
	}
	return image.Config{}, errors.New("unreachable")
}

func decodeAs(f Format, b []byte) (image.Image, error) {
	r := bytes.NewReader(b)
	switch f {
	case JPEG:
		return jpeg.Decode(r)
	case PNG:
		return png.Decode(r)
	case GIF:
		return gif.Decode(r) // the first frame only
	case WebP:
		return webp.Decode(r)
	case BMP:
		return bmp.Decode(r)
	}
	return nil, errors.New("unreachable")
}

// classify turns a decoder error into an *Error.
func classify(f Format, err error) *Error {
	var ue jpeg.UnsupportedError
	var pue png.UnsupportedError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF),
		// image/jpeg reports an entropy-coded segment cut short this way.
		strings.Contains(err.Error(), "short Huffman data"):
		return &Error{Reason: ReasonTruncated, Format: f, Err: err}
	case errors.As(err, &ue), errors.As(err, &pue), errors.Is(err, bmp.ErrUnsupported):
		return &Error{Reason: ReasonUnsupported, Format: f, Err: err}
	}
	return &Error{Reason: ReasonCorrupt, Format: f, Err: err}
}

// DecodeConfig sniffs the format and reads the dimensions without decoding
// pixels. It refuses images above the pixel limit.
func DecodeConfig(b []byte, opts ...Option) (Info, error) {
	o := newOptions(opts)
	_, info, err := decodeConfig(b, o)
	return info, err
}

func decodeConfig(b []byte, o options) (image.Config, Info, error) {
	f := Sniff(b)
	if f == "" {
		reason, what := sniffReason(b)
		return image.Config{}, Info{}, &Error{Reason: reason, Err: errors.New(what)}
	}
	cfg, err := configOf(f, b)
	if err != nil {
		return cfg, Info{Format: f}, classify(f, err)
	}
	info := Info{Format: f, Width: cfg.Width, Height: cfg.Height, Orientation: 1}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return cfg, info, &Error{Reason: ReasonCorrupt, Format: f, Err: fmt.Errorf("empty dimensions %dx%d", cfg.Width, cfg.Height)}
	}
	if info.Pixels() > o.maxPixels {
		return cfg, info, &Error{Reason: ReasonTooLarge, Format: f,
			Err: fmt.Errorf("%dx%d is %d pixels, limit %d", cfg.Width, cfg.Height, info.Pixels(), o.maxPixels)}
	}
	if o.orient && f == JPEG {
		info.Orientation = jpegOrientation(b)
		if info.Orientation >= 5 {
			info.Width, info.Height = info.Height, info.Width
		}
	}
	return cfg, info, nil
}

// Decode decodes the whole image (the first frame of a GIF), refusing
// oversized ones before allocating, and applies the EXIF orientation.
func Decode(b []byte, opts ...Option) (image.Image, Info, error) {
	o := newOptions(opts)
	_, info, err := decodeConfig(b, o)
	if err != nil {
		return nil, info, err
	}
	img, err := decodeAs(info.Format, b)
	if err != nil {
		return nil, info, classify(info.Format, err)
	}
	return Orient(img, info.Orientation), info, nil
}

// DecodeFile reads and decodes a file; errors name the file.
func DecodeFile(path string, opts ...Option) (image.Image, Info, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, Info{}, err
	}
	img, info, err := Decode(b, opts...)
	if err != nil {
		return nil, info, fmt.Errorf("%s: %w", path, err)
	}
	return img, info, nil
}

// Thumbnail decodes b and returns an area-averaged (antialiased) copy of
// exactly w x h pixels, the aspect ratio not kept, orientation applied, alpha
// composited over white. JPEGs at least 8w x 8h are decoded at 1/8 scale
// (DecodeJPEGEighth: libjpeg-turbo's scaled IDCT), a box filter and several
// times faster; the whole entropy-coded stream is still read, so truncation
// is still caught. Smaller JPEGs are decoded by libjpeg-turbo too, at the
// smallest of 1/4, 1/2 and full scale that still covers w x h (the standard
// decoder when libjpeg refuses the file, so errors are Decode's). Info is
// the full image's.
func Thumbnail(b []byte, w, h int, opts ...Option) (*image.NRGBA, Info, error) {
	o := newOptions(opts)
	_, info, err := decodeConfig(b, o)
	if err != nil {
		return nil, info, err
	}
	sw, sh := info.Width, info.Height
	if info.Orientation >= 5 {
		sw, sh = sh, sw
	}
	var img image.Image
	if info.Format == JPEG && sw >= 8*w && sh >= 8*h {
		// Errors come classified (DecodeJPEGEighth falls back to the
		// standard decoder).
		if img, err = DecodeJPEGEighth(b); err != nil {
			return nil, info, err
		}
	} else if img = jpegScaled(info.Format, b, sw, sh, w, h); img != nil {
	} else if img, err = decodeAs(info.Format, b); err != nil {
		return nil, info, classify(info.Format, err)
	}
	tw, th := w, h
	if info.Orientation >= 5 {
		tw, th = h, w
	}
	small := Resample(img, tw, th)
	if info.Orientation > 1 {
		small = toNRGBA(Orient(small, info.Orientation))
	}
	return small, info, nil
}

// jpegScaled decodes a JPEG with libjpeg-turbo at the smallest scale
// (1/4, 1/2, 1) that is still at least w x h, or returns nil (not a JPEG,
// or one libjpeg refuses or finds corrupt: the caller decodes it the
// standard way).
func jpegScaled(f Format, b []byte, sw, sh, w, h int) image.Image {
	if f != JPEG {
		return nil
	}
	denom := 1
	for _, d := range []int{4, 2} {
		if sw >= d*w && sh >= d*h {
			denom = d
			break
		}
	}
	img, err := turbojpeg.DecodeScaled(b, denom)
	if err != nil {
		return nil
	}
	return img
}

// FitSize returns the size of a thumbnail of at most max pixels on its
// longer side with the aspect ratio of w x h (never larger than w x h).
func FitSize(w, h, max int) (int, int) {
	if w <= max && h <= max {
		return w, h
	}
	if w >= h {
		return max, maxInt(1, (h*max+w/2)/w)
	}
	return maxInt(1, (w*max+h/2)/h), max
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}
