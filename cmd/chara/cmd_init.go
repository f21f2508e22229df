package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/chara-dev/chara/internal/config"
)

func newInitCommand() *cli.Command {
	return &cli.Command{
		Name:  "init",
		Usage: "write a commented chara.yaml for a new workspace (the five Nakano sisters)",
		Action: func(c *cli.Context) error {
			return runInit(globals(c))
		},
	}
}

func runInit(g *globalOptions) error {
	if err := os.MkdirAll(filepath.Dir(g.ConfigPath), 0o755); err != nil {
		return err
	}
	if err := config.WriteTemplate(g.ConfigPath); err != nil {
		if errors.Is(err, config.ErrExists) {
			return fmt.Errorf("%w; refusing to overwrite it", err)
		}
		return err
	}
	fmt.Fprintf(g.Stdout, "wrote %s: five classes (the Nakano sisters) from danbooru, safebooru and yande.re\n", g.ConfigPath)
	fmt.Fprintln(g.Stdout, "next: edit it if you like, then \"chara run\"")
	return nil
}
