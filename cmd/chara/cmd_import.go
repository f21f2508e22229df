package main

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/chara-dev/chara/curate"
	"github.com/chara-dev/chara/manifests"
)

type importOptions struct {
	Dir   string
	Class string
	JSON  bool
}

func newImportCommand() *cli.Command {
	return &cli.Command{
		Name:      "import",
		Usage:     "add a folder of existing images to a class",
		ArgsUsage: "DIR",
		Description: "Copies every image under DIR (recursively) into raw/<class>/ as source \"local\", " +
			"so that \"chara curate\" treats it like scraped images. Files already imported are skipped.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "class", Usage: "class `NAME` as written in chara.yaml (required)"},
			&cli.BoolFlag{Name: "json", Usage: "print the result as JSON (docs/json.md)"},
		},
		Action: func(c *cli.Context) error {
			opts := importOptions{Class: c.String("class"), Dir: c.Args().First(), JSON: c.Bool("json")}
			if c.NArg() > 1 {
				return usagef("import: unexpected argument %q (want DIR --class NAME)", c.Args().Get(1))
			}
			if opts.Dir == "" || opts.Class == "" {
				return usagef("import: want DIR and --class NAME")
			}
			return runImport(c.Context, globals(c), opts)
		},
	}
}

func runImport(ctx context.Context, g *globalOptions, opts importOptions) error {
	cfg, err := g.loadConfig()
	if err != nil {
		return err
	}
	cl, ok := cfg.ClassByName(opts.Class)
	if !ok {
		return usagef("import: class %q is not in %s; add it under classes: first", opts.Class, g.ConfigPath)
	}
	opts.Class = cl.Name // as chara.yaml spells it (NFC)
	n, err := curate.Import(ctx, g.Workspace, opts.Class, opts.Dir, curate.FromConfig(cfg.Curate), curate.WithReporter(g.reporter()))
	if err != nil {
		return err
	}
	if opts.JSON {
		slug, _ := manifests.Slug(opts.Class)
		return writeJSON(g.Stdout, importJSON{Class: opts.Class, Slug: slug, Dir: opts.Dir, Imported: n})
	}
	fmt.Fprintf(g.Stdout, "imported %s into %s\n", plural(n, "new image", "new images"), opts.Class)
	return nil
}
