package main

import (
	"fmt"
	"runtime"

	"github.com/urfave/cli/v2"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

func newVersionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print the version",
		Action: func(c *cli.Context) error {
			fmt.Fprintf(globals(c).Stdout, "chara %s (%s, %s/%s)\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			if note := torchNote(); note != "" {
				fmt.Fprintln(globals(c).Stdout, note)
			}
			return nil
		},
	}
}
