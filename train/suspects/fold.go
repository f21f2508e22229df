package suspects

import (
	"fmt"
	"math"
	"sort"
)

// FoldOutlierScores scores each image in the feature space of the model
// that did not train on it: spaces[f][i] is image i's feature vector in the
// model trained without fold f, and fold[i] the fold of image i. An image
// of fold f is compared, in space f, with the images the model trained on
// (those outside fold f), its vectors L2-normalised:
//
//   - own: the mean distance to its k nearest training images of its given
//     class, over the class's median of it (1: typical; larger: the image
//     looks like none of its class);
//   - rel: that distance over the same distance to the nearest other class
//     (above 1: it sits nearer another class than its own).
func FoldOutlierScores(labels, fold []int, spaces [][][]float32, k int) (own, rel []float64, err error) {
	n := len(labels)
	if len(fold) != n {
		return nil, nil, fmt.Errorf("%w: %d folds for %d labels", ErrInput, len(fold), n)
	}
	if k <= 0 {
		k = 5
	}
	classes := 0
	for _, l := range labels {
		classes = max(classes, l+1)
	}
	own = make([]float64, n)
	rel = make([]float64, n)
	for f, sp := range spaces {
		if len(sp) != n {
			return nil, nil, fmt.Errorf("%w: feature space %d has %d rows for %d labels", ErrInput, f, len(sp), n)
		}
		norm := make([][]float32, n)
		for i, v := range sp {
			norm[i] = unit(v)
		}
		byClass := make([][]int, classes)
		for i, l := range labels {
			if fold[i] != f {
				byClass[l] = append(byClass[l], i)
			}
		}
		d := make([]float64, 0, n)
		for i := range labels {
			if fold[i] != f {
				continue
			}
			best := math.Inf(1)
			for c, members := range byClass {
				if len(members) == 0 {
					continue
				}
				d = d[:0]
				for _, j := range members {
					d = append(d, dist(norm[i], norm[j]))
				}
				m := knnMean(d, k)
				if c == labels[i] {
					own[i] = m
				} else {
					best = math.Min(best, m)
				}
			}
			if best > 0 && !math.IsInf(best, 1) {
				rel[i] = own[i] / best
			} else {
				rel[i] = 1
			}
		}
	}
	// Over the class's median: classes differ in how spread they are.
	med := make([]float64, classes)
	for c := range med {
		var v []float64
		for i, l := range labels {
			if l == c {
				v = append(v, own[i])
			}
		}
		med[c] = median(v)
	}
	for i, l := range labels {
		if med[l] > 0 {
			own[i] /= med[l]
		} else {
			own[i] = 1
		}
	}
	return own, rel, nil
}

// knnMean is the mean of the k smallest values of d (sorting d).
func knnMean(d []float64, k int) float64 {
	sort.Float64s(d)
	k = min(k, len(d))
	var s float64
	for _, v := range d[:k] {
		s += v
	}
	return s / float64(k)
}

// unit returns v scaled to length 1 (v itself when it is zero).
func unit(v []float32) []float32 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	if s == 0 {
		return v
	}
	inv := float32(1 / math.Sqrt(s))
	u := make([]float32, len(v))
	for i, x := range v {
		u[i] = x * inv
	}
	return u
}
