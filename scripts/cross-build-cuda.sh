#!/usr/bin/env bash
# Cross-builds chara (the full build, with libtorch: what make build calls
# bin/chara-torch; gpu-check.sh runs it directly, so no light bin/chara is
# needed there), and the train package's test binary (for the GPU
# benchmarks), for a machine with a CUDA build of libtorch 2.11 (a pip
# torch), here, where there is neither a GPU nor that libtorch: only its
# headers (../shared/torch-2.11-include.tar.xz).
#
#   scripts/cross-build-cuda.sh [OUTDIR]     (default .build/cuda)
#
# How: stand-in shared libraries named like libtorch's (libtorch_cpu.so,
# libc10.so, libtorch.so, libtorch_cuda.so, libc10_cuda.so) let the linker
# record them as needed; on the target the real ones (LD_LIBRARY_PATH=
# .../site-packages/torch/lib) are loaded in their place. A first link
# ignores unresolved symbols and lists the ones libtorch must provide; those
# become the stand-in libtorch_cpu.so; a second, strict link then proves
# that nothing else is missing. Everything is compiled with -fPIC into a PIE,
# so every libtorch symbol is reached through the GOT and bound by name at
# run time (no copy relocations, whose sizes the stand-ins could not know).
# OUTDIR/torch-symbols.txt lists the symbols; scripts/gpu-check.sh checks
# them against the real libraries before running anything.
set -euo pipefail
export LC_ALL=C
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
out="$(mkdir -p "${1:-.build/cuda}" && cd "${1:-.build/cuda}" && pwd)"
tarball="${TORCH_211_HEADERS:-$root/../shared/torch-2.11-include.tar.xz}"
sys="$root/.build/torch-2.11"
if [ ! -f "$sys/include/torch/csrc/api/include/torch/torch.h" ]; then
  [ -f "$tarball" ] || { echo "cross-build-cuda: $tarball not found; set TORCH_211_HEADERS" >&2; exit 1; }
  mkdir -p "$sys"
  tar -xJf "$tarball" -C "$sys"
fi
mkdir -p "$sys/lib"
stub() { # soname, [assembly file]
  local src="${2:-/dev/null}"
  gcc -shared -nostdlib -x assembler "$src" -o "$sys/lib/$1" -Wl,-soname,"$1"
}
for l in libc10.so libtorch.so libtorch_cuda.so libc10_cuda.so libtorch_cpu.so; do stub "$l"; done

export LIBTORCH="$sys" CHARA_TORCH_CXX11_ABI=1 CHARA_TORCH_NO_RPATH=1
# shellcheck source=scripts/torch-env.sh
. scripts/torch-env.sh
export CGO_CFLAGS="$CGO_CFLAGS -fPIC" CGO_CXXFLAGS="$CGO_CXXFLAGS -fPIC"
build() { # extra flags for the external linker, [go tool link -tmpdir]
  # (Through -ldflags, not CGO_LDFLAGS: a change there recompiles every cgo
  # package, gotch's C++ included.)
  local ld="-s -w -extldflags=$1"
  go build -buildmode=pie -ldflags "$ld${2:+ -tmpdir=$2/chara}" -o "$out/chara" ./cmd/chara
  go test -c -buildmode=pie -ldflags "$ld${2:+ -tmpdir=$2/train}" -o "$out/train.test" ./train
}

echo "cross-build-cuda: first link (unresolved symbols allowed)" >&2
objs="$root/.build/cuda-link"
rm -rf "$objs" && mkdir -p "$objs/chara" "$objs/train"
build "-Wl,--unresolved-symbols=ignore-all" "$objs"
# libtorch's symbols: undefined in the objects handed to the linker, and
# defined neither there nor in the system libraries the binary also needs.
nm --defined-only -j "$objs"/*/*.o 2>/dev/null | sort -u >"$objs/defined"
for l in libstdc++.so.6 libc.so.6 libm.so.6 libgcc_s.so.1 libjpeg.so.62 ld-linux-x86-64.so.2; do
  f=$(gcc -print-file-name="$l")
  [ -e "$f" ] || f=/lib/x86_64-linux-gnu/$l
  nm -D --defined-only -j "$f" | sed 's/@.*//'
done | sort -u >>"$objs/defined"
sort -u -o "$objs/defined" "$objs/defined"
nm --undefined-only -j "$objs"/*/*.o 2>/dev/null | sort -u | comm -23 - "$objs/defined" |
  grep -v '^_ITM_\|^__gmon_start__$\|^__dso_handle$\|^_GLOBAL_OFFSET_TABLE_$' >"$out/torch-symbols.txt" || true
n=$(wc -l <"$out/torch-symbols.txt")
[ "$n" -gt 100 ] || { echo "cross-build-cuda: only $n libtorch symbols found; the first link went wrong" >&2; exit 1; }
awk '{printf ".globl %s\n.type %s,@function\n%s:\n", $1, $1, $1} END {print "ret"}' "$out/torch-symbols.txt" >"$sys/lib/stubs.s"
stub libtorch_cpu.so "$sys/lib/stubs.s"

echo "cross-build-cuda: strict link against $n libtorch symbols" >&2
build "-Wl,-z,defs"
for b in chara train.test; do
  readelf -d "$out/$b" | grep -q 'NEEDED.*libtorch_cuda.so' || { echo "cross-build-cuda: $b does not need libtorch_cuda.so" >&2; exit 1; }
done
echo "cross-build-cuda: $out/chara and $out/train.test (libtorch $CHARA_TORCH_VERSION, CUDA)" >&2
