package train

import (
	"context"
	"fmt"

	"github.com/sugarme/gotch/nn"

	"github.com/chara-dev/chara/internal/progress"
	"github.com/chara-dev/chara/internal/recipe"
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
	// Features are the backbone features (a frozen effnet-b0 with
	// pretrained weights), else small thumbnails of the images (pixel
	// space), for the outlier score.
	Features [][]float32
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
	ds, err := manifests.ReadDataset(manifests.DatasetDir(workspace, o.Dataset))
	if err != nil {
		return nil, fmt.Errorf("dataset %s: %w", o.Dataset, err)
	}
	dev, err := ParseDevice(o.Device)
	if err != nil {
		return nil, err
	}
	out := &OutOfFold{Dataset: o.Dataset, Version: ds.Card.Version, Classes: ds.Classes}
	for _, sp := range manifests.Splits {
		for _, r := range ds.Rows[sp] {
			out.Rows = append(out.Rows, r)
			out.Labels = append(out.Labels, r.Label)
		}
	}
	if len(out.Rows) < 2*folds {
		return nil, fmt.Errorf("dataset %s: %d images are too few for %d folds", o.Dataset, len(out.Rows), folds)
	}
	th := torchrt.NewThread(o.Threads)
	defer th.Close()
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
		return nil, err
	}
	data := map[manifests.Split]*splitData{}
	for _, sp := range manifests.Splits {
		if data[sp], err = loadSplit(ctx, ds, sp, rc); err != nil {
			return nil, err
		}
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
		out.Probs, err = suspects.OutOfFoldHead(out.Features, out.Labels, classes, folds, seed, suspects.HeadOptions{})
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
	task := o.reporter.Start(fmt.Sprintf("suspects: %s, %d folds", o.Model, folds), int64(folds*o.Epochs))
	defer task.Done()
	for f := 0; f < folds; f++ {
		var tr, ho []int
		for i, k := range fold {
			if k == f {
				ho = append(ho, i)
			} else {
				tr = append(tr, i)
			}
		}
		probs, err := foldProbs(ctx, th, build, o, all.subset(tr), all.subset(ho), seed+uint64(f), task)
		if err != nil {
			return nil, fmt.Errorf("fold %d: %w", f+1, err)
		}
		for j, i := range ho {
			out.Probs[i] = probs[j]
		}
	}
	// Without a pretrained backbone the outlier score works in pixel space:
	// each image as a 12x9 thumbnail of its model input.
	out.Features = make([][]float32, all.N)
	for i := range out.Features {
		out.Features[i] = thumbnail(all.image(i), all.H, all.W, 12, 9)
	}
	out.Method = fmt.Sprintf("%s trained %d epochs, %d folds", o.Model, o.Epochs, folds)
	return out, nil
}

// foldProbs trains a fresh model on tr and returns its probabilities on ho
// (in ho's order).
func foldProbs(ctx context.Context, th *torchrt.Thread, build func() (models.Model, *recipe.Recipe, *session, error), o options, tr, ho *splitData, seed uint64, task progress.Task) ([][]float64, error) {
	probs := make([][]float64, ho.N)
	err := th.Do(ctx, func() error {
		torchrt.ManualSeed(int64(seed))
		m, _, s, err := build()
		if err != nil {
			return err
		}
		defer s.close()
		if s.opt, err = newAdam(m.VarStore(), nn.DefaultAdamConfig(), o.LR, trainableParams(m.VarStore(), nil)); err != nil {
			return err
		}
		for e := 1; e <= o.Epochs; e++ {
			l := newLoader(ctx, &imageSource{d: tr, augment: o.Augment}, o.BatchSize, true, true, seed*1000+uint64(e))
			_, err := trainOneEpoch(ctx, s, l, e, progress.Nop().Start("", 0))
			l.close()
			if err != nil {
				return err
			}
			task.Add(1)
		}
		l := newLoader(ctx, &imageSource{d: ho}, o.BatchSize, false, false, 0)
		defer l.close()
		em, err := evaluate(ctx, s, l)
		if err != nil {
			return err
		}
		for j, i := range em.Idx {
			probs[i] = em.Probs[j]
		}
		return nil
	})
	return probs, err
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

// thumbnail averages a CHW uint8 image of h x w into th x tw cells per
// channel, scaled to [0, 1].
func thumbnail(img []uint8, h, w, th, tw int) []float32 {
	out := make([]float32, 3*th*tw)
	for c := 0; c < 3; c++ {
		plane := img[c*h*w : (c+1)*h*w]
		for ty := 0; ty < th; ty++ {
			y0, y1 := ty*h/th, (ty+1)*h/th
			for tx := 0; tx < tw; tx++ {
				x0, x1 := tx*w/tw, (tx+1)*w/tw
				var s, n float32
				for y := y0; y < y1; y++ {
					for x := x0; x < x1; x++ {
						s += float32(plane[y*w+x])
						n++
					}
				}
				if n > 0 {
					out[(c*th+ty)*tw+tx] = s / n / 255
				}
			}
		}
	}
	return out
}
