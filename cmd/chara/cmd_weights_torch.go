//go:build !chara_notorch

package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"sort"
	"text/tabwriter"

	"github.com/sugarme/gotch"
	"github.com/urfave/cli/v2"

	"github.com/chara-dev/chara/train/models"
	"github.com/chara-dev/chara/train/models/pretrained"
	"github.com/chara-dev/chara/train/torchrt"
)

type weightsFetchOptions struct {
	Model  string
	Dir    string // cache directory; "" for pretrained.DefaultDir()
	URL    string // overrides the catalog's address
	SHA256 string // full expected digest; "" keeps the catalog's check
	Check  bool   // also load the file into the model
}

func weightsFetchAction(c *cli.Context) error {
	if c.NArg() != 1 {
		return usagef("weights fetch: want one MODEL, got %d arguments", c.NArg())
	}
	opts := weightsFetchOptions{Model: c.Args().First(), Dir: c.String("dir"), URL: c.String("url"), SHA256: c.String("sha256"), Check: c.Bool("check")}
	if opts.SHA256 != "" {
		if b, err := hex.DecodeString(opts.SHA256); err != nil || len(b) != 32 {
			return usagef("weights fetch: --sha256: want 64 hex digits")
		}
	}
	return runWeightsFetch(c.Context, globals(c), opts)
}

func weightsListAction(c *cli.Context) error {
	return runWeightsList(globals(c), c.String("dir"))
}

func weightsCheckAction(c *cli.Context) error {
	if c.NArg() != 1 {
		return usagef("weights check: want one FILE, got %d arguments", c.NArg())
	}
	if err := checkWeightsFile(c.Context, c.String("model"), c.Args().First()); err != nil {
		return err
	}
	fmt.Fprintf(globals(c).Stdout, "%s: fits %s\n", c.Args().First(), c.String("model"))
	return nil
}

func weightsFetcher(g *globalOptions, dir string) (*pretrained.Fetcher, error) {
	opts := []pretrained.Option{pretrained.WithReporter(g.reporter())}
	if dir != "" {
		opts = append(opts, pretrained.WithDir(dir))
	}
	return pretrained.NewFetcher(opts...)
}

func runWeightsFetch(ctx context.Context, g *globalOptions, opts weightsFetchOptions) error {
	w, err := pretrained.Lookup(opts.Model)
	if err != nil {
		return usagef("weights fetch: %v", err)
	}
	if opts.URL != "" {
		w.URL = opts.URL
	}
	if opts.SHA256 != "" {
		w.SHA256 = opts.SHA256
	}
	f, err := weightsFetcher(g, opts.Dir)
	if err != nil {
		return err
	}
	path, err := f.Fetch(ctx, w)
	if err != nil {
		return err
	}
	if opts.Check {
		if err := checkWeightsFile(ctx, opts.Model, path); err != nil {
			return err
		}
	}
	fmt.Fprintln(g.Stdout, path)
	return nil
}

// checkWeightsFile loads path into a freshly built model.
func checkWeightsFile(ctx context.Context, model, path string) error {
	th := torchrt.NewThread(0)
	defer th.Close()
	return th.Do(ctx, func() error {
		m, err := models.New(model, 2, gotch.CPU, models.WithInputSize(64, 64))
		if err != nil {
			return err
		}
		return models.LoadTorchvisionWeights(m, path)
	})
}

func runWeightsList(g *globalOptions, dir string) error {
	f, err := weightsFetcher(g, dir)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(pretrained.Catalog))
	for n := range pretrained.Catalog {
		names = append(names, n)
	}
	sort.Strings(names)
	tw := tabwriter.NewWriter(g.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MODEL\tCACHED\tFILE\tWEIGHTS")
	for _, n := range names {
		w := pretrained.Catalog[n]
		path, ok := f.Cached(w)
		state := "no"
		if ok {
			state = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", n, state, path, w.Description)
	}
	return tw.Flush()
}
