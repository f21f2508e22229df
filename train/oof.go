package train

import (
	"context"
	"errors"
	"fmt"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"

	"github.com/chara-dev/chara/internal/progress"
	"github.com/chara-dev/chara/internal/recipe"
	"github.com/chara-dev/chara/internal/softmax"
	"github.com/chara-dev/chara/manifests"
	"github.com/chara-dev/chara/train/models"
	"github.com/chara-dev/chara/train/suspects"
	"github.com/chara-dev/chara/train/torchrt"
)

// OutOfFold is every image of a dataset (train, val and test splits, in
// that order) with probabilities from a model that did not see it.
type OutOfFold struct {
	Dataset string
	Version string
	Classes []manifests.Class
	Rows    []manifests.SplitRow
	Labels  []int
	Probs   [][]float64
	// Features are the frozen effnet-b0 backbone's features (with
	// pretrained weights), for the outlier score; nil for cnn and cnn2,
	// whose outlier score uses FoldFeatures.
	Features [][]float32
	// Fold is each image's fold, and FoldFeatures[f][i] image i's
	// penultimate-layer activations in the model trained without fold f
	// (cnn and cnn2), for an outlier score in the feature space of a model
	// that did not see the image.
	Fold         []int
	FoldFeatures [][][]float32
	// AUM is each image's area under the margin (Pleiss et al., 2020): its
	// logit margin z_label - max_{c!=label} z_c averaged over the training
	// of the models that trained on it (read in evaluation mode after each
	// epoch for cnn and cnn2, at each step of the frozen effnet-b0 head).
	// Images the models can only memorise, not learn from the rest of
	// their class, keep a low or negative margin for most of training.
	AUM []float64
	// Method says how the probabilities were made, e.g.
	// "effnet-b0 frozen features + linear head, 5 folds".
	Method string
}

// OutOfFoldProbs computes k-fold out-of-fold probabilities over all of a
// dataset's images with the cheapest good model: with effnet-b0 and
// pretrained weights (WithWeights), a linear head on the frozen backbone's
// features (computed once, cached as training caches them); else the
// model given (cnn or cnn2) trained from scratch k times for the options'
// epochs. Folds are stratified by label and seeded.
func OutOfFoldProbs(ctx context.Context, workspace string, folds int, opts ...Option) (*OutOfFold, error) {
	o := defaultOptions()
	for _, f := range opts {
		f(&o)
	}
	if o.Weights != "" {
		o.Model = "effnet-b0"
	}
	if o.Model == "" {
		o.Model = "cnn"
	}
	o.Patience = 0
	if err := o.validate(); err != nil {
		return nil, err
	}
	if folds < 2 {
		return nil, fmt.Errorf("%w: need at least 2 folds, got %d", ErrOptions, folds)
	}
	if o.Model == "effnet-b0" && o.Weights == "" {
		return nil, fmt.Errorf("%w: effnet-b0 needs pretrained weights here (else pick cnn or cnn2)", ErrOptions)
	}
	p, err := prepareModels(ctx, workspace, o)
	if err != nil {
		return nil, err
	}
	defer p.th.Close()
	ds, data, th, build, m, s := p.ds, p.data, p.th, p.build, p.m, p.s
	classes := len(ds.Classes)
	out := &OutOfFold{Dataset: o.Dataset, Version: ds.Card.Version, Classes: ds.Classes}
	for _, sp := range manifests.Splits {
		for _, r := range ds.Rows[sp] {
			out.Rows = append(out.Rows, r)
			out.Labels = append(out.Labels, r.Label)
		}
	}
	if len(out.Rows) < 2*folds {
		_ = th.Do(ctx, func() error { s.close(); return nil })
		return nil, fmt.Errorf("dataset %s: %d images are too few for %d folds", o.Dataset, len(out.Rows), folds)
	}
	seed := uint64(o.Seed)
	if o.Model == "effnet-b0" {
		defer th.Do(context.Background(), func() error { s.close(); return nil })
		if s.fm == nil {
			return nil, fmt.Errorf("%s: %w", o.Model, ErrNoFreeze)
		}
		spec := m.Spec()
		key, err := backboneKey(o.Model, int(spec.Height), int(spec.Width), o.Weights, o.Seed)
		if err != nil {
			return nil, err
		}
		for _, sp := range manifests.Splits {
			f, err := splitFeatures(ctx, th, s, ds, data[sp], key, o.BatchSize)
			if err != nil {
				return nil, fmt.Errorf("%s features: %w", sp, err)
			}
			for i := 0; i < f.N; i++ {
				out.Features = append(out.Features, f.row(i))
			}
		}
		out.Probs, out.AUM, err = suspects.OutOfFoldHead(out.Features, out.Labels, classes, folds, seed, suspects.HeadOptions{})
		if err != nil {
			return nil, err
		}
		out.Method = fmt.Sprintf("effnet-b0 frozen features + linear head, %d folds", folds)
		return out, nil
	}
	_ = th.Do(ctx, func() error { s.close(); return nil })
	all := concatSplits(data)
	fold := suspects.Folds(out.Labels, folds, seed)
	out.Probs = make([][]float64, len(out.Labels))
	out.Fold = fold
	out.FoldFeatures = make([][][]float32, folds)
	out.AUM = make([]float64, len(out.Labels))
	task := o.reporter.Start(fmt.Sprintf("suspects: %s, %d folds", o.Model, folds), int64(folds*o.Epochs))
	defer task.Done()
	for f := 0; f < folds; f++ {
		var tr []int
		for i, k := range fold {
			if k != f {
				tr = append(tr, i)
			}
		}
		r, err := foldModel(ctx, th, build, o, all.subset(tr), all, seed+uint64(f), task)
		if err != nil {
			return nil, fmt.Errorf("fold %d: %w", f+1, err)
		}
		out.FoldFeatures[f] = r.emb
		for i, k := range fold {
			if k == f {
				out.Probs[i] = softmax.Of(r.logits[i])
			} else {
				out.AUM[i] += r.margin[i] / float64(o.Epochs*(folds-1))
			}
		}
	}
	out.Method = fmt.Sprintf("%s trained %d epochs, %d folds", o.Model, o.Epochs, folds)
	return out, nil
}

