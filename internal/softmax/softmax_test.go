package softmax

import (
	"math"
	"testing"
)

func TestOf(t *testing.T) {
	// Large logits would overflow math.Exp without the maximum subtracted.
	p := Of([]float32{1000, 1000 + float32(math.Log(3)), 0})
	if math.Abs(p[0]-0.25) > 1e-4 || math.Abs(p[1]-0.75) > 1e-4 || p[2] != 0 {
		t.Fatalf("Of = %v, want [0.25 0.75 0]", p)
	}
	q := []float64{0, 0, 0, 0}
	InPlace(q)
	for _, v := range q {
		if v != 0.25 {
			t.Fatalf("InPlace of equal logits = %v, want all 0.25", q)
		}
	}
	var sum float64
	for _, v := range Of([]float64{-3, 0.5, 2, 7}) {
		sum += v
	}
	if math.Abs(sum-1) > 1e-12 {
		t.Fatalf("probabilities sum to %v", sum)
	}
}
