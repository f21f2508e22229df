package main

import "github.com/urfave/cli/v2"

func newPredictCommand() *cli.Command {
	return &cli.Command{
		Name:   "predict",
		Usage:  "predict the character in images",
		Action: notBuilt("predict"),
	}
}
