// Package predict loads a trained run (runs/<run>/run.json and its best
// weights) and classifies images with it, preprocessing them with the
// run's own recipe (run.json's, applied by internal/recipe: the code the
// dataset build and training used), never with its dataset's current one.
//
// A Predictor is safe for concurrent use: decoding and resizing run in the
// caller's goroutine, and the forward passes are serialised onto one
// torchrt.Thread, where requests that queue up meanwhile are batched.
package predict

import (
	"context"
	"errors"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"unsafe"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"

	"github.com/chara-dev/chara/internal/recipe"
	"github.com/chara-dev/chara/internal/softmax"
	"github.com/chara-dev/chara/manifests"
	"github.com/chara-dev/chara/train/models"
	"github.com/chara-dev/chara/train/torchrt"
)

// RunFile is the run card's file name inside a run folder.
const RunFile = manifests.RunCardFile

// Errors.
var (
	// ErrNoRun is returned by BestRun when no run of the dataset exists.
	ErrNoRun = errors.New("no trained run")
	// ErrClosed is returned by Predict after Close.
	ErrClosed = errors.New("predictor closed")
)

// Prediction is one class and its probability.
type Prediction struct {
	Label int     `json:"label"`
	Class string  `json:"class"`
	Slug  string  `json:"slug"`
	Prob  float64 `json:"prob"`
}

// Builder builds a freshly initialised model; models.New by default.
type Builder func(name string, classes int, device gotch.Device, opts ...models.Option) (models.Model, error)

type options struct {
	device    gotch.Device
	thread    *torchrt.Thread
	threads   int
	maxBatch  int
	maxPixels int64
	build     Builder
	noOpenSet bool
}

// Option configures Load.
type Option func(*options)

// WithOpenSet turns the "none of these characters" answer on (default, for
// a run with a calibrated threshold) or off.
func WithOpenSet(on bool) Option { return func(o *options) { o.noOpenSet = !on } }

// WithDevice runs the model on device (default CPU).
func WithDevice(d gotch.Device) Option { return func(o *options) { o.device = d } }

// WithThread runs the libtorch work on an existing thread (shared with other
// users) instead of a thread of the Predictor's own; Close then leaves it
// running.
func WithThread(t *torchrt.Thread) Option { return func(o *options) { o.thread = t } }

// WithThreads sets libtorch's intra-op thread count on the Predictor's own
// thread (default: libtorch's choice).
func WithThreads(n int) Option { return func(o *options) { o.threads = n } }

// WithMaxBatch caps how many queued images one forward pass takes
// (default 8; 1 disables batching).
func WithMaxBatch(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.maxBatch = n
		}
	}
}

// WithMaxPixels refuses images with more pixels than n before decoding them
// (default imageio.DefaultMaxPixels).
func WithMaxPixels(n int64) Option { return func(o *options) { o.maxPixels = n } }

// WithBuilder replaces models.New (tests, custom models).
func WithBuilder(b Builder) Option { return func(o *options) { o.build = b } }

// Predictor classifies images with a trained run. It is safe for
// concurrent use.
type Predictor struct {
	dir       string
	card      *manifests.RunCard
	rc        *recipe.Recipe
	maxPixels int64
	maxBatch  int
	device    gotch.Device
	openSet   *manifests.OpenSet // nil: always answer a class

	th       *torchrt.Thread
	ownTh    bool
	model    models.Model
	queue    chan *request
	quit     chan struct{}
	wg       sync.WaitGroup
	closeOne sync.Once
}

type request struct {
	ctx   context.Context
	input []float32
	res   chan result
}

type result struct {
	probs []float64
	err   error
}

