package torchrt

import (
	"math"
	"strings"
	"testing"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

func TestImageBatchNormalisesFromGoMemory(t *testing.T) {
	lockThread(t)
	const n, c, h, w = 2, 3, 4, 5
	pix := make([]uint8, n*c*h*w+7) // longer than needed: only the prefix is read
	for i := range pix {
		pix[i] = uint8(i * 13)
	}
	scale := ts.MustOfSlice([]float32{1.0 / 255, 2.0 / 255, 0.5}).MustView([]int64{1, 3, 1, 1}, true)
	shift := ts.MustOfSlice([]float32{-1, 0, 3}).MustView([]int64{1, 3, 1, 1}, true)
	defer scale.MustDrop()
	defer shift.MustDrop()
	for _, cl := range []bool{false, true} {
		x, err := ImageBatch(pix, n, c, h, w, gotch.CPU, scale, shift, cl)
		if err != nil {
			t.Fatal(err)
		}
		if got := x.MustSize(); len(got) != 4 || got[0] != n || got[1] != c || got[2] != h || got[3] != w {
			t.Fatalf("shape %v", got)
		}
		if x.DType() != gotch.Float {
			t.Fatalf("dtype %v", x.DType())
		}
		// The pixels change after the call: the tensor must not alias them.
		saved := pix[0]
		pix[0] = saved + 1
		vals := x.Float64Values() // contiguous NCHW order, whatever the layout
		pix[0] = saved
		sc, sh := []float64{1.0 / 255, 2.0 / 255, 0.5}, []float64{-1, 0, 3}
		for i, v := range vals {
			ch := (i / (h * w)) % c
			want := float64(pix[i])*sc[ch] + sh[ch]
			if math.Abs(v-want) > 1e-5 {
				t.Fatalf("channels-last %v: element %d = %v, want %v", cl, i, v, want)
			}
		}
		x.MustDrop()
	}
	if _, err := ImageBatch(pix[:10], n, c, h, w, gotch.CPU, scale, shift, false); err == nil || !strings.Contains(err.Error(), "10 bytes") {
		t.Errorf("short buffer: %v", err)
	}
}

// ChannelsLast changes the memory layout only: a convolution gives the same
// result, and tensors that are not 4-D are left alone.
func TestChannelsLastKeepsValues(t *testing.T) {
	lockThread(t)
	ManualSeed(3)
	wt := ts.MustRandn([]int64{4, 3, 3, 3}, gotch.Float, gotch.CPU)
	bias := ts.MustRandn([]int64{4}, gotch.Float, gotch.CPU)
	x := ts.MustRandn([]int64{2, 3, 8, 8}, gotch.Float, gotch.CPU)
	defer wt.MustDrop()
	defer bias.MustDrop()
	defer x.MustDrop()
	conv := func() []float64 {
		y := ts.MustConv2d(x, wt, bias, []int64{1, 1}, []int64{1, 1}, []int64{1, 1}, 1)
		defer y.MustDrop()
		return y.Float64Values()
	}
	before, wBefore, bBefore := conv(), wt.Float64Values(), bias.Float64Values()
	if err := ChannelsLast([]*ts.Tensor{wt, bias}); err != nil {
		t.Fatal(err)
	}
	if s := wt.MustStride(); s[1] != 1 {
		t.Errorf("weight strides %v: not channels-last", s)
	}
	after := conv()
	for i := range before {
		if math.Abs(before[i]-after[i]) > 1e-4 {
			t.Fatalf("conv output %d: %v before, %v after", i, before[i], after[i])
		}
	}
	for i, v := range wt.Float64Values() {
		if v != wBefore[i] {
			t.Fatalf("weight %d changed", i)
		}
	}
	if b := bias.Float64Values(); b[0] != bBefore[0] || bias.MustStride()[0] != 1 {
		t.Error("bias changed")
	}
}

func TestLabelsCopiesGoMemory(t *testing.T) {
	lockThread(t)
	y := []int64{3, 0, 14, 7}
	l, err := Labels(y, gotch.CPU)
	if err != nil {
		t.Fatal(err)
	}
	defer l.MustDrop()
	y[0] = 99 // the tensor must not alias y
	got := l.Int64Values()
	if l.DType() != gotch.Int64 || len(got) != 4 || got[0] != 3 || got[1] != 0 || got[2] != 14 || got[3] != 7 {
		t.Fatalf("labels %v (%v), want [3 0 14 7]", got, l.DType())
	}
	if _, err := Labels(nil, gotch.CPU); err == nil {
		t.Fatal("no labels: no error")
	}
}
