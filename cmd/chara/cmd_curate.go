package main

import "github.com/urfave/cli/v2"

func newCurateCommand() *cli.Command {
	return &cli.Command{
		Name:   "curate",
		Usage:  "validate, deduplicate and filter the raw images",
		Action: notBuilt("curate"),
	}
}
