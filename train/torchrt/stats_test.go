package torchrt

import (
	"math"
	"testing"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

func TestStepStatsSumsOnTheDevice(t *testing.T) {
	lockThread(t)
	st, err := NewStepStats(gotch.CPU)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Drop()
	step := func(loss float32, logits []float32, labels []int64) {
		l := ts.MustOfSlice([]float32{loss}).MustSqueeze(true) // a 0-d loss, as the mean
		lg := ts.MustOfSlice(logits).MustView([]int64{int64(len(labels)), -1}, true)
		y := ts.MustOfSlice(labels)
		defer l.MustDrop()
		defer lg.MustDrop()
		defer y.MustDrop()
		if err := st.Add(l, lg, y, len(labels)); err != nil {
			t.Fatal(err)
		}
	}
	step(0.5, []float32{1, 2, 5, 0, 0, 3}, []int64{1, 0, 1}) // argmax 1, 0, 1: 3 right
	step(2, []float32{9, 1}, []int64{1})                     // wrong
	sum, correct, err := st.Take()
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(sum-(0.5*3+2*1)) > 1e-9 || correct != 3 {
		t.Fatalf("loss sum %v correct %d, want 3.5 and 3", sum, correct)
	}
	if sum, correct, _ = st.Take(); sum != 0 || correct != 0 {
		t.Fatalf("after Take: %v %d, want zeros", sum, correct)
	}
}
