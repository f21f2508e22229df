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
	"time"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"

	"github.com/chara-dev/chara/internal/atomicfile"
	"github.com/chara-dev/chara/train/torchrt"
)

// A checkpoint is three files in the run folder: <kind>.ot (the model's
// VarStore, gotch's format), <kind>.optim.ot (Adam's moments) and
// <kind>.json (Checkpoint: epoch, config, best metric, and the SHA-256 of
// both tensor files, so that a checkpoint interrupted between two renames
// is caught on load). Each file is written atomically.
const (
	bestKind = "best"
	lastKind = "last"
)

// Checkpoint is the JSON side of a checkpoint.
type Checkpoint struct {
	Epoch           int       `json:"epoch"` // epochs completed
	Phase           string    `json:"phase"` // full | frozen (head only)
	OptimizerStep   int64     `json:"optimizer_step"`
	LR              float64   `json:"lr"`
	BestEpoch       int       `json:"best_epoch"`
	BestValAcc      float64   `json:"best_val_acc"`
	SinceBest       int       `json:"since_best"` // epochs without improvement
	Config          Config    `json:"config"`
	Weights         string    `json:"weights"`
	WeightsSHA256   string    `json:"weights_sha256"`
	Optimizer       string    `json:"optimizer"`
	OptimizerSHA256 string    `json:"optimizer_sha256"`
	SavedAt         time.Time `json:"saved_at"`
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
	if err := os.Rename(tmp, path); err != nil {
		return "", fmt.Errorf("save %s: %w", path, err)
	}
	ok = true
	return sum, atomicfile.SyncDir(dir)
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

// saveCheckpoint writes <kind>.ot, <kind>.optim.ot and <kind>.json.
func saveCheckpoint(dir, kind string, vs *nn.VarStore, opt *adam, meta Checkpoint) error {
	var err error
	meta.Weights = kind + ".ot"
	if meta.WeightsSHA256, err = saveTensorsAtomic(dir, meta.Weights, varStoreTensors(vs)); err != nil {
		return err
	}
	meta.Optimizer = kind + ".optim.ot"
	if meta.OptimizerSHA256, err = saveTensorsAtomic(dir, meta.Optimizer, opt.state()); err != nil {
		return err
	}
	runtime.KeepAlive(vs)
	meta.OptimizerStep = opt.step
	meta.SavedAt = time.Now().UTC()
	b, err := json.MarshalIndent(meta, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(dir, kind+".json"), append(b, '\n'), 0o644)
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
