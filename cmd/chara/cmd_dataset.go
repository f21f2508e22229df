package main

import "github.com/urfave/cli/v2"

func newDatasetCommand() *cli.Command {
	return &cli.Command{
		Name:   "dataset",
		Usage:  "build, verify and export balanced, leak-free split manifests",
		Action: notBuilt("dataset"),
	}
}
