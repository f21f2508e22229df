//go:build !chara_notorch

package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/chara-dev/chara/internal/atomicfile"
	"github.com/chara-dev/chara/internal/demosite"
	"github.com/chara-dev/chara/internal/synth"
	"github.com/chara-dev/chara/manifests"
)

type demoOptions struct {
	Dir      string
	PerClass int
	Seed     int64
	Sizes    demosite.Sizes
}

func demoAction(c *cli.Context) error {
	if c.NArg() > 0 {
		return usagef("demo: unexpected argument %q", c.Args().First())
	}
	sz := demosite.DefaultSizes
	sz.Candidates, sz.PerClass, sz.Epochs, sz.Models = c.Int("candidates"), c.Int("images"), c.Int("epochs"), c.String("models")
	return runDemo(c.Context, globals(c), demoOptions{Dir: c.String("dir"), PerClass: c.Int("per-class"), Seed: c.Int64("seed"), Sizes: sz})
}

func runDemo(ctx context.Context, g *globalOptions, o demoOptions) error {
	if o.PerClass < 8 {
		return usagef("demo: --per-class must be at least 8")
	}
	site := demosite.New(o.Seed, o.PerClass)
	rep := g.reporter()
	rep.Logf("demo: generating %d pictures per character and serving them on 127.0.0.1", o.PerClass)
	baseURL, stop, err := site.Start(ctx)
	if err != nil {
		return err
	}
	defer stop()
	corpus, err := site.Build(ctx)
	if err != nil {
		return err
	}
	dg := *g
	dg.Workspace = o.Dir
	dg.ConfigPath = manifests.ConfigPath(o.Dir)
	if err := atomicfile.WriteFile(dg.ConfigPath, []byte(site.Config(baseURL, o.Sizes)), 0o644); err != nil {
		return err
	}
	rep.Logf("demo: workspace %s, site %s", o.Dir, baseURL)
	start := time.Now()
	if err := runRun(ctx, &dg, runOptions{Dataset: "default", train: trainForRun}); err != nil {
		return err
	}
	if err := writeDemoCheck(&dg, corpus); err != nil {
		return err
	}
	fmt.Fprintf(g.Stdout, "\nThe demo took %s. Look at the classifier with:\n  chara --workspace %s serve\nand open http://127.0.0.1:8080\n",
		time.Since(start).Round(time.Second), o.Dir)
	return nil
}

// writeDemoCheck compares curation's decisions with the site's ground
// truth: what was planted, what scrape refused, what curation removed.
func writeDemoCheck(g *globalOptions, corpus *synth.Corpus) error {
	cfg, err := g.loadConfig()
	if err != nil {
		return err
	}
	type tally struct{ planted, fetched, removed, ambiguous int }
	var dup, broken, off tally
	for _, c := range cfg.Classes {
		slug, err := manifests.Slug(c.Name)
		if err != nil {
			return err
		}
		raw, err := manifests.ReadRawIndex(manifests.RawIndexPath(g.Workspace, slug))
		if err != nil {
			return err
		}
		ds, err := manifests.ReadDecisions(manifests.DecisionsPath(g.Workspace, slug))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		verdict := map[string]manifests.Verdict{}
		for _, d := range ds {
			verdict[d.SHA256] = d.Decision
		}
		for _, r := range raw {
			id, err := strconv.Atoi(r.PostID)
			if err != nil {
				continue
			}
			it, ok := corpus.ByID(id)
			if !ok {
				continue
			}
			v := verdict[r.SHA256]
			switch it.Kind {
			case synth.KindDuplicate:
				dup.fetched++
				switch v {
				case manifests.Duplicate:
					dup.removed++
				case manifests.Ambiguous: // its group reached another class
					dup.ambiguous++
				}
			case synth.KindBroken:
				broken.fetched++
				if v == manifests.Invalid {
					broken.removed++
				}
			case synth.KindOffTopic:
				off.fetched++
				if v != manifests.Keep {
					off.removed++
				}
			}
		}
	}
	for _, it := range corpus.Items {
		switch it.Kind {
		case synth.KindDuplicate:
			dup.planted++
		case synth.KindBroken:
			broken.planted++
		case synth.KindOffTopic:
			off.planted++
		}
	}
	// A table within 80 columns; the notes under it.
	fmt.Fprintf(g.Stdout, "\nPlanted problems (the demo site's ground truth):\n")
	tw := tabwriter.NewWriter(g.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\tplanted\tdownloaded\tremoved\tambiguous\tkept\t")
	fmt.Fprintf(tw, "near-duplicates\t%d\t%d\t%d\t%d\t%d\t\n", dup.planted, dup.fetched, dup.removed, dup.ambiguous, dup.fetched-dup.removed-dup.ambiguous)
	fmt.Fprintf(tw, "broken files\t%d\t%d\t%d\t-\t%d\t\n", broken.planted, broken.fetched, broken.removed, broken.fetched-broken.removed)
	fmt.Fprintf(tw, "off-topic\t%d\t%d\t%d\t-\t%d\t\n", off.planted, off.fetched, off.removed, off.fetched-off.removed)
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprint(g.Stdout, wrap("Removed: near-duplicates by curation as duplicates (ambiguous: in a group that reached another class); "+
		"broken files by curation as invalid (scrape already refuses HTML and empty files). Curation leaves off-topic "+
		"pictures to chara review.", 80, ""))
	return nil
}
