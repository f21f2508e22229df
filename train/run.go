// Package train trains chara's classifiers (train/models) on a dataset
// built by the dataset stage, torchvision-reference style: trainOneEpoch
// and evaluate are plain functions returning metric structs; a loader
// goroutine assembles batches ahead of the model from a uint8 tensor cache
// of each split; all libtorch work runs on one locked OS thread; best and
// last checkpoints (model, optimizer, epoch, config, best metric) are
// written atomically, and --resume continues exactly where a run stopped.
// A run leaves runs/<run>/: metrics.csv, best.* and last.* checkpoints,
// run.json, curves.png, confusion.png/.csv, per_class.csv,
// predictions.png and report.md.
package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/nn"

	"github.com/chara-dev/chara/internal/atomicfile"
	"github.com/chara-dev/chara/internal/progress"
	"github.com/chara-dev/chara/internal/recipe"
	"github.com/chara-dev/chara/manifests"
	"github.com/chara-dev/chara/train/models"
	"github.com/chara-dev/chara/train/torchrt"
)

// ErrRunExists is returned when a new run would overwrite a run folder that
// already holds a checkpoint.
var ErrRunExists = errors.New("run already exists")

// ErrNoFreeze is returned for --freeze with a model that has no separable
// backbone.
var ErrNoFreeze = errors.New("model has no frozen-backbone mode")

// EpochRow is one row of metrics.csv.
type EpochRow struct {
	Epoch     int     `json:"epoch"`
	TrainLoss float64 `json:"loss"`
	TrainAcc  float64 `json:"acc"`
	ValLoss   float64 `json:"val_loss"`
	ValAcc    float64 `json:"val_acc"`
	LR        float64 `json:"lr"`
	Seconds   float64 `json:"seconds"`
}

// EpochEvent is the progress event reported after each epoch ("event":
// "epoch" in --log-format json).
type EpochEvent struct {
	EpochRow
	Epochs int  `json:"epochs"` // the maximum
	Best   bool `json:"best"`   // the best validation accuracy so far
}

// runner holds one run's state.
type runner struct {
	o       options
	ds      *manifests.Dataset
	dir     string
	dev     gotch.Device
	th      *torchrt.Thread
	m       models.Model
	s       *session
	rc      *recipe.Recipe // the run's preprocessing (its run.json's recipe)
	data    map[manifests.Split]*splitData
	feats   map[manifests.Split]*featureData
	history []EpochRow
	best    Checkpoint // BestEpoch, BestValAcc, SinceBest
	start   int        // first epoch to run
	card    *manifests.RunCard
}

