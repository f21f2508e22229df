// Package suspects ranks a dataset's images by how likely their label is
// wrong or the picture off-topic. Each image is looked at from up to three
// views, each of which detects a different kind of problem:
//
//   - self-confidence: the out-of-fold probability of its given label, from
//     the model that did not train on it (confident learning's label
//     quality score: Northcutt, Jiang and Chuang, "Confident Learning:
//     Estimating Uncertainty in Dataset Labels", 2021). Low when the
//     picture shows another class: swapped labels, other characters.
//   - area under the margin (AUM): the logit margin of its label averaged
//     over the training of the models that did train on it (Pleiss et al.,
//     "Identifying Mislabeled Data using the Area Under the Margin
//     Ranking", 2020). Low when those models could only memorise it, not
//     learn it from the rest of its class: off-topic pictures, and wrong
//     labels again.
//   - outlier score: the mean distance to its class's k nearest images in
//     feature space (of a frozen backbone, or of the model that did not
//     train on it), over the class's median. High when the picture looks
//     like none of its class.
//
// The views are fused by rank: an image's score is its highest percentile
// over the views (1: the most suspect image of the dataset by some view),
// so a problem only one view sees still ranks high; ties go to the mean
// percentile. Raw scores of different views are not comparable, their
// ranks are. Confident learning's confident joint is reported alongside:
// an image labelled i is a label issue when another class j has p(j|x) at
// or above j's threshold (the mean self-confidence of the images labelled
// j), and the likeliest such j is its suggested class.
//
// The package is pure Go: probabilities, margins and features come from
// train.
package suspects

import (
	"errors"
	"fmt"
	"math"
	"sort"
)

// Input is one dataset's out-of-fold predictions.
type Input struct {
	Labels []int       // given label of each image
	Probs  [][]float64 // out-of-fold probabilities, one row per image
	// AUM is optional: each image's area under the margin.
	AUM []float64
	// Features are optional: one vector per image (any dimension, all the
	// same) for the outlier score, e.g. frozen backbone features.
	Features [][]float32
	// FoldFeatures, with Fold, are the alternative: per-fold feature
	// spaces (see FoldOutlierScores). They take precedence over Features.
	Fold         []int
	FoldFeatures [][][]float32
}

// Item is one image's verdict.
type Item struct {
	Index     int     `json:"index"` // row in the input
	Label     int     `json:"label"`
	SelfConf  float64 `json:"self_confidence"` // p(given label)
	Other     int     `json:"other"`           // most likely other class
	OtherProb float64 `json:"other_prob"`
	Margin    float64 `json:"margin"`  // self-confidence - other_prob
	Issue     bool    `json:"issue"`   // off the confident joint's diagonal
	Suggest   int     `json:"suggest"` // the class confident learning suggests (-1: none)
	AUM       float64 `json:"aum"`     // area under the margin (0: not given)
	Outlier   float64 `json:"outlier"` // kNN distance over the class median (0: no features)
	Score     float64 `json:"score"`   // highest percentile over the views, in (0, 1]
	Rank      int     `json:"rank"`    // 1-based
}

// Options tune Rank.
type Options struct {
	// Neighbours is k of the outlier score (default 5).
	Neighbours int
}

// ErrInput is returned for inconsistent input.
var ErrInput = errors.New("suspects: bad input")

// Thresholds returns the per-class mean self-confidence (NaN for a class
// without images).
func Thresholds(labels []int, probs [][]float64, classes int) []float64 {
	sum := make([]float64, classes)
	n := make([]int, classes)
	for i, l := range labels {
		sum[l] += probs[i][l]
		n[l]++
	}
	t := make([]float64, classes)
	for j := range t {
		if n[j] == 0 {
			t[j] = math.NaN()
		} else {
			t[j] = sum[j] / float64(n[j])
		}
	}
	return t
}

