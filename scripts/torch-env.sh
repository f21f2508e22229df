# shellcheck shell=bash
# Source this file (". scripts/torch-env.sh") to build chara against libtorch.
# It finds libtorch, writes empty stub archives for the CUDA library names
# that gotch's lib.go always links, and exports the cgo flags. gotch itself
# is used exactly as the Go module proxy serves it.
#
# Where libtorch is looked for, in order:
#   1. $LIBTORCH: an official libtorch directory, or a pip torch package
#      directory (.../site-packages/torch); both have include/ and lib/.
#   2. Debian's libtorch-dev under /usr.
# Set CHARA_TORCH_QUIET=1 to silence the summary line. For cross builds
# (scripts/cross-build-cuda.sh): CHARA_TORCH_CXX11_ABI=0|1 skips reading the
# ABI from libc10, and CHARA_TORCH_NO_RPATH=1 leaves the library directory
# out of the binary's run path.

_chara_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Bump with internal/libtorch/compat/*.h: Go's build cache cannot see the
# forced include, only this define.
_chara_compat_rev=1

_chara_fail() { echo "torch-env: $*" >&2; return 1; }

_chara_find_torch() {
  if [ -n "${LIBTORCH:-}" ]; then
    [ -d "$LIBTORCH/include" ] && [ -d "$LIBTORCH/lib" ] || { _chara_fail "LIBTORCH=$LIBTORCH has no include/ and lib/ (want an official libtorch directory or a pip .../site-packages/torch)"; return 1; }
    CHARA_TORCH_INC="$LIBTORCH/include"
    CHARA_TORCH_LIB="$LIBTORCH/lib"
  elif [ -f /usr/include/torch/csrc/api/include/torch/torch.h ]; then
    CHARA_TORCH_INC=/usr/include
    CHARA_TORCH_LIB=/usr/lib/$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
  else
    _chara_fail "no libtorch found. On Debian/Ubuntu: sudo apt-get install libtorch-dev (or run 'make deps'); elsewhere download libtorch from pytorch.org or pip install torch, and set LIBTORCH to its directory"
    return 1
  fi
  local vh="$CHARA_TORCH_INC/torch/csrc/api/include/torch/version.h"
  [ -f "$CHARA_TORCH_INC/torch/headeronly/version.h" ] && vh="$CHARA_TORCH_INC/torch/headeronly/version.h"
  CHARA_TORCH_VERSION="$(awk '/define TORCH_VERSION_MAJOR/{M=$3} /define TORCH_VERSION_MINOR/{m=$3} /define TORCH_VERSION_PATCH/{p=$3} END{print M"."m"."p}' "$vh")"
}

_chara_torch_env() {
  _chara_find_torch || return 1
  local stubs="$_chara_root/.build/torch-stubs"
  mkdir -p "$stubs"
  local cuda=0
  [ -e "$CHARA_TORCH_LIB/libtorch_cuda.so" ] && cuda=1
  # gotch's lib.go links these names unconditionally. Empty archives satisfy
  # them and are never recorded as dependencies.
  local lib
  for lib in cuda cudart cublas cudnn caffe2_nvrtc nvrtc-builtins nvrtc nvToolsExt c10_cuda torch_cuda; do
    if [ "$cuda" = 1 ] && { [ "$lib" = torch_cuda ] || [ "$lib" = c10_cuda ]; }; then
      rm -f "$stubs/lib$lib.a"
      continue
    fi
    [ -f "$stubs/lib$lib.a" ] || ar rc "$stubs/lib$lib.a"
  done
  # The C++ ABI libtorch was built with: pip wheels before 2.7 used the old one.
  # (grep -c reads all of nm's output: with grep -q, nm can die of SIGPIPE,
  # and under "set -o pipefail" that would read as "old ABI".)
  local abi=${CHARA_TORCH_CXX11_ABI:-1}
  if [ -z "${CHARA_TORCH_CXX11_ABI:-}" ] && command -v nm >/dev/null && [ -e "$CHARA_TORCH_LIB/libc10.so" ]; then
    local n
    n=$(nm -D "$CHARA_TORCH_LIB/libc10.so" 2>/dev/null | grep -c __cxx11 || true)
    [ "${n:-0}" -gt 0 ] || abi=0
  fi
  local inc="-I$CHARA_TORCH_INC -I$CHARA_TORCH_INC/torch/csrc/api/include"
  [ "$CHARA_TORCH_INC" = /usr/include ] && inc="-I/usr/include/torch/csrc/api/include"
  export CGO_ENABLED=1
  export CGO_CXXFLAGS="$inc -D_GLIBCXX_USE_CXX11_ABI=$abi -DCHARA_TORCH_COMPAT=$_chara_compat_rev -include $_chara_root/internal/libtorch/compat/chara_torch_compat.h -w"
  export CGO_CFLAGS="-D_GLIBCXX_USE_CXX11_ABI=$abi -w"
  local ld="-L$stubs -L$CHARA_TORCH_LIB"
  [ -n "${CHARA_TORCH_NO_RPATH:-}" ] || ld="$ld -Wl,-rpath,$CHARA_TORCH_LIB"
  if [ "$cuda" = 1 ]; then
    # Keep libtorch_cuda needed even though no symbol of it is used
    # directly, or CUDA never registers.
    ld="$ld -Wl,--no-as-needed -ltorch_cuda -lc10_cuda -Wl,--as-needed"
  fi
  export CGO_LDFLAGS="$ld"
  export CHARA_TORCH_INC CHARA_TORCH_LIB CHARA_TORCH_VERSION
  export CHARA_TORCH_CUDA=$cuda
  case ":${LD_LIBRARY_PATH:-}:" in *":$CHARA_TORCH_LIB:"*) ;; *) export LD_LIBRARY_PATH="$CHARA_TORCH_LIB${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" ;; esac
  [ -n "${CHARA_TORCH_QUIET:-}" ] || echo "torch-env: libtorch $CHARA_TORCH_VERSION from $CHARA_TORCH_LIB (cuda=$cuda, cxx11 abi=$abi)" >&2
}

_chara_torch_env