// Run trains a model on a dataset of the workspace and writes the run
// folder runs/<name>. It returns the run card (also on most errors, with
// StopReason set, when a run folder was made).
func Run(ctx context.Context, workspace string, opts ...Option) (_ *manifests.RunCard, err error) {
	o := defaultOptions()
	for _, f := range opts {
		f(&o)
	}
	var resume *Checkpoint
	if o.resume && o.Name != "" {
		var note string
		var err error
		if resume, note, err = newestCheckpoint(manifests.RunDir(workspace, o.Name)); err != nil {
			return nil, fmt.Errorf("resume %s: %w", o.Name, err)
		}
		if note != "" {
			o.reporter.Logf("resume %s: %s", o.Name, note)
		}
		// The run's own settings, then what the caller gave.
		stored := defaultOptions()
		stored.Config = resume.Config
		stored.Name = o.Name
		for _, f := range opts {
			f(&stored)
		}
		if err := resumeChanges(resume.Config, stored.Config, stored.changes); err != nil {
			return nil, fmt.Errorf("resume %s: %w", o.Name, err)
		}
		o = stored
	}
	if err := o.validate(); err != nil {
		return nil, err
	}
	ds, err := manifests.ReadDataset(manifests.DatasetDir(workspace, o.Dataset))
	if err != nil {
		return nil, fmt.Errorf("dataset %s: %w", o.Dataset, err)
	}
	// Temp files of tensor caches whose writing a kill interrupted.
	if _, err := atomicfile.CleanTemp(manifests.DatasetCacheDir(ds.Dir)); err != nil {
		return nil, err
	}
	for _, sp := range manifests.Splits {
		if len(ds.Rows[sp]) == 0 {
			return nil, fmt.Errorf("dataset %s: %s split is empty", o.Dataset, sp)
		}
	}
	dev, err := ParseDevice(o.Device)
	if err != nil {
		return nil, err
	}
	if o.Name == "" {
		o.Name = fmt.Sprintf("%s-%s-%s", o.Model, o.Dataset, time.Now().UTC().Format("20060102-150405"))
	}
	r := &runner{o: o, ds: ds, dev: dev, dir: manifests.RunDir(workspace, o.Name), start: 1}
	if resume != nil {
		if old, err := manifests.ReadRunCard(manifests.RunCardPath(r.dir)); err == nil && old.DatasetVersion != ds.Card.Version {
			return nil, fmt.Errorf("resume %s: %w: dataset %s changed since the run started (version %s, now %s): start a new run",
				o.Name, ErrOptions, o.Dataset, old.DatasetVersion, ds.Card.Version)
		}
	} else if _, err := os.Stat(filepath.Join(r.dir, lastKind+".json")); err == nil {
		return nil, fmt.Errorf("%s: %w (resume it, or pick another name)", r.dir, ErrRunExists)
	}
	_, statErr := os.Stat(r.dir)
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		return nil, err
	}
	if errors.Is(statErr, os.ErrNotExist) {
		defer func() {
			if err != nil && !errors.Is(err, errInjectedCrash) {
				_ = os.Remove(r.dir) // removes only an empty folder: a run that failed to start leaves none
			}
		}()
	}
	r.th = torchrt.NewThread(o.Threads)
	defer r.th.Close()
	defer func() {
		_ = r.th.Do(context.Background(), func() error {
			if r.s != nil {
				r.s.close()
			}
			torchrt.ReleaseMemory()
			return nil
		})
	}()
	if err := r.setup(ctx, resume); err != nil {
		return nil, err
	}
	r.newCard()
	if resume != nil {
		if err := r.reconcile(resume); err != nil {
			return nil, fmt.Errorf("resume %s: %w", o.Name, err)
		}
	} else if err := collectCheckpoints(r.dir); err != nil {
		return nil, err
	}
	stopReason, runErr := r.loop(ctx)
	if errors.Is(runErr, errInjectedCrash) {
		return nil, runErr // as a kill would: nothing more is written
	}
	if r.best.BestEpoch > 0 && !errors.Is(runErr, context.Canceled) {
		if err := r.finish(ctx); err != nil && runErr == nil {
			runErr = err
		}
	}
	r.card.StopReason = stopReason
	r.card.Finished = runErr == nil
	if err := r.writeCard(); err != nil && runErr == nil {
		runErr = err
	}
	return r.card, runErr
}

// PrepareResume readies a run folder for a training that continues it when
// it can: true when the folder holds a checkpoint (resume it); a folder
// stopped before its first checkpoint holds nothing to keep and is removed.
func PrepareResume(dir string) (bool, error) {
	if _, err := os.Stat(filepath.Join(dir, lastKind+".json")); err == nil {
		return true, nil
	}
	if _, err := os.Stat(dir); err == nil {
		if err := os.RemoveAll(dir); err != nil {
			return false, fmt.Errorf("remove the unfinished run %s: %w", dir, err)
		}
	}
	return false, nil
}

