// Package pipeline is chara run: the stages in order, each skipped when
// the inputs it declares have not changed since it last finished, the run
// names training derives from its inputs, and the final report. Each
// stage's fingerprint covers exactly the options and files that stage
// reads: adding a model to train.models trains only that model, and device
// or thread settings rename nothing. cmd/chara maps flags and chara.yaml to
// the stages' work; this package decides what runs.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/chara-dev/chara/internal/atomicfile"
	"github.com/chara-dev/chara/internal/progress"
	"github.com/chara-dev/chara/internal/stages"
)

// Names are the pipeline's stages, in order. Training runs one stage per
// model ("train:effnet-b0"), selected as "train".
var Names = []string{"scrape", "curate", "dataset", "train"}

// ErrStage is returned for an unknown stage name or contradictory
// selections.
var ErrStage = errors.New("bad stage selection")

func index(name string) int {
	for i, s := range Names {
		if s == name {
			return i
		}
	}
	return -1
}

// Select turns --from, --only and --force into the set of stages to
// consider.
func Select(from, only string, force []string) (map[string]bool, error) {
	if from != "" && only != "" {
		return nil, fmt.Errorf("%w: --from and --only exclude each other", ErrStage)
	}
	start, end := 0, len(Names)
	if from != "" {
		if start = index(from); start < 0 {
			return nil, fmt.Errorf("%w: --from: unknown stage %q (want %s)", ErrStage, from, strings.Join(Names, ", "))
		}
	}
	if only != "" {
		i := index(only)
		if i < 0 {
			return nil, fmt.Errorf("%w: --only: unknown stage %q (want %s)", ErrStage, only, strings.Join(Names, ", "))
		}
		start, end = i, i+1
	}
	sel := map[string]bool{}
	for _, s := range Names[start:end] {
		sel[s] = true
	}
	for _, f := range force {
		if index(f) < 0 {
			return nil, fmt.Errorf("%w: --force: unknown stage %q (want %s)", ErrStage, f, strings.Join(Names, ", "))
		}
	}
	return sel, nil
}

// Runner runs stages against the workspace's stage records
// (.chara/stages.json).
type Runner struct {
	state    *stages.State
	force    map[string]bool
	reporter progress.Reporter
	now      func() time.Time
}

// NewRunner loads the workspace's stage records. force names stages
// ("train" for every model) to rerun even when unchanged.
func NewRunner(workspace string, force []string, rep progress.Reporter) (*Runner, error) {
	// The temp file of a stage record whose writing a kill interrupted.
	if _, err := atomicfile.CleanTemp(filepath.Dir(stages.Path(workspace))); err != nil {
		return nil, err
	}
	st, err := stages.Load(workspace)
	if err != nil {
		return nil, err
	}
	if rep == nil {
		rep = progress.Nop()
	}
	r := &Runner{state: st, force: map[string]bool{}, reporter: rep, now: time.Now}
	for _, f := range force {
		r.force[f] = true
	}
	return r, nil
}

// group is the stage's name before any ":model".
func group(name string) string { return strings.SplitN(name, ":", 2)[0] }

// Step runs stage name unless it last finished on exactly inputs (and is
// not forced); a finished run records inputs. It reports whether it ran.
func (r *Runner) Step(ctx context.Context, name, inputs string, run func() error) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if r.state.Fresh(name, inputs) && !r.force[group(name)] {
		r.reporter.Logf("== %s: unchanged since its last run, skipped (--force %s reruns it)", name, group(name))
		return false, nil
	}
	r.reporter.Logf("== %s", name)
	start := r.now()
	if err := run(); err != nil {
		return true, fmt.Errorf("%s: %w", name, err)
	}
	r.reporter.Logf("== %s done in %s", name, r.now().Sub(start).Round(time.Second))
	return true, r.state.Done(name, inputs, r.now())
}

// RunName is the run folder name of a model's training in chara run: its
// fingerprint names it, so an interrupted training resumes on the next
// chara run, and changed inputs start a new run.
func RunName(model, dataset, fingerprint string) string {
	return fmt.Sprintf("%s-%s-%s", model, dataset, fingerprint[:8])
}
