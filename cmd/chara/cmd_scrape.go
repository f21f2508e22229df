package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/chara-dev/chara/scrape"
)

// scrapeOptions are the flags of chara scrape.
type scrapeOptions struct {
	Class  string
	DryRun bool
	JSON   bool
}

func newScrapeCommand() *cli.Command {
	return &cli.Command{
		Name:  "scrape",
		Usage: "collect candidate images per class from the configured sources",
		Description: "Searches every source with each class's query and downloads candidates into raw/<class>/\n" +
			"until the class has scrape.candidates files. Files already handled (archive.db, curated/) are\n" +
			"never fetched again. Credentials: CHARA_<SOURCE>_LOGIN and CHARA_<SOURCE>_API_KEY.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "class", Usage: "scrape only the class `NAME`"},
			&cli.BoolFlag{Name: "dry-run", Usage: "list what would be fetched; download and write nothing"},
			&cli.BoolFlag{Name: "json", Usage: "print the summary as JSON"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usagef("scrape: unexpected argument %q", c.Args().First())
			}
			return runScrape(c.Context, globals(c), scrapeOptions{
				Class: c.String("class"), DryRun: c.Bool("dry-run"), JSON: c.Bool("json"),
			})
		},
	}
}

func runScrape(ctx context.Context, g *globalOptions, opts scrapeOptions) error {
	cfg, err := g.loadConfig()
	if err != nil {
		return err
	}
	if opts.Class != "" {
		if _, ok := cfg.ClassByName(opts.Class); !ok {
			return usagef("scrape: --class: no class named %q in %s", opts.Class, g.ConfigPath)
		}
	}
	sopts := []scrape.Option{
		scrape.WithUserAgent(fmt.Sprintf("chara/%s (+https://github.com/chara-dev/chara)", version)),
	}
	sopts = append(sopts, scrape.ConfigOptions(cfg, os.Getenv)...) // scrape.user_agent wins
	sopts = append(sopts, scrape.WithReporter(g.reporter()), scrape.WithDryRun(opts.DryRun))
	if opts.Class != "" {
		sopts = append(sopts, scrape.WithOnlyClass(opts.Class))
	}
	sum, err := scrape.New(g.Workspace, sopts...).Run(ctx)
	if sum != nil && (err == nil || len(sum.Classes) > 0) {
		if opts.JSON {
			enc := json.NewEncoder(g.Stdout)
			enc.SetIndent("", "  ")
			if werr := enc.Encode(sum); werr != nil {
				return werr
			}
		} else {
			if opts.DryRun {
				for _, c := range sum.Classes {
					for _, s := range c.Sources {
						for _, p := range s.Planned {
							fmt.Fprintf(g.Stdout, "%s\t%s\t%s\t%s\n", c.Class, s.Source, p.PostID, p.URL)
						}
					}
				}
			}
			if werr := sum.WriteTable(g.Stdout); werr != nil {
				return werr
			}
		}
	}
	if err != nil {
		return err
	}
	if errs := sum.Errors(); len(errs) > 0 {
		return &exitCodeError{code: exitFailure, err: fmt.Errorf("scrape: %d source(s) stopped early (see the table)", len(errs))}
	}
	return nil
}
