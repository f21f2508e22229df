//go:build !chara_notorch

package main

import (
	"context"
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/chara-dev/chara/manifests"
	"github.com/chara-dev/chara/train"
)

func compareAction(c *cli.Context) error {
	return runCompare(c.Context, globals(c), c.Args().Slice(), c.Bool("json"))
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