// resumeChanges checks the settings a resumed run would continue with
// against the ones it was defined with: what defines the run never changes;
// the rest only when changes is set. Device and threads are free.
func resumeChanges(saved, now Config, changes bool) error {
	type field struct {
		name       string
		was, is    any
		changeable bool
	}
	fields := []field{
		{"model", saved.Model, now.Model, false},
		{"dataset", saved.Dataset, now.Dataset, false},
		{"weights", saved.Weights, now.Weights, false},
		{"seed", saved.Seed, now.Seed, false},
		{"batch_size", saved.BatchSize, now.BatchSize, false},
		{"freeze", saved.Freeze, now.Freeze, false},
		{"input_adapt", saved.InputAdapt, now.InputAdapt, false},
		{"epochs", saved.Epochs, now.Epochs, true},
		{"patience", saved.Patience, now.Patience, true},
		{"lr", saved.LR, now.LR, true},
		{"finetune_after", saved.FinetuneAfter, now.FinetuneAfter, true},
		{"finetune_lr", saved.FinetuneLR, now.FinetuneLR, true},
		{"augment", saved.Augment, now.Augment, true},
		{"amp", saved.AMP, now.AMP, true},
	}
	var fixed, changed []string
	for _, f := range fields {
		if f.was == f.is {
			continue
		}
		d := fmt.Sprintf("%s %v (the run has %v)", f.name, f.is, f.was)
		if f.changeable {
			changed = append(changed, d)
		} else {
			fixed = append(fixed, d)
		}
	}
	if len(fixed) > 0 {
		return fmt.Errorf("%w: %s: these define the run and cannot change on resume (start a new run)", ErrOptions, strings.Join(fixed, ", "))
	}
	if len(changed) > 0 && !changes {
		return fmt.Errorf("%w: %s: a resumed run keeps its own settings (--change to mean it)", ErrOptions, strings.Join(changed, ", "))
	}
	return nil
}

// frozenAt reports whether epoch e trains only the head.
func (r *runner) frozenAt(e int) bool {
	return r.o.Freeze && (r.o.FinetuneAfter == 0 || e <= r.o.FinetuneAfter)
}

// setup decodes the splits, builds the model and optimizer on the torch
// thread, and restores a checkpoint when resuming.
func (r *runner) setup(ctx context.Context, resume *Checkpoint) error {
	err := r.th.Do(ctx, func() error {
		torchrt.ManualSeed(r.o.Seed)
		var mopts []models.Option
		if r.o.Model == "effnet-b0" {
			// EfficientNet takes any size: train at the dataset's.
			mopts = append(mopts, models.WithInputSize(r.ds.Card.Recipe.Height, r.ds.Card.Recipe.Width))
		}
		m, err := models.New(r.o.Model, len(r.ds.Classes), r.dev, mopts...)
		if err != nil {
			return err
		}
		r.m = m
		spec := m.Spec()
		rm, err := recipe.ForModel(r.ds.Card.Recipe, int(spec.Height), int(spec.Width), r.o.InputAdapt, spec.Mean, spec.Std)
		if err != nil {
			return fmt.Errorf("dataset %s: %w", r.o.Dataset, err)
		}
		if resume != nil {
			// A resumed run keeps the recipe it started with.
			if old, err := manifests.ReadRunCard(manifests.RunCardPath(r.dir)); err == nil {
				rm = old.Recipe
			}
		}
		if r.rc, err = recipe.New(rm, true); err != nil {
			return err
		}
		if r.o.Weights != "" {
			if err := models.LoadTorchvisionWeights(m, r.o.Weights); err != nil {
				return fmt.Errorf("--weights: %w", err)
			}
		}
		if r.s, err = newSession(m, r.dev, r.rc); err != nil {
			return err
		}
		return r.s.setAMP(r.o.AMP)
	})
	if err != nil {
		return err
	}
	if r.o.Freeze && r.s.fm == nil {
		return fmt.Errorf("--freeze with %s: %w (effnet-b0 has one)", r.o.Model, ErrNoFreeze)
	}
	spec := r.m.Spec()
	r.data = map[manifests.Split]*splitData{}
	for _, sp := range manifests.Splits {
		d, err := loadSplit(ctx, r.ds, sp, r.rc)
		if err != nil {
			return err
		}
		r.data[sp] = d
	}
	if r.o.Freeze {
		key, err := backboneKey(r.o.Model, int(spec.Height), int(spec.Width), r.o.Weights, r.o.Seed)
		if err != nil {
			return err
		}
		r.feats = map[manifests.Split]*featureData{}
		for _, sp := range manifests.Splits {
			f, err := splitFeatures(ctx, r.th, r.s, r.ds, r.data[sp], key, r.o.BatchSize)
			if err != nil {
				return fmt.Errorf("%s features: %w", sp, err)
			}
			r.feats[sp] = f
		}
	}
	first := 1
	if resume != nil {
		first = resume.Epoch
	}
	err = r.th.Do(ctx, func() error {
		var err error
		r.s.opt, err = newAdam(r.m.VarStore(), nn.DefaultAdamConfig(), r.o.LR, r.params(first))
		if err != nil {
			return err
		}
		if resume == nil {
			return nil
		}
		if err := loadVarStore(r.m.VarStore(), filepath.Join(r.dir, resume.Weights)); err != nil {
			return err
		}
		if err := loadOptimizer(r.s.opt, filepath.Join(r.dir, resume.Optimizer), resume.OptimizerStep, r.dev); err != nil {
			return err
		}
		r.s.opt.setLR(resume.LR)
		return nil
	})
	if err != nil {
		return err
	}
	if resume != nil {
		r.best = *resume
		r.start = resume.Epoch + 1
		hist := resume.History
		if hist == nil { // a checkpoint of the old layout
			if hist, err = readMetrics(manifests.MetricsPath(r.dir)); err != nil {
				return fmt.Errorf("resume: %w", err)
			}
		}
		for _, h := range hist {
			if h.Epoch <= resume.Epoch {
				r.history = append(r.history, h)
			}
		}
		if len(r.history) != resume.Epoch {
			return fmt.Errorf("resume: metrics.csv has %d rows up to epoch %d", len(r.history), resume.Epoch)
		}
	}
	return nil
}

