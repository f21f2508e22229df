//go:build !chara_notorch

package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/chara-dev/chara/internal/config"
	"github.com/chara-dev/chara/train"
)

func trainAction(c *cli.Context) error {
	if c.NArg() > 0 {
		return usagef("train takes no arguments (got %q)", c.Args().Slice())
	}
	o := trainOptions{
		Model: c.String("model"), Dataset: c.String("dataset"), Name: c.String("name"),
		Device: c.String("device"), Threads: c.Int("threads"), Weights: c.String("weights"),
		Freeze: c.Bool("freeze"), FinetuneAfter: c.Int("finetune-after"), Resume: c.Bool("resume"), JSON: c.Bool("json"),
		Change: c.Bool("change"), FreezeSet: c.IsSet("freeze") || c.IsSet("finetune-after"),
	}
	if o.Resume && !c.IsSet("dataset") {
		o.Dataset = "" // the run's own
	}
	if c.IsSet("epochs") {
		o.Epochs = c.Int("epochs")
	}
	if c.IsSet("batch-size") {
		o.BatchSize = c.Int("batch-size")
	}
	if c.IsSet("lr") {
		o.LR = c.Float64("lr")
	}
	if c.IsSet("patience") {
		p := c.Int("patience")
		o.Patience = &p
	}
	if c.IsSet("seed") {
		s := c.Int64("seed")
		o.Seed = &s
	}
	if c.IsSet("amp") {
		a := c.Bool("amp")
		o.AMP = &a
	}
	if c.IsSet("augment") {
		a := c.Bool("augment")
		o.Augment = &a
	}
	return runTrain(c.Context, globals(c), o)
}

// trainOptions are the train flags; zero values (nil pointers) take
// chara.yaml's train: section.
type trainOptions struct {
	Model, Dataset, Name, Device, Weights string
	Epochs, BatchSize, Threads            int
	FinetuneAfter                         int
	LR                                    float64
	Patience                              *int
	Seed                                  *int64
	Augment, AMP                          *bool
	Freeze, Resume, JSON                  bool
	Change, FreezeSet                     bool
}

func runTrain(ctx context.Context, g *globalOptions, o trainOptions) error {
	cfg, err := config.Load(g.ConfigPath)
	if errors.Is(err, config.ErrNotFound) {
		cfg, err = config.Default(), nil // training needs no chara.yaml
	}
	if err != nil {
		return err
	}
	t := cfg.Train
	model := o.Model
	if model == "" && len(t.Models) > 0 {
		model = t.Models[0]
	}
	// chara.yaml's train: section first, then the flags that were given.
	// A resumed run takes its own settings instead of chara.yaml's: only
	// the flags given are passed, and they must match unless --change.
	var opts []train.Option
	if o.Resume {
		opts = append(opts, train.WithReporter(g.reporter()), train.WithName(o.Name), train.WithResume(true),
			train.WithChanges(o.Change), train.WithThreads(o.Threads))
		if o.Model != "" {
			opts = append(opts, train.WithModel(o.Model))
		}
		if o.Dataset != "" {
			opts = append(opts, train.WithDataset(o.Dataset))
		}
		if o.FreezeSet {
			opts = append(opts, train.WithFreeze(o.Freeze, o.FinetuneAfter))
		}
	} else {
		opts = append(trainConfigOptions(cfg, g),
			train.WithModel(model), train.WithDataset(o.Dataset), train.WithName(o.Name),
			train.WithThreads(o.Threads), train.WithFreeze(o.Freeze || t.Freeze, o.FinetuneAfter))
	}
	if o.Epochs != 0 {
		opts = append(opts, train.WithEpochs(o.Epochs))
	}
	if o.BatchSize != 0 {
		opts = append(opts, train.WithBatchSize(o.BatchSize))
	}
	if o.LR != 0 {
		opts = append(opts, train.WithLR(o.LR))
	}
	if o.Patience != nil {
		opts = append(opts, train.WithPatience(*o.Patience))
	}
	if o.Seed != nil {
		opts = append(opts, train.WithSeed(*o.Seed))
	}
	if o.Device != "" {
		opts = append(opts, train.WithDevice(o.Device))
	}
	if o.Augment != nil {
		opts = append(opts, train.WithAugment(*o.Augment))
	}
	if o.AMP != nil {
		opts = append(opts, train.WithAMP(*o.AMP))
	}
	if o.Weights != "" {
		opts = append(opts, train.WithWeights(o.Weights))
	}
	card, err := train.Run(ctx, g.Workspace, opts...)
	if errors.Is(err, train.ErrOptions) || errors.Is(err, train.ErrNoFreeze) {
		return usagef("%v", err)
	}
	if card != nil && o.JSON {
		if werr := writeJSON(g.Stdout, card); werr != nil && err == nil {
			err = werr
		}
	} else if card != nil {
		// Within 80 columns: the run's name alone, then the scores.
		fmt.Fprintf(g.Stdout, "run %s\n", card.Name)
		fmt.Fprint(g.Stdout, wrap(fmt.Sprintf("val accuracy %.4f (best epoch %d of %d), test accuracy %.4f (loss %.4f)",
			card.BestValAcc, card.BestEpoch, card.Epochs, card.TestAcc, card.TestLoss), 80, "  "))
		if card.StopReason != "" {
			fmt.Fprint(g.Stdout, wrap(card.StopReason, 80, "  "))
		}
	}
	return err
}