// Load reads runDir/run.json, builds the model, loads its best weights and
// starts the thread that runs it. Close releases it.
func Load(runDir string, opts ...Option) (*Predictor, error) {
	o := options{device: gotch.CPU, maxBatch: 8, build: models.New}
	for _, f := range opts {
		f(&o)
	}
	card, err := manifests.ReadRunCard(filepath.Join(runDir, RunFile))
	if err != nil {
		return nil, err
	}
	rc, err := recipe.New(card.Recipe, true)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(runDir, RunFile), err)
	}
	weights := filepath.Join(runDir, card.BestWeights)
	if _, err := os.Stat(weights); err != nil {
		return nil, fmt.Errorf("run %s: best weights: %w", runDir, err)
	}
	p := &Predictor{
		dir: runDir, card: card, rc: rc, maxPixels: o.maxPixels, maxBatch: o.maxBatch, device: o.device,
		th: o.thread, queue: make(chan *request), quit: make(chan struct{}),
	}
	if !o.noOpenSet {
		p.openSet = card.OpenSet
	}
	if p.th == nil {
		p.th, p.ownTh = torchrt.NewThread(o.threads), true
	}
	err = p.th.Do(context.Background(), func() error {
		h, w := rc.InputSize()
		m, err := o.build(card.Model, len(card.Classes), o.device, models.WithInputSize(h, w))
		if err != nil {
			return err
		}
		if err := loadWeights(m.VarStore(), weights); err != nil {
			return err
		}
		p.model = m
		return nil
	})
	if err != nil {
		if p.ownTh {
			p.th.Close()
		}
		return nil, fmt.Errorf("run %s: %w", runDir, err)
	}
	p.wg.Add(1)
	go p.dispatch()
	return p, nil
}

// ErrWeights is returned when a weights file does not match the model.
var ErrWeights = errors.New("weights do not match the model")

// loadWeights copies the tensors of a gotch weights file (VarStore.Save or
// chara train's checkpoint) into vs: every variable must be there with its
// shape, and nothing else. Unlike gotch's VarStore.Load it leaves the
// thread's grad mode alone.
func loadWeights(vs *nn.VarStore, path string) error {
	err := torchrt.LoadVarStore(vs, path)
	if errors.Is(err, torchrt.ErrVarStoreMismatch) {
		return fmt.Errorf("%w: %w", ErrWeights, err)
	}
	return err
}

// Card is the run's card.
func (p *Predictor) Card() *manifests.RunCard { return p.card }

// Dir is the run folder.
func (p *Predictor) Dir() string { return p.dir }

// Classes lists the classes, label order.
func (p *Predictor) Classes() []manifests.Class { return p.card.Classes }

// Recipe is the run's preprocessing.
func (p *Predictor) Recipe() *recipe.Recipe { return p.rc }

// InputSize is the model's input size (height, width).
func (p *Predictor) InputSize() (int, int) { return p.rc.InputSize() }

// Close stops the dispatcher and, unless the thread was given by
// WithThread, the torch thread. Pending and later calls get ErrClosed.
func (p *Predictor) Close() error {
	p.closeOne.Do(func() {
		close(p.quit)
		p.wg.Wait()
		_ = p.th.Do(context.Background(), func() error {
			p.model = nil
			runtime.GC()
			return nil
		})
		if p.ownTh {
			p.th.Close()
		}
	})
	return nil
}

// Preprocess brings a decoded image to the model's input with the run's
// recipe: fitted to the dataset size, then adapted to the model input.
func (p *Predictor) Preprocess(img image.Image) *image.NRGBA {
	return p.rc.ToInput(p.rc.Fit(img))
}

// Load decodes an image file's bytes (format sniffed, EXIF orientation
// applied, oversized images refused: imageio's errors) and brings it to the
// model's input with the run's recipe.
func (p *Predictor) Load(b []byte) (*image.NRGBA, error) {
	return p.rc.Input(b, p.maxPixels)
}

// Predict classifies a decoded image and returns the k most probable
// classes, most probable first (k <= 0 or more than the classes: all).
func (p *Predictor) Predict(ctx context.Context, img image.Image, k int) ([]Prediction, error) {
	probs, err := p.Probabilities(ctx, p.Preprocess(img))
	if err != nil {
		return nil, err
	}
	return p.TopK(probs, k), nil
}

// PredictBytes decodes and classifies an image file's bytes. Decoding
// errors are imageio's (*imageio.Error, errors.Is ErrNotAnImage,
// ErrTooLarge, ...).
func (p *Predictor) PredictBytes(ctx context.Context, b []byte, k int) ([]Prediction, error) {
	img, err := p.Load(b)
	if err != nil {
		return nil, err
	}
	probs, err := p.Probabilities(ctx, img)
	if err != nil {
		return nil, err
	}
	return p.TopK(probs, k), nil
}

