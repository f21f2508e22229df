package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"time"
	"unsafe"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"github.com/chara-dev/chara/internal/progress"
	"github.com/chara-dev/chara/internal/recipe"
	"github.com/chara-dev/chara/train/models"
	"github.com/chara-dev/chara/train/torchrt"
)

// ErrNonFinite is returned when the training loss becomes NaN or infinite;
// the best checkpoint is kept.
var ErrNonFinite = errors.New("non-finite training loss")

// NonFiniteError says where the loss stopped being finite: in batch Batch,
// or (on a GPU, whose losses are read every few steps) in one of the
// batches From to Batch.
type NonFiniteError struct {
	Epoch, Batch int
	From         int // first batch of the window read with Batch (= Batch on the CPU)
	Loss         float64
}

func (e *NonFiniteError) Error() string {
	at := fmt.Sprintf("batch %d", e.Batch)
	if e.From > 0 && e.From < e.Batch {
		at = fmt.Sprintf("batches %d-%d", e.From, e.Batch)
	}
	return fmt.Sprintf("training loss is %v at epoch %d, %s (learning rate too high?); stopped, the best checkpoint is kept", e.Loss, e.Epoch, at)
}

func (e *NonFiniteError) Unwrap() error { return ErrNonFinite }

// session is the libtorch side of a run. Use it only on the torch thread.
type session struct {
	amp bool // forward passes under bf16 autocast (CUDA)
	// channelsLast: 4-D weights and image batches in channels-last memory
	// format (set with amp on a GPU, as PyTorch's fastest bf16 setting).
	channelsLast bool
	m            models.Model
	fm           models.Backboned // set when the model has a frozen-backbone mode
	dev          gotch.Device
	h, w         int
	scale        *ts.Tensor // 1 / (255 std), [1,3,1,1]
	shift        *ts.Tensor // -mean / std
	frozen       bool       // batches carry features; only the head runs
	opt          *adam

	// Training steps' loss and accuracy, summed on the device and read back
	// every readEvery steps (stepReadEvery): pending steps (pendingN
	// samples, from batch pendingFrom) are not read yet; tot is what was.
	stats       *torchrt.StepStats
	readEvery   int
	pending     int
	pendingN    int
	pendingFrom int
	tot         stepTotals

	forceNaN [2]int // test hook: (epoch, batch)
}

// stepTotals is what the reads of an epoch's training steps gave so far.
type stepTotals struct {
	lossSum float64 // sum of loss * batch size
	correct int
	n       int
}

// gpuReadEvery is how many training steps a GPU runs between two reads of
// their losses and accuracy back to the host. Each read waits for every
// kernel queued before it, and the host then queues the next step's kernels
// while the GPU idles; without reads the host stays ahead (small batches
// gain most). On the CPU every step is read (a read costs nothing there),
// so that a non-finite loss stops the run before the optimizer uses its
// gradients; on a GPU the steps of the window it is found in have updated
// the weights, which the run then discards (it keeps its best checkpoint).
const gpuReadEvery = 8

// stepReadEvery is how many training steps run between two reads on dev.
func stepReadEvery(dev gotch.Device) int {
	if dev == gotch.CPU {
		return 1
	}
	return gpuReadEvery
}

// newSession runs model m on dev, normalising batches as the run's recipe
// says.
func newSession(m models.Model, dev gotch.Device, rc *recipe.Recipe) (*session, error) {
	h, w := rc.InputSize()
	s := &session{m: m, dev: dev, h: h, w: w, readEvery: stepReadEvery(dev)}
	if fm, ok := m.(models.Backboned); ok {
		s.fm = fm
	}
	sc, sh := rc.Affine()
	var err error
	if s.scale, err = floatTensor(sc[:], []int64{1, 3, 1, 1}, dev); err != nil {
		return nil, err
	}
	if s.shift, err = floatTensor(sh[:], []int64{1, 3, 1, 1}, dev); err != nil {
		return nil, err
	}
	return s, nil
}

