package main

import "github.com/urfave/cli/v2"

func newImportCommand() *cli.Command {
	return &cli.Command{
		Name:   "import",
		Usage:  "add a folder of existing images to a class",
		Action: notBuilt("import"),
	}
}
