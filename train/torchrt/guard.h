// Helpers shared by torchrt's C++ entry points (C++ only).
#ifndef CHARA_TORCHRT_GUARD_H
#define CHARA_TORCHRT_GUARD_H
#include <ATen/ATen.h>
#include <cstdlib>
#include <cstring>
#include <exception>

namespace chara {

// handle is the tensor behind a gotch handle (torch::Tensor*).
inline at::Tensor &handle(void *p) { return *static_cast<at::Tensor *>(p); }

// guarded runs f and turns any exception into a malloc'd message for Go
// (NULL when f returns normally).
template <class F>
char *guarded(F f) {
  try {
    f();
    return nullptr;
  } catch (const std::exception &e) {
    return strdup(e.what());
  } catch (...) {
    return strdup("unknown C++ exception");
  }
}

}  // namespace chara
#endif