// setAMP turns bf16 autocast on or off for later forward passes. On a GPU
// it also stores the model's 4-D weights in channels-last format, once:
// call it before the optimizer is made.
func (s *session) setAMP(on bool) error {
	s.amp = on
	if !on || s.dev == gotch.CPU || s.channelsLast {
		return nil
	}
	vars := s.m.VarStore().Variables()
	ts4 := make([]*ts.Tensor, 0, len(vars))
	for _, t := range vars {
		tc := t
		ts4 = append(ts4, &tc)
	}
	err := torchrt.ChannelsLast(ts4)
	runtime.KeepAlive(s.m.VarStore())
	if err != nil {
		return err
	}
	s.channelsLast = true
	return nil
}

func (s *session) close() {
	s.scale.MustDrop()
	s.shift.MustDrop()
	if s.stats != nil {
		s.stats.Drop()
	}
	if s.opt != nil {
		s.opt.drop()
	}
}

func floatTensor(v []float32, shape []int64, dev gotch.Device) (*ts.Tensor, error) {
	var b []byte
	if len(v) > 0 {
		b = unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), 4*len(v))
	}
	t, err := ts.OfDataSize(b, shape, gotch.Float)
	if err != nil {
		return nil, err
	}
	return toDevice(t, dev)
}

func toDevice(t *ts.Tensor, dev gotch.Device) (*ts.Tensor, error) {
	if dev == gotch.CPU {
		return t, nil
	}
	return t.To(dev, true)
}

// inputs turns a prepared batch into a normalised float input on the
// device (images) or a feature matrix, and the labels.
// forEachInput runs fn, without gradients, on the model input of each of
// l's batches in order; x is dropped and the batch released after fn.
func (s *session) forEachInput(ctx context.Context, l *loader, fn func(b *batch, x *ts.Tensor) error) error {
	return torchrt.NoGrad(func() error {
		for {
			b, err := l.next(ctx)
			if err != nil || b == nil {
				return err
			}
			x, y, err := s.inputs(b)
			if err != nil {
				l.release(b)
				return err
			}
			y.MustDrop()
			err = fn(b, x)
			x.MustDrop()
			l.release(b)
			if err != nil {
				return err
			}
		}
	})
}

func (s *session) inputs(b *batch) (x, y *ts.Tensor, err error) {
	n := int64(b.n)
	if b.x != nil {
		if x, err = torchrt.ImageBatch(b.x, b.n, 3, s.h, s.w, s.dev, s.scale, s.shift, s.channelsLast); err != nil {
			return nil, nil, err
		}
	} else {
		dim := len(b.f) / max(1, len(b.y))
		if x, err = floatTensor(b.f[:b.n*dim], []int64{n, int64(dim)}, s.dev); err != nil {
			return nil, nil, err
		}
	}
	if y, err = torchrt.Labels(b.y[:b.n], s.dev); err != nil {
		x.MustDrop()
		return nil, nil, err
	}
	return x, y, nil
}

// forward runs the model (or only its head, when frozen) on a batch.
func (s *session) forward(b *batch, train bool) (logits, y *ts.Tensor, err error) {
	x, y, err := s.inputs(b)
	if err != nil {
		return nil, nil, err
	}
	defer x.MustDrop()
	run := func() error {
		if s.frozen {
			logits = s.fm.HeadForwardT(x, train)
		} else {
			logits = s.m.ForwardT(x, train)
		}
		return nil
	}
	if s.amp {
		// The loss takes logits as float (LogSoftmax to Float), as under torch.autocast.
		err = torchrt.AutocastBF16(run)
	} else {
		err = run()
	}
	if err != nil {
		y.MustDrop()
		return nil, nil, err
	}
	return logits, y, nil
}

// noWeight is the undefined tensor nll_loss takes for "no class weights".
var noWeight = ts.NewTensor()

// crossEntropy is the mean cross-entropy of logits against labels y.
func crossEntropy(logits, y *ts.Tensor) (*ts.Tensor, error) {
	ls, err := logits.LogSoftmax(-1, gotch.Float, false)
	if err != nil {
		return nil, err
	}
	return ls.NllLoss(y, noWeight, 1, -100, true)
}

