package train

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"

	"github.com/chara-dev/chara/internal/atomicfile"
	"github.com/chara-dev/chara/train/torchrt"
)

// A checkpoint is committed as one unit. Its tensor files carry the epoch
// in their names (ckpt-e0005.ot: the model's VarStore, gotch's format;
// ckpt-e0005.optim.ot: Adam's moments) and are written first, each
// atomically; then one small manifest, last.json (and best.json when the
// epoch improved), is renamed into place naming both files with their
// SHA-256 and holding the run's metrics history. A kill at any moment
// therefore leaves the previous manifest and the files it names intact.
// Everything else at the end of an epoch is derived from the committed
// manifest and rebuilt on resume: metrics.csv, best.ot (the best weights
// under a stable name, for predict and serve) and run.json. Tensor files
// named by neither manifest are removed once a manifest is committed.
const (
	bestKind = "best"
	lastKind = "last"
	// bestWeights is the published copy of best.json's weights.
	bestWeights = "best.ot"
)

// checkpointFiles are the tensor files of the checkpoint after epoch e.
func checkpointFiles(e int) (weights, optimizer string) {
	base := fmt.Sprintf("ckpt-e%04d", e)
	return base + ".ot", base + ".optim.ot"
}

// Checkpoint is the JSON side of a checkpoint.
type Checkpoint struct {
	Epoch           int        `json:"epoch"` // epochs completed
	Phase           string     `json:"phase"` // full | frozen (head only)
	OptimizerStep   int64      `json:"optimizer_step"`
	LR              float64    `json:"lr"`
	BestEpoch       int        `json:"best_epoch"`
	BestValAcc      float64    `json:"best_val_acc"`
	SinceBest       int        `json:"since_best"` // epochs without improvement
	Config          Config     `json:"config"`
	Weights         string     `json:"weights"`
	WeightsSHA256   string     `json:"weights_sha256"`
	Optimizer       string     `json:"optimizer"`
	OptimizerSHA256 string     `json:"optimizer_sha256"`
	History         []EpochRow `json:"history,omitempty"` // metrics.csv's rows up to Epoch
	SavedAt         time.Time  `json:"saved_at"`
}

// ErrCheckpoint is returned for a checkpoint that does not load.
var ErrCheckpoint = errors.New("bad checkpoint")

// saveTensorsAtomic writes named tensors with gotch's saver to a temp file
// in dir, fsyncs and renames it to dir/name, and returns its SHA-256.
func saveTensorsAtomic(dir, name string, named []ts.NamedTensor) (string, error) {
	path := filepath.Join(dir, name)
	f, err := os.CreateTemp(dir, "."+name+".tmp-*")
	if err != nil {
		return "", fmt.Errorf("save %s: %w", path, err)
	}
	tmp := f.Name()
	f.Close()
	ok := false
	defer func() {
		if !ok {
			os.Remove(tmp)
		}
	}()
	if len(named) == 0 {
		return "", fmt.Errorf("save %s: no tensors", path)
	}
	if err := ts.SaveMultiNew(named, tmp); err != nil {
		return "", fmt.Errorf("save %s: %w", path, err)
	}
	sum, err := syncAndHash(tmp)
	if err != nil {
		return "", fmt.Errorf("save %s: %w", path, err)
	}
	atomicfile.Boundary("before rename " + path)
	if err := os.Rename(tmp, path); err != nil {
		return "", fmt.Errorf("save %s: %w", path, err)
	}
	ok = true
	if err := atomicfile.SyncDir(dir); err != nil {
		return "", err
	}
	atomicfile.Boundary("after rename " + path)
	return sum, nil
}

func syncAndHash(path string) (string, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	if err := f.Chmod(0o644); err != nil {
		return "", err
	}
	if err := f.Sync(); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// varStoreTensors lists what VarStore.Save would write: every parameter
// and persistent buffer.
func varStoreTensors(vs *nn.VarStore) []ts.NamedTensor {
	vars := vs.Variables()
	names := make([]string, 0, len(vars))
	for n := range vars {
		names = append(names, n)
	}
	sort.Strings(names) // the same file for the same weights
	out := make([]ts.NamedTensor, 0, len(vars))
	for _, n := range names {
		t := vars[n]
		out = append(out, ts.NamedTensor{Name: n, Tensor: &t})
	}
	return out
}

// saveTensors writes the tensor files of the checkpoint after meta.Epoch
// and fills in their names and hashes; boundary is called after each file.
func saveTensors(dir string, vs *nn.VarStore, opt *adam, meta *Checkpoint, boundary func(string) error) error {
	var err error
	meta.Weights, meta.Optimizer = checkpointFiles(meta.Epoch)
	if meta.WeightsSHA256, err = saveTensorsAtomic(dir, meta.Weights, varStoreTensors(vs)); err != nil {
		return err
	}
	runtime.KeepAlive(vs)
	if err := boundary("weights"); err != nil {
		return err
	}
	if meta.OptimizerSHA256, err = saveTensorsAtomic(dir, meta.Optimizer, opt.state()); err != nil {
		return err
	}
	meta.OptimizerStep = opt.step
	return boundary("optimizer")
}

// commitCheckpoint commits meta as the <kind> checkpoint: one atomic
// write of <kind>.json.
func commitCheckpoint(dir, kind string, meta Checkpoint) error {
	meta.SavedAt = time.Now().UTC()
	b, err := json.MarshalIndent(meta, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(dir, kind+".json"), append(b, '\n'), 0o644)
}

// publishBest makes best.ot the weights file that best names, by a hard
// link renamed into place (a copy where links are not supported). It does
// nothing when best.ot already has that content.
func publishBest(dir string, best *Checkpoint) error {
	dst := filepath.Join(dir, bestWeights)
	if best.Weights == bestWeights {
		return nil // a checkpoint of the old layout
	}
	if sum, err := fileSHA256(dst); err == nil && sum == best.WeightsSHA256 {
		return nil
	}
	src := filepath.Join(dir, best.Weights)
	tmp := filepath.Join(dir, "."+bestWeights+".tmp-link")
	os.Remove(tmp)
	if err := os.Link(src, tmp); err == nil {
		atomicfile.Boundary("before rename " + dst)
		if err := os.Rename(tmp, dst); err != nil {
			os.Remove(tmp)
			return fmt.Errorf("publish %s: %w", dst, err)
		}
		if err := atomicfile.SyncDir(dir); err != nil {
			return err
		}
		atomicfile.Boundary("after rename " + dst)
		return nil
	}
	f, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("publish %s: %w", dst, err)
	}
	defer f.Close()
	return atomicfile.WriteFrom(dst, f, 0o644)
}

