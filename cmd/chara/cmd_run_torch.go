//go:build !chara_notorch

package main

import (
	"context"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/chara-dev/chara/internal/config"
	"github.com/chara-dev/chara/internal/pipeline"
	"github.com/chara-dev/chara/manifests"
	"github.com/chara-dev/chara/train"
)

type runOptions struct {
	Force   []string // stages to rerun even if unchanged
	From    string   // first stage to consider
	Only    string   // the one stage to consider
	Dataset string
	// reportTo receives the final report (default g.Stdout).
	reportTo io.Writer
}

func runAction(c *cli.Context) error {
	if c.NArg() > 0 {
		return usagef("run: unexpected argument %q", c.Args().First())
	}
	return runRun(c.Context, globals(c), runOptions{
		Force: c.StringSlice("force"), From: c.String("from"), Only: c.String("only"), Dataset: c.String("dataset"),
	})
}

func runRun(ctx context.Context, g *globalOptions, o runOptions) error {
	sel, err := pipeline.Select(o.From, o.Only, o.Force)
	if err != nil {
		return usagef("run: %v", err)
	}
	if err := manifests.CheckPlainName(o.Dataset); err != nil {
		return usagef("run: --dataset: %v", err)
	}
	cfg, err := g.loadConfig()
	if err != nil {
		return err
	}
	if len(cfg.Classes) < 2 {
		return fmt.Errorf("%s lists %s; a classifier needs at least 2 (chara classes add NAME --query SOURCE=TAGS)", g.ConfigPath, plural(len(cfg.Classes), "class", "classes"))
	}
	p, err := pipeline.NewRunner(g.Workspace, o.Force, g.reporter())
	if err != nil {
		return err
	}
	step := func(name string, inputs func() (string, error), run func(fingerprint string) error) error {
		in, err := inputs()
		if err != nil {
			return err
		}
		_, err = p.Step(ctx, name, in, func() error { return run(in) })
		return err
	}
	if sel["scrape"] {
		if err := step("scrape", func() (string, error) { return pipeline.ScrapeInputs(cfg) },
			func(string) error { return runScrape(ctx, g, scrapeOptions{}) }); err != nil {
			return err
		}
	}
	if sel["curate"] {
		if err := step("curate", func() (string, error) { return pipeline.CurateInputs(g.Workspace, cfg) },
			func(string) error { return runCurate(ctx, g, curateOptions{}) }); err != nil {
			return err
		}
	}
	if sel["dataset"] {
		if err := step("dataset", func() (string, error) { return pipeline.DatasetInputs(g.Workspace, cfg, o.Dataset) },
			func(string) error { return runDatasetBuild(ctx, g, datasetBuildOptions{Name: o.Dataset}) }); err != nil {
			return err
		}
	}
	if sel["train"] {
		card, err := manifests.ReadCard(manifests.CardPath(manifests.DatasetDir(g.Workspace, o.Dataset)))
		if err != nil {
			return fmt.Errorf("train: no dataset %q yet (run the dataset stage): %w", o.Dataset, err)
		}
		for _, model := range cfg.Train.Models {
			if err := step("train:"+model, func() (string, error) { return pipeline.TrainInputs(cfg, model, card.Version) },
				func(in string) error { return trainForRun(ctx, g, cfg, model, o.Dataset, in) }); err != nil {
				return err
			}
		}
	}
	w := o.reportTo
	if w == nil {
		w = g.Stdout
	}
	return pipeline.WriteReport(w, g.Workspace, cfg, o.Dataset)
}

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
