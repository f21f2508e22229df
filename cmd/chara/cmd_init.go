package main

import "github.com/urfave/cli/v2"

func newInitCommand() *cli.Command {
	return &cli.Command{
		Name:   "init",
		Usage:  "write a commented chara.yaml for a new workspace",
		Action: notBuilt("init"),
	}
}
