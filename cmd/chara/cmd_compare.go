package main

import (
	"github.com/urfave/cli/v2"
)

// newCompareCommand defines "chara compare"; its action needs libtorch and is in
// cmd_compare_torch.go (the light build runs chara-torch instead: torch.go).
func newCompareCommand() *cli.Command {
	return &cli.Command{
		Name:      "compare",
		Usage:     "compare training runs side by side: runs of the dataset's current version first, best validation accuracy first, stale ones marked",
		ArgsUsage: "[RUN...] (run names under runs/ or run folders; default: every run)",
		Flags:     []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print the result as JSON (docs/json.md)"}},
		Action:    compareAction,
	}
}
