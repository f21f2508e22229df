package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/urfave/cli/v2"

	"github.com/chara-dev/chara/scrape"
)

// collectOptions are the flags of chara collect.
type collectOptions struct {
	From []string
	JSON bool
}

func newCollectCommand() *cli.Command {
	return &cli.Command{
		Name:      "collect",
		Usage:     "gather the files of a shared crawl's workers into this workspace",
		ArgsUsage: "WORKSPACE...",
		Description: "After a crawl shared through scrape.redis, each worker's workspace holds part of the job.\n" +
			"collect copies every worker's raw files into this workspace (-w), checking each file's sha256,\n" +
			"with its index record (source, post id, url, md5, size, rating, tags) and its archive entries;\n" +
			"a file this workspace has already is skipped, so collect can be rerun. Then curate, build the\n" +
			"dataset and train here as usual: one dataset from the whole crawl. Copy or mount the workers'\n" +
			"workspaces first (rsync -a worker:ws/raw worker:ws/archive.db ...).",
		Flags: []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print the summary as JSON"}},
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return usagef("collect: name the workers' workspaces: chara collect WORKSPACE...")
			}
			return runCollect(c.Context, globals(c), collectOptions{From: c.Args().Slice(), JSON: c.Bool("json")})
		},
	}
}

func runCollect(ctx context.Context, g *globalOptions, opts collectOptions) error {
	sum, err := scrape.Collect(ctx, g.Workspace, opts.From)
	if sum != nil && (err == nil || sum.Added > 0) {
		if opts.JSON {
			enc := json.NewEncoder(g.Stdout)
			enc.SetIndent("", "  ")
			if werr := enc.Encode(sum); werr != nil {
				return werr
			}
		} else {
			slugs := make([]string, 0, len(sum.PerClass))
			for s := range sum.PerClass {
				slugs = append(slugs, s)
			}
			sort.Strings(slugs)
			for _, s := range slugs {
				fmt.Fprintf(g.Stdout, "%s\t+%d\n", s, sum.PerClass[s])
			}
			fmt.Fprintf(g.Stdout, "collected %d files from %d workspaces into %s (%d already here, %d archive entries merged)\n",
				sum.Added, sum.Workspaces, g.Workspace, sum.Duplicates, sum.Archive)
			for _, c := range sum.Corrupt {
				fmt.Fprintf(g.Stdout, "skipped %s: its content does not match its sha256\n", c)
			}
		}
	}
	if err != nil {
		return err
	}
	if len(sum.Corrupt) > 0 {
		return &exitCodeError{code: exitFailure, err: fmt.Errorf("collect: %d files skipped: content does not match the sha256", len(sum.Corrupt))}
	}
	return nil
}
