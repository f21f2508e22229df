package suspects

import (
	"fmt"
	"math"

	"github.com/chara-dev/chara/internal/softmax"
)

// HeadOptions tune FitHead.
type HeadOptions struct {
	Epochs int     // full-batch Adam steps (default 300)
	LR     float64 // Adam's learning rate (default 0.01)
	L2     float64 // weight decay on the weights (default 1e-3)
}

// Head is a multinomial logistic regression on standardised features: the
// linear head of a classifier on frozen backbone features.
type Head struct {
	dim, classes int
	mean, inv    []float64 // standardisation
	w            []float64 // classes x dim
	b            []float64
}

// FitHead trains a Head on feats and labels (classes classes) with
// full-batch Adam on the mean cross-entropy.
func FitHead(feats [][]float32, labels []int, classes int, o HeadOptions) (*Head, error) {
	return fitHead(feats, labels, classes, o, nil)
}

// fitHead is FitHead; when aum is not nil it also adds each image's logit
// margin, averaged over the steps, to aum[i].
func fitHead(feats [][]float32, labels []int, classes int, o HeadOptions, aum []float64) (*Head, error) {
	n := len(feats)
	if n == 0 || len(labels) != n {
		return nil, fmt.Errorf("%w: %d feature rows, %d labels", ErrInput, n, len(labels))
	}
	if o.Epochs <= 0 {
		o.Epochs = 300
	}
	if o.LR <= 0 {
		o.LR = 0.01
	}
	if o.L2 < 0 {
		o.L2 = 0
	} else if o.L2 == 0 {
		o.L2 = 1e-3
	}
	dim := len(feats[0])
	h := &Head{dim: dim, classes: classes, mean: make([]float64, dim), inv: make([]float64, dim),
		w: make([]float64, classes*dim), b: make([]float64, classes)}
	for _, f := range feats {
		if len(f) != dim {
			return nil, fmt.Errorf("%w: feature rows of %d and %d values", ErrInput, dim, len(f))
		}
		for d, v := range f {
			h.mean[d] += float64(v)
		}
	}
	for d := range h.mean {
		h.mean[d] /= float64(n)
	}
	for _, f := range feats {
		for d, v := range f {
			x := float64(v) - h.mean[d]
			h.inv[d] += x * x
		}
	}
	for d := range h.inv {
		sd := math.Sqrt(h.inv[d] / float64(n))
		if sd < 1e-8 {
			h.inv[d] = 0
		} else {
			h.inv[d] = 1 / sd
		}
	}
	x := make([][]float64, n)
	for i, f := range feats {
		x[i] = h.standardise(f)
	}
	np := len(h.w) + len(h.b)
	g := make([]float64, np)
	m1 := make([]float64, np)
	m2 := make([]float64, np)
	p := make([]float64, classes)
	const b1, b2, eps = 0.9, 0.999, 1e-8
	for step := 1; step <= o.Epochs; step++ {
		clear(g)
		for i := range x {
			h.logits(x[i], p)
			if aum != nil {
				aum[i] += LogitMargin(p, labels[i]) / float64(o.Epochs)
			}
			softmax.InPlace(p)
			p[labels[i]] -= 1
			for c := 0; c < classes; c++ {
				gc := p[c] / float64(n)
				row := g[c*dim : (c+1)*dim]
				for d, v := range x[i] {
					row[d] += gc * v
				}
				g[len(h.w)+c] += gc
			}
		}
		for k := range h.w {
			g[k] += o.L2 * h.w[k]
		}
		c1 := 1 - math.Pow(b1, float64(step))
		c2 := 1 - math.Pow(b2, float64(step))
		for k := 0; k < np; k++ {
			m1[k] = b1*m1[k] + (1-b1)*g[k]
			m2[k] = b2*m2[k] + (1-b2)*g[k]*g[k]
			upd := o.LR * (m1[k] / c1) / (math.Sqrt(m2[k]/c2) + eps)
			if k < len(h.w) {
				h.w[k] -= upd
			} else {
				h.b[k-len(h.w)] -= upd
			}
		}
	}
	return h, nil
}

func (h *Head) standardise(f []float32) []float64 {
	x := make([]float64, h.dim)
	for d, v := range f {
		x[d] = (float64(v) - h.mean[d]) * h.inv[d]
	}
	return x
}

func (h *Head) logits(x []float64, out []float64) {
	for c := 0; c < h.classes; c++ {
		s := h.b[c]
		for d, w := range h.w[c*h.dim : (c+1)*h.dim] {
			s += w * x[d]
		}
		out[c] = s
	}
}

// Probs returns the head's class probabilities for one feature vector.
func (h *Head) Probs(f []float32) []float64 {
	p := make([]float64, h.classes)
	h.logits(h.standardise(f), p)
	softmax.InPlace(p)
	return p
}

// LogitMargin is z_label - max_{c!=label} z_c, the margin whose average
// over training is the area under the margin.
func LogitMargin(z []float64, label int) float64 {
	other := math.Inf(-1)
	for c, v := range z {
		if c != label {
			other = math.Max(other, v)
		}
	}
	return z[label] - other
}

// OutOfFoldHead fits a Head k times, each time on the images outside one
// fold (Folds, stratified), and returns every image's out-of-fold
// probabilities and its area under the margin: its logit margin averaged
// over the training steps of the k-1 heads that trained on it.
func OutOfFoldHead(feats [][]float32, labels []int, classes, k int, seed uint64, o HeadOptions) (probs [][]float64, aum []float64, err error) {
	if k < 2 {
		return nil, nil, fmt.Errorf("%w: need at least 2 folds, got %d", ErrInput, k)
	}
	fold := Folds(labels, k, seed)
	probs = make([][]float64, len(labels))
	aum = make([]float64, len(labels))
	for f := 0; f < k; f++ {
		var tf [][]float32
		var tl, ti []int
		for i := range labels {
			if fold[i] != f {
				tf = append(tf, feats[i])
				tl = append(tl, labels[i])
				ti = append(ti, i)
			}
		}
		if len(tf) == 0 {
			return nil, nil, fmt.Errorf("%w: fold %d leaves nothing to train on", ErrInput, f)
		}
		m := make([]float64, len(tf))
		h, err := fitHead(tf, tl, classes, o, m)
		if err != nil {
			return nil, nil, err
		}
		for j, i := range ti {
			aum[i] += m[j] / float64(k-1)
		}
		for i := range labels {
			if fold[i] == f {
				probs[i] = h.Probs(feats[i])
			}
		}
	}
	return probs, aum, nil
}
