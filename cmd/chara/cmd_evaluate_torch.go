//go:build !chara_notorch

package main

import (
	"context"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/urfave/cli/v2"

	"github.com/chara-dev/chara/manifests"
	"github.com/chara-dev/chara/train"
	"github.com/chara-dev/chara/train/predict"
)

type evaluateOptions struct {
	Run, Split, Dir, Out, Device string
	JSON                         bool
}

func evaluateAction(c *cli.Context) error {
	o := evaluateOptions{Run: c.Args().Get(0), Dir: c.Args().Get(1), Split: c.String("split"), Out: c.String("out"),
		Device: c.String("device"), JSON: c.Bool("json")}
	switch {
	case c.NArg() == 0:
		return usagef("evaluate: give a RUN (see chara compare)")
	case c.NArg() > 2:
		return usagef("evaluate: want RUN and at most one DIR, got %d arguments", c.NArg())
	case o.Dir != "" && o.Split != "":
		return usagef("evaluate: give --split or a DIR, not both")
	case o.Split != "" && o.Split != "val" && o.Split != "test":
		return usagef("evaluate: --split %q: want val or test", o.Split)
	}
	if o.Dir == "" && o.Split == "" {
		o.Split = "test"
	}
	return runEvaluate(c.Context, globals(c), o)
}

func runEvaluate(ctx context.Context, g *globalOptions, o evaluateOptions) error {
	dev, err := train.ParseDevice(o.Device)
	if err != nil {
		return usagef("evaluate: --device: %v", err)
	}
	dir, err := predict.ResolveRun(g.Workspace, "", o.Run)
	if err != nil {
		return err
	}
	p, err := predict.Load(dir, predict.WithDevice(dev))
	if err != nil {
		return err
	}
	defer p.Close()
	card := p.Card()
	names := make([]string, len(card.Classes))
	for i, c := range card.Classes {
		names[i] = c.Name
	}
	var files []string
	var labels []int
	on := o.Split
	if o.Dir != "" {
		if files, labels, err = labelledFolder(o.Dir, card.Classes); err != nil {
			return err
		}
		on = filepath.Base(filepath.Clean(o.Dir))
	} else {
		ddir := manifests.DatasetDir(g.Workspace, card.Dataset)
		ds, err := manifests.ReadDataset(ddir)
		if err != nil {
			return fmt.Errorf("evaluate: the run's dataset: %w", err)
		}
		if ds.Card != nil && card.DatasetVersion != "" && ds.Card.Version != card.DatasetVersion {
			fmt.Fprintf(g.Stderr, "chara: evaluate: warning: dataset %s changed since %s was trained (version %s, now %s): its %s split may hold training images\n",
				card.Dataset, card.Name, card.DatasetVersion, ds.Card.Version, o.Split)
		}
		for _, r := range ds.Rows[manifests.Split(o.Split)] {
			files = append(files, filepath.Join(ddir, filepath.FromSlash(r.Path)))
			labels = append(labels, r.Label)
		}
	}
	if len(files) == 0 {
		return fmt.Errorf("evaluate: no images to score in %s", on)
	}
	out := o.Out
	if out == "" {
		if err := manifests.CheckPlainName(on); err != nil {
			return usagef("evaluate: name the report folder with --out (%v)", err)
		}
		out = filepath.Join(dir, "evaluate", on)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	task := g.reporter().Start("evaluate "+on, int64(len(files)))
	items := make([]train.EvalItem, len(files))
	errs := make([]error, len(files))
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				items[i] = train.EvalItem{Path: files[i], Label: labels[i]}
				b, err := os.ReadFile(files[i])
				if err == nil {
					var img *image.NRGBA
					if img, err = p.Load(b); err == nil {
						items[i].Probs, err = p.Probabilities(ctx, img)
					}
				}
				errs[i] = err
				task.Add(1)
			}
		}()
	}
	for i := range files {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	task.Done()
	if err := ctx.Err(); err != nil {
		return err
	}
	var scored []train.EvalItem
	var failed []string
	for i, err := range errs {
		if err != nil {
			failed = append(failed, files[i])
			fmt.Fprintf(g.Stderr, "chara: evaluate: %s: %v\n", files[i], err)
			continue
		}
		scored = append(scored, items[i])
	}
	res, err := train.WriteEvaluation(out, card.Name, on, names, scored, func(i int) (image.Image, error) {
		b, err := os.ReadFile(scored[i].Path)
		if err != nil {
			return nil, err
		}
		return p.Load(b)
	})
	if err != nil {
		return err
	}
	res.Failed = append(res.Failed, failed...)
	if o.JSON {
		err = writeJSON(g.Stdout, res)
	} else {
		fmt.Fprintf(g.Stdout, "%s on %s: accuracy %.4f, loss %.4f (%s)\nreport: %s\n", card.Name, on, res.Accuracy, res.Loss,
			plural(res.N, "image", "images"), manifests.RunReportPath(out))
	}
	if err == nil && len(failed) > 0 {
		return &exitCodeError{code: exitFailure, err: fmt.Errorf("evaluate: %s could not be read", plural(len(failed), "file", "files"))}
	}
	return err
}

// labelledFolder lists the images of DIR/<class>/..., one sub-folder per
// class named as the class or its slug. A sub-folder that names no class
// of the run is an error (a typo would silently drop its images).
func labelledFolder(dir string, classes []manifests.Class) ([]string, []int, error) {
	byName := map[string]int{}
	for _, c := range classes {
		byName[c.Name] = c.Label
		byName[c.Slug] = c.Label
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, err
	}
	var files []string
	var labels []int
	for _, e := range ents {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		label, ok := byName[e.Name()]
		if !ok {
			known := make([]string, 0, len(classes))
			for _, c := range classes {
				known = append(known, c.Slug)
			}
			sort.Strings(known)
			return nil, nil, fmt.Errorf("evaluate: %s: no class of the run is called %q (want one of %s)", dir, e.Name(), strings.Join(known, ", "))
		}
		in, _, err := predict.Expand([]string{filepath.Join(dir, e.Name())})
		if err != nil {
			return nil, nil, err
		}
		for _, f := range in {
			files = append(files, f.Path)
			labels = append(labels, label)
		}
	}
	if len(files) == 0 {
		return nil, nil, fmt.Errorf("evaluate: %s: no images in class folders (want %s/<class>/*.jpg ...)", dir, dir)
	}
	return files, labels, nil
}
