package main

import "github.com/urfave/cli/v2"

func newClassesCommand() *cli.Command {
	return &cli.Command{
		Name:   "classes",
		Usage:  "list, add and remove classes",
		Action: notBuilt("classes"),
	}
}
