#!/usr/bin/env bash
# chara's checks on a GPU machine that has a pip torch (2.11 with CUDA) but
# no Go: run from the repository root there, with the bundle that
# scripts/gpu-bundle.sh made here.
#
#   scripts/gpu-check.sh BUNDLE OUTDIR
#
# Each step runs even when one before it failed; everything goes to
# OUTDIR/gpu-check.log. Steps: machine facts; the C++ ABI and every libtorch
# symbol the binaries need, against the real libraries; chara doctor;
# BenchmarkTrainStep on the GPU (fp32, then bf16 autocast) with PyTorch
# timed in the same run; a short training run with --device cuda --amp on
# the bundled demo dataset.
set -uo pipefail
export LC_ALL=C
bundle="$(cd "$1" && pwd)"
out="$(mkdir -p "$2" && cd "$2" && pwd)"
exec > >(tee "$out/gpu-check.log") 2>&1
py="${CHARA_PYTHON:-python3}"
step() { echo; echo "== $* ($(date +%T))"; }

for f in "$bundle"/*.xz; do [ -e "$f" ] && xz -dkf "$f"; done
chmod +x "$bundle/chara" "$bundle/train.test" 2>/dev/null
torchlib="$("$py" -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')"
export LD_LIBRARY_PATH="$torchlib:$bundle/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export CHARA_PYTHON="$py"

step "machine"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
"$py" -c 'import torch, torchvision; print("torch", torch.__version__, "cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version(), "torchvision", torchvision.__version__, "cxx11abi", torch._C._GLIBCXX_USE_CXX11_ABI)'
ldd --version | head -1
nproc

step "libtorch symbols the binaries need"
if command -v nm >/dev/null; then
  for l in "$torchlib"/lib{torch,torch_cpu,torch_cuda,c10,c10_cuda}.so; do nm -D --defined-only "$l" | awk '{print $NF}'; done |
    sed 's/@.*//' | sort -u >"$out/defined.txt"
  comm -23 "$bundle/torch-symbols.txt" "$out/defined.txt" >"$out/missing-symbols.txt"
  echo "$(wc -l <"$bundle/torch-symbols.txt") needed, $(wc -l <"$out/missing-symbols.txt") missing"
  head -20 "$out/missing-symbols.txt"
  rm -f "$out/defined.txt"
else
  echo "no nm here: relying on LD_BIND_NOW below"
fi
LD_BIND_NOW=1 "$bundle/chara" --version && echo "all symbols bound (LD_BIND_NOW)"

step "chara doctor"
"$bundle/chara" doctor

step "BenchmarkTrainStep, CUDA, batch 128, fp32"
(cd train && "$bundle/train.test" -test.run XXX -test.bench 'TrainStep' -test.benchtime 1x -chara.device cuda -chara.batch 128 -chara.steps 60)

step "BenchmarkTrainStep, CUDA, batch 128, bf16 autocast"
(cd train && "$bundle/train.test" -test.run XXX -test.bench 'TrainStep/effnet' -test.benchtime 1x -chara.device cuda -chara.batch 128 -chara.steps 60 -chara.amp)

step "chara train on the GPU"
if [ -d "$bundle/workspace" ]; then
  ws="$(mktemp -d)"
  cp -r "$bundle/workspace/." "$ws/"
  train() { # run name, epochs, flags...
    local name="$1" epochs="$2"; shift 2
    "$bundle/chara" --workspace "$ws" train --dataset default --device cuda --epochs "$epochs" --batch-size 32 --name "$name" "$@"
    cp "$ws/runs/$name/metrics.csv" "$out/$name-metrics.csv" 2>/dev/null
  }
  train gpu-effnet-amp 30 --model effnet-b0 --amp
  train gpu-effnet-augment 10 --model effnet-b0 --amp --augment
  train gpu-effnet-freeze 6 --model effnet-b0 --freeze --finetune-after 3
  train gpu-cnn2 30 --model cnn2 --amp
  "$bundle/chara" --workspace "$ws" compare gpu-effnet-amp gpu-effnet-augment gpu-effnet-freeze gpu-cnn2
fi
step "done"
sleep 1
