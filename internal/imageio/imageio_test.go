package imageio

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math"
	"testing"

	"github.com/chara-dev/chara/internal/testutil"
	"golang.org/x/image/bmp"
)

// pattern draws smooth gradients and a few discs: something a JPEG encoder
// treats like a picture.
func pattern(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			fx, fy := float64(x)/float64(w), float64(y)/float64(h)
			r := 128 + 100*math.Sin(6*fx+2*fy)
			g := 128 + 100*math.Cos(5*fy-fx)
			b := 255 * fx * fy
			dx, dy := fx-0.3, fy-0.6
			if dx*dx+dy*dy < 0.02 {
				r, g, b = 250, 240, 20
			}
			m.Set(x, y, color.RGBA{uint8(r), uint8(g), uint8(b), 255})
		}
	}
	return m
}

func encJPEG(t testing.TB, img image.Image, q int) []byte {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: q}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func encPNG(t testing.TB, img image.Image) []byte {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestSniff(t *testing.T) {
	img := pattern(40, 30)
	var g, bm bytes.Buffer
	if err := gif.Encode(&g, img, nil); err != nil {
		t.Fatal(err)
	}
	if err := bmp.Encode(&bm, img); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		b    []byte
		want Format
	}{
		"jpeg": {encJPEG(t, img, 90), JPEG},
		"png":  {encPNG(t, img), PNG},
		"gif":  {g.Bytes(), GIF},
		"bmp":  {bm.Bytes(), BMP},
		"webp": {[]byte("RIFF\x10\x00\x00\x00WEBPVP8 "), WebP},
		"html": {[]byte("<!doctype html><html>"), ""},
	} {
		if got := Sniff(tc.b); got != tc.want {
			t.Errorf("%s: Sniff = %q, want %q", name, got, tc.want)
		}
		if tc.want == "" {
			continue
		}
		_, info, err := Decode(tc.b)
		if tc.want == WebP {
			if Reason(err) != ReasonTruncated && Reason(err) != ReasonCorrupt {
				t.Errorf("webp stub: reason %q (%v)", Reason(err), err)
			}
			continue
		}
		if err != nil || info.Width != 40 || info.Height != 30 || info.Format != tc.want {
			t.Errorf("%s: Decode info %+v err %v", name, info, err)
		}
	}
}

func TestHostile(t *testing.T) {
	good := encJPEG(t, pattern(300, 200), 85)
	hugeGIF := []byte("GIF89a\xff\xff\xff\xff\x00\x00\x00")
	for name, tc := range map[string]struct {
		b      []byte
		reason string
		sent   error
	}{
		"zero bytes":         {nil, ReasonEmpty, ErrEmpty},
		"html":               {[]byte("<html><body>403 Forbidden</body></html>"), ReasonNotAnImage, ErrNotAnImage},
		"text":               {[]byte("hello world"), ReasonNotAnImage, ErrNotAnImage},
		"tiff":               {[]byte("II*\x00\x08\x00\x00\x00"), ReasonUnsupported, ErrUnsupportedFormat},
		"truncated":          {good[:len(good)/2], ReasonTruncated, ErrTruncated},
		"png bomb":           {testutil.PNGHeader(100000, 100000), ReasonTooLarge, ErrTooLarge},
		"gif 65535^2":        {hugeGIF, ReasonTooLarge, ErrTooLarge},
		"png no data":        {testutil.PNGHeader(10, 10), ReasonTruncated, ErrTruncated},
		"jpeg bad marker":    {bytes.Replace(good, []byte{0xff, 0xc0}, []byte{0xff, 0x99}, 1), ReasonCorrupt, ErrCorrupt},
		"jpeg cut in header": {good[:40], ReasonTruncated, ErrTruncated},
	} {
		for _, dec := range []func([]byte) error{
			func(b []byte) error { _, _, err := Decode(b); return err },
			func(b []byte) error { _, _, err := Thumbnail(b, 32, 32); return err },
		} {
			err := dec(tc.b)
			if Reason(err) != tc.reason || !errors.Is(err, tc.sent) {
				t.Errorf("%s: reason %q (%v), want %q", name, Reason(err), err, tc.reason)
			}
		}
	}
	if _, err := DecodeConfig(testutil.PNGHeader(1000, 1000), WithMaxPixels(999_999)); Reason(err) != ReasonTooLarge {
		t.Errorf("max pixels option ignored: %v", err)
	}
}

// TestThumbnailDCMatchesFull checks that the 1/8-scale JPEG path gives the
// same thumbnail as a full decode followed by the same box filter.
func TestThumbnailDCMatchesFull(t *testing.T) {
	for _, sub := range []struct {
		name string
		img  image.Image
	}{
		{"rgb", pattern(640, 960)},
		{"gray", func() image.Image {
			p := pattern(640, 520)
			g := image.NewGray(p.Bounds())
			for i := range g.Pix {
				g.Pix[i] = p.Pix[4*i+1]
			}
			return g
		}()},
	} {
		b := encJPEG(t, sub.img, 92)
		dc, info, err := Thumbnail(b, 64, 64)
		if err != nil {
			t.Fatal(err)
		}
		if info.Width != sub.img.Bounds().Dx() {
			t.Fatalf("info %+v", info)
		}
		full, _, err := Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		ref := Resample(full, 64, 64)
		// Each DC pixel is an exact 8x8 mean, but resampling 8x8 means onto a
		// grid that does not align with them blurs sharp edges a little
		// differently, so single pixels at edges may differ; on average the
		// two paths agree closely.
		var sum, worst float64
		luma := func(p []uint8, i int) float64 {
			return 0.299*float64(p[i]) + 0.587*float64(p[i+1]) + 0.114*float64(p[i+2])
		}
		for i := 0; i < len(ref.Pix); i += 4 {
			for c := 0; c < 3; c++ {
				sum += math.Abs(float64(ref.Pix[i+c]) - float64(dc.Pix[i+c]))
			}
			worst = math.Max(worst, math.Abs(luma(ref.Pix, i)-luma(dc.Pix, i)))
		}
		mean := sum / float64(3*64*64)
		if mean > 2.5 || worst > 48 {
			t.Errorf("%s: DC thumbnail differs from full decode: mean %.2f worst %.0f", sub.name, mean, worst)
		}
	}
}