// params are the parameters trained at epoch e.
func (r *runner) params(e int) []namedParam {
	if r.frozenAt(e) {
		head := map[string]bool{}
		for _, p := range r.s.fm.HeadParameters() {
			head[p.Name] = true
		}
		return trainableParams(r.m.VarStore(), func(n string) bool { return head[n] })
	}
	return trainableParams(r.m.VarStore(), nil)
}

func (r *runner) lrAt(e int) float64 {
	if r.o.Freeze && !r.frozenAt(e) {
		return r.o.FinetuneLR
	}
	return r.o.LR
}

// source is the training, validation or test input of epoch e.
func (r *runner) source(sp manifests.Split, e int, train bool) source {
	if r.frozenAt(e) {
		return &featureSource{f: r.feats[sp]}
	}
	return &imageSource{d: r.data[sp], augment: train && r.o.Augment}
}

func epochSeed(seed int64, e int) uint64 {
	return uint64(seed)*0x9e3779b97f4a7c15 + uint64(e)
}

// loop runs the epochs; it returns why it stopped.
func (r *runner) loop(ctx context.Context) (string, error) {
	o := r.o
	if o.Patience > 0 && r.best.SinceBest >= o.Patience {
		return fmt.Sprintf("early stop: no better validation accuracy for %d epochs", o.Patience), nil
	}
	for e := r.start; e <= o.Epochs; e++ {
		row, err := r.epoch(ctx, e)
		if err != nil {
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				return fmt.Sprintf("interrupted in epoch %d", e), err
			}
			return err.Error(), err
		}
		if o.valAcc != nil {
			row.ValAcc = o.valAcc(e, row.ValAcc)
		}
		improved := r.best.BestEpoch == 0 || row.ValAcc > r.best.BestValAcc
		if improved {
			r.best.BestEpoch, r.best.BestValAcc, r.best.SinceBest = e, row.ValAcc, 0
		} else {
			r.best.SinceBest++
		}
		r.history = append(r.history, row)
		if err := r.checkpoint(ctx, e, row, improved); err != nil {
			return err.Error(), err
		}
		progress.Event(o.reporter, "epoch", EpochEvent{EpochRow: row, Epochs: o.Epochs, Best: improved}, kerasLine(row, o.Epochs, improved))
		if o.afterEpoch != nil {
			o.afterEpoch(e)
		}
		if o.Patience > 0 && r.best.SinceBest >= o.Patience {
			return fmt.Sprintf("early stop after epoch %d: no better validation accuracy for %d epochs (best %.4f at epoch %d)", e, o.Patience, r.best.BestValAcc, r.best.BestEpoch), nil
		}
	}
	return fmt.Sprintf("completed %d epochs", o.Epochs), nil
}