// scalar reads a one-element tensor (gotch's Float64Values leaks a copy).
func scalar(t *ts.Tensor) (float64, error) {
	d, err := t.Totype(gotch.Double, false)
	if err != nil {
		return 0, err
	}
	defer d.MustDrop()
	v := make([]float64, 1)
	if err := d.CopyData(v, 1); err != nil {
		return 0, err
	}
	return v[0], nil
}

// epochMetrics is one pass over a split.
type epochMetrics struct {
	Loss    float64
	Acc     float64
	N       int
	Seconds float64
	// Preds, Probs and Idx (evaluate only): the predicted label of each
	// sample, its class probabilities (softmax) and its index in the split.
	Preds []int
	Probs [][]float64
	Idx   []int
}

func argmax(logits *ts.Tensor) ([]int64, error) {
	am, err := logits.Argmax([]int64{1}, false, false)
	if err != nil {
		return nil, err
	}
	defer am.MustDrop()
	return am.Int64Values(), nil
}

// trainOneEpoch runs one epoch of training over l's batches, updating the
// model with s.opt. Loss and accuracy are averages over the epoch's
// samples in training mode (like Keras's).
func trainOneEpoch(ctx context.Context, s *session, l *loader, epoch int, task progress.Task) (epochMetrics, error) {
	start := time.Now()
	var m epochMetrics
	if err := s.beginEpoch(); err != nil {
		return m, err
	}
	status := func() {
		if t := s.tot; t.n > 0 {
			el := time.Since(start).Seconds()
			task.SetStatus(fmt.Sprintf("loss %.4f acc %.3f %.1f img/s", t.lossSum/float64(t.n), float64(t.correct)/float64(t.n), float64(t.n)/el))
		}
	}
	last := 0
	for k := 1; ; k++ {
		if err := ctx.Err(); err != nil {
			return m, err
		}
		b, err := l.next(ctx)
		if err != nil {
			return m, err
		}
		if b == nil {
			break
		}
		err = s.trainStep(b, epoch, k)
		l.release(b)
		if err != nil {
			return m, err
		}
		last = k
		task.Add(1)
		if s.pending == 0 {
			status()
		}
	}
	if err := s.readSteps(epoch, last); err != nil {
		return m, err
	}
	status()
	if t := s.tot; t.n > 0 {
		m.N = t.n
		m.Loss = t.lossSum / float64(t.n)
		m.Acc = float64(t.correct) / float64(t.n)
	}
	m.Seconds = time.Since(start).Seconds()
	return m, nil
}

// beginEpoch zeroes the training steps' sums.
func (s *session) beginEpoch() error {
	if s.stats == nil {
		st, err := torchrt.NewStepStats(s.dev)
		if err != nil {
			return err
		}
		s.stats = st
	} else if _, _, err := s.stats.Take(); err != nil {
		return err
	}
	s.pending, s.pendingN, s.pendingFrom, s.tot = 0, 0, 0, stepTotals{}
	return nil
}

// readSteps reads the pending steps' sums back to the host (the last of
// them is batch k of epoch) and fails if their loss is not finite.
func (s *session) readSteps(epoch, k int) error {
	if s.pending == 0 {
		return nil
	}
	sum, correct, err := s.stats.Take()
	if err != nil {
		return err
	}
	from, n := s.pendingFrom, s.pendingN
	s.pending, s.pendingN = 0, 0
	if s.forceNaN[0] == epoch && s.forceNaN[1] >= from && s.forceNaN[1] <= k {
		sum = math.NaN()
	}
	if math.IsNaN(sum) || math.IsInf(sum, 0) {
		return &NonFiniteError{Epoch: epoch, Batch: k, From: from, Loss: sum / float64(n)}
	}
	s.tot.lossSum += sum
	s.tot.correct += correct
	s.tot.n += n
	return nil
}

