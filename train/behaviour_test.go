package train

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"

	"github.com/chara-dev/chara/internal/recipe"
	"github.com/chara-dev/chara/internal/testutil"
	"github.com/chara-dev/chara/manifests"
	"github.com/chara-dev/chara/train/models"
	"github.com/chara-dev/chara/train/torchrt"
)

// Two runs with the same seed give the same metrics, a run stopped after
// epoch 2 and resumed gives exactly the uninterrupted run's metrics and
// weights, and memory stays flat across epochs.
func TestResumeEqualsUninterrupted(t *testing.T) {
	ws := t.TempDir()
	makeDataset(t, ws, "toy", 3, 100, 75, [3]int{16, 6, 6}, 3)
	const epochs = 6
	var rss []int
	opts := func(name string, n int, more ...Option) []Option {
		return quick("cnn2", "toy", name, n, append([]Option{WithPatience(0), WithAugment(true)}, more...)...)
	}
	full, err := Run(context.Background(), ws, opts("full", epochs, withAfterEpoch(func(int) { rss = append(rss, testutil.RSSKB(t)) }))...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), ws, opts("part", 2)...); err != nil {
		t.Fatal(err)
	}
	// A second run under the same name is refused without --resume.
	if _, err := Run(context.Background(), ws, opts("part", 2)...); !errors.Is(err, ErrRunExists) {
		t.Fatalf("rerun without resume: %v, want ErrRunExists", err)
	}
	// A resumed run keeps its own settings: another epoch count or lr is
	// refused unless meant, what defines the run is refused always.
	for _, c := range []struct {
		name string
		more []Option
		want string
	}{
		{"epochs", []Option{WithEpochs(epochs)}, "epochs 6 (the run has 2)"},
		{"lr", []Option{WithLR(0.01)}, "--change"},
		{"seed", []Option{WithSeed(99), WithChanges(true)}, "cannot change"},
		{"model", []Option{WithModel("cnn"), WithChanges(true)}, "model cnn (the run has cnn2)"},
	} {
		_, err := Run(context.Background(), ws, append([]Option{WithName("part"), WithResume(true)}, c.more...)...)
		if !errors.Is(err, ErrOptions) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("resume with another %s: %v, want ErrOptions saying %q", c.name, err, c.want)
		}
	}
	// Resumed with nothing but its name: the run's own 2 epochs, so
	// nothing is left to train.
	again, err := Run(context.Background(), ws, WithName("part"), WithResume(true), WithDevice("cpu"))
	if err != nil || again.Epochs != 2 || len(metricsNoTime(t, ws, "part")) != 2 {
		t.Fatalf("resume as defined: %v, %d epochs, want 2", err, again.Epochs)
	}
	resumed, err := Run(context.Background(), ws, append(opts("part", epochs), WithResume(true), WithChanges(true))...)
	if err != nil {
		t.Fatal(err)
	}
	a, b := metricsNoTime(t, ws, "full"), metricsNoTime(t, ws, "part")
	if len(a) != epochs || !reflect.DeepEqual(a, b) {
		t.Errorf("resumed metrics differ from uninterrupted:\n%s\nvs\n%s", strings.Join(a, "\n"), strings.Join(b, "\n"))
	}
	if full.TestAcc != resumed.TestAcc || full.BestEpoch != resumed.BestEpoch {
		t.Errorf("cards differ: %+v vs %+v", full, resumed)
	}
	lastW, lastO := checkpointFiles(epochs)
	for _, f := range []string{lastW, "best.ot", lastO, "last.json", "best.json"} {
		x, _ := os.ReadFile(filepath.Join(manifests.RunDir(ws, "full"), f))
		y, _ := os.ReadFile(filepath.Join(manifests.RunDir(ws, "part"), f))
		if strings.HasSuffix(f, ".json") {
			x, y = noSavedAt(x), noSavedAt(y)
		}
		if len(x) == 0 || !bytes.Equal(x, y) {
			t.Errorf("%s differs between the uninterrupted and the resumed run", f)
		}
	}
	// Memory: flat from epoch 2 on (per-batch tensors are dropped).
	if len(rss) == epochs {
		if grow := rss[epochs-1] - rss[1]; grow > 24*1024 {
			t.Errorf("resident memory grew by %d KB from epoch 2 to %d: %v", grow, epochs, rss)
		}
	}
	// A tampered checkpoint is refused on resume (here the last epoch's
	// files are also the best's: nothing else to fall back on).
	if full.BestEpoch == epochs {
		last := filepath.Join(manifests.RunDir(ws, "part"), lastW)
		raw, _ := os.ReadFile(last)
		raw[len(raw)/2] ^= 0xff
		os.WriteFile(last, raw, 0o644)
		if _, err := Run(context.Background(), ws, append(opts("part", epochs+1), WithResume(true))...); !errors.Is(err, ErrCheckpoint) {
			t.Errorf("resume from a damaged checkpoint: %v, want ErrCheckpoint", err)
		}
	}
	// The dataset rebuilt (another version): the run cannot continue on it.
	makeDataset(t, ws, "toy", 3, 100, 75, [3]int{16, 6, 6}, 99)
	if _, err := Run(context.Background(), ws, WithName("full"), WithResume(true), WithDevice("cpu")); !errors.Is(err, ErrOptions) || !strings.Contains(err.Error(), "changed since the run started") {
		t.Errorf("resume on a rebuilt dataset: %v, want ErrOptions", err)
	}
}

