package main

import "github.com/urfave/cli/v2"

func newRunCommand() *cli.Command {
	return &cli.Command{
		Name:   "run",
		Usage:  "run every stage in order, skipping what has not changed",
		Action: notBuilt("run"),
	}
}
