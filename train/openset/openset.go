// Package openset decides when a classifier should answer "none of these
// characters": the image's score (the top softmax probability, "max_prob",
// or the negative entropy of the softmax, "neg_entropy") below a threshold
// calibrated on the validation split for a target false-rejection rate
// (the share of known-class images answered "none"). AUROC measures how
// well a score separates known classes from strangers. Pure Go.
package openset

import (
	"fmt"
	"math"
	"sort"
)

// Score kinds.
const (
	MaxProb    = "max_prob"
	NegEntropy = "neg_entropy"
)

// DefaultFRR is the default target false-rejection rate.
const DefaultFRR = 0.05

// Score is an image's score of the given kind from its class probabilities:
// higher means more like a known class.
func Score(kind string, probs []float64) (float64, error) {
	switch kind {
	case MaxProb, "":
		m := 0.0
		for _, p := range probs {
			m = math.Max(m, p)
		}
		return m, nil
	case NegEntropy:
		var h float64
		for _, p := range probs {
			if p > 0 {
				h -= p * math.Log(p)
			}
		}
		return -h, nil
	}
	return 0, fmt.Errorf("open set: unknown score %q (want %s or %s)", kind, MaxProb, NegEntropy)
}

// Calibrate returns the threshold below which an image is answered "none"
// so that at most a share frr of the known-class scores falls below it:
// the floor(frr*n)-th smallest score (0-based), so exactly floor(frr*n)
// scores lie strictly below it when scores are distinct. It also returns
// the share of scores actually below it.
func Calibrate(scores []float64, frr float64) (threshold, got float64, err error) {
	if len(scores) == 0 {
		return 0, 0, fmt.Errorf("open set: no validation scores to calibrate on")
	}
	if !(frr >= 0 && frr < 1) {
		return 0, 0, fmt.Errorf("open set: false-rejection rate %v outside [0, 1)", frr)
	}
	s := append([]float64(nil), scores...)
	sort.Float64s(s)
	k := int(math.Floor(frr * float64(len(s))))
	threshold = s[k]
	below := sort.SearchFloat64s(s, threshold) // scores < threshold
	return threshold, float64(below) / float64(len(s)), nil
}

// AUROC is the probability that a known image scores above a stranger
// (ties count half): 1 separates perfectly, 0.5 is chance.
func AUROC(known, unknown []float64) float64 {
	if len(known) == 0 || len(unknown) == 0 {
		return math.NaN()
	}
	u := append([]float64(nil), unknown...)
	sort.Float64s(u)
	var sum float64
	for _, k := range known {
		lo := sort.SearchFloat64s(u, k) // unknown < k
		hi := lo
		for hi < len(u) && u[hi] == k {
			hi++
		}
		sum += float64(lo) + 0.5*float64(hi-lo)
	}
	return sum / float64(len(known)*len(u))
}

// Rejected is the share of scores below threshold.
func Rejected(scores []float64, threshold float64) float64 {
	if len(scores) == 0 {
		return math.NaN()
	}
	n := 0
	for _, s := range scores {
		if s < threshold {
			n++
		}
	}
	return float64(n) / float64(len(scores))
}
