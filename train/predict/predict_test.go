package predict

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chara-dev/chara/internal/imageio"
	"github.com/chara-dev/chara/internal/recipe"
	"github.com/chara-dev/chara/manifests"
	"github.com/chara-dev/chara/train/models"
	"github.com/chara-dev/chara/train/torchrt"
)

func newThread(t testing.TB) *torchrt.Thread {
	th := torchrt.NewThread(2)
	t.Cleanup(th.Close)
	return th
}

func load(t testing.TB, dir string, opts ...Option) *Predictor {
	t.Helper()
	p, err := Load(dir, append([]Option{WithBuilder(newTiny)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func TestPredictMatchesDirectForward(t *testing.T) {
	th := newThread(t)
	for _, fit := range []string{"pad", "crop", "stretch"} {
		t.Run(fit, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "runs", "r1")
			m := makeRun(t, th, dir, runSpec{model: "tiny", h: 40, w: 30, fit: fit, seed: 3})
			p := load(t, dir, WithThread(th))
			ctx := context.Background()
			seen := map[int]bool{}
			for i := int64(0); i < 6; i++ {
				raw := testImage(i, 90+int(i)*17, 70+int(i)*11)
				// The reference: the recipe's steps one by one, then a
				// plain forward pass.
				mean, std := meanStd(p)
				want := directProbs(t, th, m, reference(t, p, raw), mean, std)
				preds, err := p.Predict(ctx, raw, 0)
				if err != nil {
					t.Fatal(err)
				}
				if len(preds) != 3 {
					t.Fatalf("k=0 gave %d predictions, want all 3", len(preds))
				}
				got := make([]float64, 3)
				sum := 0.0
				for j, pr := range preds {
					got[pr.Label] = pr.Prob
					sum += pr.Prob
					if j > 0 && pr.Prob > preds[j-1].Prob {
						t.Fatalf("not sorted: %+v", preds)
					}
					if pr.Class != testClasses[pr.Label] {
						t.Fatalf("label %d named %q", pr.Label, pr.Class)
					}
				}
				if !near(got, want, 1e-5) {
					t.Fatalf("image %d: predictor %v, direct forward %v", i, got, want)
				}
				if sum < 0.999999 || sum > 1.000001 {
					t.Fatalf("probabilities sum to %v", sum)
				}
				seen[preds[0].Label] = true
				top1, err := p.Predict(ctx, raw, 1)
				if err != nil || !samePreds(top1, preds[:1]) {
					t.Fatalf("k=1: %v %v, want %v", top1, err, preds[0])
				}
			}
			// Bytes go through the recipe's decode (sniffing, decoding as
			// the build does): the same probabilities as decoding by hand.
			raw := testImage(42, 120, 80)
			b := encodePNG(t, raw)
			mean, std := meanStd(p)
			want := directProbs(t, th, m, reference(t, p, raw), mean, std)
			preds, err := p.PredictBytes(ctx, b, 3)
			if err != nil {
				t.Fatal(err)
			}
			got := make([]float64, 3)
			for _, pr := range preds {
				got[pr.Label] = pr.Prob
			}
			if !near(got, want, 1e-5) {
				t.Fatalf("bytes: %v, want %v", got, want)
			}
		})
	}
}

// A run whose dataset images (64x48, crop) differ from its model input
// (40x30) fits to the dataset size first, as the build did, then adapts as
// its recipe says; what the workspace's dataset.json says later changes
// nothing.
func TestRunKeepsItsRecipe(t *testing.T) {
	th := newThread(t)
	ws := t.TempDir()
	for _, adapt := range []string{manifests.AdaptPad, manifests.AdaptStretch} {
		dir := filepath.Join(ws, "runs", "r-"+adapt)
		m := makeRun(t, th, dir, runSpec{model: "tiny", h: 40, w: 30, dsH: 64, dsW: 36, fit: "crop", adapt: adapt, dataset: "default", version: "v1", seed: 5})
		p := load(t, dir, WithThread(th))
		raw := testImage(9, 200, 100)
		mean, std := meanStd(p)
		ref := reference(t, p, raw)
		want := directProbs(t, th, m, ref, mean, std)
		predict := func(p *Predictor) []float64 {
			t.Helper()
			preds, err := p.Predict(context.Background(), raw, 3)
			if err != nil {
				t.Fatal(err)
			}
			got := make([]float64, 3)
			for _, pr := range preds {
				got[pr.Label] = pr.Prob
			}
			return got
		}
		if got := predict(p); !near(got, want, 1e-5) {
			t.Fatalf("%s: got %v, want %v", adapt, got, want)
		}
		// Fitting straight to the model input is another input: the
		// check above would catch a predictor skipping the dataset size.
		straight, err := recipe.New(recipe.Sized(40, 30, manifests.FitCrop), false)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(straight.Fit(raw).Pix, ref.Pix) {
			t.Fatalf("%s: the dataset size was skipped", adapt)
		}
		// The dataset is rebuilt at another size and fit, another version:
		// the run predicts as before.
		dsDir := manifests.DatasetDir(ws, "default")
		os.MkdirAll(dsDir, 0o755)
		card := &manifests.Card{Name: "default", Version: "v2", Recipe: recipe.Sized(80, 60, manifests.FitStretch)}
		if err := manifests.WriteCard(filepath.Join(dsDir, "dataset.json"), card); err != nil {
			t.Fatal(err)
		}
		if got := predict(load(t, dir, WithThread(th))); !near(got, want, 1e-5) {
			t.Fatalf("%s after the rebuild: got %v, want %v", adapt, got, want)
		}
	}
}

func TestConcurrentCallersGetTheirOwnAnswers(t *testing.T) {
	th := newThread(t)
	dir := filepath.Join(t.TempDir(), "runs", "r1")
	makeRun(t, th, dir, runSpec{model: "tiny", h: 40, w: 30, seed: 11})
	imgs := make([][]byte, 24)
	for i := range imgs {
		imgs[i] = encodeJPEG(t, testImage(int64(100+i), 60+i, 50+2*i))
	}
	ctx := context.Background()
	serial := load(t, dir, WithMaxBatch(1))
	want := make([][]Prediction, len(imgs))
	for i, b := range imgs {
		var err error
		if want[i], err = serial.PredictBytes(ctx, b, 3); err != nil {
			t.Fatal(err)
		}
	}
	batched := load(t, dir, WithMaxBatch(8))
	got := make([][]Prediction, len(imgs))
	var wg sync.WaitGroup
	errs := make(chan error, len(imgs))
	for i := range imgs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			var err error
			got[i], err = batched.PredictBytes(ctx, imgs[i], 3)
			errs <- err
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	distinct := map[string]bool{}
	for i := range imgs {
		for j := range want[i] {
			if got[i][j].Label != want[i][j].Label || abs(got[i][j].Prob-want[i][j].Prob) > 1e-5 {
				t.Fatalf("image %d: concurrent %+v, serial %+v", i, got[i], want[i])
			}
		}
		distinct[fmt.Sprintf("%.4f", want[i][0].Prob)] = true
	}
	if len(distinct) < 5 {
		t.Fatalf("only %d distinct answers for %d images: the test cannot tell images apart", len(distinct), len(imgs))
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func TestBadInputsAndRuns(t *testing.T) {
	th := newThread(t)
	ws := t.TempDir()
	dir := filepath.Join(ws, "runs", "r1")
	makeRun(t, th, dir, runSpec{model: "tiny", h: 40, w: 30, seed: 1})
	p := load(t, dir, WithThread(th), WithMaxPixels(1_000_000))
	ctx := context.Background()

	if _, err := p.PredictBytes(ctx, []byte("<html>nope</html>"), 3); !errors.Is(err, imageio.ErrNotAnImage) {
		t.Errorf("html: %v, want ErrNotAnImage", err)
	}
	big := encodePNG(t, testImage(1, 1500, 800)) // 1.2 Mpx > 1 Mpx limit
	if _, err := p.PredictBytes(ctx, big, 3); !errors.Is(err, imageio.ErrTooLarge) {
		t.Errorf("big: %v, want ErrTooLarge", err)
	}
	good := encodePNG(t, testImage(2, 50, 50))
	if _, err := p.PredictBytes(ctx, good[:len(good)/2], 3); err == nil {
		t.Error("truncated PNG accepted")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := p.PredictBytes(cctx, good, 3); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}

	// Weights that do not fit the model (4 classes saved, 3 in the card).
	bad := filepath.Join(ws, "runs", "bad")
	makeRun(t, th, bad, runSpec{model: "tiny", h: 40, w: 30})
	other := filepath.Join(ws, "runs", "other")
	old := testClasses
	testClasses = append(append([]string{}, old...), "Yotsuba Nakano")
	makeRun(t, th, other, runSpec{model: "tiny", h: 40, w: 30})
	testClasses = old
	if err := os.Rename(filepath.Join(other, "best.ot"), filepath.Join(bad, "best.ot")); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(bad, WithBuilder(newTiny), WithThread(th)); !errors.Is(err, ErrWeights) || !strings.Contains(err.Error(), "has shape [4") {
		t.Errorf("mismatched weights: %v", err)
	}
	if err := os.Remove(filepath.Join(bad, "best.ot")); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(bad, WithBuilder(newTiny), WithThread(th)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing weights: %v", err)
	}
	if _, err := Load(filepath.Join(ws, "runs", "none"), WithBuilder(newTiny)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing run: %v", err)
	}

	p2 := load(t, dir)
	p2.Close()
	if _, err := p2.PredictBytes(ctx, good, 3); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
}

func TestBestRun(t *testing.T) {
	th := newThread(t)
	ws := t.TempDir()
	if _, err := BestRun(ws, "default"); !errors.Is(err, ErrNoRun) {
		t.Fatalf("empty workspace: %v", err)
	}
	dsDir := manifests.DatasetDir(ws, "default")
	os.MkdirAll(dsDir, 0o755)
	if err := manifests.WriteCard(filepath.Join(dsDir, "dataset.json"), &manifests.Card{Name: "default", Version: "cur", Recipe: recipe.Sized(40, 30, manifests.FitPad)}); err != nil {
		t.Fatal(err)
	}
	mk := func(name string, s runSpec) string {
		s.model, s.h, s.w = "tiny", 40, 30
		d := filepath.Join(ws, "runs", name)
		makeRun(t, th, d, s)
		return d
	}
	// Validation chooses: d-good has the better test accuracy, e-best the
	// better validation accuracy.
	mk("a-old-version", runSpec{dataset: "default", version: "old", valAcc: 0.99, testAcc: 0.99, finished: true})
	mk("b-unfinished", runSpec{dataset: "default", version: "cur", valAcc: 0.98, testAcc: 0.98})
	mk("c-other-dataset", runSpec{dataset: "other", version: "x", valAcc: 1, testAcc: 1, finished: true})
	mk("d-good", runSpec{dataset: "default", version: "cur", valAcc: 0.90, testAcc: 0.97, finished: true})
	best := mk("e-best", runSpec{dataset: "default", version: "cur", valAcc: 0.95, testAcc: 0.90, finished: true})
	noWeights := mk("f-no-weights", runSpec{dataset: "default", version: "cur", valAcc: 1, testAcc: 1, finished: true})
	os.Remove(filepath.Join(noWeights, "best.ot"))
	os.MkdirAll(filepath.Join(ws, "runs", "g-broken"), 0o755)
	os.WriteFile(filepath.Join(ws, "runs", "g-broken", RunFile), []byte("{"), 0o644)

	got, err := BestRun(ws, "default")
	if err != nil || got != best {
		t.Fatalf("best run %q %v, want %q", got, err, best)
	}
	runs, _ := Runs(ws, "default")
	var names []string
	for _, r := range runs {
		names = append(names, filepath.Base(r.Dir))
	}
	if want := "e-best d-good a-old-version b-unfinished"; strings.Join(names, " ") != want {
		t.Fatalf("order %v, want %s", names, want)
	}
	if got, _ := BestRun(ws, "other"); filepath.Base(got) != "c-other-dataset" {
		t.Fatalf("other dataset: %q", got)
	}
	for _, c := range []struct{ arg, want string }{
		{"", best}, {"d-good", filepath.Join(ws, "runs", "d-good")}, {filepath.Join(ws, "runs", "a-old-version"), filepath.Join(ws, "runs", "a-old-version")},
	} {
		if got, err := ResolveRun(ws, "default", c.arg); err != nil || got != c.want {
			t.Errorf("ResolveRun(%q) = %q %v, want %q", c.arg, got, err, c.want)
		}
	}
	if _, err := ResolveRun(ws, "default", "nope"); !errors.Is(err, ErrNoRun) {
		t.Errorf("unknown run: %v", err)
	}
}

func TestFilesCSVJSONTable(t *testing.T) {
	th := newThread(t)
	ws := t.TempDir()
	dir := filepath.Join(ws, "runs", "r1")
	makeRun(t, th, dir, runSpec{model: "tiny", h: 40, w: 30, seed: 2})
	p := load(t, dir, WithThread(th))
	in := filepath.Join(ws, "in")
	os.MkdirAll(filepath.Join(in, "sub"), 0o755)
	files := map[string][]byte{
		"a.png":       encodePNG(t, testImage(1, 50, 60)),
		"sub/b.jpg":   encodeJPEG(t, testImage(2, 70, 40)),
		"c.jpg":       []byte("not really a jpeg"),
		"notes.txt":   []byte("ignored"),
		"sub/d.webp":  encodePNG(t, testImage(3, 30, 30)), // a PNG named .webp: sniffed, fine
		"sub/e.jpeg":  encodeJPEG(t, testImage(4, 80, 80))[:200],
		"sub/f.PNG":   encodePNG(t, testImage(5, 45, 45)),
		"sub/.hidden": []byte("x"),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(in, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	inputs, anyDir, err := Expand([]string{in, filepath.Join(ws, "missing.png")})
	if err != nil || !anyDir {
		t.Fatal(err, anyDir)
	}
	var paths []string
	for _, i := range inputs {
		paths = append(paths, strings.TrimPrefix(i.Path, ws+"/"))
	}
	want := "in/a.png in/c.jpg in/sub/b.jpg in/sub/d.webp in/sub/e.jpeg in/sub/f.PNG missing.png"
	if strings.Join(paths, " ") != want {
		t.Fatalf("expanded %v, want %s", paths, want)
	}
	var list []string
	for _, i := range inputs {
		list = append(list, i.Path)
	}
	res, err := p.PredictFiles(context.Background(), list, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	failed := map[string]bool{}
	for i, r := range res {
		if r.Path != list[i] {
			t.Fatalf("result %d is %s, want %s", i, r.Path, list[i])
		}
		if r.Err != nil {
			failed[filepath.Base(r.Path)] = true
			if !strings.Contains(r.Err.Error(), filepath.Base(r.Path)) {
				t.Errorf("error does not name the file: %v", r.Err)
			}
			continue
		}
		one, err := p.PredictFile(context.Background(), r.Path, 2)
		if err != nil || !samePreds(one, r.Predictions) {
			t.Fatalf("%s: batch %v, single %v %v", r.Path, r.Predictions, one, err)
		}
	}
	if len(failed) != 3 || !failed["c.jpg"] || !failed["e.jpeg"] || !failed["missing.png"] {
		t.Fatalf("failed: %v", failed)
	}

	var buf bytes.Buffer
	if err := WriteCSV(&buf, res, 2); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], ",") != "path,top1,p1,top2,p2" || len(rows) != 1+4 {
		t.Fatalf("csv: %v", rows)
	}
	for _, row := range rows[1:] {
		var r Result
		for _, x := range res {
			if x.Path == row[0] {
				r = x
			}
		}
		if row[1] != r.Predictions[0].Class || row[3] != r.Predictions[1].Class || row[2] != fmt.Sprintf("%.6f", r.Predictions[0].Prob) {
			t.Fatalf("row %v for %+v", row, r)
		}
	}

	buf.Reset()
	if err := WriteJSON(&buf, res); err != nil {
		t.Fatal(err)
	}
	var back []struct {
		Path        string       `json:"path"`
		Predictions []Prediction `json:"predictions"`
		Error       string       `json:"error"`
	}
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil || len(back) != len(res) {
		t.Fatalf("json: %v %s", err, buf.String())
	}
	for i, b := range back {
		if (b.Error != "") != (res[i].Err != nil) || (res[i].Err == nil && !samePreds(b.Predictions, res[i].Predictions)) {
			t.Fatalf("json %d: %+v vs %+v", i, b, res[i])
		}
	}

	buf.Reset()
	if err := WriteTable(&buf, res[:1]); err != nil {
		t.Fatal(err)
	}
	pr := res[0].Predictions
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 3 || lines[0] != res[0].Path {
		t.Fatalf("table:\n%s", buf.String())
	}
	for i, l := range lines[1:] {
		f := strings.Fields(l)
		if f[0] != fmt.Sprint(i+1) || !strings.Contains(l, " "+pr[i].Class+" ") || f[len(f)-1] != fmt.Sprintf("%.2f%%", 100*pr[i].Prob) {
			t.Fatalf("table line %q for %+v", l, pr[i])
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	time.Sleep(time.Millisecond)
	if _, err := p.PredictFiles(ctx, list, 2, 2); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("cancelled batch: %v", err)
	}
}

// samePreds compares rankings and probabilities up to float noise (a batch
// of several images and a batch of one round differently).
func samePreds(a, b []Prediction) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Label != b[i].Label || a[i].Class != b[i].Class || abs(a[i].Prob-b[i].Prob) > 1e-5 {
			return false
		}
	}
	return true
}

// TestRealCNN goes through models.New (the default builder) with the
// reference CNN, as a run of chara train leaves it.
func TestRealCNN(t *testing.T) {
	th := newThread(t)
	dir := filepath.Join(t.TempDir(), "runs", "cnn")
	m := makeRun(t, th, dir, runSpec{model: "cnn", build: models.New, h: 100, w: 75, fit: "pad", seed: 21})
	p, err := Load(dir, WithThread(th))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for i := int64(0); i < 3; i++ {
		raw := testImage(300+i, 150+int(i)*40, 220)
		want := directProbs(t, th, m, reference(t, p, raw), models.ImageNetMean, models.ImageNetStd)
		preds, err := p.Predict(context.Background(), raw, 0)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]float64, len(preds))
		for _, pr := range preds {
			got[pr.Label] = pr.Prob
		}
		if !near(got, want, 1e-5) {
			t.Fatalf("image %d: predictor %v, direct forward %v", i, got, want)
		}
	}
	// A card that names a model its weights were not saved from.
	card, _ := manifests.ReadRunCard(filepath.Join(dir, RunFile))
	card.Model = "cnn2"
	manifests.WriteRunCard(filepath.Join(dir, RunFile), card)
	if _, err := Load(dir, WithThread(th)); !errors.Is(err, ErrWeights) {
		t.Fatalf("cnn weights loaded into a cnn2: %v", err)
	}
}
