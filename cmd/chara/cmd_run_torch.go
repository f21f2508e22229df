//go:build !chara_notorch

package main

import (
	"context"

	"github.com/chara-dev/chara/internal/config"
	"github.com/chara-dev/chara/internal/pipeline"
	"github.com/chara-dev/chara/manifests"
	"github.com/chara-dev/chara/train"
)

// runAction runs every selected stage in this process, training included.
var runAction = runStagesAction(trainForRun)

// trainForRun trains one model for chara run. The run's name is derived
// from its fingerprint, so an interrupted training resumes from its last
// checkpoint on the next chara run.
func trainForRun(ctx context.Context, g *globalOptions, cfg *config.Config, model, dataset, fingerprint string) error {
	name := pipeline.RunName(model, dataset, fingerprint)
	dir := manifests.RunDir(g.Workspace, name)
	resume, err := train.PrepareResume(dir)
	if err != nil {
		return err
	}
	opts := append(trainConfigOptions(cfg, g),
		train.WithModel(model), train.WithDataset(dataset), train.WithName(name), train.WithResume(resume))
	card, err := train.Run(ctx, g.Workspace, opts...)
	if err != nil {
		return err
	}
	g.reporter().Logf("%s: val accuracy %.1f%% (best epoch %d of %d), test accuracy %.1f%% in %s", model, 100*card.BestValAcc, card.BestEpoch, card.Epochs, 100*card.TestAcc, dir)
	return nil
}

// trainConfigOptions turns chara.yaml's train: section into train options.
func trainConfigOptions(cfg *config.Config, g *globalOptions) []train.Option {
	opts := []train.Option{
		train.WithEpochs(cfg.Train.Epochs),
		train.WithBatchSize(cfg.Train.BatchSize),
		train.WithLR(cfg.Train.LR),
		train.WithPatience(cfg.Train.Patience),
		train.WithSeed(cfg.Seed),
		train.WithDevice(cfg.Train.Device),
		train.WithFreeze(cfg.Train.Freeze, 0),
		train.WithAugment(cfg.Train.Augment),
		train.WithAMP(cfg.Train.AMP),
		train.WithInputAdapt(cfg.Train.InputAdapt),
		train.WithReporter(g.reporter()),
	}
	if cfg.Train.Weights != "" {
		opts = append(opts, train.WithWeights(cfg.Train.Weights))
	}
	return opts
}
