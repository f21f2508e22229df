package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/chara-dev/chara/internal/atomicfile"
	"github.com/chara-dev/chara/internal/config"
	"github.com/chara-dev/chara/internal/stages"
	"github.com/chara-dev/chara/manifests"
	"github.com/chara-dev/chara/train"
)

// The pipeline's stages, in order. Training is one stage per model
// ("train:effnet-b0"), selected as "train".
var pipelineStages = []string{"scrape", "curate", "dataset", "train"}

type runOptions struct {
	Force   []string // stages to rerun even if unchanged
	From    string   // first stage to consider
	Only    string   // the one stage to consider
	Dataset string
	// reportTo receives the final report (default g.Stdout).
	reportTo io.Writer
}

func newRunCommand() *cli.Command {
	return &cli.Command{
		Name:  "run",
		Usage: "run every stage in order, skipping what has not changed",
		Description: "scrape, curate, dataset build and train (the models in train.models), then a report.\n" +
			"Each stage records a fingerprint of its inputs and configuration in .chara/stages.json and is\n" +
			"skipped when nothing changed. Ctrl-C stops cleanly; the next chara run continues.",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "force", Usage: "rerun `STAGE` even if unchanged (scrape, curate, dataset, train); repeatable"},
			&cli.StringFlag{Name: "from", Usage: "start at `STAGE`"},
			&cli.StringFlag{Name: "only", Usage: "run only `STAGE`"},
			&cli.StringFlag{Name: "dataset", Value: "default", Usage: "dataset `NAME`"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usagef("run: unexpected argument %q", c.Args().First())
			}
			return runRun(c.Context, globals(c), runOptions{
				Force: c.StringSlice("force"), From: c.String("from"), Only: c.String("only"), Dataset: c.String("dataset"),
			})
		},
	}
}

func stageIndex(name string) int {
	for i, s := range pipelineStages {
		if s == name {
			return i
		}
	}
	return -1
}

// selectStages turns --from/--only into the set of stages to consider.
func selectStages(o runOptions) (map[string]bool, error) {
	if o.From != "" && o.Only != "" {
		return nil, usagef("run: --from and --only exclude each other")
	}
	sel := map[string]bool{}
	start, end := 0, len(pipelineStages)
	if o.From != "" {
		if start = stageIndex(o.From); start < 0 {
			return nil, usagef("run: --from: unknown stage %q (want %s)", o.From, strings.Join(pipelineStages, ", "))
		}
	}
	if o.Only != "" {
		i := stageIndex(o.Only)
		if i < 0 {
			return nil, usagef("run: --only: unknown stage %q (want %s)", o.Only, strings.Join(pipelineStages, ", "))
		}
		start, end = i, i+1
	}
	for _, s := range pipelineStages[start:end] {
		sel[s] = true
	}
	for _, f := range o.Force {
		if stageIndex(f) < 0 {
			return nil, usagef("run: --force: unknown stage %q (want %s)", f, strings.Join(pipelineStages, ", "))
		}
	}
	return sel, nil
}

