package dataset

import (
	"bytes"
	"image"
	"image/color"
	"testing"

	"github.com/chara-dev/chara/internal/recipe"
	"github.com/chara-dev/chara/internal/testutil"
)

var (
	red  = color.NRGBA{220, 20, 20, 255}
	blue = color.NRGBA{20, 20, 220, 255}
)

func TestWithMarkerKeepsPixels(t *testing.T) {
	img := testutil.Halves(20, 30, red, blue)
	for _, format := range []string{FormatJPEG, FormatPNG} {
		rs := recipe.Default()
		rs.Format, rs.Quality = format, 90
		rc, err := recipe.New(rs, false)
		if err != nil {
			t.Fatal(err)
		}
		enc, err := rc.Encode(img)
		if err != nil {
			t.Fatal(err)
		}
		marked, err := withMarker(enc, format, "chara repeat 1 of x")
		if err != nil {
			t.Fatal(err)
		}
		if hashName(marked, rc.Ext()) == hashName(enc, rc.Ext()) {
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
