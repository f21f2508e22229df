#!/usr/bin/env bash
# Fetches the Debian packages of curation's real-image benchmark (apt-get
# download + dpkg -x: nothing is installed) and builds it with
# scripts/realbench.py into $CHARA_REALBENCH (default ~/.cache/chara/realbench):
# images/ and manifest.json. The images stay out of git; the manifest of the
# short form is committed as curate/testdata/realbench.json, and this script
# warns when the rebuilt one differs from it.
#
#   scripts/realbench.sh          # short form (about 27 MB of packages; CI)
#   scripts/realbench.sh --full   # adds gnome-backgrounds' wallpapers (33 MB more)
#   scripts/realbench.sh --write  # also rewrites the committed manifest
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${CHARA_REALBENCH:-$HOME/.cache/chara/realbench}"
full=""; write=""
for a in "$@"; do
  case "$a" in
    --full) full=--full ;;
    --write) write=1 ;;
    *) echo "realbench: unknown argument $a" >&2; exit 2 ;;
  esac
done
# Pinned versions (Debian 12). Only these packages: the ones the team
# reserves for independent checks (DEVELOPERS.md) are never used here.
pkgs=(gnome-icon-theme=3.12.0-5 freedroid-data=1.0.2+cvs040112-7 pingus-data=0.7.6-5.1)
[ -n "$full" ] && pkgs+=(gnome-backgrounds=43.1-1)
py=/usr/bin/python3
[ -x "$py" ] || py=python3
mkdir -p "$dir/debs" "$dir/pkgs"
# One build at a time: two at once (the CI runs of two checkouts) rebuild
# the same pkgs/ and sel/ under each other's reads and leave a bench/ with
# files missing. flock (util-linux) waits for the other to finish.
exec 9>"$dir/.lock"
flock 9
for spec in "${pkgs[@]}"; do
  name="${spec%%=*}" version="${spec#*=}"
  if [ "$(cat "$dir/pkgs/$name/.version" 2>/dev/null)" = "$version" ]; then continue; fi
  deb=$(ls "$dir/debs/${name}_"*.deb 2>/dev/null | head -1 || true)
  if [ -z "$deb" ]; then
    get() { (cd "$dir/debs" && apt-get download -q "$1" >/dev/null 2>&1); }
    get "$spec" || { apt-get update -qq && get "$spec"; } || {
      # The pinned version left the archive (a point release): take the
      # current one and say so; the comparison below shows what changed.
      echo "realbench: $spec is not available; using the archive's $name" >&2
      get "$name"
    }
    deb=$(ls "$dir/debs/${name}_"*.deb | head -1)
    version=$(dpkg-deb -f "$deb" Version)
  fi
  rm -rf "$dir/pkgs/$name.tmp" && mkdir -p "$dir/pkgs/$name.tmp"
  dpkg -x "$deb" "$dir/pkgs/$name.tmp"
  echo "$version" > "$dir/pkgs/$name.tmp/.version"
  rm -rf "$dir/pkgs/$name" && mv "$dir/pkgs/$name.tmp" "$dir/pkgs/$name"
done
# The benchmark sees only this form's packages.
sel="$dir/sel"; rm -rf "$sel"; mkdir -p "$sel"
for spec in "${pkgs[@]}"; do ln -s "../pkgs/${spec%%=*}" "$sel/${spec%%=*}"; done
# Built into a new folder, then bench (a symlink) is switched to it in one
# rename, so that a test reading the previous build never sees half of one;
# builds older than the previous one are removed.
stamp=$(date +%s).$$
out="$dir/bench.$stamp"; mkdir -p "$out"
"$py" scripts/realbench.py "$sel" "$out" $full
prev=$(readlink "$dir/bench" 2>/dev/null || true)
[ -d "$dir/bench" ] && [ ! -L "$dir/bench" ] && rm -rf "$dir/bench"
ln -sfn "bench.$stamp" "$dir/bench.link" && mv -T "$dir/bench.link" "$dir/bench"
for old in "$dir"/bench.*; do
  case "$(basename "$old")" in "bench.$stamp"|"$prev") ;; *) rm -rf "$old" ;; esac
done
committed=curate/testdata/realbench.json
if [ -n "$write" ] && [ -z "$full" ]; then
  cp "$dir/bench/manifest.json" "$committed"
elif [ -z "$full" ]; then
  # A difference is reported, not fatal: the tests and the benchmark score
  # the manifest built here, and a newer package version changes files.
  "$py" - "$committed" "$dir/bench/manifest.json" <<'PY' || true
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
if a["packages"] != b["packages"]:
    print("realbench: warning: package versions %s, %s has %s" % (b["packages"], sys.argv[1], a["packages"]), file=sys.stderr)
key = lambda m: sorted((i["file"], i["group"]) for i in m["items"])
if key(a) != key(b):
    print("realbench: warning: the rebuilt files or groups differ from %s (scripts/realbench.sh --write updates it)" % sys.argv[1], file=sys.stderr)
src = lambda m: {i["file"]: i["sha256"] for i in m["items"] if i["op"] == "copy"}
bad = [f for f, h in src(a).items() if src(b).get(f) != h]
if bad:
    print("realbench: warning: %d package files differ from %s, e.g. %s" % (len(bad), sys.argv[1], bad[0]), file=sys.stderr)
PY
fi
echo "realbench: $dir/bench"
