package main

import (
	"context"
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/chara-dev/chara/manifests"
	"github.com/chara-dev/chara/train"
)

func newCompareCommand() *cli.Command {
	return &cli.Command{
		Name:      "compare",
		Usage:     "compare training runs side by side: runs of the dataset's current version first, best validation accuracy first, stale ones marked",
		ArgsUsage: "[RUN...] (run names under runs/ or run folders; default: every run)",
		Flags:     []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print the result as JSON (docs/json.md)"}},
		Action: func(c *cli.Context) error {
			return runCompare(c.Context, globals(c), c.Args().Slice(), c.Bool("json"))
		},
	}
}

func runCompare(_ context.Context, g *globalOptions, runs []string, asJSON bool) error {
	if len(runs) == 0 {
		all, err := manifests.ListRuns(g.Workspace)
		if err != nil {
			return err
		}
		for _, r := range all {
			runs = append(runs, r.Dir)
		}
		if len(runs) == 0 {
			return fmt.Errorf("compare: no runs in %s (run \"chara train\" first)", manifests.RunsDir(g.Workspace))
		}
	}
	s, err := train.Compare(g.Workspace, runs...)
	if err != nil {
		return err
	}
	out := g.Stdout
	if out == nil {
		out = os.Stdout
	}
	if asJSON {
		return writeJSON(out, compareOut(s))
	}
	return train.WriteComparison(out, s)
}
