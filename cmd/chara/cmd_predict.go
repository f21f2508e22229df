package main

import (
	"context"
	"fmt"
	"io"
	"runtime"

	"github.com/urfave/cli/v2"

	"github.com/chara-dev/chara/internal/atomicfile"
	"github.com/chara-dev/chara/train"
	"github.com/chara-dev/chara/train/predict"
)

type predictOptions struct {
	OpenSet string
	Run     string
	Dataset string
	Top     int
	JSON    bool
	Out     string
	Device  string
	Threads int
	Workers int
	Inputs  []string
}

func newPredictCommand() *cli.Command {
	return &cli.Command{
		Name:      "predict",
		Usage:     "predict the character in images",
		ArgsUsage: "IMAGE|DIR ...",
		Description: "Prints the top classes with their probabilities for each image: a table, or JSON with --json; " +
			"when a folder is given, a CSV (path,top1,p1,top2,p2,...) of every image under it. Images go through " +
			"the dataset's own preprocessing (size, fit mode) and the run's normalisation. The run defaults to the " +
			"best run of the dataset (highest test accuracy). Unreadable files are reported on stderr, the others " +
			"still run; the exit code is 1 if any failed.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "run", Usage: "run `NAME` (runs/NAME) or folder (default: the best run of --dataset)"},
			&cli.StringFlag{Name: "open-set", Value: "on", Usage: "`on`: answer \"none of these characters\" below the run's calibrated threshold (run.json open_set); off: always a class"},
			&cli.StringFlag{Name: "dataset", Aliases: []string{"n"}, Value: "default", Usage: "dataset `NAME` whose best run is used without --run"},
			&cli.IntFlag{Name: "top", Aliases: []string{"k"}, Value: 3, Usage: "show the `K` most probable classes"},
			&cli.BoolFlag{Name: "json", Usage: "print JSON (one array, an entry per image)"},
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "write the table, CSV or JSON to `FILE` (atomically) instead of stdout"},
			&cli.StringFlag{Name: "device", Value: "auto", Usage: "auto, cpu, cuda or cuda:N"},
			&cli.IntFlag{Name: "threads", Usage: "libtorch intra-op threads (default: libtorch's choice)"},
			&cli.IntFlag{Name: "workers", Usage: "images decoded at once (default: all CPUs)"},
		},
		Action: func(c *cli.Context) error {
			return runPredict(c.Context, globals(c), predictOptions{
				Run: c.String("run"), OpenSet: c.String("open-set"), Dataset: c.String("dataset"), Top: c.Int("top"), JSON: c.Bool("json"),
				Out: c.String("out"), Device: c.String("device"), Threads: c.Int("threads"), Workers: c.Int("workers"),
				Inputs: c.Args().Slice(),
			})
		},
	}
}

func runPredict(ctx context.Context, g *globalOptions, opts predictOptions) error {
	openSet, err := openSetFlag("predict", opts.OpenSet)
	if err != nil {
		return err
	}
	if len(opts.Inputs) == 0 {
		return usagef("predict: give at least one IMAGE or DIR")
	}
	if opts.Top < 1 {
		return usagef("predict: --top must be at least 1, got %d", opts.Top)
	}
	dev, err := train.ParseDevice(opts.Device)
	if err != nil {
		return usagef("predict: --device: %v", err)
	}
	dir, err := predict.ResolveRun(g.Workspace, opts.Dataset, opts.Run)
	if err != nil {
		return err
	}
	inputs, anyDir, err := predict.Expand(opts.Inputs)
	if err != nil {
		return err
	}
	p, err := predict.Load(dir, predict.WithDevice(dev), predict.WithThreads(opts.Threads), predict.WithOpenSet(openSet))
	if err != nil {
		return err
	}
	defer p.Close()
	if g.Verbose {
		card := p.Card()
		fmt.Fprintf(g.Stderr, "predict: run %s (%s, dataset %s, val accuracy %.1f%%, test accuracy %.1f%%)\n", dir, card.Model, card.Dataset, 100*card.BestValAcc, 100*card.TestAcc)
	}
	files := make([]string, len(inputs))
	for i, in := range inputs {
		files[i] = in.Path
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	results, err := p.PredictFiles(ctx, files, opts.Top, workers)
	if err != nil {
		return err
	}
	failed := 0
	for _, r := range results {
		if r.Err != nil {
			failed++
			fmt.Fprintf(g.Stderr, "chara: predict: %v\n", r.Err)
		}
	}
	write := func(w io.Writer) error {
		switch {
		case opts.JSON:
			return predict.WriteJSON(w, results)
		case anyDir:
			return predict.WriteCSV(w, results, opts.Top)
		}
		return predict.WriteTable(w, results)
	}
	if opts.Out != "" {
		err = atomicfile.Write(opts.Out, 0o644, write)
	} else {
		err = write(g.Stdout)
	}
	if err != nil {
		return err
	}
	if failed > 0 {
		return &exitCodeError{code: exitFailure, err: fmt.Errorf("predict: %d of %s could not be read", failed, plural(len(results), "image", "images"))}
	}
	return nil
}

// openSetFlag reads --open-set on|off.
func openSetFlag(cmd, v string) (bool, error) {
	switch v {
	case "on", "":
		return true, nil
	case "off":
		return false, nil
	}
	return false, usagef("%s: --open-set %q: want on or off", cmd, v)
}
