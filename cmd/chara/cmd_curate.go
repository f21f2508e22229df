package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/chara-dev/chara/curate"
)

type curateOptions struct {
	JSON    bool
	Workers int
}

func newCurateCommand() *cli.Command {
	return &cli.Command{
		Name:  "curate",
		Usage: "validate, deduplicate and filter the raw images",
		Description: "Writes curated/<class>.jsonl (one decision per raw image), curated/_hashes.jsonl and " +
			"curated/report.html. Rejections made in \"chara review\" are applied on every run.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "print the per-class summary as JSON"},
			&cli.IntFlag{Name: "workers", Usage: "files hashed at once (default: number of CPUs)"},
		},
		Action: func(c *cli.Context) error {
			return runCurate(c.Context, globals(c), curateOptions{JSON: c.Bool("json"), Workers: c.Int("workers")})
		},
	}
}

func runCurate(ctx context.Context, g *globalOptions, opts curateOptions) error {
	cfg, err := g.loadConfig()
	if err != nil {
		return err
	}
	if len(cfg.Classes) == 0 {
		return fmt.Errorf("curate: no classes in %s", g.ConfigPath)
	}
	names := classNames(cfg)
	copts := []curate.Option{curate.FromConfig(cfg.Curate), curate.WithReporter(g.reporter())}
	if opts.Workers < 0 {
		return usagef("curate: --workers must be positive")
	}
	if opts.Workers > 0 {
		copts = append(copts, curate.WithWorkers(opts.Workers))
	}
	rep, err := curate.Run(ctx, g.Workspace, names, copts...)
	if err != nil {
		return err
	}
	if opts.JSON {
		enc := json.NewEncoder(g.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return rep.WriteTable(g.Stdout)
}
