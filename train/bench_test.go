package train

import (
	"context"
	"flag"
	"fmt"
	"image"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/nn"

	"github.com/chara-dev/chara/internal/recipe"
	"github.com/chara-dev/chara/internal/synth"
	"github.com/chara-dev/chara/internal/testutil"
	"github.com/chara-dev/chara/manifests"
	"github.com/chara-dev/chara/train/models"
	"github.com/chara-dev/chara/train/torchrt"
)

// Benchmarks (BENCHMARKS.md, section train). Each measures whole
// operations and reports images per second; b.N only repeats them.
//
//	go test -run XXX -bench . -benchtime 1x ./train/
//	go test -run XXX -bench TrainStep -benchtime 3x ./train/   (medians of 3 pairs)
//
// On a GPU (scripts/gpu-check.sh runs the compiled test binary there):
//
//	train.test -test.run XXX -test.bench TrainStep/effnet -test.benchtime 1x \
//	    -chara.device cuda -chara.batch 128 [-chara.amp]

const (
	benchThreads = 2
	benchWarmup  = 2
)

var (
	benchDevice = flag.String("chara.device", "cpu", "BenchmarkTrainStep: device (cpu, cuda, cuda:N)")
	benchBatch  = flag.Int("chara.batch", 32, "BenchmarkTrainStep: batch size")
	benchAMP    = flag.Bool("chara.amp", false, "BenchmarkTrainStep: bf16 autocast (CUDA); PyTorch is then timed with torch.autocast too")
	benchNSteps = flag.Int("chara.steps", 0, "BenchmarkTrainStep: timed steps (0: 6 for effnet-b0, 60 for the CNNs on the CPU; 40 on a GPU)")
	benchCuDNN  = flag.Bool("chara.cudnn-benchmark", false, "BenchmarkSetupCost, BenchmarkEpoch: cuDNN algorithm search on (torch.backends.cudnn.benchmark)")
	benchCL     = flag.Bool("chara.channels-last", true, "BenchmarkSetupCost, BenchmarkEpoch: with -chara.amp on a GPU, weights and batches channels-last (false: default layout)")
	benchImages = flag.Int("chara.epoch-images", 512, "BenchmarkEpoch: training images per epoch")
	benchTorch  = flag.Bool("chara.pytorch", true, "BenchmarkTrainStep: time PyTorch too (false: ours alone, for profiling)")
)

// benchSteps is how many timed steps a model gets (after warm-up).
func benchSteps(model string) int {
	switch {
	case *benchNSteps > 0:
		return *benchNSteps
	case *benchDevice != "cpu":
		return 40
	case model == "effnet-b0":
		return 6
	}
	return 60
}

// benchWarmups is how many untimed steps come first (cuDNN picks its
// algorithms in the first steps on a GPU).
func benchWarmups() int {
	if *benchDevice != "cpu" {
		return 5
	}
	return benchWarmup
}

