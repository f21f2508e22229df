// Package softmax turns class scores (logits) into probabilities, the one
// way every stage does it: in float64, the maximum subtracted first so
// that no exponential overflows.
package softmax

import "math"

// Of returns the probabilities of logits z, in a new slice.
func Of[T float32 | float64](z []T) []float64 {
	p := make([]float64, len(z))
	for i, v := range z {
		p[i] = float64(v)
	}
	InPlace(p)
	return p
}

// InPlace replaces the logits in p by their probabilities.
func InPlace(p []float64) {
	mx := math.Inf(-1)
	for _, v := range p {
		mx = math.Max(mx, v)
	}
	var s float64
	for i, v := range p {
		p[i] = math.Exp(v - mx)
		s += p[i]
	}
	for i := range p {
		p[i] /= s
	}
}
