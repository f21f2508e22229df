package main

import "github.com/urfave/cli/v2"

func newCompareCommand() *cli.Command {
	return &cli.Command{
		Name:   "compare",
		Usage:  "compare training runs side by side",
		Action: notBuilt("compare"),
	}
}
