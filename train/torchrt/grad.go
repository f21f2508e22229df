package torchrt

// #include "torchrt.h"
import "C"

// NoGrad runs f with gradient tracking off and restores the previous state
// afterwards, also when f panics (gotch's ts.NoGrad re-enables gradients
// without defer, and unconditionally). Grad mode is per OS thread in
// libtorch: call it on the Thread (or a goroutine locked to its thread).
func NoGrad(f func() error) error {
	prev := SetGradEnabled(false)
	defer SetGradEnabled(prev)
	return f()
}

// SetGradEnabled sets grad mode on the calling OS thread and returns the
// previous mode. (gotch v0.9.1's ts.GradSetEnabled reads its C int result
// through a Go int pointer, so the previous mode it returns is garbage.)
func SetGradEnabled(on bool) (prev bool) {
	v := 0
	if on {
		v = 1
	}
	return C.chara_grad_set_enabled(C.int(v)) != 0
}

// AutocastBF16 runs f with CUDA autocast in bfloat16 (matmuls and
// convolutions in bf16, reductions and losses in fp32, as torch.autocast
// does) and restores the previous state, also when f panics. Autocast is
// per OS thread: call it on the Thread. It only affects CUDA tensors.
func AutocastBF16(f func() error) error {
	prev := C.chara_autocast_bf16_enter()
	defer C.chara_autocast_exit(prev)
	return f()
}

// AutocastEnabled reports whether CUDA autocast is on for this OS thread.
func AutocastEnabled() bool { return C.chara_autocast_is_enabled() != 0 }
