package main

import (
	"github.com/urfave/cli/v2"
)

// newRunCommand defines "chara run"; its action needs libtorch and is in
// cmd_run_torch.go (the light build runs chara-torch instead: torch.go).
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