// BenchmarkTrainStep times chara's training step (uint8 batch to
// normalised input, forward, cross-entropy, backward, Adam, argmax) and
// the same step in PyTorch (testdata/bench_torch.py, Debian's python3-torch
// on the same libtorch), one after the other, and reports both and their
// ratio. With -chara.amp both run under bf16 autocast, and PyTorch's
// fastest setting (bf16 with channels-last) is reported too.
func BenchmarkTrainStep(b *testing.B) {
	for _, c := range []struct {
		model string
		h, w  int
	}{{"effnet-b0", 300, 150}, {"cnn", 100, 75}, {"cnn2", 100, 75}} {
		b.Run(c.model, func(b *testing.B) {
			// With -benchtime Nx, N alternating pairs; the medians are
			// reported (this VM's speed drifts by tens of percent).
			var ours, theirs, ratios, cl, clRatios []float64
			py := ""
			if *benchTorch {
				py = testutil.TorchPython()
			}
			mode := "fp32"
			if *benchAMP {
				mode = "bf16"
			}
			for i := 0; i < b.N; i++ {
				o, every := ourStepRate(b, c.model, c.h, c.w)
				ours = append(ours, o)
				if py == "" {
					continue
				}
				t := pytorchStepRate(b, py, c.model, c.h, c.w, mode, every)
				theirs = append(theirs, t)
				ratios = append(ratios, o/t)
				if *benchAMP {
					r := pytorchStepRate(b, py, c.model, c.h, c.w, "bf16-cl", every)
					cl = append(cl, r)
					clRatios = append(clRatios, o/r)
				}
			}
			b.ReportMetric(median(ours), "img/s")
			if len(theirs) > 0 {
				b.ReportMetric(median(theirs), "pytorch-img/s")
				b.ReportMetric(median(ratios), "ratio")
			}
			if len(cl) > 0 {
				b.ReportMetric(median(cl), "pytorch-bf16-cl-img/s")
				b.ReportMetric(median(clRatios), "ratio-vs-bf16-cl")
			}
		})
	}
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// ourStepRate is chara's training steps per second; readEvery is how many
// steps its loss and accuracy are read back after (stepReadEvery).
func ourStepRate(b *testing.B, model string, h, w int) (rate float64, readEvery int) {
	th := torchrt.NewThread(benchThreads)
	defer th.Close()
	dev, err := ParseDevice(*benchDevice)
	if err != nil {
		b.Fatal(err)
	}
	err = th.Do(context.Background(), func() error {
		torchrt.ManualSeed(1)
		var opts []models.Option
		if model == "effnet-b0" {
			opts = append(opts, models.WithInputSize(h, w))
		}
		m, err := models.New(model, 15, dev, opts...)
		if err != nil {
			return err
		}
		s, err := newSession(m, dev, benchRecipe(b, m))
		if err != nil {
			return err
		}
		defer s.close()
		s.h, s.w = h, w
		if err := s.setAMP(*benchAMP); err != nil {
			return err
		}
		if s.opt, err = newAdam(m.VarStore(), nn.DefaultAdamConfig(), 1e-3, trainableParams(m.VarStore(), nil)); err != nil {
			return err
		}
		n := *benchBatch
		bt := &batch{n: n, x: make([]uint8, n*3*h*w), y: make([]int64, n), idx: make([]int, n)}
		for i := range bt.x {
			bt.x[i] = uint8(i * 7)
		}
		for i := range bt.y {
			bt.y[i] = int64(i % 15)
		}
		steps, warm := benchSteps(model), benchWarmups()
		if err := s.beginEpoch(); err != nil {
			return err
		}
		var start time.Time
		for i := 0; i < warm+steps; i++ {
			if i == warm {
				// Read what the warm-up queued (on a GPU: wait for it).
				if err := s.readSteps(1, i); err != nil {
					return err
				}
				b.ResetTimer()
				start = time.Now()
			}
			if err := s.trainStep(bt, 1, i+1); err != nil {
				return err
			}
		}
		if err := s.readSteps(1, warm+steps); err != nil {
			return err
		}
		b.StopTimer()
		rate = float64(steps*n) / time.Since(start).Seconds()
		readEvery = s.readEvery
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return rate, readEvery
}

// pytorchStepRate is bench_torch.py's steps per second, reading its loss
// and accuracy back every readEvery steps as ours does.
func pytorchStepRate(b *testing.B, py, model string, h, w int, mode string, readEvery int) float64 {
	out, err := exec.Command(py, filepath.Join("testdata", "bench_torch.py"), model, strconv.Itoa(h), strconv.Itoa(w),
		strconv.Itoa(*benchBatch), strconv.Itoa(benchThreads), strconv.Itoa(benchWarmups()), strconv.Itoa(benchSteps(model)),
		*benchDevice, mode, strconv.Itoa(readEvery)).CombinedOutput()
	if err != nil {
		b.Fatalf("bench_torch.py: %v\n%s", err, out)
	}
	var rate float64
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if _, err := fmt.Sscanf(lines[len(lines)-1], "img/s %g", &rate); err != nil {
		b.Fatalf("bench_torch.py said %q", out)
	}
	return rate
}

// benchSession builds effnet-b0 (300x150, 15 classes) with Adam on the
// benchmark's device, with -chara.amp and -chara.channels-last, and
// -chara.cudnn-benchmark set for the process. It reports how long the
// channels-last conversion of the weights took.
func benchSession(b *testing.B) (*session, func()) {
	dev, err := ParseDevice(*benchDevice)
	if err != nil {
		b.Fatal(err)
	}
	torchrt.SetCuDNNBenchmark(*benchCuDNN)
	torchrt.ManualSeed(1)
	m, err := models.New("effnet-b0", 15, dev, models.WithInputSize(300, 150))
	if err != nil {
		b.Fatal(err)
	}
	s, err := newSession(m, dev, benchRecipe(b, m))
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	if *benchCL {
		err = s.setAMP(*benchAMP)
	} else {
		s.amp = *benchAMP
	}
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(time.Since(start).Seconds(), "channels-last-weights-s")
	if s.opt, err = newAdam(m.VarStore(), nn.DefaultAdamConfig(), 1e-3, trainableParams(m.VarStore(), nil)); err != nil {
		b.Fatal(err)
	}
	if err := s.beginEpoch(); err != nil {
		b.Fatal(err)
	}
	return s, s.close
}

func benchBatchOf(n, h, w int) *batch {
	bt := &batch{n: n, x: make([]uint8, n*3*h*w), y: make([]int64, n), idx: make([]int, n)}
	for i := range bt.x {
		bt.x[i] = uint8(i * 7)
	}
	for i := range bt.y {
		bt.y[i] = int64(i % 15)
	}
	return bt
}

// BenchmarkSetupCost splits the first epoch's setup cost (effnet-b0,
// 300x150, batch -chara.batch) into the seconds of single steps, each read
// back (on a GPU: waited for): the first training step, the second, the
// median of the next six (steady), the first and second step of a smaller
// last batch (batch - 5: a new shape, so new convolution set-ups), and the
// first and second evaluation step at each of the two sizes. Run it with
// and without -chara.amp, -chara.cudnn-benchmark and -chara.channels-last
// (scripts/gpu-check.sh does). On the CPU it runs too (no cuDNN there).
func BenchmarkSetupCost(b *testing.B) {
	th := torchrt.NewThread(benchThreads)
	defer th.Close()
	const h, w = 300, 150
	for i := 0; i < b.N; i++ {
		err := th.Do(context.Background(), func() error {
			s, done := benchSession(b)
			defer done()
			full, part := benchBatchOf(*benchBatch, h, w), benchBatchOf(max(1, *benchBatch-5), h, w)
			k := 0
			trainOne := func(bt *batch) float64 {
				start := time.Now()
				k++
				if err := s.trainStep(bt, 1, k); err != nil {
					b.Fatal(err)
				}
				if err := s.readSteps(1, k); err != nil {
					b.Fatal(err)
				}
				return time.Since(start).Seconds()
			}
			evalOne := func(bt *batch) float64 {
				start := time.Now()
				err := torchrt.NoGrad(func() error { _, _, _, err := s.evalStep(bt); return err })
				if err != nil {
					b.Fatal(err)
				}
				return time.Since(start).Seconds()
			}
			b.ReportMetric(trainOne(full), "train-first-s")
			b.ReportMetric(trainOne(full), "train-second-s")
			var steady []float64
			for j := 0; j < 6; j++ {
				steady = append(steady, trainOne(full))
			}
			b.ReportMetric(median(steady), "train-steady-s")
			b.ReportMetric(trainOne(part), "train-partial-first-s")
			b.ReportMetric(trainOne(part), "train-partial-second-s")
			b.ReportMetric(evalOne(full), "eval-first-s")
			b.ReportMetric(evalOne(full), "eval-second-s")
			b.ReportMetric(evalOne(part), "eval-partial-first-s")
			b.ReportMetric(evalOne(part), "eval-partial-second-s")
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEpoch times whole training epochs as chara train runs them
// (loader, steps, reads) of effnet-b0 at 300x150 on -chara.epoch-images
// synthetic images (15 classes) at batch -chara.batch, with -chara.amp,
// -chara.cudnn-benchmark and -chara.channels-last: the first epoch (with
// every set-up) and the second, in images per second. gpu-check.sh compares
// batch 32 with batch 128.
func BenchmarkEpoch(b *testing.B) {
	th := torchrt.NewThread(benchThreads)
	defer th.Close()
	const h, w = 300, 150
	n := *benchImages
	d := &splitData{Split: manifests.Train, N: n, H: h, W: w, Labels: make([]int32, n)}
	d.Pix = make([]uint8, n*d.imageSize())
	for i := range d.Pix {
		d.Pix[i] = uint8(i * 7)
	}
	for i := range d.Labels {
		d.Labels[i] = int32(i % 15)
	}
	for i := 0; i < b.N; i++ {
		err := th.Do(context.Background(), func() error {
			s, done := benchSession(b)
			defer done()
			for e := 1; e <= 2; e++ {
				l := newLoader(context.Background(), &imageSource{d: d}, *benchBatch, true, true, uint64(e))
				m, err := trainOneEpoch(context.Background(), s, l, e, nopTask{})
				l.close()
				if err != nil {
					return err
				}
				b.ReportMetric(float64(m.N)/m.Seconds, fmt.Sprintf("epoch%d-img/s", e))
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoader times the loader goroutine alone: batches of 32 at
// 300x150 (effnet-b0's input) and 100x75 (the CNNs'), with and without
// augmentation.
func BenchmarkLoader(b *testing.B) {
	for _, c := range []struct{ h, w int }{{300, 150}, {100, 75}} {
		for _, aug := range []bool{false, true} {
			b.Run(fmt.Sprintf("%dx%d/augment=%v", c.h, c.w, aug), func(b *testing.B) {
				n := 256
				d := &splitData{Split: manifests.Train, N: n, H: c.h, W: c.w, Labels: make([]int32, n)}
				d.Pix = make([]uint8, n*d.imageSize())
				for i := range d.Pix {
					d.Pix[i] = uint8(i)
				}
				b.ResetTimer()
				imgs := 0
				start := time.Now()
				for i := 0; i < b.N; i++ {
					l := newLoader(context.Background(), &imageSource{d: d, augment: aug}, *benchBatch, true, true, uint64(i))
					for {
						bt, err := l.next(context.Background())
						if err != nil {
							b.Fatal(err)
						}
						if bt == nil {
							break
						}
						imgs += bt.n
						l.release(bt)
					}
					l.close()
				}
				b.ReportMetric(float64(imgs)/time.Since(start).Seconds(), "img/s")
			})
		}
	}
}

// BenchmarkFrozenHead times 50 epochs of head-only training (effnet-b0's
// head, Adam, batch 32) on 15 classes x 800 cached features (synthetic),
// with validation on 15 x 100 after each epoch, as a frozen-backbone run
// does.
func BenchmarkFrozenHead(b *testing.B) {
	const classes, perClass, epochs = 15, 800, 50
	th := torchrt.NewThread(benchThreads)
	defer th.Close()
	train := syntheticFeatures(classes*perClass, models.EffNetFeatures, classes, 1)
	val := syntheticFeatures(classes*100, models.EffNetFeatures, classes, 2)
	for i := 0; i < b.N; i++ {
		err := th.Do(context.Background(), func() error {
			torchrt.ManualSeed(1)
			m, err := models.New("effnet-b0", classes, gotch.CPU)
			if err != nil {
				return err
			}
			s, err := newSession(m, gotch.CPU, benchRecipe(b, m))
			if err != nil {
				return err
			}
			defer s.close()
			s.frozen = true
			head := map[string]bool{}
			for _, p := range s.fm.HeadParameters() {
				head[p.Name] = true
			}
			if s.opt, err = newAdam(m.VarStore(), nn.DefaultAdamConfig(), 1e-3, trainableParams(m.VarStore(), func(n string) bool { return head[n] })); err != nil {
				return err
			}
			start := time.Now()
			for e := 1; e <= epochs; e++ {
				l := newLoader(context.Background(), &featureSource{f: train}, *benchBatch, true, true, uint64(e))
				if _, err := trainOneEpoch(context.Background(), s, l, e, nopTask{}); err != nil {
					return err
				}
				l.close()
				vl := newLoader(context.Background(), &featureSource{f: val}, *benchBatch, false, false, 0)
				if _, err := evaluate(context.Background(), s, vl); err != nil {
					return err
				}
				vl.close()
			}
			b.ReportMetric(time.Since(start).Seconds(), "s/50-epochs")
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

type nopTask struct{}

func (nopTask) Add(int64)        {}
func (nopTask) SetTotal(int64)   {}
func (nopTask) SetStatus(string) {}
func (nopTask) Done()            {}

// benchRecipe is the run recipe of m on a default dataset recipe.
func benchRecipe(tb testing.TB, m models.Model) *recipe.Recipe {
	tb.Helper()
	spec := m.Spec()
	rm, err := recipe.ForModel(recipe.Default(), int(spec.Height), int(spec.Width), "", spec.Mean, spec.Std)
	if err != nil {
		tb.Fatal(err)
	}
	rc, err := recipe.New(rm, true)
	if err != nil {
		tb.Fatal(err)
	}
	return rc
}

// BenchmarkInputAdapt measures how cnn (input 100x75, 4:3) learns from
// 300x150 (2:1) dataset images brought to its input padded or stretched:
// five look-alike synthetic characters (internal/synth), the same images,
// seeds and epochs for both; it reports the best validation accuracy and
// the test accuracy of the best weights, averaged over the seeds. The
// recipe's default adaptation (recipe.DefaultAdapt) was chosen with it.
//
//	go test ./train/ -run '^$' -bench BenchmarkInputAdapt -benchtime 1x
func BenchmarkInputAdapt(b *testing.B) {
	const h, w = 300, 150
	chars := synth.Characters()
	names := make([]string, len(chars))
	for i, c := range chars {
		names[i] = c.Name
	}
	ws := b.TempDir()
	makeImageSet(b, ws, "chars", names, h, w, [3]int{30, 30, 30}, func(c, si, k int) image.Image {
		return synth.Render(chars[c], int64(1000*si+k+100000*c), synth.Size(w, h))
	})
	seeds := []int64{1, 2, 3, 4, 5}
	for _, adapt := range []string{manifests.AdaptPad, manifests.AdaptStretch} {
		b.Run(adapt, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				var val, test float64
				for _, seed := range seeds {
					card, err := Run(context.Background(), ws, WithModel("cnn"), WithDataset("chars"), WithDevice("cpu"),
						WithEpochs(10), WithPatience(0), WithBatchSize(16), WithLR(2e-3), WithSeed(seed), WithInputAdapt(adapt),
						WithName(fmt.Sprintf("%s-%d-%d", adapt, seed, i)))
					if err != nil {
						b.Fatal(err)
					}
					val += card.BestValAcc
					test += card.TestAcc
				}
				b.ReportMetric(val/float64(len(seeds)), "val-acc")
				b.ReportMetric(test/float64(len(seeds)), "test-acc")
			}
		})
	}
}
