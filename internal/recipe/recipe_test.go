package recipe

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"math/rand"
	"testing"

	"github.com/chara-dev/chara/internal/testutil"
	"github.com/chara-dev/chara/manifests"
)

var white = color.NRGBA{255, 255, 255, 255}

// sized is the default recipe at h x w with a fit mode.
func sized(t testing.TB, h, w int, fit string) *Recipe {
	t.Helper()
	m := Default()
	m.Height, m.Width, m.Fit = h, w, fit
	r, err := New(m, false)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func fitTo(t testing.TB, img image.Image, h, w int, fit string) *image.NRGBA {
	return sized(t, h, w, fit).Fit(img)
}

// photoJPEG is a w x h JPEG with smooth areas, edges and noise.
func photoJPEG(tb testing.TB, rng *rand.Rand, w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			v := 60 + x*100/w + y*60/h
			if (x-w/2)*(x-w/2)+(y-h/3)*(y-h/3) < w*w/9 {
				v = 200
			}
			n := uint8(max(0, min(255, v+rng.Intn(9)-4)))
			img.Pix[img.PixOffset(x, y)+0] = n
			img.Pix[img.PixOffset(x, y)+1] = uint8(x * 255 / w)
			img.Pix[img.PixOffset(x, y)+2] = uint8(y * 255 / h)
			img.Pix[img.PixOffset(x, y)+3] = 255
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

var (
	red  = color.NRGBA{220, 20, 20, 255}
	blue = color.NRGBA{20, 20, 220, 255}
)

func TestFitModes(t *testing.T) {
	src := testutil.Halves(100, 50, red, blue) // wide: 100 x 50
	t.Run("pad", func(t *testing.T) {
		out := fitTo(t, src, 300, 150, manifests.FitPad)
		if out.Bounds().Dx() != 150 || out.Bounds().Dy() != 300 {
			t.Fatalf("size %v", out.Bounds())
		}
		// Scaled by 1.5 to 150 x 75, centred: rows 112..187 hold the image.
		for _, c := range []struct {
			x, y int
			want color.NRGBA
		}{{75, 5, white}, {75, 295, white}, {75, 110, white}, {10, 150, red}, {140, 150, blue}, {10, 115, red}, {140, 185, blue}} {
			if got := out.NRGBAAt(c.x, c.y); !testutil.NearOpaque(got, c.want) {
				t.Errorf("pixel (%d,%d) = %v, want %v", c.x, c.y, got, c.want)
			}
		}
	})
	t.Run("crop", func(t *testing.T) {
		out := fitTo(t, src, 300, 150, manifests.FitCrop)
		if out.Bounds().Dx() != 150 || out.Bounds().Dy() != 300 {
			t.Fatalf("size %v", out.Bounds())
		}
		// Scaled by 6 to 600 x 300, the middle 150 columns kept: the
		// red/blue edge runs down the middle, no padding anywhere.
		for _, c := range []struct {
			x, y int
			want color.NRGBA
		}{{5, 0, red}, {5, 299, red}, {144, 0, blue}, {144, 299, blue}} {
			if got := out.NRGBAAt(c.x, c.y); !testutil.NearOpaque(got, c.want) {
				t.Errorf("pixel (%d,%d) = %v, want %v", c.x, c.y, got, c.want)
			}
		}
	})
	t.Run("stretch", func(t *testing.T) {
		out := fitTo(t, src, 300, 150, manifests.FitStretch)
		if out.Bounds().Dx() != 150 || out.Bounds().Dy() != 300 {
			t.Fatalf("size %v", out.Bounds())
		}
		for _, c := range []struct {
			x, y int
			want color.NRGBA
		}{{2, 2, red}, {2, 297, red}, {147, 2, blue}, {147, 297, blue}} {
			if got := out.NRGBAAt(c.x, c.y); !testutil.NearOpaque(got, c.want) {
				t.Errorf("pixel (%d,%d) = %v, want %v", c.x, c.y, got, c.want)
			}
		}
	})
	t.Run("transparent", func(t *testing.T) {
		clear := image.NewNRGBA(image.Rect(0, 0, 30, 60))
		for _, fit := range []string{manifests.FitPad, manifests.FitCrop, manifests.FitStretch} {
			out := fitTo(t, clear, 40, 20, fit)
			for i := 0; i < len(out.Pix); i += 4 {
				if c := (color.NRGBA{out.Pix[i], out.Pix[i+1], out.Pix[i+2], out.Pix[i+3]}); c != white {
					t.Fatalf("%s: transparent pixel became %v, want the pad colour", fit, c)
				}
			}
		}
	})
}

// TestReducedDecodeMatchesFullDecode checks that the 1/8-scale decode of a
// large JPEG gives nearly the pixels of a full decode.
func TestReducedDecodeMatchesFullDecode(t *testing.T) {
	data := photoJPEG(t, rand.New(rand.NewSource(3)), 1200, 1800)
	pad, crop := sized(t, 300, 150, manifests.FitPad), sized(t, 300, 150, manifests.FitCrop)
	if !pad.eighthEnough(1200, 1800) || crop.eighthEnough(1200, 1800) {
		t.Fatal("eighthEnough: want the 1/8 path for pad only")
	}
	small, _, err := pad.Decode(data, 0)
	if err != nil {
		t.Fatal(err)
	}
	if small.Bounds().Dx() != 150 {
		t.Fatalf("the 1/8 decode was not taken: %v", small.Bounds())
	}
	fast, info, err := pad.Load(data, 0)
	if err != nil {
		t.Fatal(err)
	}
	if info.Width != 1200 || info.Height != 1800 {
		t.Errorf("info %+v, want the source's size", info)
	}
	full, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	ref := pad.Fit(full)
	var sum float64
	for i := range fast.Pix {
		d := float64(fast.Pix[i]) - float64(ref.Pix[i])
		sum += d * d
	}
	if mse := sum / float64(len(fast.Pix)); mse > 8*8 {
		t.Errorf("reduced decode differs from the full decode: mean squared error %.1f", mse)
	}
	off := pad.Spec()
	off.Decode.JPEGEighth = false
	ro, err := New(off, false)
	if err != nil {
		t.Fatal(err)
	}
	if img, _, err := ro.Decode(data, 0); err != nil || img.Bounds().Dx() != 1200 {
		t.Errorf("jpeg_eighth false: decoded %v, %v; want the full image", img.Bounds(), err)
	}
	if _, _, err := pad.Load([]byte("<html>not an image</html>"), 0); err == nil {
		t.Error("Load accepted HTML")
	}
	if _, _, err := pad.Load(data, 1000); err == nil {
		t.Error("Load ignored the pixel limit")
	}
}

func runRecipe(t *testing.T, h, w int, adapt string) *Recipe {
	t.Helper()
	ds := Default()
	m, err := ForModel(ds, h, w, adapt, [3]float64{0.5, 0.25, 0}, [3]float64{0.5, 0.25, 1})
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(m, true)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// ForModel picks the adaptation: none for the dataset's own size (or a
// model of any size), the asked one or DefaultAdapt otherwise.
func TestForModel(t *testing.T) {
	for _, c := range []struct {
		h, w        int
		adapt, want string
	}{
		{0, 0, "", manifests.AdaptNone},
		{300, 150, manifests.AdaptStretch, manifests.AdaptNone},
		{100, 75, "", DefaultAdapt},
		{100, 75, manifests.AdaptStretch, manifests.AdaptStretch},
		{100, 75, manifests.AdaptPad, manifests.AdaptPad},
	} {
		m, err := ForModel(Default(), c.h, c.w, c.adapt, [3]float64{}, [3]float64{1, 1, 1})
		if err != nil {
			t.Fatal(err)
		}
		if m.Input.Adapt != c.want {
			t.Errorf("%dx%d %q: adapt %q, want %q", c.h, c.w, c.adapt, m.Input.Adapt, c.want)
		}
	}
	if _, err := ForModel(Default(), 100, 75, "squash", [3]float64{}, [3]float64{1, 1, 1}); err == nil {
		t.Error("unknown adaptation accepted")
	}
}

// ToInput pads or stretches a 300x150 (2:1) dataset image to a 100x75
// (4:3) model input as the recipe says.
func TestToInputAdapts(t *testing.T) {
	img := testutil.Halves(150, 300, red, blue) // the dataset's shape, tall
	pad := runRecipe(t, 100, 75, manifests.AdaptPad).ToInput(img)
	str := runRecipe(t, 100, 75, manifests.AdaptStretch).ToInput(img)
	for _, o := range []*image.NRGBA{pad, str} {
		if o.Bounds().Dx() != 75 || o.Bounds().Dy() != 100 {
			t.Fatalf("size %v, want 75x100", o.Bounds())
		}
	}
	// Padded: scaled by 1/3 to 50x100, centred: columns 0..11 and 63..74
	// are the pad colour.
	for _, c := range []struct {
		x, y int
		want color.NRGBA
	}{{3, 50, white}, {71, 50, white}, {15, 50, red}, {60, 50, blue}} {
		if got := pad.NRGBAAt(c.x, c.y); !testutil.NearOpaque(got, c.want) {
			t.Errorf("pad: pixel (%d,%d) = %v, want %v", c.x, c.y, got, c.want)
		}
	}
	// Stretched: no pad anywhere.
	for _, c := range []struct {
		x, y int
		want color.NRGBA
	}{{2, 50, red}, {72, 50, blue}} {
		if got := str.NRGBAAt(c.x, c.y); !testutil.NearOpaque(got, c.want) {
			t.Errorf("stretch: pixel (%d,%d) = %v, want %v", c.x, c.y, got, c.want)
		}
	}
	same := runRecipe(t, 0, 0, "")
	if out := same.ToInput(img); out != img {
		t.Error("an opaque NRGBA of the input size was copied")
	}
}

// Tensor normalises as (pixel/255 - mean) / std, plane by plane, and
// PlanesU8 with Affine gives the same numbers (training's path).
func TestTensorAndAffineAgree(t *testing.T) {
	r := runRecipe(t, 0, 0, "")
	img := image.NewNRGBA(image.Rect(0, 0, 2, 1))
	copy(img.Pix, []uint8{255, 0, 128, 255, 0, 255, 64, 255})
	got := r.Tensor(img)
	mean, std := [3]float64{0.5, 0.25, 0}, [3]float64{0.5, 0.25, 1}
	u8 := make([]uint8, 6)
	PlanesU8(img, u8)
	scale, shift := r.Affine()
	for c := 0; c < 3; c++ {
		for x := 0; x < 2; x++ {
			v := float64(img.Pix[4*x+c])
			want := (v/255 - mean[c]) / std[c]
			if d := math.Abs(float64(got[c*2+x]) - want); d > 1e-5 {
				t.Errorf("channel %d pixel %d: %v, want %v", c, x, got[c*2+x], want)
			}
			if a := float64(u8[c*2+x])*float64(scale[c]) + float64(shift[c]); math.Abs(a-want) > 1e-5 {
				t.Errorf("affine channel %d pixel %d: %v, want %v", c, x, a, want)
			}
		}
	}
}

// Input (prediction's path) of a source is its fit adapted; of a stored
// dataset image, exactly what training feeds the model (DecodeStored then
// ToInput).
func TestInputIsWhatTrainingSees(t *testing.T) {
	data := photoJPEG(t, rand.New(rand.NewSource(4)), 600, 400)
	r := runRecipe(t, 100, 75, manifests.AdaptPad)
	got, err := r.Input(data, 0)
	if err != nil {
		t.Fatal(err)
	}
	fitted, _, err := r.Load(data, 0)
	if err != nil {
		t.Fatal(err)
	}
	if want := r.ToInput(fitted); !bytes.Equal(got.Pix, want.Pix) {
		t.Error("Input differs from ToInput(Load)")
	}
	stored, err := r.Encode(fitted)
	if err != nil {
		t.Fatal(err)
	}
	back, err := r.DecodeStored(stored)
	if err != nil {
		t.Fatal(err)
	}
	again, err := r.Input(stored, 0)
	if err != nil {
		t.Fatal(err)
	}
	if want := r.ToInput(back); !bytes.Equal(again.Pix, want.Pix) {
		t.Error("Input of a stored dataset image differs from training's DecodeStored + ToInput")
	}
}

func TestNewRefuses(t *testing.T) {
	m := Default()
	m.Version = "p0"
	if _, err := New(m, false); !errors.Is(err, ErrVersion) {
		t.Errorf("version p0: %v, want ErrVersion", err)
	}
	m = Default()
	m.Pad = "#12345"
	if _, err := New(m, false); err == nil {
		t.Error("bad pad accepted")
	}
	if _, err := New(Default(), true); err == nil {
		t.Error("a dataset recipe accepted as a run's")
	}
}
