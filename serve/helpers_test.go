package serve

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sugarme/gotch"

	"github.com/chara-dev/chara/internal/recipe"
	"github.com/chara-dev/chara/manifests"
	"github.com/chara-dev/chara/train/models"
	"github.com/chara-dev/chara/train/predict"
	"github.com/chara-dev/chara/train/torchrt"
)

var testClasses = []string{"Ichika Nakano", "Nino Nakano", "Miku Nakano"}

// The cnn takes 100x75 (height x width); the dataset is made at that size.
const dsH, dsW = 100, 75

// picture is a w x h image with a background and blobs drawn from seed.
func picture(seed int64, w, h int) *image.NRGBA { return tinted(seed, w, h, -1) }

// tinted is picture with, for class >= 0, a background of the class's
// colour (red, green, blue, ...): something a model can learn.
func tinted(seed int64, w, h, class int) *image.NRGBA {
	r := rand.New(rand.NewSource(seed))
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	fill := func(x0, y0, x1, y1 int, c color.NRGBA) {
		for y := max(y0, 0); y < min(y1, h); y++ {
			for x := max(x0, 0); x < min(x1, w); x++ {
				img.SetNRGBA(x, y, c)
			}
		}
	}
	rc := func() color.NRGBA {
		return color.NRGBA{uint8(r.Intn(256)), uint8(r.Intn(256)), uint8(r.Intn(256)), 255}
	}
	bg := rc()
	if class >= 0 {
		bg = color.NRGBA{40, 40, 40, 255}
		switch class % 3 {
		case 0:
			bg.R = 200 + uint8(r.Intn(56))
		case 1:
			bg.G = 200 + uint8(r.Intn(56))
		case 2:
			bg.B = 200 + uint8(r.Intn(56))
		}
	}
	fill(0, 0, w, h, bg)
	for k := 0; k < 8; k++ {
		x0, y0 := r.Intn(w), r.Intn(h)
		fill(x0, y0, x0+1+r.Intn(w/2+1), y0+1+r.Intn(h/2+1), rc())
	}
	return img
}

func pngBytes(t testing.TB, img image.Image) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func jpegBytes(t testing.TB, img image.Image) []byte {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

type fixture struct {
	ws, dsDir, runDir string
	th                *torchrt.Thread
	p                 *predict.Predictor
	train             map[string][][]byte // class -> train image bytes
	test              [][]byte            // test images in manifest order
	classes           []manifests.Class
	rows              map[manifests.Split][]manifests.SplitRow
}

// newFixture writes a workspace as chara dataset and chara train leave it:
// datasets/default (manifests, classes.json, dataset.json, images/) and
// runs/r1 (run.json, best.ot of a freshly initialised cnn).
func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{ws: t.TempDir(), train: map[string][][]byte{}}
	f.dsDir = manifests.DatasetDir(f.ws, "default")
	if err := os.MkdirAll(filepath.Join(f.dsDir, "images"), 0o755); err != nil {
		t.Fatal(err)
	}
	classes := make([]manifests.Class, len(testClasses))
	for i, n := range testClasses {
		s, _ := manifests.Slug(n)
		classes[i] = manifests.Class{Label: i, Name: n, Slug: s}
	}
	rows := map[manifests.Split][]manifests.SplitRow{}
	seed := int64(1)
	for _, sp := range manifests.Splits {
		n := map[manifests.Split]int{manifests.Train: 8, manifests.Val: 2, manifests.Test: 4}[sp]
		for _, c := range classes {
			for i := 0; i < n; i++ {
				seed++
				b := pngBytes(t, tinted(seed, dsW, dsH, c.Label))
				sum := sha256.Sum256(b)
				sha := hex.EncodeToString(sum[:])
				rel := "images/" + sha + ".png"
				if err := os.WriteFile(filepath.Join(f.dsDir, rel), b, 0o644); err != nil {
					t.Fatal(err)
				}
				rows[sp] = append(rows[sp], manifests.SplitRow{Path: rel, Label: c.Label, Class: c.Name, Split: sp, SHA256: sha, Width: dsW, Height: dsH, Source: "test"})
				switch sp {
				case manifests.Train:
					f.train[c.Name] = append(f.train[c.Name], b)
				case manifests.Test:
					f.test = append(f.test, b)
				}
			}
		}
	}
	f.classes, f.rows = classes, rows
	f.writeDataset(t, classes, rows)
	f.th = torchrt.NewThread(2)
	t.Cleanup(f.th.Close)
	f.runDir = manifests.RunDir(f.ws, "r1")
	f.writeRun(t, f.runDir, "cnn", dsH, dsW, 7)
	p, err := predict.Load(f.runDir, predict.WithThread(f.th))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	f.p = p
	return f
}

func (f *fixture) writeDataset(t testing.TB, classes []manifests.Class, rows map[manifests.Split][]manifests.SplitRow) {
	t.Helper()
	if err := manifests.WriteClasses(filepath.Join(f.dsDir, "classes.json"), classes); err != nil {
		t.Fatal(err)
	}
	var enc [3][]byte
	for i, sp := range manifests.Splits {
		var err error
		if enc[i], err = manifests.EncodeSplit(rows[sp]); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(f.dsDir, string(sp)+".csv"), enc[i], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cb, err := os.ReadFile(filepath.Join(f.dsDir, "classes.json"))
	if err != nil {
		t.Fatal(err)
	}
	card := &manifests.Card{Name: "default", Version: manifests.DatasetVersion(enc[0], enc[1], enc[2], cb), Recipe: recipe.Sized(dsH, dsW, manifests.FitPad)}
	if err := manifests.WriteCard(filepath.Join(f.dsDir, "dataset.json"), card); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) writeRun(t testing.TB, dir, model string, h, w int, seed int64) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	err := f.th.Do(context.Background(), func() error {
		torchrt.ManualSeed(seed)
		m, err := models.New(model, len(testClasses), gotch.CPU, models.WithInputSize(h, w))
		if err != nil {
			return err
		}
		return m.VarStore().Save(filepath.Join(dir, "best.ot"))
	})
	if err != nil {
		t.Fatal(err)
	}
	dc, err := manifests.ReadCard(filepath.Join(f.dsDir, "dataset.json"))
	if err != nil {
		t.Fatal(err)
	}
	classes := make([]manifests.Class, len(testClasses))
	for i, n := range testClasses {
		s, _ := manifests.Slug(n)
		classes[i] = manifests.Class{Label: i, Name: n, Slug: s}
	}
	rm, err := recipe.ForModel(dc.Recipe, h, w, "", models.ImageNetMean, models.ImageNetStd)
	if err != nil {
		t.Fatal(err)
	}
	card := &manifests.RunCard{
		Name: filepath.Base(dir), Model: model, Dataset: "default", DatasetVersion: dc.Version,
		Classes: classes, Recipe: rm,
		Seed: seed, CreatedAt: time.Now().UTC(), Epochs: 1, BestEpoch: 1, TestAcc: 0.5, Finished: true, BestWeights: "best.ot",
	}
	if err := manifests.WriteRunCard(filepath.Join(dir, predict.RunFile), card); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) server(t testing.TB, opts ...Option) (*Server, *httptest.Server) {
	t.Helper()
	s, err := New(f.p, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	return s, hs
}

// newLoopback serves srv on a free 127.0.0.1 port and returns its URL.
func newLoopback(t testing.TB, srv *http.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String()
}
