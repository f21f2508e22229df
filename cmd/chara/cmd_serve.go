package main

import "github.com/urfave/cli/v2"

func newServeCommand() *cli.Command {
	return &cli.Command{
		Name:   "serve",
		Usage:  "serve a prediction web page",
		Action: notBuilt("serve"),
	}
}
