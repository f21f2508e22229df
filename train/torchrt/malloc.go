package torchrt

// #include <stdio.h>
// #include <stdlib.h>
// #include "charamalloc.h"
import "C"

import (
	"strings"
	"unsafe"
)

// MallocTuned reports whether chara set glibc malloc's options for libtorch
// at start-up (one arena, large blocks kept mapped between training steps;
// see malloc.c). It is false when the environment sets malloc options of
// its own (MALLOC_* variables or glibc.malloc tunables), which then apply.
func MallocTuned() bool { return C.chara_malloc_is_tuned() != 0 }

// ReleaseMemory returns the free heap memory that libtorch's tensors used
// to the system (malloc_trim). With the start-up settings freed memory
// stays mapped for the next step; call this when a run ends.
func ReleaseMemory() { C.chara_malloc_release() }

// mallocHeaps is the number of malloc heaps (arenas) glibc reports.
func mallocHeaps() int {
	p := C.chara_malloc_info()
	if p == nil {
		return -1
	}
	defer C.free(unsafe.Pointer(p))
	return strings.Count(C.GoString(p), "<heap nr=")
}
