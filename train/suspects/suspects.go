// Package suspects ranks a dataset's images by how likely their label is
// wrong or the picture off-topic, from out-of-fold predicted probabilities
// and features, as confident learning does (Northcutt, Jiang and Chuang,
// "Confident Learning: Estimating Uncertainty in Dataset Labels", 2021):
//
//   - the threshold of class j is the mean self-confidence p(j|x) over the
//     images labelled j;
//   - an image labelled i lies off the diagonal of the confident joint when
//     some other class j has p(j|x) >= t_j (the largest such j is its
//     suggested class);
//   - the off-diagonal images are label issues, ranked by normalised margin
//     p(i|x) - max_{j!=i} p(j|x), lowest first; the rest follow by
//     self-confidence, lowest first.
//
// An outlier score (mean distance to the k nearest images of the same
// class in feature space, over the class's median of that distance) ranks
// off-topic pictures that the classifier cannot place: they rise within
// each tier when their score is high.
//
// The package is pure Go: probabilities and features come from train.
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
	// Features are optional: one vector per image (any dimension, all the
	// same) for the outlier score.
	Features [][]float32
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
	Outlier   float64 `json:"outlier"` // kNN distance over the class median (0: no features)
	Score     float64 `json:"score"`   // the ranking key, higher is more suspect
	Rank      int     `json:"rank"`    // 1-based
}

// Options tune Rank.
type Options struct {
	// Neighbours is k of the outlier score (default 5).
	Neighbours int
	// OutlierWeight is how much the outlier score adds to an image's
	// suspicion (default 0.5).
	OutlierWeight float64
}

// maxOutlierLog caps the outlier term (log of the score): with the default
// weight an outlier adds at most 1.5, so a confident outlier can pass a
// label issue of high margin but not one the model is sure of.
const maxOutlierLog = 3

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
	if o.Neighbours <= 0 {
		o.Neighbours = 5
	}
	if o.OutlierWeight == 0 {
		o.OutlierWeight = 0.5
	}
	t := Thresholds(in.Labels, in.Probs, classes)
	var out []float64
	if in.Features != nil {
		var err error
		if out, err = OutlierScores(in.Labels, in.Features, o.Neighbours); err != nil {
			return nil, err
		}
	}
	items := make([]Item, n)
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
		// Score: issues first (tier 2), then by low margin; the outlier
		// score lifts an image within its tier and can lift a strong
		// outlier over the tier boundary.
		s := -it.Margin // in [-1, 1]
		if it.Issue {
			s += 2
		}
		if out != nil {
			s += o.OutlierWeight * math.Min(maxOutlierLog, math.Max(0, math.Log(math.Max(it.Outlier, 1e-9))))
		}
		it.Score = s
		items[i] = it
	}
	sort.SliceStable(items, func(a, b int) bool {
		if items[a].Score != items[b].Score {
			return items[a].Score > items[b].Score
		}
		return items[a].Index < items[b].Index
	})
	for k := range items {
		items[k].Rank = k + 1
	}
	return items, nil
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
