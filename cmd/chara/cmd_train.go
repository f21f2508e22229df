package main

import "github.com/urfave/cli/v2"

func newTrainCommand() *cli.Command {
	return &cli.Command{
		Name:   "train",
		Usage:  "train a model on a dataset",
		Action: notBuilt("train"),
	}
}
