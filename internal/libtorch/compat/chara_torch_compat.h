// chara_torch_compat.h: makes gotch v0.9.1's generated C++ (written for
// libtorch 2.1) compile against other libtorch versions. It is forced into
// gotch's C++ with `-include` by scripts/torch-env.sh; gotch itself is used
// unmodified. Bump CHARA_TORCH_COMPAT_REV (and the -DCHARA_TORCH_COMPAT=N in
// scripts/torch-env.sh) whenever this file changes: Go's build cache does not
// see forced includes.
//
// Three tools:
//  * forwarders: ops whose signature changed; they call the new op.
//  * stubs: ops this libtorch lacks, or lacks in the generated form; calling
//    one raises "op X is not available in libtorch V" through libtorch's error
//    path, so the Go caller gets an ordinary error, never a crash.
//  * member macros: Tensor member calls whose signature changed.
#ifndef CHARA_TORCH_COMPAT_H
#define CHARA_TORCH_COMPAT_H
#define CHARA_TORCH_COMPAT_REV 1

#ifdef __cplusplus
// Everything torch_api.cpp includes, first, so that the macros below never
// touch libtorch's own headers.
#include "ATen/core/interned_strings.h"
#include <ATen/autocast_mode.h>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>
#include <torch/csrc/autograd/engine.h>
#include <torch/csrc/jit/passes/fixup_trace_scope_blocks.h>
#include <torch/csrc/jit/passes/normalize_ops.h>
#include <torch/csrc/jit/runtime/graph_executor.h>
#include <torch/script.h>
#include <torch/torch.h>
#include <torch/version.h>

namespace chara {

[[noreturn]] inline void unavailable(const char *op) {
  throw std::runtime_error(std::string("op '") + op + "' is not available in libtorch " + TORCH_VERSION);
}

inline at::Tensor unavailable_tensor(const char *op) { unavailable(op); }

// The result type of a stub: whatever the generated code does with an op's
// result (a Tensor, a tuple of up to 8 tensors, a vector, a number), this
// type supports it. It is never really produced: the stub throws first.
struct Unavailable : std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor> {
  operator at::Tensor() const { unavailable("result"); }
  operator std::vector<at::Tensor>() const { unavailable("result"); }
  operator bool() const { unavailable("result"); }
  operator int64_t() const { unavailable("result"); }
  operator double() const { unavailable("result"); }
  size_t size() const { unavailable("result"); }
  at::Tensor operator[](size_t) const { unavailable("result"); }
};

template <typename... A> void ignore(A &&...) {}

// squeeze_(dims) with one dim maps onto 1.13's squeeze_(dim).
inline int64_t one_dim(int64_t d) { return d; }
inline int64_t one_dim(at::IntArrayRef dims) {
  if (dims.size() != 1) unavailable("squeeze_(dims) with several dims");
  return dims[0];
}

// to_sparse_bsr(blocksize, dense_dim) maps onto to_sparse_bsr(blocksize) when
// dense_dim is not given.
inline at::IntArrayRef no_dense_dim(at::IntArrayRef blocksize, c10::optional<int64_t> dense_dim) {
  if (dense_dim.has_value()) unavailable("to_sparse_* with dense_dim");
  return blocksize;
}

inline int64_t correction_of(const c10::Scalar &s) {
  if (s.isFloatingPoint()) {
    double v = s.toDouble();
    if (v != static_cast<double>(static_cast<int64_t>(v))) unavailable("std/var with a fractional correction");
    return static_cast<int64_t>(v);
  }
  return s.toLong();
}

} // namespace chara

// CHARA_MISSING(op): the op does not exist in this libtorch at all.
#define CHARA_MISSING(op)                                                      \
  namespace torch {                                                            \
  template <typename... A>::chara::Unavailable op(A &&...a) {                 \
    ::chara::ignore(a...);                                                     \
    ::chara::unavailable(#op);                                                 \
  }                                                                            \
  }

// CHARA_CHANGED(ns, op): the op exists as ns::op, but not with the
// arguments the generated code passes. Calls that ns::op accepts still go
// to it; others reach a stub. ns is `at` (ops torch:: sees through `using
// namespace at`) or `torch` (ops defined in torch:: itself).
#define CHARA_CHANGED_IMPL(ns, op, using_decl)                                 \
  namespace chara {                                                            \
  namespace detect {                                                           \
  template <typename V, typename... A> struct op##_ok : std::false_type {};    \
  template <typename... A>                                                     \
  struct op##_ok<std::void_t<decltype(ns::op(std::declval<A>()...))>, A...>    \
      : std::true_type {};                                                     \
  }                                                                            \
  }                                                                            \
  namespace torch {                                                            \
  using_decl                                                                   \
  template <typename... A,                                                     \
            typename = std::enable_if_t<!::chara::detect::op##_ok<void, A...>::value>> \
  ::chara::Unavailable op(A &&...a) {                                          \
    ::chara::ignore(a...);                                                     \
    ::chara::unavailable(#op " with these arguments");                         \
  }                                                                            \
  }
#define CHARA_CHANGED_AT(op) CHARA_CHANGED_IMPL(at, op, using at::op;)
#define CHARA_CHANGED_TORCH(op) CHARA_CHANGED_IMPL(torch, op, )

#if TORCH_VERSION_MAJOR == 1
#include "chara_torch_compat_1.h"
#elif TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 2
#include "chara_torch_compat_2x.h"
#endif

#endif // __cplusplus
#endif // CHARA_TORCH_COMPAT_H
