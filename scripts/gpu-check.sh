#!/usr/bin/env bash
# chara's checks on a GPU machine that has a pip torch (2.11 with CUDA) but
# no Go: run from the repository root there, with the bundle that
# scripts/gpu-bundle.sh made here.
#
#   scripts/gpu-check.sh BUNDLE OUTDIR
#
# One prepared run of about 12 minutes (each step has its own time limit,
# so that a hang costs only its step). Each step runs even when one before
# it failed; everything goes to OUTDIR/gpu-check.log. Steps:
#  1. machine facts; the C++ ABI and every libtorch symbol the binaries
#     need, against the real libraries; chara doctor;
#  2. BenchmarkTrainStep, batch 128: fp32 for effnet-b0, cnn and cnn2, then
#     effnet-b0 with bf16 autocast (--amp) against PyTorch's bf16 and its
#     fastest bf16 channels-last step (metric ratio-vs-bf16-cl), PyTorch
#     timed in the same run;
#  3. the first --amp epoch's set-up cost, split: BenchmarkSetupCost at
#     batch 32 (seconds of the first, second and steady steps, of the first
#     steps of a partial last batch and of evaluation) with cuDNN's
#     algorithm search off and on, and with channels-last off; fp32 too;
#  4. BenchmarkEpoch (whole epochs as chara train runs them): --amp at batch
#     32 and batch 128, first and second epoch rates;
#  5. a short chara train with --device cuda --amp on the bundled demo
#     dataset (metrics.csv has each epoch's seconds).
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

tt() { # time limit (s), then train.test arguments; runs in train/
  local limit="$1"; shift
  (cd train && timeout -k 10 "$limit" "$bundle/train.test" -test.run XXX "$@") || echo "(exit $?)"
}

step "BenchmarkTrainStep, CUDA, batch 128, fp32"
tt 240 -test.bench 'TrainStep' -test.benchtime 1x -chara.device cuda -chara.batch 128 -chara.steps 60

step "BenchmarkTrainStep, CUDA, batch 128, bf16 autocast (vs PyTorch bf16 and bf16 channels-last)"
tt 150 -test.bench 'TrainStep/effnet' -test.benchtime 1x -chara.device cuda -chara.batch 128 -chara.steps 60 -chara.amp

step "BenchmarkSetupCost, effnet-b0, batch 32: --amp; cuDNN search off, on; channels-last off; fp32"
for args in "-chara.amp" "-chara.amp -chara.cudnn-benchmark" "-chara.amp -chara.channels-last=false" "-chara.amp -chara.channels-last=false -chara.cudnn-benchmark" ""; do
  echo "-- setup cost: ${args:-fp32}"
  # shellcheck disable=SC2086
  tt 60 -test.bench 'SetupCost' -test.benchtime 1x -chara.device cuda -chara.batch 32 $args
done

step "BenchmarkEpoch, effnet-b0 --amp, 1024 images: batch 32 vs batch 128"
for bs in 32 128; do
  echo "-- epoch: batch $bs"
  tt 90 -test.bench 'Epoch$' -test.benchtime 1x -chara.device cuda -chara.batch "$bs" -chara.epoch-images 1024 -chara.amp
done

step "chara train on the GPU"
if [ -d "$bundle/workspace" ]; then
  ws="$(mktemp -d)"
  cp -r "$bundle/workspace/." "$ws/"
  train() { # run name, epochs, flags...
    local name="$1" epochs="$2"; shift 2
    timeout -k 10 150 "$bundle/chara" --workspace "$ws" train --dataset default --device cuda --epochs "$epochs" --batch-size 32 --name "$name" "$@"
    cp "$ws/runs/$name/metrics.csv" "$out/$name-metrics.csv" 2>/dev/null
  }
  train gpu-effnet-amp 10 --model effnet-b0 --amp
  train gpu-cnn2-amp 10 --model cnn2 --amp
  "$bundle/chara" --workspace "$ws" compare gpu-effnet-amp gpu-cnn2-amp
fi
step "done"
sleep 1
