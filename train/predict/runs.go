package predict

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/chara-dev/chara/manifests"
)

// Run is a trained run found in a workspace.
type Run struct {
	Dir  string
	Card *manifests.RunCard
}

// Runs lists the runs in <workspace>/runs whose run.json reads and whose
// best weights exist, trained on dataset (any dataset if ""), best first:
// finished before unfinished, trained on the dataset's current version
// before older versions, then by best validation accuracy (the test split
// chooses nothing) and newest.
func Runs(workspace, dataset string) ([]Run, error) {
	all, err := manifests.ListRuns(workspace)
	if err != nil {
		return nil, err
	}
	current := ""
	if dataset != "" {
		if dc, err := manifests.ReadCard(manifests.CardPath(manifests.DatasetDir(workspace, dataset))); err == nil {
			current = dc.Version
		}
	}
	var runs []Run
	for _, r := range all {
		if dataset != "" && r.Card.Dataset != dataset {
			continue
		}
		if _, err := os.Stat(filepath.Join(r.Dir, r.Card.BestWeights)); err != nil {
			continue
		}
		runs = append(runs, Run{Dir: r.Dir, Card: r.Card})
	}
	b2i := func(b bool) int {
		if b {
			return 1
		}
		return 0
	}
	sort.SliceStable(runs, func(i, j int) bool {
		a, b := runs[i].Card, runs[j].Card
		if a.Finished != b.Finished {
			return a.Finished
		}
		if ca, cb := b2i(a.DatasetVersion == current), b2i(b.DatasetVersion == current); current != "" && ca != cb {
			return ca > cb
		}
		if a.BestValAcc != b.BestValAcc {
			return a.BestValAcc > b.BestValAcc
		}
		return a.CreatedAt.After(b.CreatedAt)
	})
	return runs, nil
}

// BestRun is the first of Runs: the folder of the best run of dataset.
func BestRun(workspace, dataset string) (string, error) {
	runs, err := Runs(workspace, dataset)
	if err != nil {
		return "", err
	}
	if len(runs) == 0 {
		return "", fmt.Errorf("%w of dataset %q in %s (run \"chara train\")", ErrNoRun, dataset, manifests.RunsDir(workspace))
	}
	return runs[0].Dir, nil
}

// ResolveRun names the run folder for --run: "" is the best run of
// dataset; anything else is resolved by manifests.ResolveRun, as every
// command resolves a run.
func ResolveRun(workspace, dataset, run string) (string, error) {
	if run == "" {
		return BestRun(workspace, dataset)
	}
	dir, err := manifests.ResolveRun(workspace, run)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrNoRun, err)
	}
	return dir, nil
}
