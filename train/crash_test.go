package train

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/chara-dev/chara/manifests"
)

// endOfEpochSteps are the write boundaries of the end of an epoch, in
// order (the names crashAt receives); best.json only when it improved.
var endOfEpochSteps = []string{"weights", "optimizer", "last.json", "best.json", bestWeights, "metrics.csv", "run.json"}

// A crash between any two writes of the end of an epoch (epoch 2, which
// improves, epoch 3, which does not, and the last epoch) leaves a run that resumes and
// ends with the uninterrupted run's metrics, checkpoint and card, with no
// leftover tensor or temp file.
func TestCrashAtEveryEpochBoundaryResumes(t *testing.T) {
	ws := t.TempDir()
	makeDataset(t, ws, "toy", 2, 100, 75, [3]int{6, 4, 4}, 11)
	const epochs = 4
	// Validation accuracy as the run sees it: epoch 2 improves, 3 does not.
	forced := map[int]float64{1: 0.5, 2: 0.7, 3: 0.6, 4: 0.8}
	opts := func(name string, more ...Option) []Option {
		return quick("cnn", "toy", name, epochs, append([]Option{WithPatience(0),
			func(o *options) { o.valAcc = func(e int, _ float64) float64 { return forced[e] } }}, more...)...)
	}
	full, err := Run(context.Background(), ws, opts("full")...)
	if err != nil {
		t.Fatal(err)
	}
	want := metricsNoTime(t, ws, "full")
	n := 0
	for _, e := range []int{2, 3, epochs} {
		for _, step := range endOfEpochSteps {
			if e == 3 && step == "best.json" {
				continue
			}
			n++
			name := fmt.Sprintf("crash%d", n)
			_, err := Run(context.Background(), ws, opts(name, func(o *options) {
				o.crashAt = func(ce int, s string) bool { return ce == e && s == step }
			})...)
			if !errors.Is(err, errInjectedCrash) {
				t.Fatalf("epoch %d after %s: %v, want the injected crash", e, step, err)
			}
			card, err := Run(context.Background(), ws, opts(name, WithResume(true))...)
			if err != nil {
				t.Fatalf("resume after a crash in epoch %d after %s: %v", e, step, err)
			}
			if got := metricsNoTime(t, ws, name); !reflect.DeepEqual(got, want) {
				t.Errorf("crash in epoch %d after %s: metrics\n%s\nwant\n%s", e, step, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if card.TestAcc != full.TestAcc || card.BestEpoch != full.BestEpoch || card.Epochs != full.Epochs || !card.Finished {
				t.Errorf("crash in epoch %d after %s: card %+v, want %+v", e, step, card, full)
			}
			assertCheckpointFiles(t, manifests.RunDir(ws, name), epochs, full.BestEpoch)
		}
	}
}

// assertCheckpointFiles checks that a finished run folder holds exactly
// the tensor files of its last and best checkpoints, and no temp file.
func assertCheckpointFiles(t *testing.T, dir string, last, best int) {
	t.Helper()
	want := map[string]bool{bestWeights: true}
	for _, e := range []int{last, best} {
		w, o := checkpointFiles(e)
		want[w], want[o] = true, true
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var extra []string
	for _, e := range ents {
		n := e.Name()
		if strings.HasPrefix(n, ".") || (strings.HasSuffix(n, ".ot") && !want[n]) {
			extra = append(extra, n)
		}
		delete(want, n)
	}
	var missing []string
	for n := range want {
		missing = append(missing, n)
	}
	sort.Strings(missing)
	if len(extra) > 0 || len(missing) > 0 {
		t.Errorf("%s: leftover files %v, missing %v", filepath.Base(dir), extra, missing)
	}
}

// The newest complete checkpoint wins; a damaged last checkpoint falls
// back to the best one, and says so.
func TestResumeFallsBackToBest(t *testing.T) {
	ws := t.TempDir()
	makeDataset(t, ws, "toy", 2, 100, 75, [3]int{6, 4, 4}, 12)
	forced := map[int]float64{1: 0.5, 2: 0.7, 3: 0.6, 4: 0.8}
	opts := func(name string, n int, more ...Option) []Option {
		return quick("cnn", "toy", name, n, append([]Option{WithPatience(0),
			func(o *options) { o.valAcc = func(e int, _ float64) float64 { return forced[e] } }}, more...)...)
	}
	if _, err := Run(context.Background(), ws, opts("full", 4)...); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), ws, opts("part", 3)...); err != nil {
		t.Fatal(err)
	}
	dir := manifests.RunDir(ws, "part")
	w, _ := checkpointFiles(3)
	raw, err := os.ReadFile(filepath.Join(dir, w))
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)/2] ^= 0xff
	if err := os.WriteFile(filepath.Join(dir, w), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	c, note, err := newestCheckpoint(dir)
	if err != nil || c.Epoch != 2 || !strings.Contains(note, "resuming from the best one, after epoch 2") {
		t.Fatalf("newest checkpoint: %+v %q %v, want best (epoch 2) and a note", c, note, err)
	}
	if _, err := Run(context.Background(), ws, opts("part", 4, WithResume(true), WithChanges(true))...); err != nil {
		t.Fatal(err)
	}
	if a, b := metricsNoTime(t, ws, "full"), metricsNoTime(t, ws, "part"); !reflect.DeepEqual(a, b) {
		t.Errorf("metrics after falling back to best:\n%s\nwant\n%s", strings.Join(b, "\n"), strings.Join(a, "\n"))
	}
	assertCheckpointFiles(t, dir, 4, 4)
}
