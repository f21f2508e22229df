// Small C entry points into libtorch that gotch v0.9.1 does not expose to Go.
#include "torchrt.h"

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <ATen/autocast_mode.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <c10/core/GradMode.h>
#include <dlfcn.h>
#include <cstdlib>
#include <cstring>
#include <string>
#include <torch/version.h>

extern "C" {

void chara_manual_seed(int64_t seed) {
  // Seeds the CPU generator and, where CUDA is present, every GPU's.
  at::manual_seed(static_cast<uint64_t>(seed));
}

void chara_set_num_threads(int n) {
  if (n > 0) at::set_num_threads(n);
}

int chara_get_num_threads(void) { return at::get_num_threads(); }

int chara_set_cudnn_benchmark(int on) {
  bool prev = at::globalContext().benchmarkCuDNN();
  at::globalContext().setBenchmarkCuDNN(on != 0);
  return prev ? 1 : 0;
}

int chara_grad_set_enabled(int enabled) {
  bool prev = c10::GradMode::is_enabled();
  c10::GradMode::set_enabled(enabled != 0);
  return prev ? 1 : 0;
}

// libtorch 2.4 made autocast per device type and deprecated (with a
// warning on every call) the CUDA-only functions that 1.13 has.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
static bool autocast_cuda_enabled() { return at::autocast::is_autocast_enabled(at::kCUDA); }
static void autocast_cuda_set(bool on) { at::autocast::set_autocast_enabled(at::kCUDA, on); }
static void autocast_cuda_bf16() { at::autocast::set_autocast_dtype(at::kCUDA, at::kBFloat16); }
#else
static bool autocast_cuda_enabled() { return at::autocast::is_enabled(); }
static void autocast_cuda_set(bool on) { at::autocast::set_enabled(on); }
static void autocast_cuda_bf16() { at::autocast::set_autocast_gpu_dtype(at::kBFloat16); }
#endif

int chara_autocast_bf16_enter(void) {
  bool prev = autocast_cuda_enabled();
  autocast_cuda_bf16();
  autocast_cuda_set(true);
  at::autocast::increment_nesting();
  return prev ? 1 : 0;
}

int chara_autocast_is_enabled(void) { return autocast_cuda_enabled() ? 1 : 0; }

void chara_autocast_exit(int prev) {
  autocast_cuda_set(prev != 0);
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
}

char *chara_torch_config(void) {
  try {
    return strdup(at::show_config().c_str());
  } catch (...) {
    return strdup("");
  }
}

char *chara_torch_compiled_version(void) { return strdup(TORCH_VERSION); }

int chara_cuda_available(void) {
  try {
    return at::detail::getCUDAHooks().hasCUDA() ? 1 : 0;
  } catch (...) {
    return 0;
  }
}

int chara_cuda_device_count(void) {
  try {
    return at::detail::getCUDAHooks().getNumGPUs();
  } catch (...) {
    return 0;
  }
}

long chara_cudnn_version(void) {
  try {
    if (!at::detail::getCUDAHooks().hasCuDNN()) return 0;
    return at::detail::getCUDAHooks().versionCuDNN();
  } catch (...) {
    return 0;
  }
}

// cudaGetDeviceProperties is looked up at run time in the CUDA runtime that
// libtorch_cuda loaded, so a CPU build needs no CUDA headers or libraries.
// Every version of cudaDeviceProp starts with char name[256].
int chara_cuda_device_name(int device, char *buf, int len) {
  if (len <= 0) return -1;
  buf[0] = 0;
  typedef int (*props_fn)(void *, int);
  void *fn = dlsym(RTLD_DEFAULT, "cudaGetDeviceProperties_v2");
  if (!fn) fn = dlsym(RTLD_DEFAULT, "cudaGetDeviceProperties");
  if (!fn) return -1;
  // Large enough for any cudaDeviceProp (about 1 KB today).
  char *props = static_cast<char *>(calloc(1, 16384));
  if (!props) return -1;
  int rc = reinterpret_cast<props_fn>(fn)(props, device);
  if (rc == 0) {
    strncpy(buf, props, len - 1);
    buf[len - 1] = 0;
  }
  free(props);
  return rc == 0 ? 0 : -1;
}
}
