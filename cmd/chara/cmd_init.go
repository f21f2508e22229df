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
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "replace an existing chara.yaml (kept as chara.yaml.bak, .bak.2, ...)"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usagef("init: unexpected argument %q", c.Args().First())
			}
			return runInit(globals(c), c.Bool("force"))
		},
	}
}

func runInit(g *globalOptions, force bool) error {
	if err := os.MkdirAll(filepath.Dir(g.ConfigPath), 0o755); err != nil {
		return err
	}
	if force {
		backup, err := config.ReplaceWithTemplate(g.ConfigPath)
		if err != nil {
			return err
		}
		if backup != "" {
			fmt.Fprintf(g.Stdout, "kept the old %s as %s\n", g.ConfigPath, backup)
		}
	} else if err := config.WriteTemplate(g.ConfigPath); err != nil {
		if errors.Is(err, config.ErrExists) {
			return fmt.Errorf("%w; refusing to overwrite it (chara init --force replaces it and keeps a backup)", err)
		}
		return err
	}
	fmt.Fprintf(g.Stdout, "wrote %s: five classes (the Nakano sisters) from danbooru, safebooru and yande.re\n", g.ConfigPath)
	fmt.Fprintln(g.Stdout, "next: edit it if you like, then \"chara run\"")
	return nil
}