// Rank scores every image and returns them most suspect first.
func Rank(in Input, o Options) ([]Item, error) {
	n := len(in.Labels)
	if len(in.Probs) != n {
		return nil, fmt.Errorf("%w: %d probability rows for %d labels", ErrInput, len(in.Probs), n)
	}
	if n == 0 {
		return nil, nil
	}
	classes := len(in.Probs[0])
	if classes < 2 {
		return nil, fmt.Errorf("%w: need at least 2 classes, got %d", ErrInput, classes)
	}
	for i, p := range in.Probs {
		if len(p) != classes {
			return nil, fmt.Errorf("%w: row %d has %d probabilities, want %d", ErrInput, i, len(p), classes)
		}
		if l := in.Labels[i]; l < 0 || l >= classes {
			return nil, fmt.Errorf("%w: row %d has label %d of %d classes", ErrInput, i, l, classes)
		}
	}
	if in.Features != nil && len(in.Features) != n {
		return nil, fmt.Errorf("%w: %d feature rows for %d labels", ErrInput, len(in.Features), n)
	}
	if in.AUM != nil && len(in.AUM) != n {
		return nil, fmt.Errorf("%w: %d margins for %d labels", ErrInput, len(in.AUM), n)
	}
	if o.Neighbours <= 0 {
		o.Neighbours = 5
	}
	t := Thresholds(in.Labels, in.Probs, classes)
	var out []float64
	var err error
	switch {
	case in.FoldFeatures != nil:
		if out, _, err = FoldOutlierScores(in.Labels, in.Fold, in.FoldFeatures, o.Neighbours); err != nil {
			return nil, err
		}
	case in.Features != nil:
		if out, err = OutlierScores(in.Labels, in.Features, o.Neighbours); err != nil {
			return nil, err
		}
	}
	items := make([]Item, n)
	self := make([]float64, n)
	for i, p := range in.Probs {
		l := in.Labels[i]
		it := Item{Index: i, Label: l, SelfConf: p[l], Other: -1, Suggest: -1}
		for j, pj := range p {
			if j == l {
				continue
			}
			if it.Other < 0 || pj > it.OtherProb {
				it.Other, it.OtherProb = j, pj
			}
			// Confident joint: the likeliest class above its threshold.
			if !math.IsNaN(t[j]) && pj >= t[j] && (it.Suggest < 0 || pj > p[it.Suggest]) {
				it.Suggest = j
			}
		}
		// The given label, when it is itself above threshold and likelier,
		// keeps the image on the diagonal.
		if it.Suggest >= 0 && p[l] >= t[l] && p[l] >= p[it.Suggest] {
			it.Suggest = -1
		}
		it.Issue = it.Suggest >= 0
		it.Margin = it.SelfConf - it.OtherProb
		if out != nil {
			it.Outlier = out[i]
		}
		if in.AUM != nil {
			it.AUM = in.AUM[i]
		}
		self[i] = -it.SelfConf
		items[i] = it
	}
	views := [][]float64{Percentiles(self)}
	if in.AUM != nil {
		neg := make([]float64, n)
		for i, a := range in.AUM {
			neg[i] = -a
		}
		views = append(views, Percentiles(neg))
	}
	if out != nil {
		views = append(views, Percentiles(out))
	}
	mean := make([]float64, n)
	for i := range items {
		for _, v := range views {
			items[i].Score = math.Max(items[i].Score, v[i])
			mean[i] += v[i] / float64(len(views))
		}
	}
	sort.SliceStable(items, func(a, b int) bool {
		x, y := items[a], items[b]
		if x.Score != y.Score {
			return x.Score > y.Score
		}
		if mean[x.Index] != mean[y.Index] {
			return mean[x.Index] > mean[y.Index]
		}
		return x.Index < y.Index
	})
	for k := range items {
		items[k].Rank = k + 1
	}
	return items, nil
}

// Percentiles returns each value's rank among v as a fraction in (0, 1]:
// 1 for the largest, ties sharing their mean rank.
func Percentiles(v []float64) []float64 {
	n := len(v)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return v[idx[a]] < v[idx[b]] })
	p := make([]float64, n)
	for lo := 0; lo < n; {
		hi := lo + 1
		for hi < n && v[idx[hi]] == v[idx[lo]] {
			hi++
		}
		r := float64(lo+hi+1) / 2 // mean 1-based rank of the tie
		for _, i := range idx[lo:hi] {
			p[i] = r / float64(n)
		}
		lo = hi
	}
	return p
}

// OutlierScores returns, for each image, the mean Euclidean distance to
// its k nearest images of the same class, over the median of that distance
// in the class (1: typical; larger: farther from its class than usual). An
// image alone in its class scores 1.
func OutlierScores(labels []int, feats [][]float32, k int) ([]float64, error) {
	n := len(labels)
	if len(feats) != n {
		return nil, fmt.Errorf("%w: %d feature rows for %d labels", ErrInput, len(feats), n)
	}
	dim := -1
	byClass := map[int][]int{}
	for i, f := range feats {
		if dim < 0 {
			dim = len(f)
		} else if len(f) != dim {
			return nil, fmt.Errorf("%w: feature row %d has %d values, want %d", ErrInput, i, len(f), dim)
		}
		byClass[labels[i]] = append(byClass[labels[i]], i)
	}
	raw := make([]float64, n)
	score := make([]float64, n)
	medians := map[int]float64{}
	var all []float64
	for l, members := range byClass {
		if len(members) < 2 {
			continue
		}
		kk := min(k, len(members)-1)
		d := make([]float64, 0, len(members))
		for _, i := range members {
			d = d[:0]
			for _, j := range members {
				if i != j {
					d = append(d, dist(feats[i], feats[j]))
				}
			}
			sort.Float64s(d)
			var s float64
			for _, v := range d[:kk] {
				s += v
			}
			raw[i] = s / float64(kk)
			all = append(all, raw[i])
		}
		vals := make([]float64, len(members))
		for m, i := range members {
			vals[m] = raw[i]
		}
		medians[l] = median(vals)
	}
	// A class whose images nearly coincide would make any distance huge:
	// the scale is at least the median over every class.
	floor := median(all)
	for l, members := range byClass {
		for _, i := range members {
			scale := math.Max(medians[l], floor)
			if len(members) < 2 || scale <= 0 {
				score[i] = 1
			} else {
				score[i] = raw[i] / scale
			}
		}
	}
	return score, nil
}

func dist(a, b []float32) float64 {
	var s float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		s += d * d
	}
	return math.Sqrt(s)
}

// Folds assigns n items to k folds, stratified by label: the items of each
// class are dealt round-robin in a seeded shuffled order.
func Folds(labels []int, k int, seed uint64) []int {
	fold := make([]int, len(labels))
	byClass := map[int][]int{}
	var order []int
	for i, l := range labels {
		if _, ok := byClass[l]; !ok {
			order = append(order, l)
		}
		byClass[l] = append(byClass[l], i)
	}
	sort.Ints(order)
	x := seed*2654435761 + 1
	next := 0
	for _, l := range order {
		m := byClass[l]
		for i := len(m) - 1; i > 0; i-- { // Fisher-Yates, xorshift
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			j := int(x % uint64(i+1))
			m[i], m[j] = m[j], m[i]
		}
		for _, i := range m {
			fold[i] = next % k
			next++
		}
	}
	return fold
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)/2]
}
