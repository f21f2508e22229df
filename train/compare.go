package train

import (
	"fmt"
	"io"
	"sort"
	"text/tabwriter"

	"github.com/chara-dev/chara/manifests"
)

// RunSummary is one run in a comparison.
type RunSummary struct {
	Name       string
	Dir        string
	Model      string
	Dataset    string
	TestAcc    float64
	TestLoss   float64
	BestValAcc float64
	BestEpoch  int
	Epochs     int
	Seconds    float64 // training time, summed over metrics.csv
	Finished   bool
	StopReason string
	// Current says whether the run was trained on its dataset's current
	// version (false: stale, or the dataset is gone).
	Current bool
}

// Compare reads the run cards (and metrics) of runs, each a run name under
// runs/ or a run folder path, and returns them as they rank for use:
// trained on the dataset's current version first, then by best
// validation accuracy (the test split chooses nothing).
func Compare(workspace string, runs ...string) ([]RunSummary, error) {
	if len(runs) == 0 {
		return nil, fmt.Errorf("%w: no runs to compare", ErrOptions)
	}
	out := make([]RunSummary, 0, len(runs))
	for _, r := range runs {
		dir, err := manifests.ResolveRun(workspace, r)
		if err != nil {
			return nil, err
		}
		card, err := manifests.ReadRunCard(manifests.RunCardPath(dir))
		if err != nil {
			return nil, fmt.Errorf("run %s: %w", r, err)
		}
		s := RunSummary{Name: card.Name, Dir: dir, Model: card.Model, Dataset: card.Dataset, TestAcc: card.TestAcc,
			TestLoss: card.TestLoss, BestValAcc: card.BestValAcc, BestEpoch: card.BestEpoch, Epochs: card.Epochs,
			Finished: card.Finished, StopReason: card.StopReason}
		if dc, err := manifests.ReadCard(manifests.CardPath(manifests.DatasetDir(workspace, card.Dataset))); err == nil {
			s.Current = dc.Version == card.DatasetVersion
		}
		if hist, err := readMetrics(manifests.MetricsPath(dir)); err == nil {
			for _, h := range hist {
				s.Seconds += h.Seconds
			}
		}
		out = append(out, s)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Current != out[j].Current {
			return out[i].Current
		}
		return out[i].BestValAcc > out[j].BestValAcc
	})
	return out, nil
}

// WriteComparison prints runs side by side, one row per run.
func WriteComparison(w io.Writer, runs []RunSummary) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "BEST VAL ACC\tTEST ACC\tTEST LOSS\tBEST EPOCH\tEPOCHS\tTIME\tMODEL\tDATASET\tVERSION\tRUN\tSTATUS")
	for _, r := range runs {
		status := "finished"
		if !r.Finished {
			status = "stopped"
			if r.StopReason != "" {
				status += ": " + r.StopReason
			}
		}
		version := "stale"
		if r.Current {
			version = "current"
		}
		fmt.Fprintf(tw, "%.4f\t%.4f\t%.4f\t%d\t%d\t%.0fs\t%s\t%s\t%s\t%s\t%s\n", r.BestValAcc, r.TestAcc, r.TestLoss, r.BestEpoch, r.Epochs, r.Seconds, r.Model, r.Dataset, version, r.Name, status)
	}
	return tw.Flush()
}
