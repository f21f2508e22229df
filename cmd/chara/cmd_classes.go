package main

import (
	"flag"
	"fmt"
	"io"
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
				},
				Action: func(c *cli.Context) error {
					return runClassesList(globals(c), c.String("dataset"))
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
					a, err := parseTrailing(c)
					if err != nil {
						return usagef("classes add: %v", err)
					}
					if len(a.args) != 1 {
						return usagef("classes add: want one NAME (quote a name with spaces), got %d arguments", len(a.args))
					}
					return runClassesAdd(globals(c), classesAddOptions{Name: a.args[0], Queries: a.strings("query"), Picture: a.string("picture")})
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
					a, err := parseTrailing(c)
					if err != nil {
						return usagef("classes remove: %v", err)
					}
					if len(a.args) != 1 {
						return usagef("classes remove: want one NAME (quote a name with spaces), got %d arguments", len(a.args))
					}
					return runClassesRemove(globals(c), a.args[0], a.bool("purge"))
				},
			},
		},
	}
}

func runClassesList(g *globalOptions, datasetName string) error {
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

// trailing holds a command's arguments and flags when flags may also follow
// the arguments ("classes add NAME --query SRC=TAGS"): urfave/cli v2 stops
// parsing flags at the first argument, so those are parsed here.
type trailing struct {
	c    *cli.Context
	set  *flag.FlagSet
	args []string
}

func parseTrailing(c *cli.Context) (*trailing, error) {
	set := flag.NewFlagSet(c.Command.Name, flag.ContinueOnError)
	set.SetOutput(io.Discard)
	for _, f := range c.Command.Flags {
		if err := f.Apply(set); err != nil {
			return nil, err
		}
	}
	t := &trailing{c: c, set: set}
	rest := c.Args().Slice()
	for len(rest) > 0 {
		if rest[0] == "--" {
			t.args = append(t.args, rest[1:]...)
			break
		}
		if !strings.HasPrefix(rest[0], "-") || rest[0] == "-" {
			t.args = append(t.args, rest[0])
			rest = rest[1:]
			continue
		}
		if err := set.Parse(rest); err != nil {
			return nil, err
		}
		rest = set.Args()
	}
	return t, nil
}

func (t *trailing) setHere(name string) bool {
	found := false
	t.set.Visit(func(f *flag.Flag) {
		for _, n := range t.names(name) {
			if f.Name == n {
				found = true
			}
		}
	})
	return found
}

func (t *trailing) names(name string) []string {
	for _, f := range t.c.Command.Flags {
		if ns := f.Names(); len(ns) > 0 && ns[0] == name {
			return ns
		}
	}
	return []string{name}
}

func (t *trailing) strings(name string) []string {
	out := append([]string{}, t.c.StringSlice(name)...)
	if t.setHere(name) {
		if v, ok := t.set.Lookup(name).Value.(interface{ Value() []string }); ok {
			out = append(out, v.Value()...)
		}
	}
	return out
}

func (t *trailing) string(name string) string {
	if t.setHere(name) {
		return t.set.Lookup(name).Value.String()
	}
	return t.c.String(name)
}

func (t *trailing) bool(name string) bool {
	if t.setHere(name) {
		return t.set.Lookup(name).Value.String() == "true"
	}
	return t.c.Bool(name)
}
