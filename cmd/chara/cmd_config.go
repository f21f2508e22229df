package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/chara-dev/chara/internal/config"
	pluralpkg "github.com/chara-dev/chara/internal/plural"
)

func newConfigCommand() *cli.Command {
	return &cli.Command{
		Name:  "config",
		Usage: "show the effective configuration or check chara.yaml",
		Subcommands: []*cli.Command{
			{
				Name:  "show",
				Usage: "print the effective configuration: chara.yaml over every default (credentials redacted)",
				Action: func(c *cli.Context) error {
					if c.NArg() > 0 {
						return usagef("config show: unexpected argument %q", c.Args().First())
					}
					return runConfigShow(globals(c))
				},
			},
			{
				Name:      "check",
				Usage:     "validate chara.yaml (or FILE): exit 0 when it is valid, 1 with the key and line otherwise",
				ArgsUsage: "[FILE]",
				Action: func(c *cli.Context) error {
					if c.NArg() > 1 {
						return usagef("config check: want at most one FILE, got %d", c.NArg())
					}
					g := globals(c)
					path := g.ConfigPath
					if c.NArg() == 1 {
						path = c.Args().First()
					}
					return runConfigCheck(g, path)
				},
			},
		},
	}
}

func runConfigShow(g *globalOptions) error {
	cfg, err := g.loadConfig()
	if err != nil {
		return err
	}
	shown := *cfg
	shown.Sources = map[string]config.Source{}
	for name, s := range cfg.Sources {
		if s.Login != "" {
			s.Login = "REDACTED"
		}
		if s.APIKey != "" {
			s.APIKey = "REDACTED"
		}
		if s.PasswordHash != "" {
			s.PasswordHash = "REDACTED"
		}
		shown.Sources[name] = s
	}
	b, err := config.EffectiveYAML(&shown)
	if err != nil {
		return err
	}
	fmt.Fprintf(g.Stdout, "# effective configuration: %s over the defaults (every key: docs/config.md)\n%s", g.ConfigPath, b)
	return nil
}

func runConfigCheck(g *globalOptions, path string) error {
	cfg, err := config.Load(path)
	if err != nil {
		return err
	}
	fmt.Fprintf(g.Stdout, "%s: valid (%s, %s)\n", path, plural(len(cfg.Classes), "class", "classes"), plural(len(cfg.Sources), "source", "sources"))
	return nil
}

// plural writes "1 file", "2 files".
func plural(n int, one, many string) string { return pluralpkg.Of(n, one, many) }
