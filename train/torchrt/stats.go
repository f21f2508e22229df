package torchrt

// #include "stats.h"
import "C"

import (
	"runtime"
	"unsafe"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

// StepStats sums training steps' losses (times their batch sizes) and
// correct predictions on the device: adding a step reads nothing back to
// the host, so a GPU keeps its queue full; Take reads the sums (one wait).
// Use it on the Thread.
type StepStats struct {
	acc *ts.Tensor
}

// NewStepStats makes zeroed sums on dev.
func NewStepStats(dev gotch.Device) (*StepStats, error) {
	var out unsafe.Pointer
	if err := cError("step stats", C.chara_stats_new(C.int(dev.CInt()), &out)); err != nil {
		return nil, err
	}
	return &StepStats{acc: ts.FromCtensor(out)}, nil
}

// Add counts one step: its mean loss (a scalar), logits [n, classes] and
// labels [n].
func (s *StepStats) Add(loss, logits, labels *ts.Tensor, n int) error {
	msg := C.chara_stats_add(s.acc.Ctensor(), loss.Ctensor(), logits.Ctensor(), labels.Ctensor(), C.int64_t(n))
	runtime.KeepAlive(s.acc)
	runtime.KeepAlive(loss)
	runtime.KeepAlive(logits)
	runtime.KeepAlive(labels)
	return cError("step stats", msg)
}

// Take returns the sum of loss * batch size and the number of correct
// predictions since the last Take, and zeroes both.
func (s *StepStats) Take() (lossSum float64, correct int, err error) {
	var l, c C.double
	msg := C.chara_stats_take(s.acc.Ctensor(), &l, &c)
	runtime.KeepAlive(s.acc)
	if err := cError("step stats", msg); err != nil {
		return 0, 0, err
	}
	return float64(l), int(c), nil
}

// Drop frees the sums.
func (s *StepStats) Drop() { s.acc.MustDrop() }