// kerasLine is one epoch in one line of at most 80 columns, as Keras prints
// it; "*" marks a new best validation accuracy.
func kerasLine(r EpochRow, epochs int, best bool) string {
	s := fmt.Sprintf("Epoch %d/%d  %.0fs  loss %.4f  acc %.4f  val_loss %.4f  val_acc %.4f",
		r.Epoch, epochs, r.Seconds, r.TrainLoss, r.TrainAcc, r.ValLoss, r.ValAcc)
	if best {
		s += " *"
	}
	return s
}

// epoch trains one epoch and evaluates the validation split (the test
// split is scored once, by finish).
func (r *runner) epoch(ctx context.Context, e int) (EpochRow, error) {
	start := time.Now()
	row := EpochRow{Epoch: e, LR: r.lrAt(e)}
	frozen := r.frozenAt(e)
	seed := epochSeed(r.o.Seed, e)
	trainL := newLoader(ctx, r.source(manifests.Train, e, true), r.o.BatchSize, true, true, seed)
	defer trainL.close()
	task := r.o.reporter.Start(fmt.Sprintf("epoch %d/%d", e, r.o.Epochs), int64(trainL.batches))
	defer task.Done()
	var tm, vm epochMetrics
	err := r.th.Do(ctx, func() error {
		r.s.frozen = frozen
		r.s.forceNaN = r.o.nonFiniteAt
		if !frozen && r.o.Freeze && len(r.s.opt.params) < len(r.params(e)) {
			// First fine-tuning epoch: the backbone joins the optimizer.
			if err := r.s.opt.add(r.params(e)); err != nil {
				return err
			}
		}
		r.s.opt.setLR(row.LR)
		torchrt.ManualSeed(int64(seed & (1<<62 - 1)))
		var err error
		if tm, err = trainOneEpoch(ctx, r.s, trainL, e, task); err != nil {
			return err
		}
		valL := newLoader(ctx, r.source(manifests.Val, e, false), r.o.BatchSize, false, false, 0)
		vm, err = evaluate(ctx, r.s, valL)
		valL.close()
		return err
	})
	if err != nil {
		return row, err
	}
	row.TrainLoss, row.TrainAcc = tm.Loss, tm.Acc
	row.ValLoss, row.ValAcc = vm.Loss, vm.Acc
	row.Seconds = time.Since(start).Seconds()
	return row, nil
}

// checkpoint ends epoch e: the checkpoint's tensor files, then its
// commit (last.json, and best.json when improved), then what derives from
// it (best.ot, metrics.csv, run.json), then the removal of the previous
// checkpoint's files. A kill between any two steps resumes from the newest
// committed checkpoint (see reconcile).
func (r *runner) checkpoint(ctx context.Context, e int, row EpochRow, improved bool) error {
	meta := r.best
	meta.Epoch = e
	meta.Config = r.o.Config
	meta.LR = row.LR
	meta.Phase = "full"
	if r.frozenAt(e) {
		meta.Phase = "frozen"
	}
	meta.History = append([]EpochRow(nil), r.history...)
	boundary := func(step string) error { return r.boundary(e, step) }
	err := r.th.Do(ctx, func() error {
		return saveTensors(r.dir, r.m.VarStore(), r.s.opt, &meta, boundary)
	})
	if err != nil {
		return err
	}
	if err := commitCheckpoint(r.dir, lastKind, meta); err != nil {
		return err
	}
	if err := boundary("last.json"); err != nil {
		return err
	}
	if improved {
		if err := commitCheckpoint(r.dir, bestKind, meta); err != nil {
			return err
		}
		if err := boundary("best.json"); err != nil {
			return err
		}
	}
	return r.derive(&meta, boundary)
}

// derive writes what follows from the committed checkpoint c: best.ot,
// metrics.csv and run.json, then removes the tensor files no manifest
// names.
func (r *runner) derive(c *Checkpoint, boundary func(string) error) error {
	best, err := readCheckpoint(r.dir, bestKind)
	if err != nil {
		return fmt.Errorf("best checkpoint: %w", err)
	}
	if err := publishBest(r.dir, best); err != nil {
		return err
	}
	if err := boundary(bestWeights); err != nil {
		return err
	}
	if err := writeMetrics(manifests.MetricsPath(r.dir), r.history); err != nil {
		return err
	}
	if err := boundary(manifests.MetricsFile); err != nil {
		return err
	}
	r.card.Epochs = c.Epoch
	r.card.BestEpoch = r.best.BestEpoch
	r.card.BestValAcc = r.best.BestValAcc
	if err := r.writeCard(); err != nil {
		return err
	}
	if err := boundary(manifests.RunCardFile); err != nil {
		return err
	}
	return collectCheckpoints(r.dir)
}

