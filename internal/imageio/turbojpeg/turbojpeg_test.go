package turbojpeg

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"testing"
)

func testJPEG(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x * 255 / w), uint8(y * 255 / h), uint8((x + y) % 256), 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// At 1/8 the result must be the 8x8 block means of the full image (decoded
// by the standard library; edge blocks average the pixels they hold).
func TestEighthMatchesBlockMeans(t *testing.T) {
	b := testJPEG(t, 203, 317)
	got, err := DecodeScaled(b, 8)
	if err != nil {
		t.Fatal(err)
	}
	if got.Bounds().Dx() != 26 || got.Bounds().Dy() != 40 {
		t.Fatalf("size %v, want 26x40", got.Bounds())
	}
	full, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	ref := blockMeans(full, 8)
	var sum, n float64
	for y := 0; y < 40; y++ {
		for x := 0; x < 26; x++ {
			r1, g1, b1, _ := got.At(x, y).RGBA()
			r2, g2, b2, _ := ref.At(x, y).RGBA()
			for _, d := range []float64{float64(r1>>8) - float64(r2>>8), float64(g1>>8) - float64(g2>>8), float64(b1>>8) - float64(b2>>8)} {
				if d < 0 {
					d = -d
				}
				sum += d
				n++
			}
		}
	}
	// Chroma upsampling differs a little between the two decoders.
	if mean := sum / n; mean > 4 {
		t.Errorf("mean abs difference to the block means %.2f, want <= 4", mean)
	}
}

func TestScales(t *testing.T) {
	b := testJPEG(t, 64, 48)
	for denom, want := range map[int][2]int{1: {64, 48}, 2: {32, 24}, 4: {16, 12}, 8: {8, 6}} {
		img, err := DecodeScaled(b, denom)
		if err != nil {
			t.Fatal(err)
		}
		if img.Bounds().Dx() != want[0] || img.Bounds().Dy() != want[1] {
			t.Errorf("1/%d: %v, want %v", denom, img.Bounds(), want)
		}
	}
	if _, err := DecodeScaled(b, 3); err == nil {
		t.Error("scale 1/3 accepted")
	}
}

func TestBadInputsAreErrorsNotGray(t *testing.T) {
	b := testJPEG(t, 200, 200)
	for name, in := range map[string][]byte{
		"truncated": b[:len(b)/2],
		"empty":     nil,
		"html":      []byte("<!doctype html><html><body>rate limited</body></html>"),
		"header":    b[:20],
	} {
		if _, err := DecodeScaled(in, 8); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: err %v, want ErrCorrupt", name, err)
		}
	}
}

func FuzzDecodeScaled(f *testing.F) {
	b := testJPEG(f, 40, 30)
	f.Add(b)
	f.Add(b[:len(b)-10])
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		img, err := DecodeScaled(data, 8)
		if err == nil && img.Bounds().Empty() {
			t.Fatal("no error and no pixels")
		}
	})
}

// blockMeans averages each n x n block of img (partial blocks at the right
// and bottom edges average the pixels they hold).
func blockMeans(img image.Image, n int) *image.RGBA {
	r := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, (r.Dx()+n-1)/n, (r.Dy()+n-1)/n))
	for by := 0; by < out.Rect.Dy(); by++ {
		for bx := 0; bx < out.Rect.Dx(); bx++ {
			var s [3]uint32
			var c uint32
			for y := by * n; y < min(r.Dy(), (by+1)*n); y++ {
				for x := bx * n; x < min(r.Dx(), (bx+1)*n); x++ {
					cr, cg, cb, _ := img.At(r.Min.X+x, r.Min.Y+y).RGBA()
					s[0], s[1], s[2] = s[0]+cr>>8, s[1]+cg>>8, s[2]+cb>>8
					c++
				}
			}
			out.Set(bx, by, color.RGBA{uint8((s[0] + c/2) / c), uint8((s[1] + c/2) / c), uint8((s[2] + c/2) / c), 255})
		}
	}
	return out
}

// EncodeNRGBA writes a JPEG that decodes (by the standard library) to
// nearly the pixels given, the same bytes every time, and refuses bad
// arguments.
func TestEncodeRoundTrip(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 150, 300))
	for y := 0; y < 300; y++ {
		for x := 0; x < 150; x++ {
			img.SetNRGBA(x, y, color.NRGBA{uint8(x), uint8(y), uint8(x + y), 255})
		}
	}
	a, err := EncodeNRGBA(img, 95)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := EncodeNRGBA(img, 95)
	if !bytes.Equal(a, b) {
		t.Error("two encodings of the same pixels differ")
	}
	back, err := jpeg.Decode(bytes.NewReader(a))
	if err != nil {
		t.Fatal(err)
	}
	if back.Bounds().Dx() != 150 || back.Bounds().Dy() != 300 {
		t.Fatalf("decoded size %v", back.Bounds())
	}
	var sum, n float64
	for y := 0; y < 300; y++ {
		for x := 0; x < 150; x++ {
			r1, g1, b1, _ := back.At(x, y).RGBA()
			c := img.NRGBAAt(x, y)
			for _, d := range []float64{float64(r1>>8) - float64(c.R), float64(g1>>8) - float64(c.G), float64(b1>>8) - float64(c.B)} {
				if d < 0 {
					d = -d
				}
				sum += d
				n++
			}
		}
	}
	if mean := sum / n; mean > 2 {
		t.Errorf("mean abs error %.2f at quality 95, want <= 2", mean)
	}
	if _, err := EncodeNRGBA(img, 0); err == nil {
		t.Error("quality 0 accepted")
	}
	if _, err := EncodeNRGBA(image.NewNRGBA(image.Rect(0, 0, 0, 0)), 90); err == nil {
		t.Error("empty image accepted")
	}
}
