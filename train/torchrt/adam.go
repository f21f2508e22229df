package torchrt

// #include <stdlib.h>
// #include "adam.h"
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	"github.com/sugarme/gotch/ts"
)

// AdamConfig holds Adam's hyperparameters for one step.
type AdamConfig struct {
	LR, Beta1, Beta2, Eps, WeightDecay float64
}

// AdamStep applies one Adam update (step is the number of this step,
// from 1) to params in place, from their current gradients and the moment
// estimates expAvgs and expAvgSqs, which it updates in place too. It is
// PyTorch's multi-tensor Adam (foreach=True): a handful of libtorch calls
// for all parameters together. Parameters without a gradient are skipped.
// Call it on the Thread; the slices must have the same length.
func AdamStep(params, expAvgs, expAvgSqs []*ts.Tensor, cfg AdamConfig, step int64) error {
	n := len(params)
	if len(expAvgs) != n || len(expAvgSqs) != n {
		return fmt.Errorf("adam step: %d parameters, %d and %d moment tensors", n, len(expAvgs), len(expAvgSqs))
	}
	if n == 0 {
		return nil
	}
	h := handles(params, expAvgs, expAvgSqs)
	defer C.free(h)
	base := unsafe.Slice((*unsafe.Pointer)(h), 3*n)
	msg := C.chara_adam_step(&base[0], &base[n], &base[2*n], C.int(n), C.double(cfg.LR), C.double(cfg.Beta1),
		C.double(cfg.Beta2), C.double(cfg.Eps), C.double(cfg.WeightDecay), C.int64_t(step))
	runtime.KeepAlive(params)
	runtime.KeepAlive(expAvgs)
	runtime.KeepAlive(expAvgSqs)
	return cError("adam step", msg)
}

// GradSetNone drops the gradients of params (zero_grad with set_to_none):
// the next backward pass writes fresh ones instead of adding to zeros.
func GradSetNone(params []*ts.Tensor) error {
	return onHandles("zero grad", params, func(h *unsafe.Pointer, n C.int) *C.char { return C.chara_grad_set_none(h, n) })
}

// onHandles calls f with the C handles of tensors (none: f is not called)
// and turns its message into an error.
func onHandles(what string, tensors []*ts.Tensor, f func(h *unsafe.Pointer, n C.int) *C.char) error {
	if len(tensors) == 0 {
		return nil
	}
	h := handles(tensors)
	defer C.free(h)
	msg := f((*unsafe.Pointer)(h), C.int(len(tensors)))
	runtime.KeepAlive(tensors)
	return cError(what, msg)
}

// handles copies the tensors' C handles into one C array (cgo forbids
// passing Go memory that holds pointers).
func handles(lists ...[]*ts.Tensor) unsafe.Pointer {
	total := 0
	for _, l := range lists {
		total += len(l)
	}
	h := C.malloc(C.size_t(total) * C.size_t(unsafe.Sizeof(uintptr(0))))
	arr := unsafe.Slice((*unsafe.Pointer)(h), total)
	i := 0
	for _, l := range lists {
		for _, t := range l {
			arr[i] = t.Ctensor()
			i++
		}
	}
	return h
}

func cError(what string, msg *C.char) error {
	if msg == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, errors.New(goString(msg)))
}
