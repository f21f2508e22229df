#!/usr/bin/env bash
# Startup time and peak memory of chara's commands: bin/chara (built without
# libtorch) against bin/chara-torch (the full build, which every command
# used before issue 19), run alternately, median of N runs each.
#
#   scripts/startup-bench.sh [BINDIR] [N]     (default bin, 5; after make build)
#
# Wall time from bash's $EPOCHREALTIME around the command; peak RSS from
# /usr/bin/time -f %M (GNU time, KB). "classes list" runs in a fresh
# workspace written by "chara init". "weights list" is a libtorch command:
# bin/chara hands it to bin/chara-torch (execve), so its row is the cost of
# that hop. "curate" and "dataset verify" run in a small demo workspace
# (chara demo --per-class 24, one epoch of cnn): curate decides again (its
# hash cache spares the decoding), dataset verify reads every image of the
# dataset (16 per class). "scrape" downloads the 300 posts of the local
# Danbooru-shaped site of scrape/internal/scrapebench (-serve) into a fresh
# workspace each time.
set -euo pipefail
export LC_ALL=C
bin="$(cd "${1:-bin}" && pwd)"
n="${2:-5}"
cd "$(dirname "$0")/.."
for b in chara chara-torch; do
  [ -x "$bin/$b" ] || { echo "startup-bench: no $bin/$b (make build)" >&2; exit 1; }
done
[ -x /usr/bin/time ] || { echo "startup-bench: needs GNU time (apt-get install time)" >&2; exit 1; }
ws="$(mktemp -d)"
site=""
trap '[ -z "$site" ] || kill "$site" 2>/dev/null || true; rm -rf "$ws"' EXIT
"$bin/chara" --workspace "$ws" init >/dev/null
demo="$ws/demo"
"$bin/chara" demo --dir "$demo" --per-class 24 --candidates 24 --images 16 --epochs 1 --models cnn >/dev/null 2>&1 ||
  { echo "startup-bench: chara demo failed" >&2; exit 1; }
"$bin/chara" --workspace "$demo" curate >/dev/null 2>&1 # warm: every measured curate then does the same work

# The scrape site: served by scrapebench in the background (127.0.0.1 only).
env -u CGO_CXXFLAGS -u CGO_LDFLAGS go build -o "$ws/scrapebench" ./scrape/internal/scrapebench
"$ws/scrapebench" -serve "$ws/site" -posts 300 >"$ws/site.log" 2>&1 &
site=$!
for ((i = 0; i < 100; i++)); do [ -f "$ws/site/chara.yaml" ] && break; sleep 0.1; done
[ -f "$ws/site/chara.yaml" ] || { echo "startup-bench: scrapebench -serve did not start" >&2; cat "$ws/site.log" >&2; exit 1; }

median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

# one BINARY ARGS...: prints "seconds KB"
one() {
  local t0 t1 kb
  t0=$EPOCHREALTIME
  /usr/bin/time -f '%M' -o "$ws/rss" "$@" >/dev/null 2>&1
  t1=$EPOCHREALTIME
  kb=$(tail -n 1 "$ws/rss")
  awk -v a="$t0" -v b="$t1" -v k="$kb" 'BEGIN {printf "%.4f %d\n", b-a, k}'
}

printf '| command | bin/chara s | bin/chara MiB | bin/chara-torch s | bin/chara-torch MiB | chara-torch / chara time |\n'
printf '| --- | --- | --- | --- | --- | --- |\n'
for args in "version" "--help" "classes list" "weights list" "curate" "dataset verify" "scrape"; do
  read -r -a a <<<"$args"
  w="$ws"
  case "$args" in curate | "dataset verify") w="$demo" ;; esac
  lt=() lm=() ft=() fm=()
  for ((i = 0; i < n; i++)); do
    # Alternately first; scrape into a fresh workspace each time.
    order=(chara chara-torch)
    [ $((i % 2)) = 0 ] || order=(chara-torch chara)
    for b in "${order[@]}"; do
      if [ "$args" = scrape ]; then
        rm -rf "$ws/s" && mkdir "$ws/s" && cp "$ws/site/chara.yaml" "$ws/s/" && w="$ws/s"
      fi
      read -r s k < <(one "$bin/$b" --workspace "$w" "${a[@]}")
      if [ "$b" = chara ]; then lt+=("$s") lm+=("$k"); else ft+=("$s") fm+=("$k"); fi
    done
  done
  l=$(printf '%s\n' "${lt[@]}" | median) f=$(printf '%s\n' "${ft[@]}" | median)
  lk=$(printf '%s\n' "${lm[@]}" | median) fk=$(printf '%s\n' "${fm[@]}" | median)
  awk -v c="$args" -v l="$l" -v f="$f" -v lk="$lk" -v fk="$fk" \
    'BEGIN {printf "| `chara %s` | %.3f | %.0f | %.3f | %.0f | %.2fx |\n", c, l, lk/1024, f, fk/1024, f/l}'
done
