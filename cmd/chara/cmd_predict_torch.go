//go:build !chara_notorch

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

func predictAction(c *cli.Context) error {
	return runPredict(c.Context, globals(c), predictOptions{
		Run: c.String("run"), OpenSet: c.String("open-set"), Dataset: c.String("dataset"), Top: c.Int("top"), JSON: c.Bool("json"),
		Out: c.String("out"), Device: c.String("device"), Threads: c.Int("threads"), Workers: c.Int("workers"),
		Inputs: c.Args().Slice(),
	})
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
