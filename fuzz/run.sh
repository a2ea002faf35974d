#!/usr/bin/env bash
# Runs every fuzz target for the given seconds each (default 30), starting from the committed
# seed corpus in fuzz/corpus/<target>; fails on the first crash, leak or timeout (libFuzzer then
# leaves the input in fuzz/artifacts/<target>/).
#
# Usage:   bash fuzz/run.sh [seconds]
# Installs cargo-fuzz when missing. cargo-fuzz needs nightly compiler flags; on a stable
# toolchain RUSTC_BOOTSTRAP=1 allows them. New corpus entries go to a scratch copy, so the
# committed corpus stays small.
set -euo pipefail

seconds=${1:-30}
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "usage: $0 [seconds]" >&2; exit 2; }
cd "$(dirname "${BASH_SOURCE[0]}")"
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "==> installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

targets=$(cargo fuzz list)
echo "==> building fuzz targets: $(echo $targets)"
cargo fuzz build

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for target in $targets; do
    echo "==> fuzzing $target for ${seconds}s"
    mkdir -p "$scratch/$target"
    cargo fuzz run "$target" "$scratch/$target" "corpus/$target" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=30 -print_final_stats=1
done
echo "==> no crash in $(echo $targets | wc -w) targets × ${seconds}s"
