package pipeline

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/chara-dev/chara/internal/atomicfile"
	"github.com/chara-dev/chara/internal/config"
	"github.com/chara-dev/chara/manifests"
)

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
	card, err := manifests.ReadCard(manifests.CardPath(manifests.DatasetDir(ws, dataset)))
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
	all, err := manifests.ListRuns(ws)
	if err != nil {
		return nil, nil, err
	}
	best := map[string]*manifests.RunCard{}
	for _, r := range all {
		c := r.Card
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

// WriteReport prints chara run's final report to w and keeps a copy in
// the workspace's report.md: per class what each stage kept, the dataset's
// recipe, the models trained on the dataset's current version (best
// validation accuracy first) and the stale runs of its older versions.
func WriteReport(w io.Writer, ws string, cfg *config.Config, dataset string) error {
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
	// A kill inside the last run's write of report.md left its temp file
	// in the workspace's root, which no other cleaning reaches.
	if _, err := atomicfile.CleanTempOf(manifests.ReportPath(ws)); err != nil {
		return err
	}
	return atomicfile.WriteFile(manifests.ReportPath(ws), []byte(b.String()), 0o644)
}
