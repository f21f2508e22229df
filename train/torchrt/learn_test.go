package torchrt

import (
	"context"
	"testing"

	"github.com/chara-dev/chara/internal/testutil"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"
)

// toyNet is a 2-16-2 MLP with PyTorch's default initialisation.
type toyNet struct {
	vs     *nn.VarStore
	l1, l2 *nn.Linear
}

func newToyNet() *toyNet {
	vs := nn.NewVarStore(gotch.CPU)
	r := vs.Root()
	return &toyNet{vs: vs, l1: nn.NewLinear(r.Sub("l1"), 2, 16, LinearConfig(2)), l2: nn.NewLinear(r.Sub("l2"), 16, 2, LinearConfig(16))}
}

// forward drops its temporaries after their last use. That also keeps them
// reachable until then: a Go tensor that is unreachable while libtorch still
// reads it (an argument in the middle of a cgo call) can be finalized under
// it, which crashed this test under GOGC=5.
func (m *toyNet) forward(x *ts.Tensor) *ts.Tensor {
	h := m.l1.Forward(x)
	a := h.MustRelu(true)
	defer a.MustDrop()
	return m.l2.Forward(a)
}

// toyBatch: points in [-1,1]^2, class 1 inside the circle of radius 0.6.
func toyBatch(n int64) (*ts.Tensor, *ts.Tensor) {
	x := ts.MustRand([]int64{n, 2}, gotch.Float, gotch.CPU).MustMulScalar(ts.FloatScalar(2), true).MustSubScalar(ts.FloatScalar(1), true)
	r2 := x.MustMul(x, false).MustSumDimIntlist([]int64{1}, false, gotch.Float, true)
	y := r2.MustLt(ts.FloatScalar(0.36), true).MustTotype(gotch.Int64, true)
	return x, y
}

func trainSteps(m *toyNet, opt *nn.Optimizer, steps int) float64 {
	var last float64
	for i := 0; i < steps; i++ {
		x, y := toyBatch(64)
		logits := m.forward(x)
		loss := logits.CrossEntropyForLogits(y)
		if err := opt.BackwardStep(loss); err != nil {
			panic(err)
		}
		last = loss.Float64Values()[0]
		loss.MustDrop()
		logits.MustDrop()
		x.MustDrop()
		y.MustDrop()
	}
	return last
}

func TestToyNetLearns(t *testing.T) {
	th := NewThread(2)
	defer th.Close()
	err := th.Do(context.Background(), func() error {
		ManualSeed(1)
		m := newToyNet()
		opt, err := nn.DefaultAdamConfig().Build(m.vs, 1e-2)
		if err != nil {
			return err
		}
		trainSteps(m, opt, 600)
		// Evaluate on fresh points, without gradients.
		return NoGrad(func() error {
			x, y := toyBatch(2000)
			defer x.MustDrop()
			defer y.MustDrop()
			logits := m.forward(x)
			defer logits.MustDrop()
			loss := logits.CrossEntropyForLogits(y)
			defer loss.MustDrop()
			acc := logits.AccuracyForLogits(y)
			defer acc.MustDrop()
			if l := loss.Float64Values()[0]; l > 0.25 {
				t.Errorf("loss %.3f after training, want < 0.25", l)
			}
			if a := acc.Float64Values()[0]; a < 0.9 {
				t.Errorf("accuracy %.3f, want >= 0.9", a)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Per-batch tensors are dropped in the same iteration, so memory stays flat.
func TestTrainingMemoryIsFlat(t *testing.T) {
	th := NewThread(2)
	defer th.Close()
	err := th.Do(context.Background(), func() error {
		ManualSeed(2)
		m := newToyNet()
		opt, err := nn.DefaultAdamConfig().Build(m.vs, 1e-3)
		if err != nil {
			return err
		}
		trainSteps(m, opt, 200) // warm up allocators
		before := testutil.RSSKB(t)
		trainSteps(m, opt, 1000)
		after := testutil.RSSKB(t)
		if grow := after - before; grow > 16*1024 {
			t.Errorf("resident memory grew by %d KB over 1000 steps", grow)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
