#!/usr/bin/env bash
# Packs what scripts/gpu-check.sh needs on a GPU machine without Go into
# .gpu/ (ignored by git; the device tool carries it): the CUDA binaries
# from scripts/cross-build-cuda.sh (xz-compressed), the list of libtorch
# symbols they need, the shared libraries of this machine that such a
# machine may lack (libjpeg.so.62), and, given a demo workspace, its
# dataset for a short training run.
#
#   scripts/gpu-bundle.sh [DEMO_WORKSPACE]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
src=.build/cuda
[ -x "$src/chara" ] && [ -x "$src/train.test" ] || { echo "gpu-bundle: run scripts/cross-build-cuda.sh first" >&2; exit 1; }
rm -rf .gpu && mkdir -p .gpu/lib
xz -T0 -3 -c "$src/chara" >.gpu/chara.xz
xz -T0 -3 -c "$src/train.test" >.gpu/train.test.xz
cp "$src/torch-symbols.txt" .gpu/
cp -L "$(gcc -print-file-name=libjpeg.so.62 | grep / || echo /usr/lib/x86_64-linux-gnu/libjpeg.so.62)" .gpu/lib/
if [ -n "${1:-}" ]; then
  mkdir -p .gpu/workspace
  cp "$1/chara.yaml" .gpu/workspace/
  cp -r "$1/datasets" .gpu/workspace/
fi
du -sh .gpu
