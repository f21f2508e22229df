package main

import (
	"github.com/urfave/cli/v2"
)

// newPredictCommand defines "chara predict"; its action needs libtorch and is in
// cmd_predict_torch.go (the light build runs chara-torch instead: torch.go).
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
		Action: predictAction,
	}
}
