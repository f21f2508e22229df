//go:build !chara_notorch

package main

import (
	"context"
	"fmt"

	"github.com/sugarme/gotch"
	"github.com/urfave/cli/v2"

	"github.com/chara-dev/chara/internal/config"
	"github.com/chara-dev/chara/internal/recipe"
	"github.com/chara-dev/chara/manifests"
	"github.com/chara-dev/chara/train/models"
	"github.com/chara-dev/chara/train/torchrt"
)

type modelsOptions struct {
	Dataset string // the workspace's dataset whose images the models would take
	Classes int
	Models  []string // empty: all
	Height  int      // effnet-b0 input size; 0: its default
	Width   int
}

func modelsAction(c *cli.Context) error {
	opts := modelsOptions{Models: c.Args().Slice(), Dataset: c.String("dataset"), Classes: c.Int("classes"), Height: c.Int("height"), Width: c.Int("width")}
	if opts.Classes < 2 {
		return usagef("models: --classes: need at least 2, got %d", opts.Classes)
	}
	if (opts.Height == 0) != (opts.Width == 0) {
		return usagef("models: give both --height and --width")
	}
	for _, m := range opts.Models {
		if !contains(models.Names, m) {
			return usagef("models: unknown model %q (want %v)", m, models.Names)
		}
	}
	return runModels(c.Context, globals(c), opts)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func runModels(ctx context.Context, g *globalOptions, opts modelsOptions) error {
	names := opts.Models
	if len(names) == 0 {
		names = models.Names
	}
	// The workspace's dataset, when there is one: effnet-b0 then takes its
	// size, and every model says how its images reach the input.
	var ds *manifests.Card
	adapt := ""
	if opts.Dataset != "" {
		if c, err := manifests.ReadCard(manifests.CardPath(manifests.DatasetDir(g.Workspace, opts.Dataset))); err == nil {
			ds = c
			if cfg, err := config.Load(g.ConfigPath); err == nil {
				adapt = cfg.Train.InputAdapt
			}
		}
	}
	th := torchrt.NewThread(0)
	defer th.Close()
	for i, name := range names {
		var build []models.Option
		if name == "effnet-b0" && opts.Height > 0 {
			build = append(build, models.WithInputSize(opts.Height, opts.Width))
		} else if name == "effnet-b0" && ds != nil {
			build = append(build, models.WithInputSize(ds.Recipe.Height, ds.Recipe.Width))
		}
		var (
			spec   models.Spec
			layers []models.Layer
		)
		err := th.Do(ctx, func() error {
			m, err := models.New(name, opts.Classes, gotch.CPU, build...)
			if err != nil {
				return err
			}
			spec, layers = m.Spec(), models.Summary(m)
			return nil
		})
		if err != nil {
			return err
		}
		if i > 0 {
			fmt.Fprintln(g.Stdout)
		}
		if err := models.WriteSummary(g.Stdout, name, spec, layers); err != nil {
			return err
		}
		if ds != nil {
			rm, err := recipe.ForModel(ds.Recipe, int(spec.Height), int(spec.Width), adapt, spec.Mean, spec.Std)
			if err != nil {
				return err
			}
			fmt.Fprintf(g.Stdout, "Input from dataset %s: %s\n", opts.Dataset, rm.Input.Describe(ds.Recipe.Height, ds.Recipe.Width))
		}
	}
	return nil
}
