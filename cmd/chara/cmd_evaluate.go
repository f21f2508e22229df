package main

import (
	"github.com/urfave/cli/v2"
)

// newEvaluateCommand defines "chara evaluate"; its action needs libtorch and is in
// cmd_evaluate_torch.go (the light build runs chara-torch instead: torch.go).
func newEvaluateCommand() *cli.Command {
	return &cli.Command{
		Name:      "evaluate",
		Usage:     "score a run on a split of its dataset or on a folder of labelled images, with the test report",
		ArgsUsage: "RUN [--split val|test | DIR]",
		Description: "RUN is a run name under runs/ or a run folder. --split scores the val or test split of the run's " +
			"dataset (default test); DIR scores a folder with one sub-folder per class, named as the class or its " +
			"folder name (slug). The report (confusion.png/.csv, per_class.csv, top_losses.png, report.md) goes to " +
			"runs/RUN/evaluate/SPLIT or runs/RUN/evaluate/DIRNAME unless --out is given.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "split", Usage: "val or test (default test, when no DIR is given)"},
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "report `DIR`"},
			&cli.StringFlag{Name: "device", Value: "auto", Usage: "auto, cpu, cuda or cuda:N"},
			&cli.BoolFlag{Name: "json", Usage: "print the scores as JSON (docs/json.md)"},
		},
		Action: evaluateAction,
	}
}
