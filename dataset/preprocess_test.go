package dataset

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand"
	"testing"
)

func halves(w, h int, left, right color.NRGBA) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if x < w/2 {
				img.SetNRGBA(x, y, left)
			} else {
				img.SetNRGBA(x, y, right)
			}
		}
	}
	return img
}

func near(a, b color.NRGBA) bool {
	d := func(x, y uint8) int {
		if x > y {
			return int(x - y)
		}
		return int(y - x)
	}
	return d(a.R, b.R) < 12 && d(a.G, b.G) < 12 && d(a.B, b.B) < 12 && a.A == 255
}

var (
	red  = color.NRGBA{220, 20, 20, 255}
	blue = color.NRGBA{20, 20, 220, 255}
)

func TestPreprocessFitModes(t *testing.T) {
	src := halves(100, 50, red, blue) // wide: 100 x 50
	t.Run("pad", func(t *testing.T) {
		out := Preprocess(src, 300, 150, FitPad)
		if out.Bounds().Dx() != 150 || out.Bounds().Dy() != 300 {
			t.Fatalf("size %v", out.Bounds())
		}
		// Scaled by 1.5 to 150 x 75, centred: rows 112..187 hold the image.
		for _, c := range []struct {
			x, y int
			want color.NRGBA
		}{{75, 5, DefaultPad}, {75, 295, DefaultPad}, {75, 110, DefaultPad}, {10, 150, red}, {140, 150, blue}, {10, 115, red}, {140, 185, blue}} {
			if got := out.NRGBAAt(c.x, c.y); !near(got, c.want) {
				t.Errorf("pixel (%d,%d) = %v, want %v", c.x, c.y, got, c.want)
			}
		}
	})
	t.Run("crop", func(t *testing.T) {
		out := Preprocess(src, 300, 150, FitCrop)
		if out.Bounds().Dx() != 150 || out.Bounds().Dy() != 300 {
			t.Fatalf("size %v", out.Bounds())
		}
		// Scaled by 6 to 600 x 300, the middle 150 columns kept: the
		// red/blue edge runs down the middle, no padding anywhere.
		for _, c := range []struct {
			x, y int
			want color.NRGBA
		}{{5, 0, red}, {5, 299, red}, {144, 0, blue}, {144, 299, blue}} {
			if got := out.NRGBAAt(c.x, c.y); !near(got, c.want) {
				t.Errorf("pixel (%d,%d) = %v, want %v", c.x, c.y, got, c.want)
			}
		}
	})
	t.Run("stretch", func(t *testing.T) {
		out := Preprocess(src, 300, 150, FitStretch)
		if out.Bounds().Dx() != 150 || out.Bounds().Dy() != 300 {
			t.Fatalf("size %v", out.Bounds())
		}
		for _, c := range []struct {
			x, y int
			want color.NRGBA
		}{{2, 2, red}, {2, 297, red}, {147, 2, blue}, {147, 297, blue}} {
			if got := out.NRGBAAt(c.x, c.y); !near(got, c.want) {
				t.Errorf("pixel (%d,%d) = %v, want %v", c.x, c.y, got, c.want)
			}
		}
	})
	t.Run("transparent", func(t *testing.T) {
		clear := image.NewNRGBA(image.Rect(0, 0, 30, 60))
		for _, fit := range []string{FitPad, FitCrop, FitStretch} {
			out := Preprocess(clear, 40, 20, fit)
			for i := 0; i < len(out.Pix); i += 4 {
				if c := (color.NRGBA{out.Pix[i], out.Pix[i+1], out.Pix[i+2], out.Pix[i+3]}); c != DefaultPad {
					t.Fatalf("%s: transparent pixel became %v, want the pad colour", fit, c)
				}
			}
		}
	})
}

// TestLoadReducedDecodeMatchesFullDecode checks that the 1/8-scale DC
// decode of a large JPEG gives nearly the pixels of a full decode.
func TestLoadReducedDecodeMatchesFullDecode(t *testing.T) {
	data := photoJPEG(t, rand.New(rand.NewSource(3)), 1200, 1800)
	if !dcEnough(1200, 1800, 300, 150, FitPad) || dcEnough(1200, 1800, 300, 150, FitCrop) {
		t.Fatal("dcEnough: want the DC path for pad only")
	}
	fast, err := Load(data, 300, 150, FitPad, 0)
	if err != nil {
		t.Fatal(err)
	}
	full, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	ref := Preprocess(full, 300, 150, FitPad)
	var sum float64
	for i := range fast.Pix {
		d := float64(fast.Pix[i]) - float64(ref.Pix[i])
		sum += d * d
	}
	if rmse := sum / float64(len(fast.Pix)); rmse > 8*8 {
		t.Errorf("reduced decode differs from the full decode: mean squared error %.1f", rmse)
	}
	if _, err := Load([]byte("<html>not an image</html>"), 300, 150, FitPad, 0); err == nil {
		t.Error("Load accepted HTML")
	}
	if _, err := Load(data, 300, 150, FitPad, 1000); err == nil {
		t.Error("Load ignored the pixel limit")
	}
}

func TestWithMarkerKeepsPixels(t *testing.T) {
	img := Preprocess(halves(40, 30, red, blue), 30, 20, FitPad)
	for _, format := range []string{FormatJPEG, FormatPNG} {
		enc, err := encode(img, format, 90)
		if err != nil {
			t.Fatal(err)
		}
		marked, err := withMarker(enc, format, "chara repeat 1 of x")
		if err != nil {
			t.Fatal(err)
		}
		if hashName(marked, format) == hashName(enc, format) {
			t.Fatalf("%s: marked copy has the same hash", format)
		}
		a, _, err := image.Decode(bytes.NewReader(enc))
		if err != nil {
			t.Fatal(err)
		}
		b, _, err := image.Decode(bytes.NewReader(marked))
		if err != nil {
			t.Fatalf("%s: marked copy does not decode: %v", format, err)
		}
		for y := 0; y < 30; y++ {
			for x := 0; x < 20; x++ {
				if a.At(x, y) != b.At(x, y) {
					t.Fatalf("%s: pixel (%d,%d) differs", format, x, y)
				}
			}
		}
	}
}
