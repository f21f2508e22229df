#!/usr/bin/env bash
# chara scrape against Debian's gallery-dl on the same local Danbooru-shaped
# site (the demo site of internal/demosite, one character, 300 posts, no
# delay, 127.0.0.1), both run as commands, alternating, median of 5 pairs
# (BENCHMARKS.md, "Performance (issue 19)"; scrape/internal/scrapebench
# says how each is run).
#
#   scripts/bench-scrape-vs-gallerydl.sh [BINDIR] [scrapebench flags]   (default bin; after make build)
#
# e.g. scripts/bench-scrape-vs-gallerydl.sh bin -posts 300 -pairs 5
# Without gallery-dl (scripts/deps.sh bench installs it) it says so and
# exits 0.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-bin}"
[ $# -gt 0 ] && shift
if ! command -v gallery-dl >/dev/null 2>&1; then
  echo "bench-scrape-vs-gallerydl: gallery-dl is not installed (scripts/deps.sh bench); skipping"
  exit 0
fi
[ -x "$bin/chara" ] || { echo "bench-scrape-vs-gallerydl: no $bin/chara (make build)" >&2; exit 1; }
mkdir -p .build
go build -o .build/scrapebench ./scrape/internal/scrapebench
echo "gallery-dl $(gallery-dl --version); $("$bin/chara" --version)"
exec .build/scrapebench -chara "$bin/chara" "$@"
