package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/chara-dev/chara/internal/config"
	"github.com/chara-dev/chara/internal/pipeline"
	"github.com/chara-dev/chara/manifests"
)

// newRunCommand defines "chara run". The stages run here; the train stage
// (trainForRun) needs libtorch and is in cmd_run_torch.go, so the light
// build runs a chara run that trains in chara-torch, and one that does not
// (--only scrape, curate or dataset) itself (torch_light.go).
func newRunCommand() *cli.Command {
	return &cli.Command{
		Name:  "run",
		Usage: "run every stage in order, skipping what has not changed",
		Description: "scrape, curate, dataset build and train (the models in train.models), then a report.\n" +
			"Each stage records a fingerprint of its inputs and configuration in .chara/stages.json and is\n" +
			"skipped when nothing changed. Ctrl-C stops cleanly; the next chara run continues.",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "force", Usage: "rerun `STAGE` even if unchanged (scrape, curate, dataset, train); repeatable"},
			&cli.StringFlag{Name: "from", Usage: "start at `STAGE`"},
			&cli.StringFlag{Name: "only", Usage: "run only `STAGE`"},
			&cli.StringFlag{Name: "dataset", Value: "default", Usage: "dataset `NAME`"},
		},
		Action: runAction,
	}
}

type runOptions struct {
	Force   []string // stages to rerun even if unchanged
	From    string   // first stage to consider
	Only    string   // the one stage to consider
	Dataset string
	// reportTo receives the final report (default g.Stdout).
	reportTo io.Writer
	// train trains one model for the train stage (trainForRun, in the
	// full build only).
	train trainStage
}

// trainStage trains model on dataset for chara run; fingerprint is the
// stage's.
type trainStage func(ctx context.Context, g *globalOptions, cfg *config.Config, model, dataset, fingerprint string) error

// runStagesAction is chara run's action, training with train.
func runStagesAction(train trainStage) cli.ActionFunc {
	return func(c *cli.Context) error {
		if c.NArg() > 0 {
			return usagef("run: unexpected argument %q", c.Args().First())
		}
		return runRun(c.Context, globals(c), runOptions{
			Force: c.StringSlice("force"), From: c.String("from"), Only: c.String("only"), Dataset: c.String("dataset"), train: train,
		})
	}
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
		if o.train == nil {
			return errors.New("run: the train stage needs libtorch, which this build lacks")
		}
		card, err := manifests.ReadCard(manifests.CardPath(manifests.DatasetDir(g.Workspace, o.Dataset)))
		if err != nil {
			return fmt.Errorf("train: no dataset %q yet (run the dataset stage): %w", o.Dataset, err)
		}
		for _, model := range cfg.Train.Models {
			if err := step("train:"+model, func() (string, error) { return pipeline.TrainInputs(cfg, model, card.Version) },
				func(in string) error { return o.train(ctx, g, cfg, model, o.Dataset, in) }); err != nil {
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
