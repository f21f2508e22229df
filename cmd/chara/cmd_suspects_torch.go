//go:build !chara_notorch

package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/chara-dev/chara/internal/config"
	"github.com/chara-dev/chara/manifests"
	"github.com/chara-dev/chara/train"
	"github.com/chara-dev/chara/train/suspects"
)

type suspectsOptions struct {
	Dataset, Model, Weights, Device string
	Folds, Epochs, Threads, Top     int
	JSON                            bool
}

func suspectsAction(c *cli.Context) error {
	if c.NArg() > 0 {
		return usagef("suspects: unexpected argument %q", c.Args().First())
	}
	return runSuspects(c.Context, globals(c), suspectsOptions{Dataset: c.String("dataset"), Model: c.String("model"),
		Weights: c.String("weights"), Device: c.String("device"), Folds: c.Int("folds"), Epochs: c.Int("epochs"),
		Threads: c.Int("threads"), Top: c.Int("top"), JSON: c.Bool("json")})
}

func runSuspects(ctx context.Context, g *globalOptions, o suspectsOptions) error {
	if o.Folds < 2 {
		return usagef("suspects: --folds %d: want at least 2", o.Folds)
	}
	if o.Model != "" && o.Model != "cnn" && o.Model != "cnn2" {
		return usagef("suspects: --model %q: want cnn or cnn2 (effnet-b0 is used when weights are configured)", o.Model)
	}
	cfg, err := config.Load(g.ConfigPath)
	if errors.Is(err, config.ErrNotFound) {
		cfg, err = config.Default(), nil
	}
	if err != nil {
		return err
	}
	weights := o.Weights
	if weights == "" && o.Model == "" {
		weights = cfg.Train.Weights
	}
	opts := []train.Option{train.WithDataset(o.Dataset), train.WithEpochs(o.Epochs), train.WithBatchSize(cfg.Train.BatchSize),
		train.WithLR(cfg.Train.LR), train.WithSeed(cfg.Seed), train.WithDevice(cfg.Train.Device), train.WithThreads(o.Threads),
		train.WithInputAdapt(cfg.Train.InputAdapt), train.WithReporter(g.reporter())}
	if o.Device != "" {
		opts = append(opts, train.WithDevice(o.Device))
	}
	if weights != "" {
		opts = append(opts, train.WithWeights(weights))
	} else {
		model := o.Model
		if model == "" {
			model = "cnn"
		}
		opts = append(opts, train.WithModel(model))
	}
	oof, err := train.OutOfFoldProbs(ctx, g.Workspace, o.Folds, opts...)
	if errors.Is(err, train.ErrOptions) {
		return usagef("suspects: %v", err)
	}
	if err != nil {
		return err
	}
	items, err := suspects.Rank(oof.SuspectsInput(), suspects.Options{})
	if err != nil {
		return err
	}
	out := &manifests.Suspects{Dataset: oof.Dataset, DatasetVersion: oof.Version, Method: oof.Method, Folds: o.Folds,
		CreatedAt: time.Now().UTC()}
	name := func(l int) string {
		if l < 0 {
			return ""
		}
		return oof.Classes[l].Name
	}
	for _, it := range items {
		r := oof.Rows[it.Index]
		out.Items = append(out.Items, manifests.Suspect{Rank: it.Rank, SHA256: r.SHA256, Class: r.Class, Path: r.Path,
			SelfConfidence: it.SelfConf, Other: name(it.Other), OtherProb: it.OtherProb, Issue: it.Issue,
			Suggest: name(it.Suggest), AUM: it.AUM, Outlier: it.Outlier, Score: it.Score})
	}
	path := manifests.SuspectsPath(g.Workspace)
	if err := manifests.WriteSuspects(path, out); err != nil {
		return err
	}
	if o.JSON {
		return writeJSON(g.Stdout, out)
	}
	issues := 0
	for _, it := range out.Items {
		if it.Issue {
			issues++
		}
	}
	fmt.Fprintf(g.Stdout, "suspects: %d images, %d label issues (%s); ranking in %s\n", len(out.Items), issues, oof.Method, path)
	for _, it := range out.Items[:min(o.Top, len(out.Items))] {
		sug := it.Suggest
		if sug == "" {
			sug = "-"
		}
		fmt.Fprintf(g.Stdout, "%4d  %-20.20s p=%.2f  other %-20.20s p=%.2f  suggest %-16.16s aum %5.2f  outlier %.2f  %s\n",
			it.Rank, it.Class, it.SelfConfidence, it.Other, it.OtherProb, sug, it.AUM, it.Outlier, it.Path)
	}
	if len(out.Items) > 0 {
		fmt.Fprintln(g.Stdout, "review them with: chara review (suspects first), then chara run to retrain")
	}
	return nil
}
