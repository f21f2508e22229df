package main

import "github.com/urfave/cli/v2"

func newDemoCommand() *cli.Command {
	return &cli.Command{
		Name:   "demo",
		Usage:  "run the whole pipeline on a built-in local demo site",
		Action: notBuilt("demo"),
	}
}
