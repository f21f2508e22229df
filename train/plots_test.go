package train

import (
	"bytes"
	"html"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// renderChecks writes f as PNG (checking its size and that it is not blank)
// and as SVG, whose text must contain every label in want.
func renderChecks(t *testing.T, name string, f figure, want ...string) image.Image {
	t.Helper()
	dir := os.Getenv("CHARA_PLOT_DIR") // set to keep the images
	if dir == "" {
		dir = t.TempDir()
	}
	path := filepath.Join(dir, name+".png")
	if err := saveFigure(path, f); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	r := img.Bounds()
	if wantW := int(float64(f.W/vg.Inch) * plotDPI); r.Dx() < wantW-2 || r.Dx() > wantW+2 || r.Dx() < 400 || r.Dy() < 300 {
		t.Errorf("%s: %dx%d pixels, want about %d wide and at least 400x300", name, r.Dx(), r.Dy(), wantW)
	}
	colours := map[color.RGBA]bool{}
	nonWhite := 0
	for y := r.Min.Y; y < r.Max.Y; y += 2 {
		for x := r.Min.X; x < r.Max.X; x += 2 {
			c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
			colours[c] = true
			if c.R < 240 || c.G < 240 || c.B < 240 {
				nonWhite++
			}
		}
	}
	minInk := r.Dx() * r.Dy() / 4 / 50 // 2% of the samples
	if strings.HasSuffix(name, "_none") {
		minInk = 100 // a line of text
	}
	if len(colours) < 8 || nonWhite < minInk {
		t.Errorf("%s looks blank: %d colours, %d non-white samples", name, len(colours), nonWhite)
	}
	svg := vgsvg.NewWith(vgsvg.UseWH(f.W, f.H))
	f.Draw(draw.New(svg))
	var buf bytes.Buffer
	if _, err := svg.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	text := html.UnescapeString(buf.String())
	for _, w := range want {
		if !strings.Contains(text, ">"+w+"<") {
			t.Errorf("%s: no label %q", name, w)
		}
	}
	return img
}

func TestPlotsRenderWithTheirLabels(t *testing.T) {
	names := []string{"Nakano Ichika", "Nakano Nino", "Nakano Miku", "Nakano Yotsuba", "Nakano Itsuki the Fifth Sister"}
	conf := [][]int{{20, 0, 1, 0, 0}, {2, 17, 0, 2, 0}, {0, 0, 21, 0, 0}, {0, 5, 0, 15, 1}, {0, 0, 0, 0, 21}}
	cf, err := confusionFigure(names, conf)
	if err != nil {
		t.Fatal(err)
	}
	img := renderChecks(t, "confusion", cf, "Nakano Ichika", "Nakano Itsuki the Fifth…", "predicted class", "true class",
		"20", "95%", "5", "24%", "share of the true class", "100%")
	// Sequential: the empty cells are the lightest, and the colour bar's
	// ends differ.
	r := img.Bounds()
	light := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA); c.B > 240 && c.R > 240 && c.R < 255 {
				light++
			}
		}
	}
	if light == 0 {
		t.Error("confusion: no near-white cells for the zeros")
	}
	if pairs := mostConfused(names, conf, 2); len(pairs) != 2 || pairs[0].True != "Nakano Yotsuba" || pairs[0].Pred != "Nakano Nino" || pairs[0].Count != 5 {
		t.Errorf("most confused: %+v", pairs)
	}

	var hist []EpochRow
	for e := 1; e <= 12; e++ {
		hist = append(hist, EpochRow{Epoch: e, TrainLoss: 2 / float64(e), ValLoss: 1.5/float64(e) + 0.02*float64(e),
			TrainAcc: 1 - 1/float64(e+1), ValAcc: 0.8 - 0.3/float64(e), Seconds: 3})
	}
	curves, err := curvesFigure(hist, 7, true)
	if err != nil {
		t.Fatal(err)
	}
	renderChecks(t, "curves", curves, "loss", "accuracy", "epoch", "best epoch 7", "early stop", "train", "val", "12")

	test := &splitData{N: 6, H: 40, W: 20, Labels: []int32{0, 1, 2, 3, 4, 0}}
	test.Pix = make([]uint8, test.N*test.imageSize())
	for i := range test.Pix {
		test.Pix[i] = uint8(i * 7)
	}
	tm := epochMetrics{Idx: []int{0, 1, 2, 3, 4, 5}, Preds: []int{0, 3, 2, 1, 4, 2},
		Probs: [][]float64{{.9, .1, 0, 0, 0}, {0, .3, 0, .7, 0}, {0, 0, 1, 0, 0}, {0, .95, 0, .05, 0}, {0, 0, 0, 0, 1}, {.4, 0, .6, 0, 0}}}
	tls := topLosses(test, tm, 9)
	if len(tls) != 3 || tls[0].Index != 3 || tls[1].Index != 1 || tls[2].Index != 5 {
		t.Fatalf("top losses %+v, want samples 3, 1, 5 (largest loss first)", tls)
	}
	renderChecks(t, "top_losses", topLossesFigure(names, test, tls), "true: Nakano Yotsuba", "pred: Nakano Nino (p=0.95)", "loss 3.00, p(true)=0.05")
	renderChecks(t, "top_losses_none", topLossesFigure(names, test, nil), "no misclassified test images")
}

