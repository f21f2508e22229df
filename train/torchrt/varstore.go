package torchrt

import (
	"errors"
	"fmt"
	"runtime"

	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"
)

// ErrVarStoreMismatch is wrapped by LoadVarStore when the file's tensors do
// not match the VarStore's variables one to one.
var ErrVarStoreMismatch = errors.New("weights do not match the model")

// LoadVarStore copies the tensors of a gotch weights file (VarStore.Save)
// into vs. Unlike gotch's VarStore.Load it is strict (every variable present
// with its shape, nothing extra), and it leaves grad mode as it was (gotch's
// re-enables gradients). Call it on the torch Thread.
func LoadVarStore(vs *nn.VarStore, path string) error {
	named, err := ts.LoadMultiWithDevice(path, vs.Device())
	if err != nil {
		return fmt.Errorf("load %s: %w", path, err)
	}
	defer func() {
		for _, n := range named {
			n.Tensor.MustDrop()
		}
	}()
	src := make(map[string]*ts.Tensor, len(named))
	for _, n := range named {
		src[n.Name] = n.Tensor
	}
	// The variables share the VarStore's C memory, which its finalizer frees.
	vars := vs.Variables()
	defer runtime.KeepAlive(vs)
	for name := range vars {
		if _, ok := src[name]; !ok {
			return fmt.Errorf("load %s: %w: no tensor %s", path, ErrVarStoreMismatch, name)
		}
	}
	for name := range src {
		if _, ok := vars[name]; !ok {
			return fmt.Errorf("load %s: %w: unexpected tensor %s", path, ErrVarStoreMismatch, name)
		}
	}
	return NoGrad(func() error {
		for name, v := range vars {
			s := src[name]
			got, err := s.Size()
			if err != nil {
				return err
			}
			want, err := v.Size()
			if err != nil {
				return err
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				return fmt.Errorf("load %s: %w: %s has shape %v, the model %v", path, ErrVarStoreMismatch, name, got, want)
			}
			v.Copy_(s)
		}
		return nil
	})
}