// noSavedAt blanks a checkpoint manifest's saved_at and the seconds of its
// history, which differ between two runs of the same training.
func noSavedAt(b []byte) []byte {
	var c Checkpoint
	if json.Unmarshal(b, &c) != nil {
		return b
	}
	c.SavedAt, c.Config.Name = time.Time{}, ""
	for i := range c.History {
		c.History[i].Seconds = 0
	}
	out, _ := json.Marshal(c)
	return out
}

func withAfterEpoch(f func(int)) Option { return func(o *options) { o.afterEpoch = f } }

// Early stopping stops after patience epochs without a better validation
// accuracy, and the reported test metrics are those of the best weights,
// restored from best.ot.
func TestEarlyStoppingRestoresBest(t *testing.T) {
	ws := t.TempDir()
	makeDataset(t, ws, "toy", 2, 100, 75, [3]int{12, 6, 6}, 4)
	// Validation accuracy as the run sees it: best at epoch 2.
	forced := map[int]float64{1: 0.5, 2: 0.9, 3: 0.6, 4: 0.7, 5: 0.9, 6: 1}
	card, err := Run(context.Background(), ws, quick("cnn", "toy", "es", 10, WithPatience(3),
		func(o *options) { o.valAcc = func(e int, _ float64) float64 { return forced[e] } })...)
	if err != nil {
		t.Fatal(err)
	}
	if card.Epochs != 5 || card.BestEpoch != 2 || card.BestValAcc != 0.9 {
		t.Errorf("epochs %d best %d (%.2f), want 5 epochs, best 2 (0.90 — a tie is no improvement)", card.Epochs, card.BestEpoch, card.BestValAcc)
	}
	if !strings.Contains(card.StopReason, "early stop") {
		t.Errorf("stop reason %q", card.StopReason)
	}
	hist, err := readMetrics(filepath.Join(manifests.RunDir(ws, "es"), "metrics.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 5 {
		t.Fatalf("%d metric rows, want 5", len(hist))
	}
	// The test split is not scored per epoch; the one evaluation ran on
	// the restored epoch-2 weights: a predictor loading run.json's best
	// weights gets the same test loss.
	head, _ := os.ReadFile(filepath.Join(manifests.RunDir(ws, "es"), "metrics.csv"))
	if strings.Contains(strings.SplitN(string(head), "\n", 2)[0], "test") {
		t.Errorf("metrics.csv has per-epoch test columns: %s", strings.SplitN(string(head), "\n", 2)[0])
	}
	if loss := testLossOf(t, ws, "es"); math.Abs(loss-card.TestLoss) > 1e-4 {
		t.Errorf("final test loss %v; the best weights give %v", card.TestLoss, loss)
	}
	best, err := readCheckpoint(manifests.RunDir(ws, "es"), bestKind)
	if err != nil || best.Epoch != 2 {
		t.Errorf("best checkpoint: %+v, %v", best, err)
	}
}

// A non-finite loss stops the run with a clear error, keeps the best
// checkpoint and still reports on it.
func TestNonFiniteLossStops(t *testing.T) {
	ws := t.TempDir()
	makeDataset(t, ws, "toy", 2, 100, 75, [3]int{12, 4, 4}, 5)
	card, err := Run(context.Background(), ws, quick("cnn", "toy", "nan", 5, func(o *options) { o.nonFiniteAt = [2]int{3, 1} })...)
	var nf *NonFiniteError
	if !errors.As(err, &nf) || !errors.Is(err, ErrNonFinite) || nf.Epoch != 3 {
		t.Fatalf("err %v, want a NonFiniteError at epoch 3", err)
	}
	if card == nil || card.Finished || !strings.Contains(card.StopReason, "epoch 3") || card.Epochs != 2 {
		t.Fatalf("card %+v", card)
	}
	dir := manifests.RunDir(ws, "nan")
	best, err := readCheckpoint(dir, bestKind)
	if err != nil || best.Epoch < 1 || best.Epoch > 2 {
		t.Errorf("best checkpoint %+v, %v", best, err)
	}
	back, err := manifests.ReadRunCard(filepath.Join(dir, "run.json"))
	if err != nil || back.StopReason != card.StopReason {
		t.Errorf("run.json: %+v %v", back, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "report.md")); err != nil {
		t.Errorf("no report for the best weights: %v", err)
	}
}

// A malformed manifest or a missing image fails with the file named.
func TestBadDatasetNamesTheFile(t *testing.T) {
	ws := t.TempDir()
	ds := makeDataset(t, ws, "toy", 2, 100, 75, [3]int{4, 2, 2}, 6)
	// Missing image.
	gone := ds.Rows[manifests.Val][1].Path
	if err := os.Remove(filepath.Join(ds.Dir, gone)); err != nil {
		t.Fatal(err)
	}
	_, err := Run(context.Background(), ws, quick("cnn", "toy", "missing", 1)...)
	if err == nil || !strings.Contains(err.Error(), filepath.Base(gone)) {
		t.Errorf("missing image: %v, want it named (%s)", err, gone)
	}
	// Malformed manifest: a label that is not a number.
	p := filepath.Join(ds.Dir, "train.csv")
	raw, _ := os.ReadFile(p)
	lines := strings.Split(string(raw), "\n")
	f := strings.Split(lines[2], ",")
	f[1] = "x"
	lines[2] = strings.Join(f, ",")
	os.WriteFile(p, []byte(strings.Join(lines, "\n")), 0o644)
	_, err = Run(context.Background(), ws, quick("cnn", "toy", "malformed", 1)...)
	if err == nil || !strings.Contains(err.Error(), "train.csv") || !errors.Is(err, manifests.ErrMalformed) {
		t.Errorf("malformed manifest: %v, want train.csv named", err)
	}
	// Options are checked first.
	if _, err := Run(context.Background(), ws, WithModel("resnet"), WithDataset("toy")); !errors.Is(err, ErrOptions) {
		t.Errorf("unknown model: %v", err)
	}
	if _, err := Run(context.Background(), ws, quick("cnn", "toy", "amp", 1, WithDevice("cpu"), WithAMP(true))...); !errors.Is(err, ErrOptions) || !strings.Contains(err.Error(), "CUDA") {
		t.Errorf("--amp on the CPU: %v, want ErrOptions naming CUDA", err)
	}
	if _, err := Run(context.Background(), ws, quick("cnn", "toy", "x", 1, WithFreeze(true, 0))...); err == nil {
		t.Errorf("--freeze with cnn accepted")
	}
}

// The split cache is written once, read back identically, rebuilt when
// damaged and keyed by the dataset version.
func TestSplitCache(t *testing.T) {
	ws := t.TempDir()
	ds := makeDataset(t, ws, "toy", 2, 40, 30, [3]int{5, 2, 2}, 7)
	ctx := context.Background()
	rc := inputRecipe(t, ds, 50, 36)
	d1, err := loadSplit(ctx, ds, manifests.Train, rc)
	if err != nil {
		t.Fatal(err)
	}
	p := CachePath(ds, manifests.Train, rc)
	if !strings.Contains(p, ds.Card.Version) {
		t.Errorf("cache path %s lacks the dataset version", p)
	}
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(d1.N * 3 * 50 * 36); st.Size() < want {
		t.Errorf("cache is %d bytes, want at least %d", st.Size(), want)
	}
	d2, err := readCache(p, ds, manifests.Train, 50, 36, manifests.AdaptPad)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(d1.Pix, d2.Pix) || !reflect.DeepEqual(d1.Labels, d2.Labels) || !reflect.DeepEqual(d1.Paths, d2.Paths) {
		t.Error("cache reads back different data")
	}
	// A disc of class colour must survive the resize: the red image is
	// redder than the green one on average.
	red := func(d *splitData, i int) (r, g int) {
		img := d.image(i)
		pl := d.H * d.W
		for o := 0; o < pl; o++ {
			r += int(img[o])
			g += int(img[pl+o])
		}
		return
	}
	if r, g := red(d1, 0); d1.Labels[0] != 0 || r <= g {
		t.Errorf("image 0 (class %d) r=%d g=%d", d1.Labels[0], r, g)
	}
	// Damaged: rebuilt.
	os.WriteFile(p, []byte("junk"), 0o644)
	if _, err := readCache(p, ds, manifests.Train, 50, 36, manifests.AdaptPad); !errors.Is(err, ErrBadCache) {
		t.Errorf("junk cache: %v", err)
	}
	d3, err := loadSplit(ctx, ds, manifests.Train, rc)
	if err != nil || !bytes.Equal(d3.Pix, d1.Pix) {
		t.Errorf("rebuilt cache differs: %v", err)
	}
	// Another version does not read this cache.
	other := *ds
	card := *ds.Card
	card.Version = "0123456789abcdef"
	other.Card = &card
	if _, err := readCache(p, &other, manifests.Train, 50, 36, manifests.AdaptPad); err == nil {
		t.Error("cache of another dataset version accepted")
	}
}

// The loader gives every sample once per epoch, in an order and with an
// augmentation fixed by the seed, and keeps two-sample minimum batches in
// training.
func TestLoader(t *testing.T) {
	ws := t.TempDir()
	ds := makeDataset(t, ws, "toy", 2, 20, 16, [3]int{9, 1, 1}, 8)
	d, err := loadSplit(context.Background(), ds, manifests.Train, inputRecipe(t, ds, 20, 16))
	if err != nil {
		t.Fatal(err)
	}
	epoch := func(seed uint64, size int, augment bool) ([]int, [][]uint8) {
		l := newLoader(context.Background(), &imageSource{d: d, augment: augment}, size, true, true, seed)
		defer l.close()
		var idx []int
		var pix [][]uint8
		for {
			b, err := l.next(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if b == nil {
				break
			}
			if b.n < 2 {
				t.Errorf("training batch of %d", b.n)
			}
			for k := 0; k < b.n; k++ {
				if b.y[k] != int64(d.Labels[b.idx[k]]) {
					t.Errorf("label mismatch")
				}
			}
			idx = append(idx, b.idx[:b.n]...)
			pix = append(pix, append([]uint8(nil), b.x[:b.n*d.imageSize()]...))
			l.release(b)
		}
		return idx, pix
	}
	i1, p1 := epoch(1, 5, true)
	i2, p2 := epoch(1, 5, true)
	i3, _ := epoch(2, 5, true)
	if !reflect.DeepEqual(i1, i2) || !reflect.DeepEqual(p1, p2) {
		t.Error("same seed, different batches")
	}
	if reflect.DeepEqual(i1, i3) {
		t.Error("different seeds, same order")
	}
	seen := map[int]bool{}
	for _, i := range i1 {
		seen[i] = true
	}
	if len(i1) != d.N || len(seen) != d.N {
		t.Errorf("epoch covered %d samples (%d distinct) of %d", len(i1), len(seen), d.N)
	}
	// 18 samples in batches of 17: the last batch of one is dropped.
	if i, _ := epoch(1, 17, false); len(i) != 17 {
		t.Errorf("%d samples with batch 17, want 17", len(i))
	}
	// Augmentation changes pixels but keeps the class colour.
	_, plain := epoch(1, 5, false)
	if reflect.DeepEqual(plain, p1) {
		t.Error("augmentation changed nothing")
	}
}

// Our Adam takes the same steps as libtorch's (gotch's nn.Adam), with and
// without weight decay.
func TestAdamMatchesLibtorch(t *testing.T) {
	for _, wd := range []float64{0, 0.05} {
		t.Run(fmt.Sprint("wd=", wd), func(t *testing.T) { testAdamMatchesLibtorch(t, wd) })
	}
}

func testAdamMatchesLibtorch(t *testing.T, wd float64) {
	th := torchrt.NewThread(2)
	defer th.Close()
	err := th.Do(context.Background(), func() error {
		build := func() (*nn.VarStore, *nn.Linear) {
			torchrt.ManualSeed(3)
			vs := nn.NewVarStore(gotch.CPU)
			return vs, nn.NewLinear(vs.Root().Sub("fc"), 4, 3, torchrt.LinearConfig(4))
		}
		vsA, la := build()
		vsB, lb := build()
		cfg := nn.DefaultAdamConfig()
		cfg.Wd = wd
		ref, err := cfg.Build(vsA, 0.01)
		if err != nil {
			return err
		}
		ours, err := newAdam(vsB, cfg, 0.01, trainableParams(vsB, nil))
		if err != nil {
			return err
		}
		defer ours.drop()
		rng := rand.New(rand.NewPCG(1, 2))
		for step := 0; step < 25; step++ {
			xs := make([]float32, 8*4)
			ys := make([]int64, 8)
			for i := range xs {
				xs[i] = float32(rng.NormFloat64())
			}
			for i := range ys {
				ys[i] = int64(rng.IntN(3))
			}
			x := ts.MustOfSlice(xs).MustView([]int64{8, 4}, true)
			y := ts.MustOfSlice(ys)
			la2 := la.Forward(x)
			lossA, _ := crossEntropy(la2, y)
			ref.MustBackwardStep(lossA)
			if err := ours.zeroGrad(); err != nil {
				return err
			}
			lb2 := lb.Forward(x)
			lossB, _ := crossEntropy(lb2, y)
			if err := lossB.Backward(); err != nil {
				return err
			}
			if err := ours.stepOnce(); err != nil {
				return err
			}
			for _, z := range []*ts.Tensor{x, y, la2, lb2, lossA, lossB} {
				z.MustDrop()
			}
		}
		for _, pair := range [][2]*ts.Tensor{{la.Ws, lb.Ws}, {la.Bs, lb.Bs}} {
			if !pair[0].MustAllclose(pair[1], 1e-5, 1e-6, false, false) {
				t.Errorf("parameters differ after 25 steps:\n%v\n%v", pair[0].Float64Values(), pair[1].Float64Values())
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Compare ranks by validation accuracy, never by test accuracy, runs of
// the dataset's current version before stale ones, and marks which is
// which.
func TestCompare(t *testing.T) {
	ws := t.TempDir()
	ds := makeDataset(t, ws, "toy", 2, 20, 16, [3]int{2, 1, 1}, 3)
	write := func(name, version string, val, test float64) {
		c := &manifests.RunCard{Name: name, Model: "cnn", Dataset: "toy", DatasetVersion: version, Classes: []manifests.Class{{Label: 0, Name: "A", Slug: "a"}, {Label: 1, Name: "B", Slug: "b"}},
			Recipe:     recipe.Sized(100, 75, manifests.FitPad).WithInput(manifests.Input{Height: 100, Width: 75, Adapt: manifests.AdaptNone, Std: [3]float64{1, 1, 1}}),
			BestValAcc: val, TestAcc: test, BestWeights: "best.ot", Finished: true}
		if err := manifests.WriteRunCard(filepath.Join(manifests.RunDir(ws, name), "run.json"), c); err != nil {
			t.Fatal(err)
		}
		writeMetrics(filepath.Join(manifests.RunDir(ws, name), "metrics.csv"), []EpochRow{{Epoch: 1, Seconds: 2}, {Epoch: 2, Seconds: 3}})
	}
	// "lucky" has the best test accuracy but the worse validation one.
	write("lucky", ds.Card.Version, 0.6, 0.95)
	write("valbest", ds.Card.Version, 0.9, 0.8)
	write("old", "0123456789abcdef", 0.99, 0.99)
	got, err := Compare(ws, "lucky", "old", manifests.RunDir(ws, "valbest"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range got {
		names = append(names, r.Name)
	}
	if strings.Join(names, ",") != "valbest,lucky,old" || got[0].Seconds != 5 || !got[0].Current || !got[1].Current || got[2].Current {
		t.Errorf("order %v, want valbest,lucky,old (current by val accuracy, then stale): %+v", names, got)
	}
	var buf bytes.Buffer
	WriteComparison(&buf, got)
	out := buf.String()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if !strings.HasPrefix(out, "BEST VAL ACC") || len(lines) != 4 || !strings.Contains(lines[1], "current") || !strings.Contains(lines[3], "stale") {
		t.Errorf("table:\n%s", out)
	}
	if _, err := Compare(ws, "nope"); err == nil {
		t.Error("missing run accepted")
	}
}

// Steps read back every few steps (as on a GPU) give the same epoch loss
// and accuracy as steps read one by one, and a non-finite loss in one of
// them is reported with the window it was read in.
func TestStepReadsEveryFewSteps(t *testing.T) {
	th := torchrt.NewThread(2)
	defer th.Close()
	run := func(every int, nanAt int) (stepTotals, error) {
		var tot stepTotals
		err := th.Do(context.Background(), func() error {
			torchrt.ManualSeed(5)
			m, err := models.New("cnn", 3, gotch.CPU)
			if err != nil {
				return err
			}
			s, err := newSession(m, gotch.CPU, benchRecipe(t, m))
			if err != nil {
				return err
			}
			defer s.close()
			s.readEvery = every
			s.forceNaN = [2]int{1, nanAt}
			if s.opt, err = newAdam(m.VarStore(), nn.DefaultAdamConfig(), 1e-3, trainableParams(m.VarStore(), nil)); err != nil {
				return err
			}
			n, h, w := 4, 100, 75
			bt := &batch{n: n, x: make([]uint8, n*3*h*w), y: []int64{0, 1, 2, 1}, idx: make([]int, n)}
			for i := range bt.x {
				bt.x[i] = uint8(i * 7)
			}
			if err := s.beginEpoch(); err != nil {
				return err
			}
			for k := 1; k <= 7; k++ {
				if err := s.trainStep(bt, 1, k); err != nil {
					return err
				}
			}
			if err := s.readSteps(1, 7); err != nil {
				return err
			}
			tot = s.tot
			return nil
		})
		return tot, err
	}
	one, err := run(1, 0)
	if err != nil {
		t.Fatal(err)
	}
	three, err := run(3, 0)
	if err != nil {
		t.Fatal(err)
	}
	if one.n != 28 || three.n != 28 || one.correct != three.correct || math.Abs(one.lossSum-three.lossSum) > 1e-9*math.Abs(one.lossSum) {
		t.Fatalf("read every step %+v, every 3 steps %+v", one, three)
	}
	_, err = run(3, 5)
	var nf *NonFiniteError
	if !errors.As(err, &nf) || nf.From != 4 || nf.Batch != 6 || !strings.Contains(err.Error(), "batches 4-6") {
		t.Fatalf("NaN in batch 5, read every 3: %v, want batches 4-6", err)
	}
	_, err = run(1, 5)
	if !errors.As(err, &nf) || nf.From != 5 || nf.Batch != 5 || !strings.Contains(err.Error(), "batch 5 ") {
		t.Fatalf("NaN in batch 5, read every step: %v, want batch 5", err)
	}
}