// forwardLoss runs the model on a batch and returns the logits, the mean
// cross-entropy against the batch's labels and the labels; the caller
// drops all three.
func (s *session) forwardLoss(b *batch, train bool) (logits, loss, y *ts.Tensor, err error) {
	logits, y, err = s.forward(b, train)
	if err != nil {
		return nil, nil, nil, err
	}
	if loss, err = crossEntropy(logits, y); err != nil {
		logits.MustDrop()
		y.MustDrop()
		return nil, nil, nil, err
	}
	return logits, loss, y, nil
}

// trainStep is one optimisation step on batch k of epoch; every tensor it
// makes is dropped before it returns. Its loss and accuracy are added to
// s.stats on the device, and read back every s.readEvery steps.
func (s *session) trainStep(b *batch, epoch, k int) error {
	logits, loss, y, err := s.forwardLoss(b, true)
	if err != nil {
		return err
	}
	defer logits.MustDrop()
	defer y.MustDrop()
	if r, ok := s.m.(models.Regularized); ok && !s.frozen {
		if p := r.L2Penalty(); p != nil {
			total, err := loss.Add(p, true)
			p.MustDrop()
			if err != nil {
				return err
			}
			loss = total
		}
	}
	defer loss.MustDrop()
	if err := s.opt.zeroGrad(); err != nil {
		return err
	}
	if err := loss.Backward(); err != nil {
		return err
	}
	if err := s.stats.Add(loss, logits, y, b.n); err != nil {
		return err
	}
	if s.pending == 0 {
		s.pendingFrom = k
	}
	s.pending++
	s.pendingN += b.n
	if s.pending >= s.readEvery {
		// On the CPU (every step read) a non-finite loss is caught here,
		// before the optimizer touches the weights.
		if err := s.readSteps(epoch, k); err != nil {
			return err
		}
	}
	return s.opt.stepOnce()
}

// evaluate runs the model in evaluation mode without gradients over l's
// batches and returns the mean loss, the accuracy and every prediction.
func evaluate(ctx context.Context, s *session, l *loader) (epochMetrics, error) {
	start := time.Now()
	var m epochMetrics
	var lossSum float64
	correct := 0
	err := torchrt.NoGrad(func() error {
		for {
			if err := ctx.Err(); err != nil {
				return err
			}
			b, err := l.next(ctx)
			if err != nil {
				return err
			}
			if b == nil {
				return nil
			}
			lv, preds, probs, err := s.evalStep(b)
			if err != nil {
				l.release(b)
				return err
			}
			for j, p := range preds {
				if p == b.y[j] {
					correct++
				}
				m.Preds = append(m.Preds, int(p))
				m.Idx = append(m.Idx, b.idx[j])
				if k := len(probs) / len(preds); k > 0 {
					m.Probs = append(m.Probs, probs[j*k:(j+1)*k])
				}
			}
			lossSum += lv * float64(b.n)
			m.N += b.n
			l.release(b)
		}
	})
	if err != nil {
		return m, err
	}
	if m.N > 0 {
		m.Loss = lossSum / float64(m.N)
		m.Acc = float64(correct) / float64(m.N)
	}
	m.Seconds = time.Since(start).Seconds()
	return m, nil
}

// evalStep returns the batch's mean loss, predicted labels and class
// probabilities (row-major, batch x classes).
func (s *session) evalStep(b *batch) (float64, []int64, []float64, error) {
	logits, loss, y, err := s.forwardLoss(b, false)
	if err != nil {
		return 0, nil, nil, err
	}
	y.MustDrop()
	defer logits.MustDrop()
	lv, err := scalar(loss)
	loss.MustDrop()
	if err != nil {
		return 0, nil, nil, err
	}
	preds, err := argmax(logits)
	if err != nil {
		return 0, nil, nil, err
	}
	sm, err := logits.Softmax(1, gotch.Double, false)
	if err != nil {
		return 0, nil, nil, err
	}
	defer sm.MustDrop()
	return lv, preds, sm.Float64Values(), nil
}
