package torchrt

import (
	"math"
	"runtime"
	"strings"
	"testing"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

// lockThread keeps the test on one OS thread: gotch reports a libtorch
// error through a thread-local, so an op and its error check on two threads
// lose the error (and the garbage result gets freed later).
func lockThread(t *testing.T) {
	runtime.LockOSThread()
	t.Cleanup(runtime.UnlockOSThread)
}

// Each forwarder in internal/libtorch/compat is run here against values
// computed another way, and one stub is checked to fail cleanly.

func vals(t *testing.T, x *ts.Tensor, err error) []float64 {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	defer x.MustDrop()
	return x.Float64Values()
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-5 }

func TestCompatStdVarCorrection(t *testing.T) {
	lockThread(t)
	x := ts.MustOfSlice([]float64{1, 2, 3, 4, 6})
	defer x.MustDrop()
	mean := 16.0 / 5
	ss := 0.0
	for _, v := range []float64{1, 2, 3, 4, 6} {
		ss += (v - mean) * (v - mean)
	}
	for _, corr := range []int64{0, 1} {
		c := ts.IntScalar(corr)
		wantVar := ss / float64(5-corr)
		v, err := x.VarCorrection([]int64{0}, c, false, false)
		if got := vals(t, v, err)[0]; !near(got, wantVar) {
			t.Errorf("var correction %d: %v want %v", corr, got, wantVar)
		}
		s, err := x.StdCorrection([]int64{0}, c, false, false)
		if got := vals(t, s, err)[0]; !near(got, math.Sqrt(wantVar)) {
			t.Errorf("std correction %d: %v want %v", corr, got, math.Sqrt(wantVar))
		}
		sd, m, err := x.StdMeanCorrection([]int64{0}, c, false, false)
		if err != nil {
			t.Fatal(err)
		}
		if got := vals(t, m, nil)[0]; !near(got, mean) {
			t.Errorf("std_mean mean %v", got)
		}
		if got := vals(t, sd, nil)[0]; !near(got, math.Sqrt(wantVar)) {
			t.Errorf("std_mean std %v", got)
		}
	}
	// A fractional correction is refused, not truncated.
	if _, err := x.VarCorrection([]int64{0}, ts.FloatScalar(0.5), false, false); err == nil {
		t.Error("fractional correction accepted")
	}
}

func TestCompatSqueezeDims(t *testing.T) {
	lockThread(t)
	x := ts.MustOnes([]int64{1, 3, 1, 2, 1}, gotch.Float, gotch.CPU)
	defer x.MustDrop()
	y, err := x.SqueezeDims([]int64{0, -1, 1}, false) // dim 1 has size 3: kept
	if err != nil {
		t.Fatal(err)
	}
	defer y.MustDrop()
	if got := y.MustSize(); len(got) != 3 || got[0] != 3 || got[1] != 1 || got[2] != 2 {
		t.Errorf("shape %v, want [3 1 2]", got)
	}
	z := x.MustShallowClone()
	defer z.MustDrop()
	if err := z.SqueezeDims_([]int64{2}); err != nil {
		t.Fatal(err)
	}
	if got := z.MustSize(); len(got) != 4 {
		t.Errorf("in-place squeeze shape %v", got)
	}
}

func TestCompatScaledDotProductAttention(t *testing.T) {
	lockThread(t)
	ManualSeed(1)
	q := ts.MustRandn([]int64{1, 4, 8}, gotch.Float, gotch.CPU)
	k := ts.MustRandn([]int64{1, 5, 8}, gotch.Float, gotch.CPU)
	v := ts.MustRandn([]int64{1, 5, 3}, gotch.Float, gotch.CPU)
	defer q.MustDrop()
	defer k.MustDrop()
	defer v.MustDrop()
	got, err := ts.ScaledDotProductAttention(q, k, v, ts.NewTensor(), 0, false, []float64{})
	if err != nil {
		t.Fatal(err)
	}
	defer got.MustDrop()
	// softmax(q k^T / sqrt(8)) v computed by hand.
	s := q.MustMatmul(k.MustTranspose(-2, -1, false), false).MustDivScalar(ts.FloatScalar(math.Sqrt(8)), true)
	want := s.MustSoftmax(-1, gotch.Float, true).MustMatmul(v, true)
	defer want.MustDrop()
	g, w := got.Float64Values(), want.Float64Values()
	for i := range w {
		if !near(g[i], w[i]) {
			t.Fatalf("sdpa[%d] %v want %v", i, g[i], w[i])
		}
	}
}

func TestCompatStubFailsCleanly(t *testing.T) {
	lockThread(t)
	x := ts.MustOnes([]int64{4}, gotch.Float, gotch.CPU)
	defer x.MustDrop()
	_, err := x.NonzeroStatic(2, 0, false)
	if !CUDAAvailable() && strings.HasPrefix(CompiledVersion(), "1.") {
		if err == nil || !strings.Contains(err.Error(), "nonzero_static") || !strings.Contains(err.Error(), "not available in libtorch") {
			t.Fatalf("stub error %v", err)
		}
	}
}