// reconcile brings a resumed run folder back in line with the checkpoint
// it resumes from: best.json is that checkpoint when it was the best epoch
// (a kill can fall between last.json and best.json), and metrics.csv,
// best.ot and run.json are rebuilt from it.
func (r *runner) reconcile(c *Checkpoint) error {
	best, err := readCheckpoint(r.dir, bestKind)
	if c.BestEpoch == c.Epoch && (err != nil || best.Epoch != c.Epoch) {
		if err := commitCheckpoint(r.dir, bestKind, *c); err != nil {
			return err
		}
	} else if err != nil {
		return fmt.Errorf("best checkpoint: %w", err)
	}
	if c.Weights == "last.ot" { // the old layout: nothing to rebuild
		return nil
	}
	return r.derive(c, func(string) error { return nil })
}

// errInjectedCrash stops a run at a write boundary as a kill would (tests).
var errInjectedCrash = errors.New("injected crash")

// boundary is called between two writes of the end of epoch e.
func (r *runner) boundary(e int, step string) error {
	if r.o.crashAt != nil && r.o.crashAt(e, step) {
		return fmt.Errorf("epoch %d after %s: %w", e, step, errInjectedCrash)
	}
	return nil
}

func (r *runner) newCard() {
	cfg := map[string]any{}
	b, _ := json.Marshal(r.o.Config)
	_ = json.Unmarshal(b, &cfg)
	cfg["device_used"] = deviceName(r.dev)
	r.card = &manifests.RunCard{
		Name: r.o.Name, Model: r.o.Model, Dataset: r.o.Dataset, DatasetVersion: r.ds.Card.Version,
		Classes: r.ds.Classes, Recipe: r.rc.Spec(), Seed: r.o.Seed, Config: cfg, CreatedAt: time.Now().UTC(),
		BestWeights: bestWeights,
		Epochs:      len(r.history), BestEpoch: r.best.BestEpoch, BestValAcc: r.best.BestValAcc,
	}
	if old, err := manifests.ReadRunCard(manifests.RunCardPath(r.dir)); err == nil {
		r.card.CreatedAt = old.CreatedAt
	}
}

func (r *runner) writeCard() error {
	return manifests.WriteRunCard(manifests.RunCardPath(r.dir), r.card)
}

// finish restores the best weights, evaluates them on the test split and
// writes the reports.
func (r *runner) finish(ctx context.Context) error {
	best, err := readCheckpoint(r.dir, bestKind)
	if err != nil {
		return err
	}
	var tm, vm epochMetrics
	err = r.th.Do(ctx, func() error {
		if err := loadVarStore(r.m.VarStore(), filepath.Join(r.dir, best.Weights)); err != nil {
			return err
		}
		if err := writeExport(r.dir, r.m.VarStore()); err != nil {
			return err
		}
		r.s.frozen = r.frozenAt(best.Epoch)
		l := newLoader(ctx, r.source(manifests.Test, best.Epoch, false), r.o.BatchSize, false, false, 0)
		defer l.close()
		if tm, err = evaluate(ctx, r.s, l); err != nil {
			return err
		}
		vl := newLoader(ctx, r.source(manifests.Val, best.Epoch, false), r.o.BatchSize, false, false, 0)
		defer vl.close()
		vm, err = evaluate(ctx, r.s, vl)
		return err
	})
	if err != nil {
		return err
	}
	if r.card.OpenSet, err = calibrateOpenSet(vm.Probs, r.o.openSetFRR); err != nil {
		return err
	}
	r.card.TestAcc, r.card.TestLoss = tm.Acc, tm.Loss
	r.card.BestEpoch, r.card.BestValAcc = r.best.BestEpoch, r.best.BestValAcc
	return writeReports(r.dir, r.card, r.history, r.data[manifests.Test], tm, r.o.Seed)
}
