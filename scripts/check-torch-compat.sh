#!/usr/bin/env bash
# Compiles gotch v0.9.1's C++ (from the module cache, untouched) against the
# libtorch 2.11 headers in ../shared/torch-2.11-include.tar.xz, and against
# the local libtorch, with our compat header: the CUDA build for the GPU
# machine stays compilable here, without a GPU.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
gotch="$(go list -m -f '{{.Dir}}' github.com/sugarme/gotch)"
[ -n "$gotch" ] || { go mod download github.com/sugarme/gotch; gotch="$(go list -m -f '{{.Dir}}' github.com/sugarme/gotch)"; }
tarball="${TORCH_211_HEADERS:-$root/../shared/torch-2.11-include.tar.xz}"
work="$root/.build/torch-2.11"
compat="$root/internal/libtorch/compat/chara_torch_compat.h"

check() { # name, include flags...
  local name="$1"; shift
  echo "check-torch-compat: gotch C++ against $name" >&2
  g++ -std=c++17 -fsyntax-only -w -D_GLIBCXX_USE_CXX11_ABI=1 -I"$gotch/libtch" "$@" \
    -include "$compat" "$gotch/libtch/torch_api.cpp"
}

if [ -f "$tarball" ]; then
  if [ ! -f "$work/include/torch/csrc/api/include/torch/torch.h" ]; then
    mkdir -p "$work"
    tar -xJf "$tarball" -C "$work"
  fi
  check "libtorch 2.11 headers" -I"$work/include" -I"$work/include/torch/csrc/api/include"
else
  echo "check-torch-compat: $tarball not found; set TORCH_211_HEADERS" >&2
  exit 1
fi
if [ -f /usr/include/torch/csrc/api/include/torch/torch.h ]; then
  check "Debian libtorch $(awk '/define TORCH_VERSION_MAJOR/{M=$3} /define TORCH_VERSION_MINOR/{m=$3} END{print M"."m}' /usr/include/torch/csrc/api/include/torch/version.h)" -I/usr/include/torch/csrc/api/include
fi
echo "check-torch-compat: ok" >&2
