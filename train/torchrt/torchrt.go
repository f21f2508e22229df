// Package torchrt is chara's one safe base for libtorch work: seeding,
// thread count, runtime facts for `chara doctor`, PyTorch's default layer
// initialisation, a no-grad guard that survives panics, and the single
// goroutine locked to its OS thread on which all libtorch work runs.
//
// It is built with the cgo flags from scripts/torch-env.sh.
package torchrt

// #cgo CXXFLAGS: -std=c++17 -O2
// #cgo LDFLAGS: -lstdc++ -ltorch_cpu -lc10 -ldl
// #include <stdlib.h>
// #include "torchrt.h"
import "C"

import (
	"regexp"
	"strings"
	"unsafe"
)

// ManualSeed seeds libtorch's generators (CPU and every CUDA device).
func ManualSeed(seed int64) { C.chara_manual_seed(C.int64_t(seed)) }

// SetNumThreads sets libtorch's intra-op thread count (n <= 0 leaves it).
func SetNumThreads(n int) { C.chara_set_num_threads(C.int(n)) }

// NumThreads is libtorch's intra-op thread count.
func NumThreads() int { return int(C.chara_get_num_threads()) }

// SetCuDNNBenchmark turns cuDNN's algorithm search (torch.backends.cudnn.
// benchmark: time the candidate algorithms for each new convolution shape,
// then reuse the fastest) on or off for the process, and returns the
// previous setting. libtorch's default is off (heuristics pick).
func SetCuDNNBenchmark(on bool) (prev bool) {
	v := 0
	if on {
		v = 1
	}
	return C.chara_set_cudnn_benchmark(C.int(v)) != 0
}

func goString(p *C.char) string {
	defer C.free(unsafe.Pointer(p))
	return C.GoString(p)
}

// Config is libtorch's own build description (at::show_config()).
func Config() string { return goString(C.chara_torch_config()) }

// CompiledVersion is the libtorch version whose headers chara was built with.
func CompiledVersion() string { return goString(C.chara_torch_compiled_version()) }

var versionRE = regexp.MustCompile(`TORCH_VERSION=([0-9][0-9A-Za-z.+_-]*)`)

// RuntimeVersion is the version of the libtorch library actually loaded,
// read from its build configuration at run time. Empty if it does not say.
func RuntimeVersion() string {
	m := versionRE.FindStringSubmatch(Config())
	if m == nil {
		return ""
	}
	return strings.TrimRight(m[1], ",")
}

// CUDAAvailable reports whether libtorch can use a CUDA device.
func CUDAAvailable() bool { return C.chara_cuda_available() != 0 }

// CUDADeviceCount is the number of CUDA devices libtorch sees.
func CUDADeviceCount() int { return int(C.chara_cuda_device_count()) }

// CuDNNVersion is cuDNN's version number (e.g. 91900), 0 when absent.
func CuDNNVersion() int { return int(C.chara_cudnn_version()) }

// CUDADeviceName is the name of CUDA device i, or "" if unknown.
func CUDADeviceName(i int) string {
	buf := make([]byte, 256)
	if C.chara_cuda_device_name(C.int(i), (*C.char)(unsafe.Pointer(&buf[0])), C.int(len(buf))) != 0 {
		return ""
	}
	if n := strings.IndexByte(string(buf), 0); n >= 0 {
		buf = buf[:n]
	}
	return string(buf)
}