func runRun(ctx context.Context, g *globalOptions, o runOptions) error {
	sel, err := selectStages(o)
	if err != nil {
		return err
	}
	if err := manifests.CheckPlainName(o.Dataset); err != nil {
		return usagef("run: --dataset: %v", err)
	}
	cfg, err := g.loadConfig()
	if err != nil {
		return err
	}
	if len(cfg.Classes) < 2 {
		return fmt.Errorf("%s lists %s; a classifier needs at least 2 (chara classes add NAME --query SOURCE=TAGS)", g.ConfigPath, plural(len(cfg.Classes), "class", "classes"))
	}
	st, err := stages.Load(g.Workspace)
	if err != nil {
		return err
	}
	force := map[string]bool{}
	for _, f := range o.Force {
		force[f] = true
	}
	rep := g.reporter()
	step := func(name, inputs string, run func() error) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if st.Fresh(name, inputs) && !force[strings.SplitN(name, ":", 2)[0]] {
			rep.Logf("== %s: unchanged since its last run, skipped (--force %s reruns it)", name, strings.SplitN(name, ":", 2)[0])
			return nil
		}
		rep.Logf("== %s", name)
		start := time.Now()
		if err := run(); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		rep.Logf("== %s done in %s", name, time.Since(start).Round(time.Second))
		return st.Done(name, inputs, time.Now())
	}

	if sel["scrape"] {
		in, err := scrapeFingerprint(cfg)
		if err != nil {
			return err
		}
		if err := step("scrape", in, func() error { return runScrape(ctx, g, scrapeOptions{}) }); err != nil {
			return err
		}
	}
	if sel["curate"] {
		in, err := curateFingerprint(g.Workspace, cfg)
		if err != nil {
			return err
		}
		if err := step("curate", in, func() error { return runCurate(ctx, g, curateOptions{}) }); err != nil {
			return err
		}
	}
	if sel["dataset"] {
		in, err := datasetFingerprint(g.Workspace, cfg, o.Dataset)
		if err != nil {
			return err
		}
		if err := step("dataset", in, func() error {
			return runDatasetBuild(ctx, g, datasetBuildOptions{Name: o.Dataset})
		}); err != nil {
			return err
		}
	}
	if sel["train"] {
		card, err := manifests.ReadCard(filepath.Join(manifests.DatasetDir(g.Workspace, o.Dataset), "dataset.json"))
		if err != nil {
			return fmt.Errorf("train: no dataset %q yet (run the dataset stage): %w", o.Dataset, err)
		}
		for _, model := range cfg.Train.Models {
			in, err := trainFingerprint(cfg, model, card.Version)
			if err != nil {
				return err
			}
			if err := step("train:"+model, in, func() error {
				return trainForRun(ctx, g, cfg, model, o.Dataset, in)
			}); err != nil {
				return err
			}
		}
	}
	w := o.reportTo
	if w == nil {
		w = g.Stdout
	}
	return writeRunReport(w, g.Workspace, cfg, o.Dataset)
}

func scrapeFingerprint(cfg *config.Config) (string, error) {
	h := stages.NewHasher()
	for _, v := range []struct {
		label string
		v     any
	}{{"sources", cfg.Sources}, {"scrape", cfg.Scrape}, {"classes", cfg.Classes}} {
		if err := h.Value(v.label, v.v); err != nil {
			return "", err
		}
	}
	return h.Sum(), nil
}

func curateFingerprint(ws string, cfg *config.Config) (string, error) {
	h := stages.NewHasher()
	if err := h.Value("curate", cfg.Curate); err != nil {
		return "", err
	}
	if err := h.Value("classes", classNames(cfg)); err != nil {
		return "", err
	}
	if err := h.Files(filepath.Join(ws, "raw", "*", "index.jsonl"), manifests.ReviewPath(ws)); err != nil {
		return "", err
	}
	return h.Sum(), nil
}

func datasetFingerprint(ws string, cfg *config.Config, name string) (string, error) {
	h := stages.NewHasher()
	for _, v := range []struct {
		label string
		v     any
	}{{"images", cfg.Images}, {"split", cfg.Split}, {"seed", cfg.Seed}, {"classes", classNames(cfg)}, {"name", name}} {
		if err := h.Value(v.label, v.v); err != nil {
			return "", err
		}
	}
	files, err := manifests.DecisionFiles(ws)
	if err != nil {
		return "", err
	}
	if err := h.Files(files...); err != nil {
		return "", err
	}
	return h.Sum(), nil
}

func trainFingerprint(cfg *config.Config, model, datasetVersion string) (string, error) {
	h := stages.NewHasher()
	for _, v := range []struct {
		label string
		v     any
	}{{"train", cfg.Train}, {"seed", cfg.Seed}, {"model", model}, {"dataset", datasetVersion}} {
		if err := h.Value(v.label, v.v); err != nil {
			return "", err
		}
	}
	return h.Sum(), nil
}