// isCheckpointFile reports whether name is a tensor file of a checkpoint,
// of this layout or of the old one (last.ot, last.optim.ot, best.optim.ot).
func isCheckpointFile(name string) bool {
	switch name {
	case "last.ot", "last.optim.ot", "best.optim.ot":
		return true
	}
	return strings.HasPrefix(name, "ckpt-e") && strings.HasSuffix(name, ".ot")
}

// collectCheckpoints removes the tensor files that neither last.json nor
// best.json names, and the temp files of interrupted writes. It removes
// nothing while either manifest exists but cannot be read.
func collectCheckpoints(dir string) error {
	keep := map[string]bool{}
	for _, kind := range []string{lastKind, bestKind} {
		b, err := os.ReadFile(filepath.Join(dir, kind+".json"))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		var c Checkpoint
		if err != nil || json.Unmarshal(b, &c) != nil {
			return nil
		}
		keep[c.Weights], keep[c.Optimizer] = true, true
	}
	if _, err := atomicfile.CleanTemp(dir); err != nil {
		return err
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if n := e.Name(); e.Type().IsRegular() && isCheckpointFile(n) && !keep[n] {
			if err := os.Remove(filepath.Join(dir, n)); err != nil {
				return err
			}
		}
	}
	return nil
}

// newestCheckpoint reads last.json and best.json and returns the newest
// that is complete (both its files present with the hashes it names),
// with a note when it had to pass over a damaged one.
func newestCheckpoint(dir string) (*Checkpoint, string, error) {
	last, lerr := readCheckpoint(dir, lastKind)
	best, berr := readCheckpoint(dir, bestKind)
	switch {
	case lerr == nil && (berr != nil || last.Epoch >= best.Epoch):
		return last, "", nil
	case berr == nil && (lerr == nil || errors.Is(lerr, os.ErrNotExist)):
		return best, "", nil
	case berr == nil:
		return best, fmt.Sprintf("the last checkpoint does not load (%v); resuming from the best one, after epoch %d", lerr, best.Epoch), nil
	case errors.Is(lerr, os.ErrNotExist) && errors.Is(berr, os.ErrNotExist):
		return nil, "", fmt.Errorf("%s: %w: no checkpoint (last.json)", dir, ErrCheckpoint)
	case errors.Is(lerr, os.ErrNotExist):
		return nil, "", berr
	default:
		return nil, "", lerr
	}
}

// readCheckpoint reads <kind>.json and checks that both tensor files are
// the ones it names.
func readCheckpoint(dir, kind string) (*Checkpoint, error) {
	path := filepath.Join(dir, kind+".json")
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var c Checkpoint
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("%s: %w: %v", path, ErrCheckpoint, err)
	}
	for _, f := range []struct{ name, sum string }{{c.Weights, c.WeightsSHA256}, {c.Optimizer, c.OptimizerSHA256}} {
		if f.name == "" || f.name != filepath.Base(f.name) {
			return nil, fmt.Errorf("%s: %w: bad file name %q", path, ErrCheckpoint, f.name)
		}
		got, err := fileSHA256(filepath.Join(dir, f.name))
		if err != nil {
			return nil, fmt.Errorf("%s: %w: %v", path, ErrCheckpoint, err)
		}
		if got != f.sum {
			return nil, fmt.Errorf("%s: %w: %s has changed since the checkpoint was written (interrupted save?)", path, ErrCheckpoint, f.name)
		}
	}
	return &c, nil
}

// loadVarStore copies the tensors of a saved VarStore into vs, failing on
// any missing, unexpected or misshapen tensor. Unlike VarStore.Load it
// never switches gradients back on behind the caller's back.
func loadVarStore(vs *nn.VarStore, path string) error {
	err := torchrt.LoadVarStore(vs, path)
	if errors.Is(err, torchrt.ErrVarStoreMismatch) {
		return fmt.Errorf("%w: %w", ErrCheckpoint, err)
	}
	return err
}

// loadOptimizer reads <kind>.optim.ot into opt.
func loadOptimizer(opt *adam, path string, step int64, dev gotch.Device) error {
	named, err := ts.LoadMultiWithDevice(path, dev)
	if err != nil {
		return fmt.Errorf("load %s: %w", path, err)
	}
	defer func() {
		for _, n := range named {
			n.Tensor.MustDrop()
		}
	}()
	if err := opt.load(named, step); err != nil {
		return fmt.Errorf("load %s: %w", path, err)
	}
	return nil
}
