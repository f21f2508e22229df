package predict

import (
	"errors"
	"fmt"
	"io/fs"
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
	root := filepath.Join(workspace, "runs")
	ents, err := os.ReadDir(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	current := ""
	if dataset != "" {
		if dc, err := manifests.ReadCard(filepath.Join(manifests.DatasetDir(workspace, dataset), "dataset.json")); err == nil {
			current = dc.Version
		}
	}
	var runs []Run
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(root, e.Name())
		card, err := manifests.ReadRunCard(filepath.Join(dir, RunFile))
		if err != nil {
			continue
		}
		if dataset != "" && card.Dataset != dataset {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, card.BestWeights)); err != nil {
			continue
		}
		runs = append(runs, Run{Dir: dir, Card: card})
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
		return "", fmt.Errorf("%w of dataset %q in %s (run \"chara train\")", ErrNoRun, dataset, filepath.Join(workspace, "runs"))
	}
	return runs[0].Dir, nil
}

// ResolveRun names the run folder for --run: "" is the best run of dataset,
// a name is runs/<name> in the workspace, a path with a separator (or an
// existing folder holding run.json) is used as is.
func ResolveRun(workspace, dataset, run string) (string, error) {
	if run == "" {
		return BestRun(workspace, dataset)
	}
	if err := manifests.CheckPlainName(run); err == nil {
		dir := manifests.RunDir(workspace, run)
		if _, err := os.Stat(filepath.Join(dir, RunFile)); err == nil {
			return dir, nil
		}
	}
	if _, err := os.Stat(filepath.Join(run, RunFile)); err != nil {
		return "", fmt.Errorf("run %q: no %s in runs/%s or %s: %w", run, RunFile, run, run, ErrNoRun)
	}
	return run, nil
}