// trainForRun trains one model for chara run. The run's name is derived
// from its fingerprint, so an interrupted training resumes from its last
// checkpoint on the next chara run.
func trainForRun(ctx context.Context, g *globalOptions, cfg *config.Config, model, dataset, fingerprint string) error {
	name := fmt.Sprintf("%s-%s-%s", model, dataset, fingerprint[:8])
	dir := manifests.RunDir(g.Workspace, name)
	resume := false
	if _, err := os.Stat(filepath.Join(dir, "last.json")); err == nil {
		resume = true
	} else if _, err := os.Stat(dir); err == nil {
		// Stopped before its first checkpoint: nothing in it to keep.
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("remove the unfinished run %s: %w", dir, err)
		}
	}
	opts := append(trainConfigOptions(cfg, g),
		train.WithModel(model), train.WithDataset(dataset), train.WithName(name), train.WithResume(resume))
	card, err := train.Run(ctx, g.Workspace, opts...)
	if err != nil {
		return err
	}
	g.reporter().Logf("%s: val accuracy %.1f%% (best epoch %d of %d), test accuracy %.1f%% in %s", model, 100*card.BestValAcc, card.BestEpoch, card.Epochs, 100*card.TestAcc, dir)
	return nil
}

// trainConfigOptions turns chara.yaml's train: section into train options.
func trainConfigOptions(cfg *config.Config, g *globalOptions) []train.Option {
	opts := []train.Option{
		train.WithEpochs(cfg.Train.Epochs),
		train.WithBatchSize(cfg.Train.BatchSize),
		train.WithLR(cfg.Train.LR),
		train.WithPatience(cfg.Train.Patience),
		train.WithSeed(cfg.Seed),
		train.WithDevice(cfg.Train.Device),
		train.WithFreeze(cfg.Train.Freeze, 0),
		train.WithAugment(cfg.Train.Augment),
		train.WithAMP(cfg.Train.AMP),
		train.WithInputAdapt(cfg.Train.InputAdapt),
		train.WithReporter(g.reporter()),
	}
	if cfg.Train.Weights != "" {
		opts = append(opts, train.WithWeights(cfg.Train.Weights))
	}
	return opts
}

// classCounts are one class's numbers through the pipeline.
type classCounts struct {
	Raw      int
	Verdicts map[manifests.Verdict]int
	Dataset  manifests.SplitCounts
}

func gatherCounts(ws string, cfg *config.Config, dataset string) (map[string]*classCounts, *manifests.Card, error) {
	out := map[string]*classCounts{}
	for _, c := range cfg.Classes {
		slug, err := manifests.Slug(c.Name)
		if err != nil {
			return nil, nil, err
		}
		cc := &classCounts{Verdicts: map[manifests.Verdict]int{}}
		raw, err := manifests.ReadRawIndex(manifests.RawIndexPath(ws, slug))
		if err != nil {
			return nil, nil, err
		}
		cc.Raw = len(raw)
		ds, err := manifests.ReadDecisions(manifests.DecisionsPath(ws, slug))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, nil, err
		}
		for _, d := range ds {
			cc.Verdicts[d.Decision]++
		}
		out[c.Name] = cc
	}
	card, err := manifests.ReadCard(filepath.Join(manifests.DatasetDir(ws, dataset), "dataset.json"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, err
	}
	if card != nil {
		for name, n := range card.Counts {
			if cc, ok := out[name]; ok {
				cc.Dataset = n
			}
		}
	}
	return out, card, nil
}

