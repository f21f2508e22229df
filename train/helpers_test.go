package train

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/chara-dev/chara/internal/recipe"
	"github.com/chara-dev/chara/internal/testutil"
	"github.com/chara-dev/chara/manifests"
	"github.com/chara-dev/chara/train/predict"
)

// toyColours are the classes of the toy datasets: a noisy background of
// the class's colour, with a grey disc of random place and size on it
// unless the set is plain.
var toyColours = []color.NRGBA{{220, 40, 40, 255}, {40, 200, 60, 255}, {50, 70, 230, 255}}

var toyNames = []string{"Red Fox", "Green Frog", "Blue Jay"}

func toyImage(class, h, w int, disc bool, rng *rand.Rand) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	c := toyColours[class]
	cx, cy := rng.IntN(w), rng.IntN(h)
	r := float64(min(h, w)) * (0.2 + 0.2*rng.Float64())
	j := func(v uint8) uint8 { return uint8(min(255, max(0, int(v)+rng.IntN(61)-30))) }
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			px := color.NRGBA{j(c.R), j(c.G), j(c.B), 255}
			dx, dy := float64(x-cx), float64(y-cy)
			if disc && dx*dx+dy*dy < r*r {
				g := uint8(100 + rng.IntN(60))
				px = color.NRGBA{g, g, g, 255}
			}
			img.SetNRGBA(x, y, px)
		}
	}
	return img
}

// makeDataset writes datasets/<name> in ws like the dataset stage does:
// images/ (PNG, h x w), the three manifests, classes.json and dataset.json
// with a matching version. counts is images per class per split.
func makeDataset(t testing.TB, ws, name string, classes, h, w int, counts [3]int, seed uint64) *manifests.Dataset {
	return makeToySet(t, ws, name, classes, h, w, counts, seed, true)
}

// makePlainDataset is makeDataset without the discs: only the colour and
// pixel noise vary, which even a random backbone's features separate.
func makePlainDataset(t testing.TB, ws, name string, classes, h, w int, counts [3]int, seed uint64) *manifests.Dataset {
	return makeToySet(t, ws, name, classes, h, w, counts, seed, false)
}

func makeToySet(t testing.TB, ws, name string, classes, h, w int, counts [3]int, seed uint64, disc bool) *manifests.Dataset {
	rng := rand.New(rand.NewPCG(seed, 1))
	return makeImageSet(t, ws, name, toyNames[:classes], h, w, counts, func(c, _, _ int) image.Image {
		return toyImage(c, h, w, disc, rng)
	})
}

