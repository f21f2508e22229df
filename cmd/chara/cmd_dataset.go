package main

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/chara-dev/chara/dataset"
	"github.com/chara-dev/chara/internal/config"
	"github.com/chara-dev/chara/manifests"
)

func newDatasetCommand() *cli.Command {
	nameFlag := &cli.StringFlag{Name: "name", Aliases: []string{"n"}, Value: "default", Usage: "dataset `NAME` (datasets/NAME in the workspace)"}
	return &cli.Command{
		Name:  "dataset",
		Usage: "build, verify and export balanced, leak-free split manifests",
		Subcommands: []*cli.Command{
			{
				Name:  "build",
				Usage: "balance, resize and split the kept images into datasets/NAME",
				Flags: []cli.Flag{
					nameFlag,
					&cli.BoolFlag{Name: "allow-fewer", Usage: "cut every class to the smallest instead of failing when a class is short"},
					&cli.BoolFlag{Name: "oversample", Usage: "fill short classes by repeating training images (val and test never repeat)"},
					&cli.IntFlag{Name: "workers", Usage: "images processed at once (default: all CPUs)"},
					&cli.BoolFlag{Name: "json", Usage: "print the result as JSON (docs/json.md)"},
				},
				Action: func(c *cli.Context) error {
					return runDatasetBuild(c.Context, globals(c), datasetBuildOptions{
						Name: c.String("name"), AllowFewer: c.Bool("allow-fewer"), Oversample: c.Bool("oversample"), Workers: c.Int("workers"), JSON: c.Bool("json"),
					})
				},
			},
			{
				Name:  "verify",
				Usage: "check that the dataset's files, labels, splits and groups are consistent (exit 1 on problems)",
				Flags: []cli.Flag{nameFlag, &cli.BoolFlag{Name: "json", Usage: "print the result as JSON (docs/json.md)"}},
				Action: func(c *cli.Context) error {
					return runDatasetVerify(c.Context, globals(c), c.String("name"), c.Bool("json"))
				},
			},
			{
				Name:  "export",
				Usage: "write the dataset as OUT/<split>/<class>/ folders (Keras, torchvision ImageFolder)",
				Flags: []cli.Flag{
					nameFlag,
					&cli.StringFlag{Name: "layout", Value: dataset.LayoutImageFolder, Usage: "folder `LAYOUT`: imagefolder"},
					&cli.StringFlag{Name: "out", Usage: "output `DIR` (must not exist or be empty)", Required: true},
					&cli.BoolFlag{Name: "link", Usage: "symbolic links instead of copies"},
				},
				Action: func(c *cli.Context) error {
					return runDatasetExport(c.Context, globals(c), datasetExportOptions{
						Name: c.String("name"), Layout: c.String("layout"), Out: c.String("out"), Link: c.Bool("link"),
					})
				},
			},
		},
	}
}

type datasetBuildOptions struct {
	Name       string
	AllowFewer bool
	Oversample bool
	Workers    int
	JSON       bool
}

// datasetOptions turns chara.yaml's images:, split: and seed into
// dataset.Build options (chara run uses it too).
func datasetOptions(cfg *config.Config, g *globalOptions) []dataset.Option {
	return []dataset.Option{
		dataset.WithReporter(g.reporter()),
		dataset.WithSeed(cfg.Seed),
		dataset.WithPerClass(cfg.Images.PerClass),
		dataset.WithSize(cfg.Images.Height, cfg.Images.Width),
		dataset.WithFit(cfg.Images.Fit),
		dataset.WithFractions(cfg.Split.Train, cfg.Split.Val, cfg.Split.Test),
		dataset.WithGroupThreshold(cfg.Split.GroupThreshold),
		dataset.WithMinEval(cfg.Split.MinEval),
		dataset.WithMaxPixels(cfg.Curate.MaxPixels),
		dataset.WithToolVersion(version),
	}
}

// classNames lists the configured classes in config order.
func classNames(cfg *config.Config) []string {
	names := make([]string, len(cfg.Classes))
	for i, c := range cfg.Classes {
		names[i] = c.Name
	}
	return names
}

func runDatasetBuild(ctx context.Context, g *globalOptions, o datasetBuildOptions) error {
	if o.AllowFewer && o.Oversample {
		return usagef("dataset build: --allow-fewer and --oversample exclude each other")
	}
	if err := manifests.CheckPlainName(o.Name); err != nil {
		return usagef("dataset build: --name: %v", err)
	}
	cfg, err := g.loadConfig()
	if err != nil {
		return err
	}
	if len(cfg.Classes) == 0 {
		return fmt.Errorf("%s lists no classes (add one with: chara classes add NAME --query SOURCE=TAGS)", g.ConfigPath)
	}
	opts := append(datasetOptions(cfg, g),
		dataset.WithAllowFewer(o.AllowFewer), dataset.WithOversample(o.Oversample), dataset.WithWorkers(o.Workers))
	res, err := dataset.Build(ctx, g.Workspace, o.Name, classNames(cfg), opts...)
	if err != nil {
		return err
	}
	if o.JSON {
		return writeJSON(g.Stdout, datasetBuildOut(res))
	}
	return res.WriteSummary(g.Stdout)
}

func runDatasetVerify(ctx context.Context, g *globalOptions, name string, asJSON bool) error {
	if err := manifests.CheckPlainName(name); err != nil {
		return usagef("dataset verify: --name: %v", err)
	}
	dir := manifests.DatasetDir(g.Workspace, name)
	probs, err := dataset.Verify(dir, dataset.VerifyContext(ctx))
	if err != nil {
		return err
	}
	if asJSON {
		out := datasetVerifyJSON{Dir: dir, OK: len(probs) == 0, Problems: []problemJSON{}}
		for _, p := range probs {
			out.Problems = append(out.Problems, problemJSON{File: p.File, Line: p.Line, Msg: p.Msg})
		}
		if err := writeJSON(g.Stdout, out); err != nil {
			return err
		}
	} else {
		for _, p := range probs {
			fmt.Fprintln(g.Stdout, p.String())
		}
	}
	if len(probs) > 0 {
		return &exitCodeError{code: exitFailure, err: fmt.Errorf("dataset %s: %s", dir, plural(len(probs), "problem", "problems"))}
	}
	if !asJSON {
		fmt.Fprintf(g.Stdout, "dataset %s: no problems\n", dir)
	}
	return nil
}

type datasetExportOptions struct {
	Name   string
	Layout string
	Out    string
	Link   bool
}

func runDatasetExport(ctx context.Context, g *globalOptions, o datasetExportOptions) error {
	if err := manifests.CheckPlainName(o.Name); err != nil {
		return usagef("dataset export: --name: %v", err)
	}
	if o.Layout != dataset.LayoutImageFolder {
		return usagef("dataset export: --layout %q: want %s", o.Layout, dataset.LayoutImageFolder)
	}
	dir := manifests.DatasetDir(g.Workspace, o.Name)
	n, err := dataset.Export(ctx, dir, o.Out, dataset.ExportLayout(o.Layout), dataset.ExportLink(o.Link),
		dataset.ExportReporter(g.reporter()))
	if err != nil {
		return err
	}
	how := "copied"
	if o.Link {
		how = "linked"
	}
	fmt.Fprintf(g.Stdout, "%s %s into %s (%s layout)\n", plural(n, "image", "images"), how, o.Out, o.Layout)
	return nil
}