// prepared is a dataset loaded for models built per fold.
type prepared struct {
	ds    *manifests.Dataset
	data  map[manifests.Split]*splitData
	th    *torchrt.Thread
	build func() (models.Model, *recipe.Recipe, *session, error)
	m     models.Model // a first model, seeded with the options' seed
	s     *session     // its session (the caller closes it)
}

// prepareModels reads the options' dataset, decodes its splits for the
// model and returns a builder of fresh models; the caller closes p.th.
func prepareModels(ctx context.Context, workspace string, o options) (*prepared, error) {
	ds, err := manifests.ReadDataset(manifests.DatasetDir(workspace, o.Dataset))
	if err != nil {
		return nil, fmt.Errorf("dataset %s: %w", o.Dataset, err)
	}
	dev, err := ParseDevice(o.Device)
	if err != nil {
		return nil, err
	}
	th := torchrt.NewThread(o.Threads)
	classes := len(ds.Classes)
	build := func() (models.Model, *recipe.Recipe, *session, error) {
		var mopts []models.Option
		if o.Model == "effnet-b0" {
			mopts = append(mopts, models.WithInputSize(ds.Card.Recipe.Height, ds.Card.Recipe.Width))
		}
		m, err := models.New(o.Model, classes, dev, mopts...)
		if err != nil {
			return nil, nil, nil, err
		}
		spec := m.Spec()
		rm, err := recipe.ForModel(ds.Card.Recipe, int(spec.Height), int(spec.Width), o.InputAdapt, spec.Mean, spec.Std)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("dataset %s: %w", o.Dataset, err)
		}
		rc, err := recipe.New(rm, true)
		if err != nil {
			return nil, nil, nil, err
		}
		if o.Weights != "" {
			if err := models.LoadTorchvisionWeights(m, o.Weights); err != nil {
				return nil, nil, nil, fmt.Errorf("weights: %w", err)
			}
		}
		s, err := newSession(m, dev, rc)
		return m, rc, s, err
	}
	var (
		m  models.Model
		rc *recipe.Recipe
		s  *session
	)
	if err := th.Do(ctx, func() error {
		torchrt.ManualSeed(o.Seed)
		var err error
		m, rc, s, err = build()
		return err
	}); err != nil {
		th.Close()
		return nil, err
	}
	data := map[manifests.Split]*splitData{}
	for _, sp := range manifests.Splits {
		if data[sp], err = loadSplit(ctx, ds, sp, rc); err != nil {
			_ = th.Do(context.Background(), func() error { s.close(); return nil })
			th.Close()
			return nil, err
		}
	}
	return &prepared{ds: ds, data: data, th: th, build: build, m: m, s: s}, nil
}

// foldResult is what one fold's model says about every image of the
// dataset (in all's order).
type foldResult struct {
	logits [][]float64 // after the last epoch
	emb    [][]float32 // penultimate activations after the last epoch
	// margin sums, over the epochs, the logit margin z_label - max_{c!=label}
	// z_c of each image (training images: the area under the margin).
	margin []float64
}