// makeImageSet writes a dataset of the named classes whose images (h x w,
// PNG) gen draws, for class c, split index si and the k-th image.
func makeImageSet(t testing.TB, ws, name string, names []string, h, w int, counts [3]int, gen func(c, si, k int) image.Image) *manifests.Dataset {
	t.Helper()
	dir := manifests.DatasetDir(ws, name)
	if err := os.MkdirAll(filepath.Join(dir, "images"), 0o755); err != nil {
		t.Fatal(err)
	}
	classes := len(names)
	var cls []manifests.Class
	for i := 0; i < classes; i++ {
		slug, err := manifests.Slug(names[i])
		if err != nil {
			t.Fatal(err)
		}
		cls = append(cls, manifests.Class{Label: i, Name: names[i], Slug: slug})
	}
	rows := map[manifests.Split][]manifests.SplitRow{}
	for si, sp := range manifests.Splits {
		for c := 0; c < classes; c++ {
			for k := 0; k < counts[si]; k++ {
				var buf bytes.Buffer
				if err := png.Encode(&buf, gen(c, si, k)); err != nil {
					t.Fatal(err)
				}
				sum := sha256.Sum256(buf.Bytes())
				hexs := hex.EncodeToString(sum[:])
				file := "images/" + hexs + ".png"
				if err := os.WriteFile(filepath.Join(dir, file), buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				rows[sp] = append(rows[sp], manifests.SplitRow{Path: file, Label: c, Class: names[c], Split: sp,
					SHA256: hexs, Width: w, Height: h, Source: "toy", PostID: strconv.Itoa(k)})
			}
		}
	}
	var raw [3][]byte
	for i, sp := range manifests.Splits {
		p := filepath.Join(dir, string(sp)+".csv")
		if err := manifests.WriteSplit(p, rows[sp]); err != nil {
			t.Fatal(err)
		}
		raw[i], _ = os.ReadFile(p)
	}
	cp := filepath.Join(dir, "classes.json")
	if err := manifests.WriteClasses(cp, cls); err != nil {
		t.Fatal(err)
	}
	cb, _ := os.ReadFile(cp)
	card := &manifests.Card{Name: name, Version: manifests.DatasetVersion(raw[0], raw[1], raw[2], cb), Recipe: recipe.Sized(h, w, manifests.FitPad), Seed: 1}
	if err := manifests.WriteCard(filepath.Join(dir, "dataset.json"), card); err != nil {
		t.Fatal(err)
	}
	ds, err := manifests.ReadDataset(dir)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// quick are options for a short, deterministic CPU run.
func quick(model, dataset, name string, epochs int, more ...Option) []Option {
	return append([]Option{WithModel(model), WithDataset(dataset), WithName(name), WithEpochs(epochs),
		WithBatchSize(16), WithDevice("cpu"), WithThreads(2), WithSeed(7)}, more...)
}

// metricsNoTime reads metrics.csv without the seconds column.
func metricsNoTime(t *testing.T, ws, run string) []string {
	t.Helper()
	rows, err := readMetrics(filepath.Join(manifests.RunDir(ws, run), "metrics.csv"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rows {
		r.Seconds = 0
		out = append(out, fmt.Sprintf("%+v", r))
	}
	return out
}

var (
	calOnce sync.Once
	calPath string
	calErr  error
)

// calibratedWeights writes (once per test binary) a torchvision
// efficientnet_b0 state dict with batch-norm statistics calibrated on the
// training images of dataset dir: testdata/calibrated_effnet.py.
func calibratedWeights(t *testing.T, dsDir string) string {
	t.Helper()
	py := testutil.TorchPython()
	if py == "" {
		t.Skip("no python3 with torchvision (apt-get install python3-torchvision, or set CHARA_PYTHON)")
	}
	calOnce.Do(func() {
		dir, err := os.MkdirTemp("", "chara-train-weights-")
		if err != nil {
			calErr = err
			return
		}
		calPath = filepath.Join(dir, "effnet_b0_calibrated.pth")
		out, err := exec.Command(py, filepath.Join("testdata", "calibrated_effnet.py"), calPath, dsDir).CombinedOutput()
		if err != nil {
			calErr = fmt.Errorf("calibrated_effnet.py: %v\n%s", err, out)
		}
	})
	if calErr != nil {
		t.Fatal(calErr)
	}
	return calPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if calPath != "" {
		os.RemoveAll(filepath.Dir(calPath))
	}
	os.Exit(code)
}

// inputRecipe is a run recipe of ds for a model input of h x w (pad).
func inputRecipe(t testing.TB, ds *manifests.Dataset, h, w int) *recipe.Recipe {
	t.Helper()
	m, err := recipe.ForModel(ds.Card.Recipe, h, w, manifests.AdaptPad, [3]float64{0.5, 0.5, 0.5}, [3]float64{0.25, 0.25, 0.25})
	if err != nil {
		t.Fatal(err)
	}
	rc, err := recipe.New(m, true)
	if err != nil {
		t.Fatal(err)
	}
	return rc
}

// testLossOf is the mean cross-entropy on the test split of the run's
// best weights, computed by the prediction package from run.json.
func testLossOf(t testing.TB, ws, run string) float64 {
	t.Helper()
	p, err := predict.Load(manifests.RunDir(ws, run))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ds, err := manifests.ReadDataset(manifests.DatasetDir(ws, p.Card().Dataset))
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, r := range ds.Rows[manifests.Test] {
		files = append(files, filepath.Join(ds.Dir, filepath.FromSlash(r.Path)))
	}
	res, err := p.PredictFiles(context.Background(), files, 0, 2)
	if err != nil {
		t.Fatal(err)
	}
	loss := 0.0
	for i, r := range res {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		for _, pr := range r.Predictions {
			if pr.Label == ds.Rows[manifests.Test][i].Label {
				loss -= math.Log(pr.Prob)
			}
		}
	}
	return loss / float64(len(res))
}
