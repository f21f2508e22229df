package atomicfile

import "sync/atomic"

var boundaryHook atomic.Pointer[func(point string)]

// SetBoundaryHook installs f to be called at every write boundary: just
// before and just after each rename that commits a file, and after each
// journal append (nil removes it). It exists for the crash harness, which
// kills a process at a chosen boundary; nothing else sets it.
func SetBoundaryHook(f func(point string)) {
	if f == nil {
		boundaryHook.Store(nil)
		return
	}
	boundaryHook.Store(&f)
}

// Boundary marks a write boundary (point: what is being committed) for the
// hook, if any. Writers outside this package call it around their own
// commit steps.
func Boundary(point string) {
	if f := boundaryHook.Load(); f != nil {
		(*f)(point)
	}
}
