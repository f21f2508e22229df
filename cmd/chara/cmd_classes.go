package main

import (
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/chara-dev/chara/dataset"
	"github.com/chara-dev/chara/internal/config"
	"github.com/chara-dev/chara/manifests"
)

func newClassesCommand() *cli.Command {
	return &cli.Command{
		Name:  "classes",
		Usage: "list, add and remove classes",
		Subcommands: []*cli.Command{
			{
				Name:  "list",
				Usage: "list the classes with their image counts per stage",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "dataset", Value: "default", Usage: "dataset `NAME` whose counts to show"},
					&cli.BoolFlag{Name: "json", Usage: "print the result as JSON (docs/json.md)"},
				},
				Action: func(c *cli.Context) error {
					return runClassesList(globals(c), c.String("dataset"), c.Bool("json"))
				},
			},
			{
				Name:      "add",
				Usage:     "add a class to chara.yaml (comments and order kept)",
				ArgsUsage: "NAME",
				Flags: []cli.Flag{
					&cli.StringSliceFlag{Name: "query", Aliases: []string{"q"}, Usage: "`SOURCE=TAGS`, e.g. danbooru=\"nakano_ichika solo\" (repeatable)"},
					&cli.StringFlag{Name: "picture", Usage: "a representative picture `FILE` (optional)"},
				},
				Action: func(c *cli.Context) error {
					if c.NArg() != 1 {
						return usagef("classes add: want one NAME (quote a name with spaces), got %d arguments", c.NArg())
					}
					return runClassesAdd(globals(c), classesAddOptions{Name: c.Args().First(), Queries: c.StringSlice("query"), Picture: c.String("picture")})
				},
			},
			{
				Name:      "remove",
				Usage:     "remove a class from chara.yaml (its images stay on disk unless --purge)",
				ArgsUsage: "NAME",
				Flags: []cli.Flag{
					&cli.BoolFlag{Name: "purge", Usage: "also delete its raw images and curation decisions"},
				},
				Action: func(c *cli.Context) error {
					if c.NArg() != 1 {
						return usagef("classes remove: want one NAME (quote a name with spaces), got %d arguments", c.NArg())
					}
					return runClassesRemove(globals(c), c.Args().First(), c.Bool("purge"))
				},
			},
		},
	}
}

func runClassesList(g *globalOptions, datasetName string, asJSON bool) error {
	if err := manifests.CheckPlainName(datasetName); err != nil {
		return usagef("classes list: --dataset: %v", err)
	}
	cfg, err := g.loadConfig()
	if err != nil {
		return err
	}
	counts, err := dataset.ClassCounts(g.Workspace, datasetName, classNames(cfg))
	if err != nil {
		return err
	}
	if asJSON {
		out := []classJSON{}
		for _, c := range counts {
			out = append(out, classJSON{Name: c.Name, Slug: c.Slug, Listed: c.Listed, Raw: c.Raw, Curated: c.Decided,
				Kept: c.Kept, Dataset: splitCounts(c.InDataset)})
		}
		return writeJSON(g.Stdout, out)
	}
	tw := tabwriter.NewWriter(g.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "name\tslug\traw\tcurated\tkept\ttrain\tval\ttest\t")
	for _, c := range counts {
		name := c.Name
		if !c.Listed {
			name += " (not in chara.yaml)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t\n", name, c.Slug, c.Raw, c.Decided, c.Kept,
			c.InDataset.Train, c.InDataset.Val, c.InDataset.Test)
	}
	return tw.Flush()
}

type classesAddOptions struct {
	Name    string
	Queries []string // SOURCE=TAGS
	Picture string
}

func runClassesAdd(g *globalOptions, o classesAddOptions) error {
	name := strings.TrimSpace(o.Name)
	if _, err := manifests.Slug(name); err != nil {
		return usagef("classes add: %v", err)
	}
	cl := config.Class{Name: name, Queries: map[string]string{}, Picture: o.Picture}
	for _, q := range o.Queries {
		src, tags, ok := strings.Cut(q, "=")
		src, tags = strings.TrimSpace(src), strings.TrimSpace(tags)
		if !ok || src == "" || tags == "" {
			return usagef("classes add: --query %q: want SOURCE=TAGS", q)
		}
		if _, dup := cl.Queries[src]; dup {
			return usagef("classes add: two queries for source %q", src)
		}
		cl.Queries[src] = tags
	}
	if cfg, err := g.loadConfig(); err == nil {
		for src := range cl.Queries {
			if _, ok := cfg.Sources[src]; !ok {
				return usagef("classes add: --query %s=...: no source named %q under sources in %s (%s)", src, src, g.ConfigPath, strings.Join(sortedKeys(cfg.Sources), ", "))
			}
		}
	}
	if err := config.AddClass(g.ConfigPath, cl); err != nil {
		return err
	}
	slug, _ := manifests.Slug(name)
	fmt.Fprintf(g.Stdout, "added %q (folder %s) to %s; \"chara run\" scrapes, curates and adds it (existing splits stay as they are)\n",
		name, slug, g.ConfigPath)
	return nil
}

func runClassesRemove(g *globalOptions, name string, purge bool) error {
	if err := config.RemoveClass(g.ConfigPath, name); err != nil {
		return err
	}
	fmt.Fprintf(g.Stdout, "removed %q from %s\n", name, g.ConfigPath)
	if !purge {
		fmt.Fprintln(g.Stdout, "its raw images and decisions stay on disk (--purge deletes them); the next dataset build drops it")
		return nil
	}
	removed, err := dataset.PurgeClass(g.Workspace, name)
	for _, p := range removed {
		fmt.Fprintf(g.Stdout, "deleted %s\n", p)
	}
	return err
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
