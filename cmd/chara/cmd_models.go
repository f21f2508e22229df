package main

import "github.com/urfave/cli/v2"

func newModelsCommand() *cli.Command {
	return &cli.Command{
		Name:   "models",
		Usage:  "show the models' layers and parameter counts",
		Action: notBuilt("models"),
	}
}