// foldModel trains a fresh model on tr and reads its logits and
// penultimate-layer activations of every image of all after each epoch.
func foldModel(ctx context.Context, th *torchrt.Thread, build func() (models.Model, *recipe.Recipe, *session, error), o options, tr, all *splitData, seed uint64, task progress.Task) (*foldResult, error) {
	res := &foldResult{logits: make([][]float64, all.N), emb: make([][]float32, all.N), margin: make([]float64, all.N)}
	err := th.Do(ctx, func() error {
		torchrt.ManualSeed(int64(seed))
		m, _, s, err := build()
		if err != nil {
			return err
		}
		defer s.close()
		em, ok := m.(models.Embedder)
		if !ok {
			return fmt.Errorf("%s: no penultimate layer to read", o.Model)
		}
		if s.opt, err = newAdam(m.VarStore(), nn.DefaultAdamConfig(), o.LR, trainableParams(m.VarStore(), nil)); err != nil {
			return err
		}
		score := func(last bool) error {
			l := newLoader(ctx, &imageSource{d: all}, o.BatchSize, false, false, 0)
			defer l.close()
			return s.forEachInput(ctx, l, func(b *batch, x *ts.Tensor) error {
				var hv [][]float32
				var herr error
				if last {
					hv, herr = tensorRows(em.Embed(x), b.n)
				}
				zv, zerr := tensorRows(m.ForwardT(x, false), b.n)
				if err := errors.Join(herr, zerr); err != nil {
					return err
				}
				for j, i := range b.idx[:b.n] {
					if last {
						res.emb[i] = hv[j]
					}
					res.logits[i] = make([]float64, len(zv[j]))
					for c, v := range zv[j] {
						res.logits[i][c] = float64(v)
					}
					res.margin[i] += suspects.LogitMargin(res.logits[i], int(all.Labels[i]))
				}
				return nil
			})
		}
		for e := 1; e <= o.Epochs; e++ {
			l := newLoader(ctx, &imageSource{d: tr, augment: o.Augment}, o.BatchSize, true, true, seed*1000+uint64(e))
			_, err := trainOneEpoch(ctx, s, l, e, progress.Nop().Start("", 0))
			l.close()
			if err != nil {
				return err
			}
			if err := score(e == o.Epochs); err != nil {
				return err
			}
			task.Add(1)
		}
		return nil
	})
	return res, err
}

// tensorRows reads a [n, D] float tensor into n rows and drops it.
func tensorRows(t *ts.Tensor, n int) ([][]float32, error) {
	defer t.MustDrop()
	c, err := t.To(gotch.CPU, false)
	if err != nil {
		return nil, err
	}
	defer c.MustDrop()
	f, err := c.Totype(gotch.Float, false)
	if err != nil {
		return nil, err
	}
	defer f.MustDrop()
	sz := f.MustSize()
	if len(sz) != 2 || sz[0] != int64(n) {
		return nil, fmt.Errorf("activations have shape %v, want [%d, D]", sz, n)
	}
	d := int(sz[1])
	flat := make([]float32, n*d)
	if err := f.CopyData(flat, uint(n*d)); err != nil {
		return nil, err
	}
	rows := make([][]float32, n)
	for j := range rows {
		rows[j] = flat[j*d : (j+1)*d : (j+1)*d]
	}
	return rows, nil
}

// SuspectsInput is what suspects.Rank takes from o.
func (o *OutOfFold) SuspectsInput() suspects.Input {
	return suspects.Input{Labels: o.Labels, Probs: o.Probs, AUM: o.AUM, Features: o.Features, Fold: o.Fold, FoldFeatures: o.FoldFeatures}
}

// concatSplits joins the train, val and test splits into one.
func concatSplits(data map[manifests.Split]*splitData) *splitData {
	var all *splitData
	for _, sp := range manifests.Splits {
		d := data[sp]
		if all == nil {
			all = &splitData{Split: sp, H: d.H, W: d.W}
		}
		all.N += d.N
		all.Pix = append(all.Pix, d.Pix...)
		all.Labels = append(all.Labels, d.Labels...)
		all.Paths = append(all.Paths, d.Paths...)
	}
	return all
}

// subset copies the images idx of d.
func (d *splitData) subset(idx []int) *splitData {
	s := &splitData{Split: d.Split, N: len(idx), H: d.H, W: d.W, Pix: make([]uint8, 0, len(idx)*d.imageSize())}
	for _, i := range idx {
		s.Pix = append(s.Pix, d.image(i)...)
		s.Labels = append(s.Labels, d.Labels[i])
		s.Paths = append(s.Paths, d.Paths[i])
	}
	return s
}