// TestPlotsDrawCJKNames checks that class names in a script the default
// font lacks are drawn with a font that has them (fonts-droid-fallback).
func TestPlotsDrawCJKNames(t *testing.T) {
	names := []string{"中野三玖", "中野二乃", "Nakano Ichika"}
	if labelFont([]string{"Nakano Ichika"}) != plot.DefaultFont {
		t.Error("Latin names left the default font")
	}
	if _, err := os.Stat(fallbackFonts[0]); err != nil {
		t.Skipf("no CJK font (%v): apt-get install fonts-ipafont-gothic", err)
	}
	lf := labelFont(names)
	if lf != fallbackFace {
		t.Fatalf("CJK names drawn with %v", lf)
	}
	if f := font.DefaultCache.Lookup(lf, 10); f.Face == nil || !covers(f.Face, names) {
		t.Error("the fallback font lacks the names' glyphs")
	}
	cf, err := confusionFigure(names, [][]int{{3, 1, 0}, {0, 4, 0}, {1, 0, 3}})
	if err != nil {
		t.Fatal(err)
	}
	renderChecks(t, "confusion_cjk", cf, "中野三玖", "中野二乃")
	// The CJK names are drawn in the fallback font (the default one has no
	// glyphs for them and would draw nothing).
	svg := vgsvg.NewWith(vgsvg.UseWH(cf.W, cf.H))
	cf.Draw(draw.New(svg))
	var buf bytes.Buffer
	if _, err := svg.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	text := buf.String()
	for _, name := range []string{"中野三玖", "中野二乃"} {
		els := 0
		for rest := text; ; {
			end := strings.Index(rest, ">"+html.EscapeString(name)+"<")
			if end < 0 {
				break
			}
			el := rest[strings.LastIndex(rest[:end], "<text"):end]
			if !strings.Contains(el, "font-family:") || strings.Contains(el, "Liberation") {
				t.Errorf("label %s drawn in the default font, which lacks it: %s", name, el)
			}
			els++
			rest = rest[end+1:]
		}
		if els != 2 { // a row and a column
			t.Errorf("label %s drawn %d times, want 2", name, els)
		}
	}
}

func TestNiceTicks(t *testing.T) {
	for _, c := range []struct {
		min, max float64
		want     string
	}{
		{0.5, 0.92, "0.50 0.55 0.60 0.65 0.70 0.75 0.80 0.85 0.90"},
		{0.2, 2.0, "0.2 0.4 0.6 0.8 1.0 1.2 1.4 1.6 1.8 2.0"},
		{0, 1, "0.0 0.1 0.2 0.3 0.4 0.5 0.6 0.7 0.8 0.9 1.0"},
		{-0.3, 0.3, "-0.3 -0.2 -0.1 0.0 0.1 0.2 0.3"},
		{1.1, 3.6, "1.25 1.50 1.75 2.00 2.25 2.50 2.75 3.00 3.25 3.50"},
	} {
		var got []string
		for _, tk := range (niceTicks{n: 10}).Ticks(c.min, c.max) {
			got = append(got, tk.Label)
		}
		if strings.Join(got, " ") != c.want {
			t.Errorf("ticks %v..%v: %v, want %s", c.min, c.max, got, c.want)
		}
	}
}