func TestOrientation(t *testing.T) {
	// A 64x32 image, red on the left half, rotated by EXIF orientation 6
	// (display rotated 90 degrees clockwise): displayed 32x64, red on top.
	img := image.NewRGBA(image.Rect(0, 0, 64, 32))
	for y := 0; y < 32; y++ {
		for x := 0; x < 64; x++ {
			c := color.RGBA{0, 0, 255, 255}
			if x < 32 {
				c = color.RGBA{255, 0, 0, 255}
			}
			img.Set(x, y, c)
		}
	}
	b := encJPEG(t, img, 95)
	exif := []byte("Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\x00\x00\x00\x01\x00\x06\x00\x00\x00\x00\x00\x00")
	seg := append([]byte{0xff, 0xe1, byte((len(exif) + 2) >> 8), byte(len(exif) + 2)}, exif...)
	withExif := append(append(append([]byte{}, b[:2]...), seg...), b[2:]...)
	m, info, err := Decode(withExif)
	if err != nil {
		t.Fatal(err)
	}
	if info.Orientation != 6 || info.Width != 32 || info.Height != 64 || m.Bounds().Dx() != 32 {
		t.Fatalf("info %+v bounds %v", info, m.Bounds())
	}
	if r, _, bl, _ := m.At(16, 8).RGBA(); r < bl {
		t.Errorf("top of the displayed image should be red")
	}
	th, _, err := Thumbnail(withExif, 8, 16)
	if err != nil {
		t.Fatal(err)
	}
	if th.Bounds().Dx() != 8 || th.Bounds().Dy() != 16 || th.Pix[0] < 200 || th.Pix[len(th.Pix)-4] > 60 {
		t.Errorf("oriented thumbnail wrong: %v first %v last %v", th.Bounds(), th.Pix[:4], th.Pix[len(th.Pix)-4:])
	}
	if _, info, _ := Decode(withExif, WithOrientation(false)); info.Width != 64 {
		t.Errorf("WithOrientation(false) still rotated: %+v", info)
	}
}

func TestResampleAreaAverage(t *testing.T) {
	// A checkerboard of single pixels averages to mid grey at any smaller size
	// (aliasing would show up as strong black/white pixels).
	g := image.NewGray(image.Rect(0, 0, 301, 199))
	for y := 0; y < 199; y++ {
		for x := 0; x < 301; x++ {
			if (x+y)%2 == 0 {
				g.Pix[y*g.Stride+x] = 255
			}
		}
	}
	r := Resample(g, 37, 23)
	for i := 0; i < len(r.Pix); i += 4 {
		if v := int(r.Pix[i]); v < 110 || v > 145 {
			t.Fatalf("pixel %d = %d, want about 127", i/4, v)
		}
	}
	if w, h := FitSize(1200, 1800, 256); w != 171 || h != 256 {
		t.Errorf("FitSize = %d,%d", w, h)
	}
}

// The 1/8 decode's two paths (libjpeg-turbo, and the standard library's
// full decode box-filtered) agree, and its errors are classified as
// Decode's are.
func TestEighthPathsAgree(t *testing.T) {
	b := encJPEG(t, pattern(320, 240), 90)
	fast, err := DecodeJPEGEighth(b)
	if err != nil {
		t.Fatal(err)
	}
	slow, err := eighthStd(b)
	if err != nil {
		t.Fatal(err)
	}
	if fast.Bounds() != slow.Bounds() || fast.Bounds().Dx() != 40 || fast.Bounds().Dy() != 30 {
		t.Fatalf("sizes %v and %v, want 40x30", fast.Bounds(), slow.Bounds())
	}
	var sum, n float64
	for y := 0; y < 30; y++ {
		for x := 0; x < 40; x++ {
			r1, g1, b1, _ := fast.At(x, y).RGBA()
			r2, g2, b2, _ := slow.At(x, y).RGBA()
			for _, d := range []float64{float64(r1>>8) - float64(r2>>8), float64(g1>>8) - float64(g2>>8), float64(b1>>8) - float64(b2>>8)} {
				sum += math.Abs(d)
				n++
			}
		}
	}
	if mean := sum / n; mean > 4 {
		t.Errorf("mean abs difference %.2f between the two 1/8 paths, want <= 4", mean)
	}
	for name, tc := range map[string]struct {
		b      []byte
		reason string
	}{
		"truncated":  {b[:len(b)/2], ReasonTruncated},
		"bad marker": {bytes.Replace(b, []byte{0xff, 0xc0}, []byte{0xff, 0x99}, 1), ReasonCorrupt},
	} {
		if _, err := DecodeJPEGEighth(tc.b); Reason(err) != tc.reason {
			t.Errorf("%s: reason %q (%v), want %q", name, Reason(err), err, tc.reason)
		}
	}
}