// latestRuns finds, per model, the newest finished run on this dataset
// version (best validation accuracy first), and the finished runs of the
// dataset's older versions (stale, newest first).
func latestRuns(ws, dataset, version string) (current, stale []*manifests.RunCard, err error) {
	paths, err := filepath.Glob(filepath.Join(ws, "runs", "*", "run.json"))
	if err != nil {
		return nil, nil, err
	}
	best := map[string]*manifests.RunCard{}
	for _, p := range paths {
		c, err := manifests.ReadRunCard(p)
		if err != nil {
			continue // a run being written, or a foreign file: not part of the report
		}
		if c.Dataset != dataset || !c.Finished {
			continue
		}
		if c.DatasetVersion != version {
			stale = append(stale, c)
			continue
		}
		if prev, ok := best[c.Model]; !ok || c.CreatedAt.After(prev.CreatedAt) {
			best[c.Model] = c
		}
	}
	for _, c := range best {
		current = append(current, c)
	}
	sort.Slice(current, func(i, j int) bool { return current[i].BestValAcc > current[j].BestValAcc })
	sort.Slice(stale, func(i, j int) bool { return stale[i].CreatedAt.After(stale[j].CreatedAt) })
	return current, stale, nil
}

// writeRunReport prints the final report and keeps a copy in report.md.
func writeRunReport(w io.Writer, ws string, cfg *config.Config, dataset string) error {
	counts, card, err := gatherCounts(ws, cfg, dataset)
	if err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# chara report\n\nPer class, what each stage kept:\n\n```\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "class\traw\tinvalid\tduplicate\tambiguous\tfiltered\trejected\tkept\ttrain\tval\ttest")
	for _, c := range cfg.Classes {
		cc := counts[c.Name]
		v := cc.Verdicts
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", c.Name, cc.Raw,
			v[manifests.Invalid], v[manifests.Duplicate], v[manifests.Ambiguous], v[manifests.Filtered], v[manifests.Rejected], v[manifests.Keep],
			cc.Dataset.Train, cc.Dataset.Val, cc.Dataset.Test)
	}
	tw.Flush()
	fmt.Fprintf(&b, "```\n\n")
	if card == nil {
		fmt.Fprintf(&b, "No dataset %q yet.\n", dataset)
	} else {
		fmt.Fprintf(&b, "Dataset %s (version %s), %s.\n\n", dataset, card.Version, card.Recipe.Describe())
		runs, stale, err := latestRuns(ws, dataset, card.Version)
		if err != nil {
			return err
		}
		if len(runs) == 0 {
			fmt.Fprintf(&b, "No finished training run on this dataset version yet.\n")
		} else {
			fmt.Fprintf(&b, "Models trained on the current version, best validation accuracy first (the test split is scored once per run, on its best weights):\n\n```\n")
			tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "model\tval acc\ttest acc\tbest epoch\tepochs\tdataset\trun")
			for _, r := range runs {
				fmt.Fprintf(tw, "%s\t%.1f%%\t%.1f%%\t%d\t%d\tcurrent\t%s\n", r.Model, 100*r.BestValAcc, 100*r.TestAcc, r.BestEpoch, r.Epochs, manifests.RunDir(ws, r.Name))
			}
			tw.Flush()
			fmt.Fprintf(&b, "```\n\nPlots: runs/<run>/curves.png, confusion.png, top_losses.png, predictions.png;\ndetails in runs/<run>/report.md.\n")
		}
		if len(stale) > 0 {
			fmt.Fprintf(&b, "\nStale runs, trained on older versions of the dataset (their numbers are not comparable with the above):\n\n```\n")
			tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "model\tval acc\ttest acc\tdataset\trun")
			for _, r := range stale {
				fmt.Fprintf(tw, "%s\t%.1f%%\t%.1f%%\tstale (version %s)\t%s\n", r.Model, 100*r.BestValAcc, 100*r.TestAcc, r.DatasetVersion, manifests.RunDir(ws, r.Name))
			}
			tw.Flush()
			fmt.Fprintf(&b, "```\n")
		}
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(ws, "report.md"), []byte(b.String()), 0o644)
}
