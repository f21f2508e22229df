package main

import "github.com/urfave/cli/v2"

func newWeightsCommand() *cli.Command {
	return &cli.Command{
		Name:   "weights",
		Usage:  "download and verify pretrained weights",
		Action: notBuilt("weights"),
	}
}
