#!/usr/bin/env bash
# Installs what chara's build and tests need, where it is missing.
# On Debian/Ubuntu it uses apt-get (as root, or through sudo); elsewhere it
# says what to install and stops.
#
#   scripts/deps.sh         everything (CI, make test)
#   scripts/deps.sh build   only what building chara and running the demo need
#   scripts/deps.sh bench   only the tools benchmarks compare with (gallery-dl;
#                           never needed by the build or the tests)
set -euo pipefail
what="${1:-all}"
case "$what" in all|build|bench) ;; *) echo "usage: scripts/deps.sh [all|build|bench]" >&2; exit 2 ;; esac

need=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

if [ "$what" = bench ]; then
  # scripts/bench-scrape-vs-gallerydl.sh: Debian's gallery-dl.
  command -v gallery-dl >/dev/null 2>&1 || need+=(gallery-dl)
fi
if [ "$what" != bench ]; then

if [ -z "${LIBTORCH:-}" ] && [ ! -f /usr/include/torch/csrc/api/include/torch/torch.h ]; then
  need+=(libtorch-dev)
fi
# The build: libjpeg-turbo's headers and a C++ compiler (gotch's C++).
if command -v dpkg-query >/dev/null 2>&1; then
  for p in libjpeg62-turbo-dev g++; do
    have_pkg "$p" || need+=("$p")
  done
fi
# For the tests only: a Redis server (shared crawl), Chromium (browser
# tests), PyTorch, torchvision, PIL and SciPy (references only, never at run
# time); binutils (readelf) and xz-utils for the libtorch 2.11 headers of
# the CUDA cross-build; fonts-ipafont-gothic for class names in Japanese
# (and other CJK) in the plots (chara uses it at run time where installed).
if [ "$what" = all ]; then
  for tool in redis-server:redis-server chromium:chromium python3:python3; do
    command -v "${tool%%:*}" >/dev/null 2>&1 || need+=("${tool#*:}")
  done
  if command -v dpkg-query >/dev/null 2>&1; then
    for p in python3-torch python3-torchvision python3-pil python3-scipy binutils xz-utils fonts-ipafont-gothic; do
      have_pkg "$p" || need+=("$p")
    done
  fi
fi

fi

[ ${#need[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "deps: missing: ${need[*]}" >&2
  echo "deps: this is not a Debian/Ubuntu system; install libtorch (pytorch.org, or pip install torch and set LIBTORCH=.../site-packages/torch), a C++ compiler, and for the tests redis-server, chromium and python3 with torch, torchvision, pillow and scipy" >&2
  exit 1
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "deps: installing ${need[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
