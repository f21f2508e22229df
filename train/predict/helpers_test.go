package predict

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"

	"github.com/chara-dev/chara/internal/recipe"
	"github.com/chara-dev/chara/manifests"
	"github.com/chara-dev/chara/train/models"
	"github.com/chara-dev/chara/train/torchrt"
)

// tinyModel is a small real convnet: conv 3->6 (stride 2), ReLU, global
// average pooling, linear. Its parameters are PyTorch-initialised, so
// different images give clearly different outputs.
type tinyModel struct {
	vs      *nn.VarStore
	conv    *nn.Conv2D
	fc      *nn.Linear
	classes int
}

func newTiny(_ string, classes int, device gotch.Device, _ ...models.Option) (models.Model, error) {
	vs := nn.NewVarStore(device)
	root := vs.Root()
	m := &tinyModel{vs: vs, classes: classes}
	m.conv = nn.NewConv2D(root.Sub("conv"), 3, 6, 3, torchrt.Conv2DConfig(3, 3, 1, nn.WithStride2D(2)))
	m.fc = nn.NewLinear(root.Sub("fc"), 6, int64(classes), torchrt.LinearConfig(6))
	return m, nil
}

func (m *tinyModel) ForwardT(x *ts.Tensor, train bool) *ts.Tensor {
	y := m.conv.Forward(x)
	y = y.MustRelu(true)
	y = y.MustAdaptiveAvgPool2d([]int64{1, 1}, true)
	y = y.MustFlatten(1, -1, true)
	out := m.fc.Forward(y)
	y.MustDrop()
	return out
}

func (m *tinyModel) VarStore() *nn.VarStore { return m.vs }

func (m *tinyModel) Spec() models.Spec {
	return models.Spec{Name: "tiny", Classes: m.classes, Height: 40, Width: 30, Mean: models.ImageNetMean, Std: models.ImageNetStd}
}

var testClasses = []string{"Ichika Nakano", "Nino Nakano", "Miku Nakano"}

func classList(names []string) []manifests.Class {
	cs := make([]manifests.Class, len(names))
	for i, n := range names {
		s, err := manifests.Slug(n)
		if err != nil {
			panic(err)
		}
		cs[i] = manifests.Class{Label: i, Name: n, Slug: s}
	}
	return cs
}

type runSpec struct {
	model    string
	build    Builder
	h, w     int    // model input
	dsH, dsW int    // dataset image size (0: the model input's)
	fit      string // dataset fit
	adapt    string // model-input adaptation when the sizes differ
	dataset  string
	version  string
	testAcc  float64
	valAcc   float64
	finished bool
	seed     int64
}

// makeRun trains nothing: it builds a model (seeded), saves its VarStore
// as best.ot and writes run.json, as chara train leaves a run. It returns
// the model, still alive, for direct forward passes.
func makeRun(t testing.TB, th *torchrt.Thread, dir string, s runSpec) models.Model {
	t.Helper()
	if s.build == nil {
		s.build = newTiny
	}
	if s.fit == "" {
		s.fit = "pad"
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var m models.Model
	err := th.Do(context.Background(), func() error {
		torchrt.ManualSeed(s.seed)
		var err error
		if m, err = s.build(s.model, len(testClasses), gotch.CPU); err != nil {
			return err
		}
		return m.VarStore().Save(filepath.Join(dir, "best.ot"))
	})
	if err != nil {
		t.Fatal(err)
	}
	if s.dsH == 0 {
		s.dsH, s.dsW = s.h, s.w
	}
	rm, err := recipe.ForModel(recipe.Sized(s.dsH, s.dsW, s.fit), s.h, s.w, s.adapt, models.ImageNetMean, models.ImageNetStd)
	if err != nil {
		t.Fatal(err)
	}
	card := &manifests.RunCard{
		Name: filepath.Base(dir), Model: s.model, Dataset: s.dataset, DatasetVersion: s.version,
		Classes: classList(testClasses), Recipe: rm, Seed: s.seed,
		CreatedAt: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), Epochs: 1, BestEpoch: 1,
		TestAcc: s.testAcc, BestValAcc: s.valAcc, Finished: s.finished, BestWeights: "best.ot",
	}
	if err := manifests.WriteRunCard(filepath.Join(dir, RunFile), card); err != nil {
		t.Fatal(err)
	}
	return m
}

// directProbs runs m on a model-size image the plain way: pixels to
// [0,1], normalised per channel, one forward, softmax in libtorch.
func directProbs(t testing.TB, th *torchrt.Thread, m models.Model, img *image.NRGBA, mean, std [3]float64) []float64 {
	t.Helper()
	b := img.Bounds()
	h, w := b.Dy(), b.Dx()
	data := make([]float32, 3*h*w)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := img.NRGBAAt(x, y)
			for ch, v := range []uint8{c.R, c.G, c.B} {
				data[ch*h*w+y*w+x] = float32((float64(v)/255 - mean[ch]) / std[ch])
			}
		}
	}
	var probs []float64
	err := th.Do(context.Background(), func() error {
		return torchrt.NoGrad(func() error {
			x := ts.MustOfSlice(data).MustView([]int64{1, 3, int64(h), int64(w)}, true)
			logits := m.ForwardT(x, false)
			x.MustDrop()
			sm := logits.MustSoftmax(1, gotch.Double, true)
			probs = make([]float64, sm.Numel())
			sm.MustCopyData(probs, sm.Numel())
			sm.MustDrop()
			return nil
		})
	})
	runtime.KeepAlive(m)
	if err != nil {
		t.Fatal(err)
	}
	return probs
}

// testImage is a random-blob picture of w x h, distinct per seed.
func testImage(seed int64, w, h int) *image.NRGBA {
	r := rand.New(rand.NewSource(seed))
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	bg := color.NRGBA{uint8(r.Intn(256)), uint8(r.Intn(256)), uint8(r.Intn(256)), 255}
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = bg.R, bg.G, bg.B, 255
	}
	for k := 0; k < 6; k++ {
		c := color.NRGBA{uint8(r.Intn(256)), uint8(r.Intn(256)), uint8(r.Intn(256)), 255}
		x0, y0 := r.Intn(w), r.Intn(h)
		x1, y1 := x0+1+r.Intn(w/2+1), y0+1+r.Intn(h/2+1)
		for y := y0; y < y1 && y < h; y++ {
			for x := x0; x < x1 && x < w; x++ {
				img.SetNRGBA(x, y, c)
			}
		}
	}
	return img
}

func encodePNG(t testing.TB, img image.Image) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodeJPEG(t testing.TB, img image.Image) []byte {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func near(a, b []float64, tol float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if d := a[i] - b[i]; d > tol || d < -tol {
			return false
		}
	}
	return true
}

// reference is the model input the run's recipe makes of raw, step by
// step: fit to the dataset size, then adapt to the model input.
func reference(t testing.TB, p *Predictor, raw image.Image) *image.NRGBA {
	t.Helper()
	rc := p.Recipe()
	return rc.ToInput(rc.Fit(raw))
}

func meanStd(p *Predictor) ([3]float64, [3]float64) {
	in := p.Card().Recipe.Input
	return in.Mean, in.Std
}
