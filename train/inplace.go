package train

import (
	"github.com/sugarme/gotch/ts"

	lib "github.com/sugarme/gotch/libtch"
)

// gotch v0.9.1's generated in-place methods (Mul_, Zero_, Sub_, ...) store
// the new handle libtorch returns in the tensor and never free the old one,
// which holds a reference to the storage: on a per-batch tensor that leaks
// the whole storage, on a parameter one handle per call. The helpers below
// make the same libtorch calls and free the extra handle instead. Elsewhere
// this package uses out-of-place operations with del=true.

func inplaceDone(out lib.Ctensor) error {
	if err := ts.TorchErr(); err != nil {
		return err
	}
	lib.AtFree(out)
	return nil
}

func ctensor(t *ts.Tensor) lib.Ctensor { return lib.Ctensor(t.Ctensor()) }

// zeroInPlace is t.zero_().
func zeroInPlace(t *ts.Tensor) error {
	var out lib.Ctensor
	lib.AtgZero_(&out, ctensor(t))
	return inplaceDone(out)
}

// detachInPlace is t.detach_().
func detachInPlace(t *ts.Tensor) error {
	var out lib.Ctensor
	lib.AtgDetach_(&out, ctensor(t))
	return inplaceDone(out)
}

// subInPlace is t.sub_(u).
func subInPlace(t, u *ts.Tensor) error {
	var out lib.Ctensor
	lib.AtgSub_(&out, ctensor(t), ctensor(u))
	return inplaceDone(out)
}
