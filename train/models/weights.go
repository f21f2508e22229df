package models

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"sort"
	"strings"

	"github.com/sugarme/gotch/pickle"
	"github.com/sugarme/gotch/ts"
)

// ErrWeights is wrapped by every weights-loading failure.
var ErrWeights = errors.New("weights do not fit the model")

// WeightsError lists everything wrong between a checkpoint and a model.
type WeightsError struct {
	File       string
	Missing    []string // model tensors the file lacks
	Unexpected []string // file tensors the model lacks
	Misshapen  []string // "name: file [a b], model [c d]"
}

func (e *WeightsError) Error() string {
	var parts []string
	list := func(what string, names []string) {
		if len(names) == 0 {
			return
		}
		show := names
		if len(show) > 8 {
			show = append(append([]string(nil), show[:8]...), fmt.Sprintf("... (%d in all)", len(names)))
		}
		parts = append(parts, fmt.Sprintf("%d %s: %s", len(names), what, strings.Join(show, ", ")))
	}
	list("missing", e.Missing)
	list("unexpected", e.Unexpected)
	list("misshapen", e.Misshapen)
	return fmt.Sprintf("%s: %v: %s", e.File, ErrWeights, strings.Join(parts, "; "))
}

func (e *WeightsError) Unwrap() error { return ErrWeights }

// readStateDict decodes a torch.save(state_dict) file (zip or legacy
// format) with gotch's pickle package. gotch panics on some malformed
// input: that becomes an error.
func readStateDict(path string) (tensors map[string]*ts.Tensor, err error) {
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: not a readable PyTorch state dict: %v", path, r)
		}
	}()
	tensors, err = pickle.Decode(path)
	if err != nil {
		return nil, fmt.Errorf("%s: not a readable PyTorch state dict: %w", path, err)
	}
	return tensors, nil
}

// LoadTorchvisionWeights loads a torchvision efficientnet_b0 state dict
// (torch.save(model.state_dict()), e.g. the ImageNet checkpoint that
// "chara weights fetch effnet-b0" downloads) into m's backbone. The file's
// classifier.* tensors are skipped (chara's head differs and keeps its
// initialisation), as are the num_batches_tracked counters; every other
// name must match one of the backbone's parameters or batch-norm buffers
// with the same shape, and every one of those must be present. Otherwise
// nothing is loaded and the error is a *WeightsError naming each tensor.
// Call it on the libtorch thread.
func LoadTorchvisionWeights(m Model, path string) error {
	e, ok := m.(*EffNetB0)
	if !ok {
		return fmt.Errorf("%s: torchvision weights are for effnet-b0, not %s: %w", path, m.Spec().Name, ErrWeights)
	}
	file, err := readStateDict(path)
	if err != nil {
		return err
	}
	defer func() {
		for _, x := range file {
			x.MustDrop()
		}
	}()
	targets := map[string]*ts.Tensor{}
	for _, p := range append(e.BackboneParameters(), e.Buffers()...) {
		targets[p.Name] = p.Tensor
	}
	werr := &WeightsError{File: path}
	for name, x := range file {
		if strings.HasPrefix(name, effNetClassifierPrefix+".") || strings.HasSuffix(name, ".num_batches_tracked") {
			continue
		}
		dst, ok := targets[name]
		if !ok {
			werr.Unexpected = append(werr.Unexpected, name)
			continue
		}
		fs, ms := x.MustSize(), dst.MustSize()
		if !slices.Equal(fs, ms) {
			werr.Misshapen = append(werr.Misshapen, fmt.Sprintf("%s: file %v, model %v", name, fs, ms))
		}
	}
	for name := range targets {
		if _, ok := file[name]; !ok {
			werr.Missing = append(werr.Missing, name)
		}
	}
	if len(werr.Missing)+len(werr.Unexpected)+len(werr.Misshapen) > 0 {
		sort.Strings(werr.Missing)
		sort.Strings(werr.Unexpected)
		sort.Strings(werr.Misshapen)
		return werr
	}
	withNoGrad(func() {
		for name, dst := range targets {
			dst.Copy_(file[name])
		}
	})
	runtime.KeepAlive(e)
	return nil
}