// PredictFile reads and classifies an image file; errors name the file.
func (p *Predictor) PredictFile(ctx context.Context, path string, k int) ([]Prediction, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	preds, err := p.PredictBytes(ctx, b, k)
	if err != nil && ctx.Err() == nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return preds, err
}

// Probabilities runs the model on an image already at the model's input
// size (Preprocess or Load) and returns the softmax over the classes, in
// label order.
func (p *Predictor) Probabilities(ctx context.Context, img *image.NRGBA) ([]float64, error) {
	h, w := p.rc.InputSize()
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		return nil, fmt.Errorf("image is %dx%d, model input is %dx%d (width x height)", b.Dx(), b.Dy(), w, h)
	}
	req := &request{ctx: ctx, input: p.rc.Tensor(img), res: make(chan result, 1)}
	select {
	case p.queue <- req:
	case <-p.quit:
		return nil, ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	r := <-req.res
	return r.probs, r.err
}

// TopK orders probabilities (label order) into the k most probable
// predictions, ties by label.
func (p *Predictor) TopK(probs []float64, k int) []Prediction {
	idx := make([]int, len(probs))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return probs[idx[a]] > probs[idx[b]] })
	if k <= 0 || k > len(idx) {
		k = len(idx)
	}
	out := make([]Prediction, k)
	for i := range out {
		c := p.card.Classes[idx[i]]
		out[i] = Prediction{Label: c.Label, Class: c.Name, Slug: c.Slug, Prob: probs[idx[i]]}
	}
	return out
}

// dispatch takes one request, adds those already waiting (up to maxBatch)
// and runs them as one batch on the torch thread.
func (p *Predictor) dispatch() {
	defer p.wg.Done()
	for {
		var batch []*request
		select {
		case r := <-p.queue:
			batch = append(batch, r)
		case <-p.quit:
			return
		}
	more:
		for len(batch) < p.maxBatch {
			select {
			case r := <-p.queue:
				batch = append(batch, r)
			default:
				break more
			}
		}
		live := batch[:0]
		for _, r := range batch {
			if err := r.ctx.Err(); err != nil {
				r.res <- result{err: err}
				continue
			}
			live = append(live, r)
		}
		if len(live) == 0 {
			continue
		}
		probs, err := p.forward(live)
		for i, r := range live {
			if err != nil {
				r.res <- result{err: err}
			} else {
				r.res <- result{probs: probs[i]}
			}
		}
	}
}

// forward runs one batch and returns the softmax of each row.
func (p *Predictor) forward(batch []*request) ([][]float64, error) {
	n := len(batch)
	ih, iw := p.rc.InputSize()
	h, w := int64(ih), int64(iw)
	per := len(batch[0].input)
	data := make([]float32, 0, n*per)
	for _, r := range batch {
		data = append(data, r.input...)
	}
	classes := len(p.card.Classes)
	logits := make([]float32, n*classes)
	err := p.th.Do(context.Background(), func() error {
		return torchrt.NoGrad(func() error {
			raw := unsafe.Slice((*byte)(unsafe.Pointer(&data[0])), 4*len(data))
			x, err := ts.OfDataSize(raw, []int64{int64(n), 3, h, w}, gotch.Float)
			if err != nil {
				return err
			}
			if p.device != gotch.CPU {
				if x, err = x.To(p.device, true); err != nil {
					return err
				}
			}
			out := p.model.ForwardT(x, false)
			x.MustDrop()
			defer out.MustDrop()
			if sz := out.MustSize(); len(sz) != 2 || sz[0] != int64(n) || sz[1] != int64(classes) {
				return fmt.Errorf("model output shape %v, want [%d %d]", sz, n, classes)
			}
			cpu, err := out.ToDevice(gotch.CPU, gotch.Float, false, true, false)
			if err != nil {
				return err
			}
			if cpu, err = cpu.Contiguous(true); err != nil {
				return err
			}
			defer cpu.MustDrop()
			return cpu.CopyData(logits, uint(len(logits)))
		})
	})
	runtime.KeepAlive(data)
	if err != nil {
		return nil, err
	}
	out := make([][]float64, n)
	for i := range out {
		out[i] = softmax.Of(logits[i*classes : (i+1)*classes])
	}
	return out, nil
}
